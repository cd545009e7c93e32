#include "backends/cuda/broadcast_loops.h"

namespace kiln::backends::cuda {

std::optional<BroadcastLoops> broadcastLoops(std::span<const Dims> inputs, const Dims& out) {
  using kernels::kKernelMaxRank;
  if (out.nbDims < 0 || out.nbDims > kKernelMaxRank) return std::nullopt;
  const std::size_t count = inputs.size();
  // Each input's stride per output dimension, before merging.
  std::vector<std::array<int64_t, kKernelMaxRank>> strides(count);
  for (std::size_t k = 0; k < count; ++k) {
    const Dims& in = inputs[k];
    const int32_t shift = out.nbDims - in.nbDims;
    if (shift < 0) return std::nullopt;
    int64_t contiguous = 1;
    for (int32_t d = out.nbDims - 1; d >= 0; --d) {
      const int32_t j = d - shift;
      const int64_t extent = j >= 0 ? in[j] : 1;
      if (extent != out[d] && extent != 1) return std::nullopt;
      strides[k][static_cast<std::size_t>(d)] = extent == 1 ? 0 : contiguous;
      contiguous *= extent;
    }
  }
  BroadcastLoops loops;
  loops.stride.resize(count);
  int32_t rank = 0;
  for (int32_t d = 0; d < out.nbDims; ++d) {
    const auto du = static_cast<std::size_t>(d);
    if (out[d] == 1) continue;
    // Merge with the previous loop where every input walks both as one.
    bool merge = rank > 0;
    for (std::size_t k = 0; merge && k < count; ++k) {
      merge = loops.stride[k][static_cast<std::size_t>(rank - 1)] == strides[k][du] * out[d];
    }
    const auto slot = static_cast<std::size_t>(merge ? rank - 1 : rank);
    loops.extent[slot] = merge ? loops.extent[slot] * out[d] : out[d];
    for (std::size_t k = 0; k < count; ++k) loops.stride[k][slot] = strides[k][du];
    if (!merge) ++rank;
  }
  if (rank == 0) {  // one element
    rank = 1;
    loops.extent[0] = 1;
  }
  loops.rank = rank;
  return loops;
}

}  // namespace kiln::backends::cuda
