// The AVX-512 micro-kernel: a 12 x 32 tile in 24 zmm accumulators, and the small-M kernel on the
// same packed B panels. Compiled with -mavx512f (see CMakeLists.txt); called only where the
// tactic's required ISA is present. No inline function of another header is instantiated here,
// so no AVX-512 copy can leak into portable code.
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

// R rows against one panel; U independent accumulator sets along k hide the FMA latency when R
// alone gives too few.
template <int R, int U>
void smallRowsFixed(int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,
                    int64_t cols, const TileEpilogue& e) {
  __m512 acc[U][R][2];
#pragma GCC unroll 4
  for (int u = 0; u < U; ++u) {
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      acc[u][r][0] = _mm512_setzero_ps();
      acc[u][r][1] = _mm512_setzero_ps();
    }
  }
  int64_t k = 0;
  for (; k + U <= kc; k += U) {
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u) {
      const float* bk = b + (k + u) * kNr;
      const __m512 b0 = _mm512_load_ps(bk);
      const __m512 b1 = _mm512_load_ps(bk + 16);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const __m512 ar = _mm512_set1_ps(a[r * lda + k + u]);
        acc[u][r][0] = _mm512_fmadd_ps(ar, b0, acc[u][r][0]);
        acc[u][r][1] = _mm512_fmadd_ps(ar, b1, acc[u][r][1]);
      }
    }
  }
  for (; k < kc; ++k) {
    const __m512 b0 = _mm512_load_ps(b + k * kNr);
    const __m512 b1 = _mm512_load_ps(b + k * kNr + 16);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m512 ar = _mm512_set1_ps(a[r * lda + k]);
      acc[0][r][0] = _mm512_fmadd_ps(ar, b0, acc[0][r][0]);
      acc[0][r][1] = _mm512_fmadd_ps(ar, b1, acc[0][r][1]);
    }
  }
  const __mmask16 m0 = cols >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << cols) - 1);
  const __mmask16 m1 = cols >= 32   ? __mmask16(0xFFFF)
                       : cols <= 16 ? __mmask16(0)
                                    : __mmask16((1u << (cols - 16)) - 1);
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    __m512 v0 = acc[0][r][0];
    __m512 v1 = acc[0][r][1];
#pragma GCC unroll 4
    for (int u = 1; u < U; ++u) {
      v0 = _mm512_add_ps(v0, acc[u][r][0]);
      v1 = _mm512_add_ps(v1, acc[u][r][1]);
    }
    if (e.rowBias != nullptr) {
      const __m512 bias = _mm512_set1_ps(e.rowBias[r]);
      v0 = _mm512_add_ps(v0, bias);
      v1 = _mm512_add_ps(v1, bias);
    }
    if (e.colBias != nullptr) {
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, e.colBias));
      v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, e.colBias + 16));
    }
    if (e.residual != nullptr) {
      const float* rr = e.residual + r * e.ldr;
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, rr));
      v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, rr + 16));
    }
    v0 = activate(v0, &e);
    v1 = activate(v1, &e);
    _mm512_mask_storeu_ps(c + r * ldc, m0, v0);
    _mm512_mask_storeu_ps(c + r * ldc + 16, m1, v1);
  }
}

void smallRows(int64_t rows, int64_t kc, const float* a, int64_t lda, const float* b, float* c,
               int64_t ldc, int64_t cols, const TileEpilogue& e) {
  switch (rows) {
    case 1:
      return smallRowsFixed<1, 4>(kc, a, lda, b, c, ldc, cols, e);
    case 2:
      return smallRowsFixed<2, 2>(kc, a, lda, b, c, ldc, cols, e);
    case 3:
      return smallRowsFixed<3, 2>(kc, a, lda, b, c, ldc, cols, e);
    default:
      return smallRowsFixed<4, 1>(kc, a, lda, b, c, ldc, cols, e);
  }
}

}  // namespace

const MicroKernel& avx512MicroKernel() {
  static const MicroKernel kernel{kMr, kNr, microKernel, smallRows};
  return kernel;
}

}  // namespace kiln::backends::cpu
