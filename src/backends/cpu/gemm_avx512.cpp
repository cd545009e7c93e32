// The AVX-512 micro-kernel: a 12 x 32 tile in 24 zmm accumulators. Compiled with -mavx512f (see
// CMakeLists.txt); called only where the tactic's required ISA is present. No inline function of
// another header is instantiated here, so no AVX-512 copy can leak into portable code.
// GCC 12 warns about the undefined upper lanes inside its own _mm512 intrinsics.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include "backends/cpu/gemm.h"

namespace kiln::backends::cpu {

namespace {

constexpr int32_t kMr = 12;
constexpr int32_t kNr = 32;

inline __m512 activate(__m512 v, const TileEpilogue* e) {
  switch (e->act) {
    case VecAct::kRelu:
      return _mm512_max_ps(v, _mm512_setzero_ps());
    case VecAct::kLeaky: {
      const __mmask16 neg = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
      return _mm512_mask_mul_ps(v, neg, v, _mm512_set1_ps(e->alpha));
    }
    case VecAct::kClip:
      // max/min return their second operand for NaN: keep v there so NaN passes through.
      return _mm512_min_ps(_mm512_set1_ps(e->beta), _mm512_max_ps(_mm512_set1_ps(e->alpha), v));
    default:
      return v;
  }
}

void microKernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool accumulate,
                 const TileEpilogue* e) {
  __m512 c0[kMr];
  __m512 c1[kMr];
#pragma GCC unroll 12
  for (int32_t i = 0; i < kMr; ++i) {
    c0[i] = _mm512_setzero_ps();
    c1[i] = _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_load_ps(b);
    const __m512 b1 = _mm512_load_ps(b + 16);
    _mm_prefetch(reinterpret_cast<const char*>(b + 8 * kNr), _MM_HINT_T0);
#pragma GCC unroll 12
    for (int32_t i = 0; i < kMr; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      c0[i] = _mm512_fmadd_ps(ai, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(ai, b1, c1[i]);
    }
    a += kMr;
    b += kNr;
  }
#pragma GCC unroll 12
  for (int32_t i = 0; i < kMr; ++i) {
    float* ci = c + i * ldc;
    __m512 v0 = c0[i];
    __m512 v1 = c1[i];
    if (accumulate) {
      v0 = _mm512_add_ps(v0, _mm512_loadu_ps(ci));
      v1 = _mm512_add_ps(v1, _mm512_loadu_ps(ci + 16));
    }
    if (e != nullptr) {
      if (e->rowBias != nullptr) {
        const __m512 bias = _mm512_set1_ps(e->rowBias[i]);
        v0 = _mm512_add_ps(v0, bias);
        v1 = _mm512_add_ps(v1, bias);
      }
      if (e->colBias != nullptr) {
        v0 = _mm512_add_ps(v0, _mm512_loadu_ps(e->colBias));
        v1 = _mm512_add_ps(v1, _mm512_loadu_ps(e->colBias + 16));
      }
      if (e->residual != nullptr) {
        const float* ri = e->residual + i * e->ldr;
        v0 = _mm512_add_ps(v0, _mm512_loadu_ps(ri));
        v1 = _mm512_add_ps(v1, _mm512_loadu_ps(ri + 16));
      }
      v0 = activate(v0, e);
      v1 = activate(v1, e);
    }
    _mm512_storeu_ps(ci, v0);
    _mm512_storeu_ps(ci + 16, v1);
  }
}

}  // namespace

const MicroKernel& avx512MicroKernel() {
  static const MicroKernel kernel{kMr, kNr, microKernel};
  return kernel;
}

}  // namespace kiln::backends::cpu
