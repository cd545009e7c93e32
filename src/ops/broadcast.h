// Numpy broadcasting for reference kernels: walks a broadcast output row by row and hands each
// row's start offsets and strides in every input to the kernel, so the inner loop is a plain
// strided loop (no per-element index arithmetic).
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "kiln/types.h"

namespace kiln::ops {

//! Most inputs one broadcast walk handles (Select has three).
inline constexpr int32_t kMaxBroadcastInputs = 4;

//! The output's loop nest after dropping size-1 dims and merging dims that every input walks
//! contiguously (or not at all): often one long row.
struct BroadcastPlan {
  int32_t rank = 1;  //!< loops; the last one is the row
  int32_t nbInputs = 0;
  int64_t volume = 0;  //!< output elements
  std::array<int64_t, Dims::kMaxRank> extent{};
  //! stride[input][loop] in elements; 0 where that input is broadcast along the loop.
  std::array<std::array<int64_t, Dims::kMaxRank>, kMaxBroadcastInputs> stride{};
};

//! Plans the walk of @p out (the broadcast of @p inputs, which must broadcast to it exactly).
BroadcastPlan planBroadcast(const Dims& out, std::span<const Dims> inputs);

//! Offsets of one output row: it starts at output offset @p out and input offsets @p in[i];
//! element j of the row reads input i at in[i] + j * step[i].
struct BroadcastRow {
  int64_t out = 0;
  int64_t count = 0;
  std::array<int64_t, kMaxBroadcastInputs> in{};
  std::array<int64_t, kMaxBroadcastInputs> step{};
};

//! Calls @p body(const BroadcastRow&) for every row of the output, in row-major order.
template <typename Body>
void forEachBroadcastRow(const BroadcastPlan& plan, Body&& body) {
  if (plan.volume <= 0) return;
  const int32_t last = plan.rank - 1;
  BroadcastRow row;
  row.count = plan.extent[static_cast<std::size_t>(last)];
  for (int32_t i = 0; i < plan.nbInputs; ++i) {
    row.step[static_cast<std::size_t>(i)] =
        plan.stride[static_cast<std::size_t>(i)][static_cast<std::size_t>(last)];
  }
  // Odometer over the outer loops; offsets advance by strides and rewind on carry.
  std::array<int64_t, Dims::kMaxRank> index{};
  const int64_t rows = plan.volume / row.count;
  for (int64_t r = 0; r < rows; ++r) {
    body(static_cast<const BroadcastRow&>(row));
    row.out += row.count;
    for (int32_t d = last - 1; d >= 0; --d) {
      const auto du = static_cast<std::size_t>(d);
      if (++index[du] < plan.extent[du]) {
        for (int32_t i = 0; i < plan.nbInputs; ++i) {
          row.in[static_cast<std::size_t>(i)] += plan.stride[static_cast<std::size_t>(i)][du];
        }
        break;
      }
      index[du] = 0;
      for (int32_t i = 0; i < plan.nbInputs; ++i) {
        row.in[static_cast<std::size_t>(i)] -=
            plan.stride[static_cast<std::size_t>(i)][du] * (plan.extent[du] - 1);
      }
    }
  }
}

}  // namespace kiln::ops
