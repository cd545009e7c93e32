#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
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
};

// ops::applyActivation, formula for formula.
__device__ double activate(const DeviceActivation& a, double x) {
  switch (a.type) {
    case kRelu:
      return x > 0 ? x : 0.0;
    case kSigmoid:
      return 1.0 / (1.0 + exp(-x));
    case kTanh:
      return tanh(x);
    case kLeakyRelu:
      return x >= 0 ? x : a.alpha * x;
    case kElu:
      return x >= 0 ? x : a.alpha * (exp(x) - 1.0);
    case kSelu:
      return a.beta * (x >= 0 ? x : a.alpha * (exp(x) - 1.0));
    case kSoftsign:
      return x / (1.0 + fabs(x));
    case kSoftplus: {
      const double z = a.beta * x;
      return a.alpha * (fmax(z, 0.0) + log1p(exp(-fabs(z))));
    }
    case kClip:
      return isnan(x) ? x : fmin(fmax(x, a.alpha), a.beta);
    case kHardSigmoid:
      return fmax(0.0, fmin(1.0, a.alpha * x + a.beta));
    case kScaledTanh:
      return a.alpha * tanh(a.beta * x);
    case kThresholdedRelu:
      return x > a.alpha ? x : 0.0;
    case kGeluErf:
      return 0.5 * x * (1.0 + erf(x / 1.4142135623730951));
    case kGeluTanh: {
      const double c = 0.79788456080286535588;  // sqrt(2 / pi)
      return 0.5 * x * (1.0 + tanh(c * (x + 0.044715 * x * x * x)));
    }
    default:
      return x;
  }
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
    y[i] = fromFloat<T>(act.type < 0 ? v : static_cast<float>(activate(act, v)));
  }
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
  dispatch(type, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    epilogueKernel<T><<<blocksFor(count), kThreads, 0, stream>>>(
        static_cast<T*>(y), count, static_cast<const T*>(bias), std::max<int64_t>(biasInner, 1),
        std::max<int64_t>(biasChannels, 1), static_cast<const T*>(residual), act);
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
