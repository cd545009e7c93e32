// The AVX2+FMA micro-kernel: a 6 x 16 tile in 12 ymm accumulators, and the small-M kernel on
// the same packed B panels. Compiled with -mavx2 -mfma (see CMakeLists.txt); called only where
// the tactic's required ISA is present. No inline function of another header is instantiated
// here, so no AVX2 copy can leak into portable code.
#include <immintrin.h>

#include "backends/cpu/gemm.h"

namespace kiln::backends::cpu {

namespace {

constexpr int32_t kMr = 6;
constexpr int32_t kNr = 16;

inline __m256 activate(__m256 v, const TileEpilogue* e) {
  switch (e->act) {
    case VecAct::kRelu:
      return _mm256_max_ps(v, _mm256_setzero_ps());
    case VecAct::kLeaky: {
      const __m256 neg = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
      return _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_set1_ps(e->alpha)), neg);
    }
    case VecAct::kClip:
      // max/min return their second operand for NaN: keep v there so NaN passes through.
      return _mm256_min_ps(_mm256_set1_ps(e->beta), _mm256_max_ps(_mm256_set1_ps(e->alpha), v));
    default:
      return v;
  }
}

void microKernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool accumulate,
                 const TileEpilogue* e) {
  __m256 c0[kMr];
  __m256 c1[kMr];
#pragma GCC unroll 6
  for (int32_t i = 0; i < kMr; ++i) {
    c0[i] = _mm256_setzero_ps();
    c1[i] = _mm256_setzero_ps();
  }
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_load_ps(b);
    const __m256 b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
    for (int32_t i = 0; i < kMr; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      c0[i] = _mm256_fmadd_ps(ai, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(ai, b1, c1[i]);
    }
    a += kMr;
    b += kNr;
  }
#pragma GCC unroll 6
  for (int32_t i = 0; i < kMr; ++i) {
    float* ci = c + i * ldc;
    __m256 v0 = c0[i];
    __m256 v1 = c1[i];
    if (accumulate) {
      v0 = _mm256_add_ps(v0, _mm256_loadu_ps(ci));
      v1 = _mm256_add_ps(v1, _mm256_loadu_ps(ci + 8));
    }
    if (e != nullptr) {
      if (e->rowBias != nullptr) {
        const __m256 bias = _mm256_set1_ps(e->rowBias[i]);
        v0 = _mm256_add_ps(v0, bias);
        v1 = _mm256_add_ps(v1, bias);
      }
      if (e->colBias != nullptr) {
        v0 = _mm256_add_ps(v0, _mm256_loadu_ps(e->colBias));
        v1 = _mm256_add_ps(v1, _mm256_loadu_ps(e->colBias + 8));
      }
      if (e->residual != nullptr) {
        const float* ri = e->residual + i * e->ldr;
        v0 = _mm256_add_ps(v0, _mm256_loadu_ps(ri));
        v1 = _mm256_add_ps(v1, _mm256_loadu_ps(ri + 8));
      }
      v0 = activate(v0, e);
      v1 = activate(v1, e);
    }
    _mm256_storeu_ps(ci, v0);
    _mm256_storeu_ps(ci + 8, v1);
  }
}

// R rows against one panel; U independent accumulator sets along k hide the FMA latency when R
// alone gives too few.
template <int R, int U>
void smallRowsFixed(int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,
                    int64_t cols, const TileEpilogue& e) {
  __m256 acc[U][R][2];
#pragma GCC unroll 4
  for (int u = 0; u < U; ++u) {
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      acc[u][r][0] = _mm256_setzero_ps();
      acc[u][r][1] = _mm256_setzero_ps();
    }
  }
  int64_t k = 0;
  for (; k + U <= kc; k += U) {
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u) {
      const float* bk = b + (k + u) * kNr;
      const __m256 b0 = _mm256_load_ps(bk);
      const __m256 b1 = _mm256_load_ps(bk + 8);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const __m256 ar = _mm256_broadcast_ss(a + r * lda + k + u);
        acc[u][r][0] = _mm256_fmadd_ps(ar, b0, acc[u][r][0]);
        acc[u][r][1] = _mm256_fmadd_ps(ar, b1, acc[u][r][1]);
      }
    }
  }
  for (; k < kc; ++k) {
    const __m256 b0 = _mm256_load_ps(b + k * kNr);
    const __m256 b1 = _mm256_load_ps(b + k * kNr + 8);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m256 ar = _mm256_broadcast_ss(a + r * lda + k);
      acc[0][r][0] = _mm256_fmadd_ps(ar, b0, acc[0][r][0]);
      acc[0][r][1] = _mm256_fmadd_ps(ar, b1, acc[0][r][1]);
    }
  }
  // Lane j of half h is stored when 8 h + j < cols.
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(cols)), lane);
  const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(cols) - 8), lane);
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    __m256 v0 = acc[0][r][0];
    __m256 v1 = acc[0][r][1];
#pragma GCC unroll 4
    for (int u = 1; u < U; ++u) {
      v0 = _mm256_add_ps(v0, acc[u][r][0]);
      v1 = _mm256_add_ps(v1, acc[u][r][1]);
    }
    if (e.rowBias != nullptr) {
      const __m256 bias = _mm256_set1_ps(e.rowBias[r]);
      v0 = _mm256_add_ps(v0, bias);
      v1 = _mm256_add_ps(v1, bias);
    }
    if (e.colBias != nullptr) {
      v0 = _mm256_add_ps(v0, _mm256_maskload_ps(e.colBias, m0));
      v1 = _mm256_add_ps(v1, _mm256_maskload_ps(e.colBias + 8, m1));
    }
    if (e.residual != nullptr) {
      const float* rr = e.residual + r * e.ldr;
      v0 = _mm256_add_ps(v0, _mm256_maskload_ps(rr, m0));
      v1 = _mm256_add_ps(v1, _mm256_maskload_ps(rr + 8, m1));
    }
    v0 = activate(v0, &e);
    v1 = activate(v1, &e);
    _mm256_maskstore_ps(c + r * ldc, m0, v0);
    _mm256_maskstore_ps(c + r * ldc + 8, m1, v1);
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
      return smallRowsFixed<3, 1>(kc, a, lda, b, c, ldc, cols, e);
    default:
      return smallRowsFixed<4, 1>(kc, a, lda, b, c, ldc, cols, e);
  }
}

// Lanes [0, n) of a mask for _mm256_maskload_ps / _mm256_maskstore_ps (n in [0, 8]).
inline __m256i laneMask(int64_t n) {
  const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), index);
}

// 8 rows x 8 depth steps transposed in registers: cols[j] holds rows 0..7 of step j.
inline void transpose8(const __m256 (&r)[8], __m256 (&cols)[8]) {
  __m256 t[8];
  __m256 u[8];
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h) {
    u[4 * h + 0] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0x44);
    u[4 * h + 1] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0xEE);
    u[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);
    u[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xEE);
  }
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) {
    cols[j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x20);
    cols[4 + j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x31);
  }
}

// Plain loads and stores wherever they fit: AMD cores run vmaskmovps stores slowly. A group of
// fewer than 8 lanes (mr = 6) stores 8 and lets the next step's store overwrite the spill; only
// the panel's last step is stored with a mask.
void packRows(const float* data, int64_t ld, int64_t rows, int64_t kc, int32_t p, float* out) {
  for (int32_t g0 = 0; g0 < p; g0 += 8) {
    const int32_t lanes = p - g0 < 8 ? p - g0 : 8;
    const int64_t live = rows - g0 < 0 ? 0 : (rows - g0 < lanes ? rows - g0 : lanes);
    const __m256i storeMask = laneMask(lanes);
    for (int64_t k0 = 0; k0 < kc; k0 += 8) {
      const int64_t steps = kc - k0 < 8 ? kc - k0 : 8;
      const __m256i loadMask = laneMask(steps);
      __m256 r[8];
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i) {
        const float* src = data + (g0 + i) * ld + k0;
        r[i] = i >= live    ? _mm256_setzero_ps()
               : steps == 8 ? _mm256_loadu_ps(src)
                            : _mm256_maskload_ps(src, loadMask);
      }
      __m256 c[8];
      transpose8(r, c);
      float* dst = out + k0 * p + g0;
      for (int64_t j = 0; j < steps; ++j) {
        if (lanes == 8 || k0 + j + 1 < kc) {
          _mm256_storeu_ps(dst + j * p, c[j]);
        } else {
          _mm256_maskstore_ps(dst + j * p, storeMask, c[j]);
        }
      }
    }
  }
}

}  // namespace

const MicroKernel& avx2MicroKernel() {
  static const MicroKernel kernel{kMr, kNr, microKernel, smallRows, packRows};
  return kernel;
}

}  // namespace kiln::backends::cpu
