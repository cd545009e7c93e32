// Pooling (cuda_kernels.h): one thread per output cell walks its window, with the reference's
// rules (ops/pooling.cpp): max ignores padding and propagates NaN, average divides by the cells
// inside the input or inside the padded input, the blend mixes both. Half and bfloat16 cells
// are summed in double and compared in float; only the result is rounded to the element type.
#include <cuda_runtime.h>

#include <cstdint>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/float_elements.cuh"

namespace kiln::backends::cuda::kernels {

namespace {

constexpr int kThreads = 256;
constexpr int32_t kAverage = 1;          // PoolingType::kAVERAGE
constexpr int32_t kMaxAverageBlend = 2;  // PoolingType::kMAX_AVERAGE_BLEND

__device__ int64_t clampedCount(int64_t start, int64_t size, int64_t lo, int64_t hi) {
  const int64_t begin = start > lo ? start : lo;
  const int64_t end = start + size < hi ? start + size : hi;
  return end > begin ? end - begin : 0;
}

template <typename T>
__global__ void __launch_bounds__(kThreads) pooling(const PoolingParams p) {
  const int64_t outVolume = p.out[0] * p.out[1] * p.out[2];
  const int64_t inVolume = p.in[0] * p.in[1] * p.in[2];
  const int64_t total = p.planes * outVolume;
  const int64_t gridStep = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += gridStep) {
    const int64_t o2 = i % p.out[2];
    const int64_t o1 = (i / p.out[2]) % p.out[1];
    const int64_t o0 = (i / (p.out[2] * p.out[1])) % p.out[0];
    const int64_t plane = i / outVolume;
    const int64_t start[3] = {o0 * p.stride[0] - p.pre[0], o1 * p.stride[1] - p.pre[1],
                              o2 * p.stride[2] - p.pre[2]};
    int64_t begin[3];
    int64_t end[3];
    int64_t insideCount = 1;
    int64_t paddedCount = 1;
    for (int d = 0; d < 3; ++d) {
      begin[d] = start[d] > 0 ? start[d] : 0;
      end[d] = start[d] + p.kernel[d] < p.in[d] ? start[d] + p.kernel[d] : p.in[d];
      insideCount *= end[d] > begin[d] ? end[d] - begin[d] : 0;
      paddedCount *= clampedCount(start[d], p.kernel[d], -p.pre[d], p.in[d] + p.post[d]);
    }
    const T* xp = static_cast<const T*>(p.x) + plane * inVolume;
    double sum = 0.0;  // as the reference: large (global) windows stay exact enough
    float max = -INFINITY;
    for (int64_t i0 = begin[0]; i0 < end[0]; ++i0) {
      for (int64_t i1 = begin[1]; i1 < end[1]; ++i1) {
        const T* row = xp + (i0 * p.in[1] + i1) * p.in[2];
        for (int64_t i2 = begin[2]; i2 < end[2]; ++i2) {
          const float v = loadFloat(row, i2);
          sum += v;
          if (v > max || isnan(v)) max = isnan(max) ? max : v;
        }
      }
    }
    if (insideCount == 0) max = 0.f;
    const int64_t divisor = p.excludePadding != 0 ? insideCount : paddedCount;
    const float average =
        divisor > 0 ? static_cast<float>(sum / static_cast<double>(divisor)) : 0.f;
    float result = max;
    if (p.type == kAverage) {
      result = average;
    } else if (p.type == kMaxAverageBlend) {
      result = (1.f - p.blend) * max + p.blend * average;
    }
    storeFloat(static_cast<T*>(p.y), i, result);
  }
}

}  // namespace

void launchPooling(const PoolingParams& params, void* stream) {
  const int64_t total = params.planes * params.out[0] * params.out[1] * params.out[2];
  if (total <= 0) return;
  const int64_t blocks = (total + kThreads - 1) / kThreads;
  const auto grid = static_cast<unsigned>(blocks < 65536 ? blocks : 65536);
  withFloatElements(params.dtype, "pooling kernel", [&](auto element) {
    pooling<decltype(element)><<<grid, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(params);
  });
  checkLaunch("pooling kernel");
}

}  // namespace kiln::backends::cuda::kernels
