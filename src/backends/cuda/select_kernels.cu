// The selection kernel (select_kernels.h): one thread per output element; the broadcast
// offsets come from the output index by the merged loops' extents and strides.
#include <cuda_runtime.h>

#include <cstdint>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/select_kernels.h"

namespace kiln::backends::cuda::kernels {

namespace {

constexpr int kThreads = 256;

template <typename T, typename Index>
__global__ void __launch_bounds__(kThreads) selectKernel(const SelectParams p) {
  const auto count = static_cast<Index>(p.count);
  const Index gridStep = static_cast<Index>(gridDim.x) * blockDim.x;
  const auto* a = static_cast<const uint8_t*>(p.inputs[0]);
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += gridStep) {
    Index offset[3] = {0, 0, 0};
    Index rest = i;
    for (int32_t d = p.rank - 1; d >= 0; --d) {
      const auto extent = static_cast<Index>(p.extent[d]);
      const Index index = d == 0 ? rest : rest % extent;
      rest = d == 0 ? 0 : rest / extent;
      for (int32_t k = 0; k < 3; ++k) offset[k] += index * static_cast<Index>(p.stride[k][d]);
    }
    const bool first = a[offset[0]] != 0;
    if (p.op == kSelectWhere) {
      const T* chosen = static_cast<const T*>(p.inputs[first ? 1 : 2]);
      static_cast<T*>(p.output)[i] = chosen[offset[first ? 1 : 2]];
    } else {
      const bool second = static_cast<const uint8_t*>(p.inputs[1])[offset[1]] != 0;
      const bool r = p.op == kSelectAnd  ? (first && second)
                     : p.op == kSelectOr ? (first || second)
                                         : (first != second);
      static_cast<uint8_t*>(p.output)[i] = r ? 1 : 0;
    }
  }
}

template <typename T>
void launchTyped(const SelectParams& p, cudaStream_t stream) {
  const int64_t blocks = (p.count + kThreads - 1) / kThreads;
  const auto grid = static_cast<unsigned>(blocks < 65536 ? blocks : 65536);
  // Inputs broadcast to the output, so no offset exceeds the output's count.
  if (p.count <= INT32_MAX) {
    selectKernel<T, uint32_t><<<grid, kThreads, 0, stream>>>(p);
  } else {
    selectKernel<T, int64_t><<<grid, kThreads, 0, stream>>>(p);
  }
}

}  // namespace

void launchSelect(const SelectParams& params, void* stream) {
  if (params.count <= 0) return;
  const auto s = static_cast<cudaStream_t>(stream);
  switch (params.elementBytes) {
    case 2:
      launchTyped<uint16_t>(params, s);
      break;
    case 4:
      launchTyped<uint32_t>(params, s);
      break;
    case 8:
      launchTyped<uint64_t>(params, s);
      break;
    default:
      launchTyped<uint8_t>(params, s);
      break;
  }
  checkLaunch("select kernel");
}

}  // namespace kiln::backends::cuda::kernels
