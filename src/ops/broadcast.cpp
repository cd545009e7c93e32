#include "ops/broadcast.h"

#include "core/error.h"
#include "core/shape_util.h"

namespace kiln::ops {

BroadcastPlan planBroadcast(const Dims& out, std::span<const Dims> inputs) {
  KILN_ASSERT(inputs.size() <= static_cast<std::size_t>(kMaxBroadcastInputs));
  BroadcastPlan plan;
  plan.nbInputs = static_cast<int32_t>(inputs.size());
  plan.volume = volume(out);
  if (plan.volume <= 0) {
    plan.volume = 0;
    return plan;
  }

  // Per output dim, each input's stride (0 where it is broadcast), on the output's rank.
  std::array<std::array<int64_t, Dims::kMaxRank>, kMaxBroadcastInputs> strides{};
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Dims& in = inputs[i];
    KILN_ASSERT(in.nbDims <= out.nbDims);
    const Dims contiguous = contiguousStrides(in);
    const int32_t shift = out.nbDims - in.nbDims;
    for (int32_t d = 0; d < out.nbDims; ++d) {
      const int32_t k = d - shift;
      const int64_t extent = k >= 0 ? in[k] : 1;
      KILN_ASSERT(extent == out[d] || extent == 1);
      strides[i][static_cast<std::size_t>(d)] = extent == 1 ? 0 : contiguous[k];
    }
  }

  // Keep dims of extent > 1, merging each into the previous kept one when every input can
  // walk both as one.
  int32_t rank = 0;
  for (int32_t d = 0; d < out.nbDims; ++d) {
    const auto du = static_cast<std::size_t>(d);
    if (out[d] == 1) continue;
    bool merge = rank > 0;
    for (std::size_t i = 0; merge && i < inputs.size(); ++i) {
      merge = plan.stride[i][static_cast<std::size_t>(rank - 1)] == strides[i][du] * out[d];
    }
    const auto slot = static_cast<std::size_t>(merge ? rank - 1 : rank);
    plan.extent[slot] = merge ? plan.extent[slot] * out[d] : out[d];
    for (std::size_t i = 0; i < inputs.size(); ++i) plan.stride[i][slot] = strides[i][du];
    if (!merge) ++rank;
  }
  if (rank == 0) {  // a single element (rank 0 or all extents 1)
    rank = 1;
    plan.extent[0] = 1;
  }
  plan.rank = rank;
  return plan;
}

}  // namespace kiln::ops
