// Lane masks and the in-register activations the AVX2 kernels share. Only for files compiled with
// -mavx2 -mfma (the *_avx2.cpp files): these inline functions must never be instantiated in a
// translation unit built for another instruction set, where the linker could keep the AVX2 copy.
#pragma once

#ifndef __AVX2__
#error "avx2_lanes.h is for the *_avx2.cpp files, compiled with -mavx2"
#endif

#include <immintrin.h>

#include <cstdint>

#include "backends/cpu/gemm.h"

namespace kiln::backends::cpu::avx2 {

//! Lanes [0, n) set, n clamped to [0, 8]: a mask for _mm256_maskload_ps / _mm256_maskstore_ps
//! (AMD cores run vmaskmovps stores slowly: the kernels store with masks only at edges).
inline __m256i laneMask(int64_t n) {
  const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const int64_t live = n < 0 ? 0 : n > 8 ? 8 : n;
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(live)), index);
}

//! Lanes [lo, hi) set, both clamped to [0, 8].
inline __m256i laneRange(int64_t lo, int64_t hi) {
  return _mm256_andnot_si256(laneMask(lo), laneMask(hi));
}

//! The activation @p act (kRelu, kLeaky with slope @p alpha, kClip to [alpha, beta]; anything
//! else passes v through) of 8 lanes. NaN stays NaN through leaky and clip; ReLU gives 0 for it,
//! as the reference does.
inline __m256 activate(__m256 v, VecAct act, float alpha, float beta) {
  switch (act) {
    case VecAct::kRelu:
      return _mm256_max_ps(v, _mm256_setzero_ps());
    case VecAct::kLeaky: {
      const __m256 negative = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
      return _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_set1_ps(alpha)), negative);
    }
    case VecAct::kClip:
      // max/min return their second operand for NaN: v stays there so NaN passes through.
      return _mm256_min_ps(_mm256_set1_ps(beta), _mm256_max_ps(_mm256_set1_ps(alpha), v));
    default:
      return v;
  }
}

//! Prefetches the cache lines of @p floats floats from @p p towards L1 (64-byte lines).
template <int64_t floats>
inline void prefetchLines(const float* p) {
  constexpr int64_t kLineFloats = 16;
#pragma GCC unroll 16
  for (int64_t i = 0; i < floats; i += kLineFloats) {
    _mm_prefetch(reinterpret_cast<const char*>(p + i), _MM_HINT_T0);
  }
}

//! Stores a blocked tile (NCHW8c): P pixels x V blocks of 8 channels, block v at y + v * ldy and
//! pixel p 8 floats on, after the epilogue @p e: each block's 8 biases (e.rowBias + 8 * v), the
//! residual laid out as y (blocks e.ldr apart), the activation (kGeneric is left to the caller).
template <int P, int V>
inline void storeBlocked(const __m256 (&acc)[P][V], float* y, int64_t ldy, const TileEpilogue& e) {
#pragma GCC unroll 4
  for (int64_t v = 0; v < V; ++v) {
    const __m256 bias =
        e.rowBias != nullptr ? _mm256_loadu_ps(e.rowBias + 8 * v) : _mm256_setzero_ps();
#pragma GCC unroll 8
    for (int64_t p = 0; p < P; ++p) {
      __m256 s = _mm256_add_ps(acc[p][v], bias);
      if (e.residual != nullptr) {
        s = _mm256_add_ps(s, _mm256_loadu_ps(e.residual + v * e.ldr + 8 * p));
      }
      _mm256_storeu_ps(y + v * ldy + 8 * p, activate(s, e.act, e.alpha, e.beta));
    }
  }
}

}  // namespace kiln::backends::cpu::avx2
