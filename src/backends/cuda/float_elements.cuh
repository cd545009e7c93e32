// Device-side access to the float element types of cuda_kernels.h (float, __half,
// __nv_bfloat16): kernels are templates on the element type T, load T -> float, compute in float
// and store float -> T rounded to nearest; the launchers pick T from the params' dtype.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "backends/cuda/cuda_kernels.h"
#include "core/error.h"

namespace kiln::backends::cuda::kernels {

__device__ __forceinline__ float toFloat(float v) {
  return v;
}
__device__ __forceinline__ float toFloat(__half v) {
  return __half2float(v);
}
__device__ __forceinline__ float toFloat(__nv_bfloat16 v) {
  return __bfloat162float(v);
}

template <typename T>
__device__ __forceinline__ T fromFloat(float v);
template <>
__device__ __forceinline__ float fromFloat<float>(float v) {
  return v;
}
template <>
__device__ __forceinline__ __half fromFloat<__half>(float v) {
  return __float2half_rn(v);
}
template <>
__device__ __forceinline__ __nv_bfloat16 fromFloat<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

//! Element @p i of @p p through the read-only cache, as float. The 16-bit types load as
//! unsigned short: cuda_fp16.h's and cuda_bf16.h's __ldg overloads are non-volatile asm, which
//! the compiler may hoist above the branch that guards them (a null LayerNorm gamma was read).
__device__ __forceinline__ float loadFloat(const float* p, int64_t i) {
  return __ldg(p + i);
}
__device__ __forceinline__ float loadFloat(const __half* p, int64_t i) {
  return __half2float(__ushort_as_half(__ldg(reinterpret_cast<const unsigned short*>(p) + i)));
}
__device__ __forceinline__ float loadFloat(const __nv_bfloat16* p, int64_t i) {
  return __bfloat162float(
      __ushort_as_bfloat16(__ldg(reinterpret_cast<const unsigned short*>(p) + i)));
}

template <typename T>
__device__ __forceinline__ void storeFloat(T* p, int64_t i, float v) {
  p[i] = fromFloat<T>(v);
}

//! Calls @p f with a value of the element type that @p dtype names (float, __half or
//! __nv_bfloat16); tactics reject every other dtype, so anything else is a bug.
template <typename F>
void withFloatElements(int32_t dtype, const char* what, F&& f) {
  switch (dtype) {
    case kFloatElements:
      f(float{});
      return;
    case kHalfElements:
      f(__half{});
      return;
    case kBFloat16Elements:
      f(__nv_bfloat16{});
      return;
    default:
      fail(ErrorCode::kINTERNAL_ERROR, what, ": unsupported element type ", dtype);
  }
}

}  // namespace kiln::backends::cuda::kernels
