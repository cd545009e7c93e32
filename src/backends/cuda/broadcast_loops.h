// Numpy broadcasting as the element-wise CUDA kernels walk it: the output's dimensions as
// nested loops (extent-1 dimensions dropped, and dimensions every input walks contiguously
// merged into one), and per input the elements it advances per step of each loop (0 where it
// broadcasts). The pointwise-chain and select kernels share it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "backends/cuda/cuda_kernels.h"
#include "kiln/types.h"

namespace kiln::backends::cuda {

struct BroadcastLoops {
  int32_t rank = 0;  //!< loops; at least 1
  std::array<int64_t, kernels::kKernelMaxRank> extent{};
  std::vector<std::array<int64_t, kernels::kKernelMaxRank>> stride;  //!< per input
};

//! The loops over @p out for @p inputs (right-aligned numpy broadcasting); nullopt when an
//! input does not broadcast to @p out or a rank exceeds the kernels' limit.
std::optional<BroadcastLoops> broadcastLoops(std::span<const Dims> inputs, const Dims& out);

}  // namespace kiln::backends::cuda
