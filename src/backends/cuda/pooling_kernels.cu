// Pooling (cuda_kernels.h): one thread per output cell walks its window, with the reference's
// rules (ops/pooling.cpp): max ignores padding and propagates NaN, average divides by the cells
// inside the input or inside the padded input, the blend mixes both. Half and bfloat16 cells
// are summed in double and compared in float; only the result is rounded to the element type.
// Channels-last tensors ([N, spatial..., C]) number the output cells with C innermost, so
// neighbouring threads read neighbouring channels.
#include <cuda_runtime.h>

#include <algorithm>
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

// Index is uint32_t when every offset fits (32-bit division is several times cheaper than
// 64-bit, and a cell's coordinates take six of them).
template <typename T, typename Index>
__global__ void __launch_bounds__(kThreads) pooling(const PoolingParams p) {
  const auto out0 = static_cast<Index>(p.out[0]);
  const auto out1 = static_cast<Index>(p.out[1]);
  const auto out2 = static_cast<Index>(p.out[2]);
  const auto in1 = static_cast<Index>(p.in[1]);
  const auto in2 = static_cast<Index>(p.in[2]);
  const Index outVolume = out0 * out1 * out2;
  const Index inVolume = static_cast<Index>(p.in[0]) * in1 * in2;
  const auto channels = static_cast<Index>(p.channels);
  const auto total = static_cast<Index>(p.planes * p.out[0] * p.out[1] * p.out[2]);
  const bool averaging = p.type == kAverage || p.type == kMaxAverageBlend;
  const Index gridStep = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += gridStep) {
    // The cell's image and channel give where its input starts (base) and the distance
    // between spatially adjacent input cells (step).
    Index cell = i;
    Index base = 0;
    Index step = 1;
    if (p.channelsLast != 0) {
      const Index channel = i % channels;
      cell = i / channels;
      base = (cell / outVolume) * inVolume * channels + channel;
      step = channels;
    } else {
      base = (i / outVolume) * inVolume;
    }
    const Index o2 = cell % out2;
    const Index rest = cell / out2;
    const Index o1 = rest % out1;
    const Index o0 = (rest / out1) % out0;
    const int64_t start[3] = {static_cast<int64_t>(o0) * p.stride[0] - p.pre[0],
                              static_cast<int64_t>(o1) * p.stride[1] - p.pre[1],
                              static_cast<int64_t>(o2) * p.stride[2] - p.pre[2]};
    Index begin[3];
    Index end[3];
    int64_t insideCount = 1;
    int64_t paddedCount = 1;
    for (int d = 0; d < 3; ++d) {
      const int64_t b = start[d] > 0 ? start[d] : 0;
      const int64_t e = start[d] + p.kernel[d] < p.in[d] ? start[d] + p.kernel[d] : p.in[d];
      begin[d] = static_cast<Index>(b);
      end[d] = static_cast<Index>(e > b ? e : b);
      insideCount *= e > b ? e - b : 0;
      paddedCount *= clampedCount(start[d], p.kernel[d], -p.pre[d], p.in[d] + p.post[d]);
    }
    const T* xp = static_cast<const T*>(p.x) + base;
    double sum = 0.0;  // as the reference: large (global) windows stay exact enough
    float max = -INFINITY;
    for (Index i0 = begin[0]; i0 < end[0]; ++i0) {
      for (Index i1 = begin[1]; i1 < end[1]; ++i1) {
        const T* row = xp + (i0 * in1 + i1) * in2 * step;
        for (Index i2 = begin[2]; i2 < end[2]; ++i2) {
          const float v = loadFloat(row, static_cast<int64_t>(i2 * step));
          if (averaging) sum += v;
          if (v > max || isnan(v)) max = isnan(max) ? max : v;
        }
      }
    }
    if (insideCount == 0) max = 0.f;
    float result = max;
    if (averaging) {
      const int64_t divisor = p.excludePadding != 0 ? insideCount : paddedCount;
      const float average =
          divisor > 0 ? static_cast<float>(sum / static_cast<double>(divisor)) : 0.f;
      result = p.type == kAverage ? average : (1.f - p.blend) * max + p.blend * average;
    }
    storeFloat(static_cast<T*>(p.y), static_cast<int64_t>(i), result);
  }
}

// Max pooling of 16-bit channels-last tensors with C a multiple of 8: one thread takes eight
// neighbouring channels of an output cell with 16-byte loads, so the window's index arithmetic
// is shared by eight outputs (the one-channel kernel spent its time there).
constexpr int kVector = 8;

template <typename T>
__global__ void __launch_bounds__(kThreads) maxPoolChannelsLast8(const PoolingParams p) {
  const auto groups = static_cast<uint32_t>(p.channels / kVector);
  const auto out1 = static_cast<uint32_t>(p.out[1]);
  const auto out2 = static_cast<uint32_t>(p.out[2]);
  const auto in1 = static_cast<int32_t>(p.in[1]);
  const auto in2 = static_cast<int32_t>(p.in[2]);
  const auto channels = static_cast<uint32_t>(p.channels);
  const uint32_t outVolume = static_cast<uint32_t>(p.out[0]) * out1 * out2;
  const uint32_t inVolume = static_cast<uint32_t>(p.in[0]) * in1 * in2;
  const auto images = static_cast<uint32_t>(p.planes / p.channels);
  const uint32_t total = images * outVolume * groups;
  const uint32_t gridStep = gridDim.x * blockDim.x;
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridStep) {
    const uint32_t group = i % groups;
    const uint32_t cell = i / groups;
    const uint32_t o2 = cell % out2;
    const uint32_t rest = cell / out2;
    const uint32_t o1 = rest % out1;
    const uint32_t image = rest / out1 / static_cast<uint32_t>(p.out[0]);
    const int32_t s1 = static_cast<int32_t>(o1 * p.stride[1] - p.pre[1]);
    const int32_t s2 = static_cast<int32_t>(o2 * p.stride[2] - p.pre[2]);
    const int32_t b1 = max(s1, 0);
    const int32_t e1 = min(s1 + static_cast<int32_t>(p.kernel[1]), in1);
    const int32_t b2 = max(s2, 0);
    const int32_t e2 = min(s2 + static_cast<int32_t>(p.kernel[2]), in2);
    const T* xp = static_cast<const T*>(p.x) + image * inVolume * channels + group * kVector;
    float best[kVector];
#pragma unroll
    for (int c = 0; c < kVector; ++c) best[c] = -INFINITY;
    for (int32_t i1 = b1; i1 < e1; ++i1) {
      for (int32_t i2 = b2; i2 < e2; ++i2) {
        const uint4 raw = *reinterpret_cast<const uint4*>(
            xp + (static_cast<uint32_t>(i1) * in2 + static_cast<uint32_t>(i2)) * channels);
        const T* v = reinterpret_cast<const T*>(&raw);
#pragma unroll
        for (int c = 0; c < kVector; ++c) {
          const float x = toFloat(v[c]);
          // The reference's rule: NaN wins and stays.
          if (x > best[c] || isnan(x)) best[c] = isnan(best[c]) ? best[c] : x;
        }
      }
    }
    const bool empty = b1 >= e1 || b2 >= e2;
    uint4 packed;
    T* out = reinterpret_cast<T*>(&packed);
#pragma unroll
    for (int c = 0; c < kVector; ++c) out[c] = fromFloat<T>(empty ? 0.f : best[c]);
    *reinterpret_cast<uint4*>(static_cast<T*>(p.y) + static_cast<int64_t>(cell) * channels +
                              group * kVector) = packed;
  }
}

// Whether maxPoolChannelsLast8 runs @p p: 2-d channels-last 16-bit max pooling, C % 8 == 0,
// 16-byte aligned tensors, every index within 32 bits.
bool vectorizedMaxPool(const PoolingParams& p) {
  const int64_t inputs = p.planes * p.in[0] * p.in[1] * p.in[2];
  const int64_t outputs = p.planes * p.out[0] * p.out[1] * p.out[2];
  return p.channelsLast != 0 && p.type == 0 && p.dtype != kFloatElements && p.channels > 0 &&
         p.channels % kVector == 0 && p.in[0] == 1 && p.out[0] == 1 && p.kernel[0] == 1 &&
         inputs <= INT32_MAX && outputs <= INT32_MAX &&
         reinterpret_cast<uintptr_t>(p.x) % 16 == 0 && reinterpret_cast<uintptr_t>(p.y) % 16 == 0;
}

}  // namespace

void launchPooling(const PoolingParams& params, void* stream) {
  const int64_t total = params.planes * params.out[0] * params.out[1] * params.out[2];
  if (total <= 0) return;
  const int64_t blocks = (total + kThreads - 1) / kThreads;
  const auto grid = static_cast<unsigned>(blocks < 65536 ? blocks : 65536);
  // planes counts images times channels in either layout.
  const int64_t inputs = params.planes * params.in[0] * params.in[1] * params.in[2];
  const bool narrow = total <= INT32_MAX && inputs <= INT32_MAX;
  const auto s = static_cast<cudaStream_t>(stream);
  withFloatElements(params.dtype, "pooling kernel", [&](auto element) {
    using T = decltype(element);
    if constexpr (sizeof(T) == 2) {
      if (vectorizedMaxPool(params)) {
        const int64_t cells = total / kVector;
        const auto vectorGrid =
            static_cast<unsigned>(std::min<int64_t>((cells + kThreads - 1) / kThreads, 65536));
        maxPoolChannelsLast8<T><<<vectorGrid, kThreads, 0, s>>>(params);
        return;
      }
    }
    if (narrow) {
      pooling<T, uint32_t><<<grid, kThreads, 0, s>>>(params);
    } else {
      pooling<T, int64_t><<<grid, kThreads, 0, s>>>(params);
    }
  });
  checkLaunch("pooling kernel");
}

}  // namespace kiln::backends::cuda::kernels
