// The pointwise-chain kernel (cuda_kernels.h): each thread runs the whole step list on one
// output element, keeping the running value in a register and rounding it to float after
// every step, as the reference does between its per-step kernels. Half and bfloat16 inputs are
// widened to float as they are read; only the final value is rounded to the element type.
#include <cuda_runtime.h>

#include <cstdint>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/float_elements.cuh"

namespace kiln::backends::cuda::kernels {

namespace {

constexpr int kThreads = 256;

// ActivationType values.
enum : int32_t {
  kRelu = 0,
  kSigmoid = 1,
  kTanh = 2,
  kLeakyRelu = 3,
  kElu = 4,
  kSelu = 5,
  kSoftsign = 6,
  kSoftplus = 7,
  kClip = 8,
  kHardSigmoid = 9,
  kScaledTanh = 10,
  kThresholdedRelu = 11,
  kGeluErf = 12,
  kGeluTanh = 13,
  kSilu = 14,
  kHardSwish = 15,
};

// UnaryOperation values (offset by kPwUnaryBase in step codes).
enum : int32_t {
  kExp = 0,
  kLog = 1,
  kSqrt = 2,
  kRecip = 3,
  kAbs = 4,
  kNeg = 5,
  kSin = 6,
  kCos = 7,
  kTan = 8,
  kSinh = 9,
  kCosh = 10,
  kAsin = 11,
  kAcos = 12,
  kAtan = 13,
  kAsinh = 14,
  kAcosh = 15,
  kAtanh = 16,
  kCeil = 17,
  kFloor = 18,
  kErf = 19,
  kSign = 21,
  kRound = 22,
  kIsInf = 23,
  kIsNan = 24,
};

// ElementWiseOperation values (offset by kPwBinaryBase).
enum : int32_t {
  kSum = 0,
  kProd = 1,
  kMax = 2,
  kMin = 3,
  kSub = 4,
  kDiv = 5,
  kPow = 6,
  kFloorDiv = 7,
  kEqual = 11,
  kGreater = 12,
  kLess = 13,
  kMod = 14,
  kFmod = 15,
};

__device__ float activation(int32_t type, float x, float alpha, float beta) {
  switch (type) {
    case kRelu:
      return x > 0.f ? x : 0.f;
    case kSigmoid:
      return 1.f / (1.f + expf(-x));
    case kTanh:
      return tanhf(x);
    case kLeakyRelu:
      return x >= 0.f ? x : alpha * x;
    case kElu:
      return x >= 0.f ? x : alpha * expm1f(x);
    case kSelu:
      return beta * (x >= 0.f ? x : alpha * expm1f(x));
    case kSoftsign:
      return x / (1.f + fabsf(x));
    case kSoftplus: {
      // max(z, 0) + log(1 + e^-|z|): exp(z) alone overflows.
      const float z = beta * x;
      return alpha * (fmaxf(z, 0.f) + log1pf(expf(-fabsf(z))));
    }
    case kClip:
      return isnan(x) ? x : fminf(fmaxf(x, alpha), beta);
    case kHardSigmoid: {
      // fmin(1, NaN) is 1 in the reference; the compiler's saturation would give 0.
      const float v = alpha * x + beta;
      return isnan(v) ? 1.f : fmaxf(0.f, fminf(1.f, v));
    }
    case kScaledTanh:
      return alpha * tanhf(beta * x);
    case kThresholdedRelu:
      return x > alpha ? x : 0.f;
    case kGeluErf:
      return 0.5f * x * (1.f + erff(x * 0.70710678118654752f));
    case kGeluTanh:
      return 0.5f * x * (1.f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
    case kSilu:
      return x / (1.f + expf(-x));
    case kHardSwish:
      return x * fmaxf(0.f, fminf(1.f, x / 6.f + 0.5f));
    default:
      return x;
  }
}

__device__ float unary(int32_t op, float x) {
  switch (op) {
    case kExp:
      return expf(x);
    case kLog:
      return logf(x);
    case kSqrt:
      return sqrtf(x);
    case kRecip:
      return 1.f / x;
    case kAbs:
      return fabsf(x);
    case kNeg:
      return -x;
    case kSin:
      return sinf(x);
    case kCos:
      return cosf(x);
    case kTan:
      return tanf(x);
    case kSinh:
      return sinhf(x);
    case kCosh:
      return coshf(x);
    case kAsin:
      return asinf(x);
    case kAcos:
      return acosf(x);
    case kAtan:
      return atanf(x);
    case kAsinh:
      return asinhf(x);
    case kAcosh:
      return acoshf(x);
    case kAtanh:
      return atanhf(x);
    case kCeil:
      return ceilf(x);
    case kFloor:
      return floorf(x);
    case kErf:
      return erff(x);
    case kSign:
      return x > 0.f ? 1.f : (x < 0.f ? -1.f : x);
    case kRound:
      return rintf(x);  // half to even, as std::nearbyint in the default rounding mode
    case kIsInf:
      return isinf(x) ? 1.f : 0.f;
    case kIsNan:
      return isnan(x) ? 1.f : 0.f;
    default:
      return x;
  }
}

__device__ float binary(int32_t op, float a, float b) {
  switch (op) {
    case kSum:
      return a + b;
    case kProd:
      return a * b;
    case kSub:
      return a - b;
    case kDiv:
      return a / b;
    case kMax:
      return isnan(a) || isnan(b) ? __int_as_float(0x7fc00000) : (a > b ? a : b);
    case kMin:
      return isnan(a) || isnan(b) ? __int_as_float(0x7fc00000) : (a < b ? a : b);
    case kPow:
      // The reference computes in double; powf differs from it by a few ulp.
      return static_cast<float>(pow(static_cast<double>(a), static_cast<double>(b)));
    case kFloorDiv:
      return floorf(a / b);
    case kFmod:
      return fmodf(a, b);
    case kMod: {
      float r = fmodf(a, b);
      if (r != 0.f && ((r < 0.f) != (b < 0.f))) r += b;
      return r == 0.f ? copysignf(0.f, b) : r;
    }
    case kEqual:
      return a == b ? 1.f : 0.f;
    case kGreater:
      return a > b ? 1.f : 0.f;
    case kLess:
      return a < b ? 1.f : 0.f;
    default:
      return a;
  }
}

// Runs the steps on input 0's value @p v; @p offset(k) is where input k is read.
template <typename T, typename Offset>
__device__ float runSteps(const PointwiseParams& p, float v, Offset offset) {
  for (int32_t s = 0; s < p.nbSteps; ++s) {
    const PwStep& step = p.steps[s];
    if (step.code >= kPwBinaryBase) {
      const float w =
          loadFloat(static_cast<const T*>(p.inputs[step.operand]), offset(step.operand));
      v = step.operandFirst != 0 ? binary(step.code - kPwBinaryBase, w, v)
                                 : binary(step.code - kPwBinaryBase, v, w);
    } else if (step.code >= kPwUnaryBase) {
      v = unary(step.code - kPwUnaryBase, v);
    } else {
      v = activation(step.code, v, step.alpha, step.beta);
    }
  }
  return v;
}

template <typename T>
__device__ void store(const PointwiseParams& p, int64_t i, float v) {
  if (p.outputBool != 0) {
    static_cast<uint8_t*>(p.output)[i] = v != 0.f ? 1 : 0;
  } else {
    storeFloat(static_cast<T*>(p.output), i, v);
  }
}

// Every input full-size or a single element: no index arithmetic.
template <typename T>
__global__ void __launch_bounds__(kThreads) pointwiseFlat(const PointwiseParams p) {
  const int64_t gridStep = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < p.count;
       i += gridStep) {
    const auto offset = [&](int32_t k) -> int64_t { return p.scalar[k] != 0 ? 0 : i; };
    const float v = loadFloat(static_cast<const T*>(p.inputs[0]), offset(0));
    store<T>(p, i, runSteps<T>(p, v, offset));
  }
}

// Numpy broadcasting: each input's offset from the output index by its loop strides. Index is
// uint32_t when every offset fits (32-bit division is several times cheaper than 64-bit).
// MaxInputs bounds the inputs at compile time, so that for the usual chains (at most four
// inputs) the offsets stay in registers: every loop over them unrolls, and an input's offset is
// picked by comparisons instead of a dynamically indexed (local-memory) array.
template <typename T, typename Index, int MaxInputs>
__global__ void __launch_bounds__(kThreads) pointwiseBroadcast(const PointwiseParams p) {
  Index offsets[MaxInputs];
  const auto count = static_cast<Index>(p.count);
  const Index gridStep = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += gridStep) {
#pragma unroll
    for (int32_t k = 0; k < MaxInputs; ++k) offsets[k] = 0;
    Index rest = i;
    for (int32_t d = p.rank - 1; d >= 0; --d) {
      const auto extent = static_cast<Index>(p.extent[d]);
      const Index index = d == 0 ? rest : rest % extent;
      rest = d == 0 ? 0 : rest / extent;
#pragma unroll
      for (int32_t k = 0; k < MaxInputs; ++k) {
        if (k < p.nbInputs) offsets[k] += index * static_cast<Index>(p.stride[k][d]);
      }
    }
    const auto offset = [&](int32_t k) {
      Index o = offsets[0];
#pragma unroll
      for (int32_t j = 1; j < MaxInputs; ++j) o = k == j ? offsets[j] : o;
      return static_cast<int64_t>(o);
    };
    const float v = loadFloat(static_cast<const T*>(p.inputs[0]), offset(0));
    store<T>(p, static_cast<int64_t>(i), runSteps<T>(p, v, offset));
  }
}

unsigned blocksFor(int64_t count) {
  const int64_t blocks = (count + kThreads - 1) / kThreads;
  // Grid-stride loops cover the rest.
  return static_cast<unsigned>(blocks < 65536 ? blocks : 65536);
}

}  // namespace

void launchPointwise(const PointwiseParams& params, void* stream) {
  if (params.count <= 0) return;
  const auto s = static_cast<cudaStream_t>(stream);
  const unsigned grid = blocksFor(params.count);
  withFloatElements(params.dtype, "pointwise chain kernel", [&](auto element) {
    using T = decltype(element);
    if (params.rank == 0) {
      pointwiseFlat<T><<<grid, kThreads, 0, s>>>(params);
    } else if (params.count <= INT32_MAX && params.nbInputs <= 4) {
      // Inputs broadcast to the output, so no offset exceeds the output's count.
      pointwiseBroadcast<T, uint32_t, 4><<<grid, kThreads, 0, s>>>(params);
    } else if (params.count <= INT32_MAX) {
      pointwiseBroadcast<T, uint32_t, kPwMaxInputs><<<grid, kThreads, 0, s>>>(params);
    } else {
      pointwiseBroadcast<T, int64_t, kPwMaxInputs><<<grid, kThreads, 0, s>>>(params);
    }
  });
  checkLaunch("pointwise chain kernel");
}

}  // namespace kiln::backends::cuda::kernels
