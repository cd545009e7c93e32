#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/float_elements.cuh"
#include "backends/cuda/pointwise_kernels.h"

namespace kiln::backends::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 65535;

int blocksFor(int64_t count) {
  return static_cast<int>(std::clamp<int64_t>((count + kThreads - 1) / kThreads, 1, kMaxBlocks));
}

// Element conversions shared with the other kernels: load as float, store rounded to nearest.
using kernels::fromFloat;
using kernels::toFloat;

// Calls @p f with a null T* for the element type @p type.
template <typename F>
void dispatch(FloatType type, F&& f) {
  switch (type) {
    case FloatType::kFloat:
      f(static_cast<float*>(nullptr));
      return;
    case FloatType::kHalf:
      f(static_cast<__half*>(nullptr));
      return;
    case FloatType::kBFloat16:
      f(static_cast<__nv_bfloat16*>(nullptr));
      return;
  }
}

// The ActivationType values (kiln/network.h), which device code cannot include.
enum Activation : int32_t {
  kRelu,
  kSigmoid,
  kTanh,
  kLeakyRelu,
  kElu,
  kSelu,
  kSoftsign,
  kSoftplus,
  kClip,
  kHardSigmoid,
  kScaledTanh,
  kThresholdedRelu,
  kGeluErf,
  kGeluTanh,
  kSilu,
  kHardSwish,
};

// ops::applyActivation, formula for formula, in the compute type C: double for float32 tensors
// (results as the reference's), float for 16-bit ones, whose rounding dwarfs float's error — and
// double math is a slow path on the GPU (an erf-GELU over BERT's [4096, 3072] took 110 us).
template <typename C>
__device__ C activate(const DeviceActivation& a, C x) {
  const C alpha = static_cast<C>(a.alpha);
  const C beta = static_cast<C>(a.beta);
  const C zero = 0;
  const C one = 1;
  switch (a.type) {
    case kRelu:
      return x > zero ? x : zero;
    case kSigmoid:
      return one / (one + exp(-x));
    case kTanh:
      return tanh(x);
    case kLeakyRelu:
      return x >= zero ? x : alpha * x;
    case kElu:
      return x >= zero ? x : alpha * (exp(x) - one);
    case kSelu:
      return beta * (x >= zero ? x : alpha * (exp(x) - one));
    case kSoftsign:
      return x / (one + fabs(x));
    case kSoftplus: {
      const C z = beta * x;
      return alpha * (fmax(z, zero) + log1p(exp(-fabs(z))));
    }
    case kClip:
      return isnan(x) ? x : fmin(fmax(x, alpha), beta);
    case kHardSigmoid:
      return fmax(zero, fmin(one, alpha * x + beta));
    case kScaledTanh:
      return alpha * tanh(beta * x);
    case kThresholdedRelu:
      return x > alpha ? x : zero;
    case kGeluErf:
      return static_cast<C>(0.5) * x * (one + erf(x * static_cast<C>(0.70710678118654752440)));
    case kGeluTanh: {
      const C c = static_cast<C>(0.79788456080286535588);  // sqrt(2 / pi)
      return static_cast<C>(0.5) * x * (one + tanh(c * (x + static_cast<C>(0.044715) * x * x * x)));
    }
    case kSilu:
      return x / (one + exp(-x));
    case kHardSwish:
      return x * fmax(zero, fmin(one, x / static_cast<C>(6) + static_cast<C>(0.5)));
    default:
      return x;
  }
}

// The activation's compute type for element type T (see activate).
template <typename T>
using ComputeOf = std::conditional_t<std::is_same_v<T, float>, double, float>;

template <typename T>
__device__ float activated(const DeviceActivation& act, float v) {
  return act.type < 0 ? v : static_cast<float>(activate<ComputeOf<T>>(act, v));
}

template <typename T>
__global__ void epilogueKernel(T* y, int64_t count, const T* bias, int64_t biasInner,
                               int64_t biasChannels, const T* residual, DeviceActivation act) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += step) {
    float v = toFloat(y[i]);
    if (bias != nullptr) v += toFloat(bias[(i / biasInner) % biasChannels]);
    if (residual != nullptr) v += toFloat(residual[i]);
    y[i] = fromFloat<T>(activated<T>(act, v));
  }
}

// The epilogue over 16-byte words of V elements, with 32-bit indices. Every word's elements
// share one bias value (biasInner a multiple of V) or take V consecutive ones (biasInner 1,
// biasChannels a multiple of V): the bias index is found once per word, not per element.
template <typename T, int V>
__global__ void epilogueWords(T* y, uint32_t words, const T* bias, uint32_t biasInner,
                              uint32_t biasChannels, const T* residual, DeviceActivation act) {
  static_assert(V * sizeof(T) == 16, "one word is 16 bytes");
  const uint32_t step = gridDim.x * blockDim.x;
  for (uint32_t w = blockIdx.x * blockDim.x + threadIdx.x; w < words; w += step) {
    const uint32_t first = w * V;
    uint4 word = reinterpret_cast<const uint4*>(y)[w];
    const T* in = reinterpret_cast<const T*>(&word);
    float v[V];
#pragma unroll
    for (int e = 0; e < V; ++e) v[e] = toFloat(in[e]);
    if (bias != nullptr) {
      if (biasInner == 1) {
        const uint4 b = reinterpret_cast<const uint4*>(bias + first % biasChannels)[0];
        const T* bv = reinterpret_cast<const T*>(&b);
#pragma unroll
        for (int e = 0; e < V; ++e) v[e] += toFloat(bv[e]);
      } else {
        const float b = toFloat(bias[(first / biasInner) % biasChannels]);
#pragma unroll
        for (int e = 0; e < V; ++e) v[e] += b;
      }
    }
    if (residual != nullptr) {
      const uint4 r = reinterpret_cast<const uint4*>(residual)[w];
      const T* rv = reinterpret_cast<const T*>(&r);
#pragma unroll
      for (int e = 0; e < V; ++e) v[e] += toFloat(rv[e]);
    }
    T* out = reinterpret_cast<T*>(&word);
#pragma unroll
    for (int e = 0; e < V; ++e) out[e] = fromFloat<T>(activated<T>(act, v[e]));
    reinterpret_cast<uint4*>(y)[w] = word;
  }
}

bool wordAligned(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p) % 16 == 0;
}

struct Extents3 {
  int64_t e[3];
};

template <typename T>
__global__ void shiftCopyKernel(T* dst, Extents3 dstExtents, const T* src, Extents3 srcExtents,
                                Extents3 offset, int64_t count) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t srcPlane = srcExtents.e[0] * srcExtents.e[1] * srcExtents.e[2];
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += step) {
    int64_t rest = i;
    int64_t source = 0;
    bool inside = true;
    int64_t stride = 1;
    for (int d = 2; d >= 0; --d) {
      const int64_t o = rest % dstExtents.e[d];
      rest /= dstExtents.e[d];
      const int64_t s = o - offset.e[d];
      inside = inside && s >= 0 && s < srcExtents.e[d];
      source += s * stride;
      stride *= srcExtents.e[d];
    }
    // rest is now the plane.
    dst[i] = inside ? src[rest * srcPlane + source] : fromFloat<T>(0.0f);
  }
}

// Reduces @p value over the block (blockDim.x a multiple of 32, at most 1024); every thread
// gets the result. @p max: maximum (NaN-ignoring, like fmax), else sum.
__device__ double blockReduce(double value, bool max, double* shared) {
  for (int offset = 16; offset > 0; offset /= 2) {
    const double other = __shfl_xor_sync(0xffffffffu, value, offset);
    value = max ? fmax(value, other) : value + other;
  }
  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  const int warps = blockDim.x / 32;
  __syncthreads();  // shared may still be read by a previous reduction
  if (lane == 0) shared[warp] = value;
  __syncthreads();
  double result = shared[0];
  for (int w = 1; w < warps; ++w) result = max ? fmax(result, shared[w]) : result + shared[w];
  return result;
}

// Where row @p row of the scores starts in the mask (see MaskIndex).
__device__ int64_t maskRowOffset(const MaskIndex& mi, int64_t row) {
  int64_t b = row / mi.sq;
  int64_t offset = (row % mi.sq) * mi.rowStride;
  for (int d = mi.batchDims - 1; d >= 0; --d) {
    offset += (b % mi.batchExtents[d]) * mi.batchStrides[d];
    b /= mi.batchExtents[d];
  }
  return offset;
}

// probs may alias scores (T = float): every element is read and then written by one thread.
template <typename T>
__global__ void scaledSoftmaxKernel(float* scores, T* probs, int64_t rows, int64_t cols,
                                    double scale, const T* mask, MaskIndex mi) {
  __shared__ double shared[32];
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    float* s = scores + row * cols;
    T* p = probs + row * cols;
    const T* m = mask != nullptr ? mask + maskRowOffset(mi, row) : nullptr;
    double largest = -INFINITY;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
      double v = static_cast<double>(s[j]) * scale;
      if (m != nullptr) v += toFloat(m[j * mi.colStride]);
      s[j] = static_cast<float>(v);
      largest = fmax(largest, v);
    }
    largest = blockReduce(largest, true, shared);
    // All -inf: the reference divides 0 by 0.
    const bool empty = isinf(largest) && largest < 0;
    double sum = 0;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
      const double e = empty ? 0.0 : exp(static_cast<double>(s[j]) - largest);
      s[j] = static_cast<float>(e);
      sum += e;
    }
    sum = blockReduce(sum, false, shared);
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
      p[j] = fromFloat<T>(sum > 0 ? static_cast<float>(s[j] / sum) : NAN);
    }
    __syncthreads();
  }
}

// The same for rows of at most 1024 scores (attention's usual case), one warp per row with the
// row in registers: no block-wide reductions, no __syncthreads; float math with the maximum
// subtracted (the sum of at most 1024 terms in [0, 1] stays exact enough in float).
constexpr int kWarpRowMax = 1024;
constexpr int kRowWarps = kThreads / 32;

template <typename T>
__global__ void __launch_bounds__(kThreads)
    scaledSoftmaxWarpKernel(float* scores, T* probs, int64_t rows, int64_t cols, float scale,
                            const T* mask, MaskIndex mi) {
  constexpr int kPerLane = kWarpRowMax / 32;
  const int lane = threadIdx.x % 32;
  const int64_t warpStep = static_cast<int64_t>(gridDim.x) * kRowWarps;
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * kRowWarps + threadIdx.x / 32; row < rows;
       row += warpStep) {
    const float* s = scores + row * cols;
    T* p = probs + row * cols;
    const T* m = mask != nullptr ? mask + maskRowOffset(mi, row) : nullptr;
    float v[kPerLane];
    float largest = -INFINITY;
#pragma unroll
    for (int k = 0; k < kPerLane; ++k) {
      const int64_t j = lane + 32 * k;
      v[k] = -INFINITY;
      if (j < cols) {
        v[k] = s[j] * scale;
        if (m != nullptr) v[k] += toFloat(m[j * mi.colStride]);
        largest = fmaxf(largest, v[k]);
      }
    }
    for (int offset = 16; offset > 0; offset /= 2) {
      largest = fmaxf(largest, __shfl_xor_sync(0xffffffffu, largest, offset));
    }
    // All -inf: the reference divides 0 by 0.
    const bool empty = isinf(largest) && largest < 0;
    float sum = 0.f;
#pragma unroll
    for (int k = 0; k < kPerLane; ++k) {
      v[k] = empty || lane + 32 * k >= cols ? 0.f : expf(v[k] - largest);
      sum += v[k];
    }
    for (int offset = 16; offset > 0; offset /= 2) {
      sum += __shfl_xor_sync(0xffffffffu, sum, offset);
    }
    const float inv = sum > 0.f ? 1.f / sum : NAN;
#pragma unroll
    for (int k = 0; k < kPerLane; ++k) {
      const int64_t j = lane + 32 * k;
      if (j < cols) p[j] = fromFloat<T>(sum > 0.f ? v[k] * inv : NAN);
    }
  }
}

}  // namespace

void launchEpilogue(FloatType type, void* y, int64_t count, const void* bias, int64_t biasInner,
                    int64_t biasChannels, const void* residual, DeviceActivation act,
                    cudaStream_t stream) {
  if (count <= 0) return;
  if (bias == nullptr && residual == nullptr && act.type < 0) return;
  biasInner = std::max<int64_t>(biasInner, 1);
  biasChannels = std::max<int64_t>(biasChannels, 1);
  dispatch(type, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    constexpr int64_t kV = 16 / sizeof(T);
    const bool wordBias = bias == nullptr || (biasInner == 1 && biasChannels % kV == 0) ||
                          (biasInner > 1 && biasInner % kV == 0);
    if (count % kV == 0 && count <= std::numeric_limits<uint32_t>::max() && wordBias &&
        wordAligned(y) && (bias == nullptr || wordAligned(bias)) &&
        (residual == nullptr || wordAligned(residual))) {
      epilogueWords<T, kV><<<blocksFor(count / kV), kThreads, 0, stream>>>(
          static_cast<T*>(y), static_cast<uint32_t>(count / kV), static_cast<const T*>(bias),
          static_cast<uint32_t>(biasInner), static_cast<uint32_t>(biasChannels),
          static_cast<const T*>(residual), act);
      return;
    }
    epilogueKernel<T><<<blocksFor(count), kThreads, 0, stream>>>(
        static_cast<T*>(y), count, static_cast<const T*>(bias), biasInner, biasChannels,
        static_cast<const T*>(residual), act);
  });
  checkLaunch("the epilogue kernel");
}

void launchShiftCopy(FloatType type, void* dst, const std::array<int64_t, 3>& dstExtents,
                     const void* src, const std::array<int64_t, 3>& srcExtents,
                     const std::array<int64_t, 3>& offset, int64_t planes, cudaStream_t stream) {
  const int64_t count = planes * dstExtents[0] * dstExtents[1] * dstExtents[2];
  if (count <= 0) return;
  const Extents3 de{{dstExtents[0], dstExtents[1], dstExtents[2]}};
  const Extents3 se{{srcExtents[0], srcExtents[1], srcExtents[2]}};
  const Extents3 off{{offset[0], offset[1], offset[2]}};
  dispatch(type, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    shiftCopyKernel<T><<<blocksFor(count), kThreads, 0, stream>>>(
        static_cast<T*>(dst), de, static_cast<const T*>(src), se, off, count);
  });
  checkLaunch("the shifted copy kernel");
}

void launchScaledSoftmax(FloatType type, float* scores, void* probs, int64_t rows, int64_t cols,
                         double scale, const void* mask, const MaskIndex& maskIndex,
                         cudaStream_t stream) {
  if (rows <= 0 || cols <= 0) return;
  const int blocks = static_cast<int>(std::min<int64_t>(rows, kMaxBlocks));
  const int warpBlocks =
      static_cast<int>(std::min<int64_t>((rows + kRowWarps - 1) / kRowWarps, kMaxBlocks));
  dispatch(type, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    if (cols <= kWarpRowMax) {
      scaledSoftmaxWarpKernel<T><<<warpBlocks, kThreads, 0, stream>>>(
          scores, static_cast<T*>(probs), rows, cols, static_cast<float>(scale),
          static_cast<const T*>(mask), maskIndex);
    } else {
      scaledSoftmaxKernel<T>
          <<<blocks, kThreads, 0, stream>>>(scores, static_cast<T*>(probs), rows, cols, scale,
                                            static_cast<const T*>(mask), maskIndex);
    }
  });
  checkLaunch("the softmax kernel");
}

}  // namespace kiln::backends::cuda
