// The AVX-512 micro-kernel: a 12 x 32 tile in 24 zmm accumulators, and the small-M kernel on the
// same packed B panels; and the 1x1-convolution tiles of pointwise_conv.h (the image read in
// place, rows or channels along the vectors). Compiled with -mavx512f (see CMakeLists.txt);
// called only where the tactic's required ISA is present. No inline function of another header is
// instantiated here, so no AVX-512 copy can leak into portable code.
// GCC 12 warns about the undefined upper lanes inside its own _mm512 intrinsics.
#pragma GCC diagnostic push
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#pragma GCC diagnostic pop

#include "backends/cpu/gemm.h"
#include "backends/cpu/pointwise_conv.h"

namespace kiln::backends::cpu {

namespace {

constexpr int32_t kMr = 12;
constexpr int32_t kNr = 32;
// Steps of k the A panel is prefetched ahead: packed weights larger than L2 (ResNet's 3x3 layers
// of 512 channels, 9 MB) arrive late otherwise (+3-4% on that product, one thread).
constexpr int32_t kPrefetchA = 24;

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
    _mm_prefetch(reinterpret_cast<const char*>(a + kPrefetchA * kMr), _MM_HINT_T0);
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

// R rows x V vectors of a partial tile, stored with column masks. Only the live rows are
// multiplied: a 64-channel convolution (64 = 5 x 12 + 4) no longer computes 8 padding rows.
template <int R, int V>
void edgeFixed(int64_t cols, int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
               bool accumulate, const TileEpilogue* e) {
  __m512 acc[R][V];
#pragma GCC unroll 12
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) acc[r][v] = _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < kc; ++k) {
    __m512 bv[V];
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) bv[v] = _mm512_load_ps(b + 16 * v);
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r) {
      const __m512 ar = _mm512_set1_ps(a[r]);
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(ar, bv[v], acc[r][v]);
    }
    a += kMr;
    b += kNr;
  }
  __mmask16 mask[V];
#pragma GCC unroll 2
  for (int v = 0; v < V; ++v) {
    const int64_t live = cols - 16 * v;
    mask[v] = live >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << live) - 1);
  }
#pragma GCC unroll 12
  for (int r = 0; r < R; ++r) {
    float* cr = c + r * ldc;
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) {
      __m512 x = acc[r][v];
      if (accumulate) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mask[v], cr + 16 * v));
      if (e != nullptr) {
        if (e->rowBias != nullptr) x = _mm512_add_ps(x, _mm512_set1_ps(e->rowBias[r]));
        if (e->colBias != nullptr) {
          x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mask[v], e->colBias + 16 * v));
        }
        if (e->residual != nullptr) {
          x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mask[v], e->residual + r * e->ldr + 16 * v));
        }
        x = activate(x, e);
      }
      _mm512_mask_storeu_ps(cr + 16 * v, mask[v], x);
    }
  }
}

template <int V>
void edgeRows(int64_t rows, int64_t cols, int64_t kc, const float* a, const float* b, float* c,
              int64_t ldc, bool accumulate, const TileEpilogue* e) {
  switch (rows) {
    case 1:
      return edgeFixed<1, V>(cols, kc, a, b, c, ldc, accumulate, e);
    case 2:
      return edgeFixed<2, V>(cols, kc, a, b, c, ldc, accumulate, e);
    case 3:
      return edgeFixed<3, V>(cols, kc, a, b, c, ldc, accumulate, e);
    case 4:
      return edgeFixed<4, V>(cols, kc, a, b, c, ldc, accumulate, e);
    case 5:
      return edgeFixed<5, V>(cols, kc, a, b, c, ldc, accumulate, e);
    case 6:
      return edgeFixed<6, V>(cols, kc, a, b, c, ldc, accumulate, e);
    case 7:
      return edgeFixed<7, V>(cols, kc, a, b, c, ldc, accumulate, e);
    case 8:
      return edgeFixed<8, V>(cols, kc, a, b, c, ldc, accumulate, e);
    case 9:
      return edgeFixed<9, V>(cols, kc, a, b, c, ldc, accumulate, e);
    case 10:
      return edgeFixed<10, V>(cols, kc, a, b, c, ldc, accumulate, e);
    case 11:
      return edgeFixed<11, V>(cols, kc, a, b, c, ldc, accumulate, e);
    default:
      return edgeFixed<12, V>(cols, kc, a, b, c, ldc, accumulate, e);
  }
}

inline float activateScalar(float v, const TileEpilogue* e) {
  switch (e->act) {
    case VecAct::kRelu:
      return v > 0.f ? v : 0.f;
    case VecAct::kLeaky:
      return v >= 0.f ? v : e->alpha * v;
    case VecAct::kClip: {
      const float lo = v < e->alpha ? e->alpha : v;
      return v != v ? v : (lo > e->beta ? e->beta : lo);
    }
    default:
      return v;
  }
}

// Column @p j of a partial tile with the vector along the rows (the A panel's k-th row is the
// tile's column of A): a 49-wide output (7 x 7) then costs 32 + 16 + 1 columns, not 64. Four
// accumulators along k hide the FMA latency of this single chain.
void oneColumn(int64_t rows, int64_t j, int64_t kc, const float* a, const float* b, float* c,
               int64_t ldc, bool accumulate, const TileEpilogue* e) {
  const __mmask16 rowMask = static_cast<__mmask16>((1u << rows) - 1u);
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                   _mm512_setzero_ps()};
  int64_t k = 0;
  for (; k + 4 <= kc; k += 4) {
#pragma GCC unroll 4
    for (int u = 0; u < 4; ++u) {
      const __m512 av = _mm512_maskz_loadu_ps(rowMask, a + (k + u) * kMr);
      acc[u] = _mm512_fmadd_ps(av, _mm512_set1_ps(b[(k + u) * kNr + j]), acc[u]);
    }
  }
  for (; k < kc; ++k) {
    const __m512 av = _mm512_maskz_loadu_ps(rowMask, a + k * kMr);
    acc[0] = _mm512_fmadd_ps(av, _mm512_set1_ps(b[k * kNr + j]), acc[0]);
  }
  alignas(64) float sum[16];
  _mm512_store_ps(sum, _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
  for (int64_t r = 0; r < rows; ++r) {
    float v = sum[r];
    float& out = c[r * ldc + j];
    if (accumulate) v += out;
    if (e != nullptr) {
      if (e->rowBias != nullptr) v += e->rowBias[r];
      if (e->colBias != nullptr) v += e->colBias[j];
      if (e->residual != nullptr) v += e->residual[r * e->ldr + j];
      v = activateScalar(v, e);
    }
    out = v;
  }
}

// Fewest columns past the last whole vector that still take a vector: below, oneColumn per
// column multiplies fewer padding lanes.
constexpr int64_t kVectorRemainder = 4;

void edgeKernel(int64_t rows, int64_t cols, int64_t kc, const float* a, const float* b, float* c,
                int64_t ldc, bool accumulate, const TileEpilogue* e) {
  const int64_t rem = cols % 16;
  const int64_t vectorCols = rem != 0 && rem < kVectorRemainder ? cols - rem : cols;
  if (vectorCols > 16) {
    edgeRows<2>(rows, vectorCols, kc, a, b, c, ldc, accumulate, e);
  } else if (vectorCols > 0) {
    edgeRows<1>(rows, vectorCols, kc, a, b, c, ldc, accumulate, e);
  }
  for (int64_t j = vectorCols; j < cols; ++j) oneColumn(rows, j, kc, a, b, c, ldc, accumulate, e);
}

// 16 rows x 16 depth steps, transposed in registers: rows[r] holds data[r][k0..k0+16), and
// column j of the result (row j of the output) comes back in cols[j], lanes = rows.
inline void transpose16(const __m512 (&rows)[16], __m512 (&cols)[16]) {
  __m512 t[16];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(rows[2 * i], rows[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(rows[2 * i], rows[2 * i + 1]);
  }
  // u[4 * g + j]: per 128-bit lane L, rows 4g..4g+3 of column 4L + j.
  __m512 u[16];
#pragma GCC unroll 4
  for (int g = 0; g < 4; ++g) {
    const __m512d lo0 = _mm512_castps_pd(t[4 * g]);
    const __m512d hi0 = _mm512_castps_pd(t[4 * g + 1]);
    const __m512d lo1 = _mm512_castps_pd(t[4 * g + 2]);
    const __m512d hi1 = _mm512_castps_pd(t[4 * g + 3]);
    u[4 * g + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(lo0, lo1));
    u[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(lo0, lo1));
    u[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(hi0, hi1));
    u[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(hi0, hi1));
  }
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) {
    const __m512 v = _mm512_shuffle_f32x4(u[j], u[4 + j], 0x88);
    const __m512 w = _mm512_shuffle_f32x4(u[j], u[4 + j], 0xDD);
    const __m512 x = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0x88);
    const __m512 y = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0xDD);
    cols[j] = _mm512_shuffle_f32x4(v, x, 0x88);
    cols[8 + j] = _mm512_shuffle_f32x4(v, x, 0xDD);
    cols[4 + j] = _mm512_shuffle_f32x4(w, y, 0x88);
    cols[12 + j] = _mm512_shuffle_f32x4(w, y, 0xDD);
  }
}

void packRows(const float* data, int64_t ld, int64_t rows, int64_t kc, int32_t p, float* out) {
  for (int32_t g0 = 0; g0 < p; g0 += 16) {
    const int32_t lanes = p - g0 < 16 ? p - g0 : 16;
    const int64_t live = rows - g0 < 0 ? 0 : (rows - g0 < lanes ? rows - g0 : lanes);
    const __mmask16 laneMask = static_cast<__mmask16>((1u << lanes) - 1);
    for (int64_t k0 = 0; k0 < kc; k0 += 16) {
      const int64_t steps = kc - k0 < 16 ? kc - k0 : 16;
      const __mmask16 kMask = static_cast<__mmask16>((1u << steps) - 1);
      __m512 r[16];
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i) {
        r[i] = i < live ? _mm512_maskz_loadu_ps(kMask, data + (g0 + i) * ld + k0)
                        : _mm512_setzero_ps();
      }
      __m512 c[16];
      transpose16(r, c);
      float* dst = out + k0 * p + g0;
      for (int64_t j = 0; j < steps; ++j) _mm512_mask_storeu_ps(dst + j * p, laneMask, c[j]);
    }
  }
}

// Masked loads never touch the lanes outside [lo, hi), so padding needs no scalar edge loops.
// Stride 2 loads the contiguous source span of the live lanes and keeps its even elements.
void copyRun(const float* src, int64_t stride, int64_t lo, int64_t hi, int64_t run, float* d) {
  if (stride > 2) {
    for (int64_t t = 0; t < run; ++t) d[t] = t >= lo && t < hi ? src[t * stride] : 0.f;
    return;
  }
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  for (int64_t t0 = 0; t0 < run; t0 += 16) {
    const int64_t store = run - t0 < 16 ? run - t0 : 16;
    const int64_t from = lo - t0 < 0 ? 0 : lo - t0;
    const int64_t to = hi - t0 > store ? store : hi - t0;
    __m512 v;
    if (stride == 1) {
      const auto load =
          static_cast<__mmask16>(to > from ? ((1u << to) - 1u) & ~((1u << from) - 1u) : 0u);
      v = _mm512_maskz_loadu_ps(load, src + t0);
    } else {
      // Source elements [2 from, 2 to - 1) of this block's 32, as one 32-bit mask.
      const uint64_t bits =
          to > from ? ((uint64_t{1} << (2 * to - 1)) - 1u) & ~((uint64_t{1} << (2 * from)) - 1u)
                    : 0u;
      const __m512 a = _mm512_maskz_loadu_ps(static_cast<__mmask16>(bits), src + 2 * t0);
      const __m512 b = _mm512_maskz_loadu_ps(static_cast<__mmask16>(bits >> 16), src + 2 * t0 + 16);
      v = _mm512_permutex2var_ps(a, even, b);
    }
    _mm512_mask_storeu_ps(d + t0, static_cast<__mmask16>((1u << store) - 1u), v);
  }
}

// The pointwise tiles' shapes (pointwise_conv.h: a packed panel's width, pixels a tile covers).
constexpr int32_t kPointwiseMr = 12;
constexpr int32_t kPointwiseNr = 32;
constexpr int32_t kPointwiseChannels = 64;
constexpr int32_t kPointwisePixels = 7;

// The 1x1-convolution tile (pointwise_conv.h): R rows (a multiple of 4 covering the live ones)
// x V vectors of pixels, read from x in place. FULL: every column live (plain loads and stores).
template <int R, int V, bool FULL>
void pointwiseFixed(int64_t rows, int64_t cols, int64_t kc, const float* a, const float* x,
                    int64_t ldx, float* y, int64_t ldy, const TileEpilogue& e,
                    const float* prefetch) {
  __mmask16 mask[V];
#pragma GCC unroll 2
  for (int v = 0; v < V; ++v) {
    const int64_t live = cols - 16 * v;
    mask[v] = live >= 16  ? __mmask16(0xFFFF)
              : live <= 0 ? __mmask16(0)
                          : __mmask16((1u << live) - 1u);
  }
  __m512 acc[R][V];
#pragma GCC unroll 12
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) acc[r][v] = _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < kc; ++k) {
    const float* xk = x + k * ldx;
    if (prefetch != nullptr) {
      _mm_prefetch(reinterpret_cast<const char*>(prefetch + k * ldx), _MM_HINT_T0);
      if (V == 2) _mm_prefetch(reinterpret_cast<const char*>(prefetch + k * ldx + 16), _MM_HINT_T0);
    }
    __m512 bv[V];
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) {
      bv[v] = FULL ? _mm512_loadu_ps(xk + 16 * v) : _mm512_maskz_loadu_ps(mask[v], xk + 16 * v);
    }
    const float* ak = a + k * kPointwiseMr;
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r) {
      const __m512 ar = _mm512_set1_ps(ak[r]);
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(ar, bv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 12
  for (int r = 0; r < R; ++r) {
    if (r >= rows) break;
    float* yr = y + r * ldy;
    const __m512 bias = e.rowBias != nullptr ? _mm512_set1_ps(e.rowBias[r]) : _mm512_setzero_ps();
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) {
      __m512 t = _mm512_add_ps(acc[r][v], bias);
      if (e.residual != nullptr) {
        const float* rr = e.residual + r * e.ldr + 16 * v;
        t = _mm512_add_ps(t, FULL ? _mm512_loadu_ps(rr) : _mm512_maskz_loadu_ps(mask[v], rr));
      }
      t = activate(t, &e);
      if (FULL) {
        _mm512_storeu_ps(yr + 16 * v, t);
      } else {
        _mm512_mask_storeu_ps(yr + 16 * v, mask[v], t);
      }
    }
  }
}

template <int R>
void pointwiseRows(int64_t rows, int64_t cols, int64_t kc, const float* a, const float* x,
                   int64_t ldx, float* y, int64_t ldy, const TileEpilogue& e,
                   const float* prefetch) {
  if (cols == 32) return pointwiseFixed<R, 2, true>(rows, cols, kc, a, x, ldx, y, ldy, e, prefetch);
  if (cols == 16) return pointwiseFixed<R, 1, true>(rows, cols, kc, a, x, ldx, y, ldy, e, prefetch);
  if (cols > 16) return pointwiseFixed<R, 2, false>(rows, cols, kc, a, x, ldx, y, ldy, e, prefetch);
  pointwiseFixed<R, 1, false>(rows, cols, kc, a, x, ldx, y, ldy, e, prefetch);
}

void pointwiseTile(int64_t rows, int64_t cols, int64_t kc, const float* a, const float* x,
                   int64_t ldx, float* y, int64_t ldy, const TileEpilogue& e,
                   const float* prefetch) {
  if (rows > 8) return pointwiseRows<12>(rows, cols, kc, a, x, ldx, y, ldy, e, prefetch);
  if (rows > 4) return pointwiseRows<8>(rows, cols, kc, a, x, ldx, y, ldy, e, prefetch);
  pointwiseRows<4>(rows, cols, kc, a, x, ldx, y, ldy, e, prefetch);
}

// The channel-major tile (pointwise_conv.h): P pixels x V vectors of output channels, so no
// lane is wasted on a row of 49 pixels; the tile is scattered to (and the residual gathered
// from) its NCHW places, a cost the K multiply-add steps before it dwarf.
template <int P, int V>
void channelFixed(int64_t channels, int64_t kc, const float* w, const float* x, int64_t ldx,
                  float* y, int64_t ldy, const TileEpilogue& e) {
  __mmask16 mask[V];
#pragma GCC unroll 4
  for (int v = 0; v < V; ++v) {
    const int64_t live = channels - 16 * v;
    mask[v] = live >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << live) - 1u);
  }
  __m512 acc[P][V];
#pragma GCC unroll 7
  for (int p = 0; p < P; ++p) {
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[p][v] = _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < kc; ++k) {
    __m512 wv[V];
    const float* wk = w + k * kPointwiseChannels;
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) wv[v] = _mm512_load_ps(wk + 16 * v);
    const float* xk = x + k * ldx;
#pragma GCC unroll 7
    for (int p = 0; p < P; ++p) {
      const __m512 xp = _mm512_set1_ps(xk[p]);
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) acc[p][v] = _mm512_fmadd_ps(xp, wv[v], acc[p][v]);
    }
  }
  const __m512i rowsOf =
      _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                         _mm512_set1_epi32(static_cast<int32_t>(ldy)));
  const __m512i residualRows =
      _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                         _mm512_set1_epi32(static_cast<int32_t>(e.ldr)));
#pragma GCC unroll 4
  for (int v = 0; v < V; ++v) {
    const __m512 bias = e.rowBias != nullptr ? _mm512_maskz_loadu_ps(mask[v], e.rowBias + 16 * v)
                                             : _mm512_setzero_ps();
#pragma GCC unroll 7
    for (int p = 0; p < P; ++p) {
      __m512 t = _mm512_add_ps(acc[p][v], bias);
      if (e.residual != nullptr) {
        t = _mm512_add_ps(t, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask[v], residualRows,
                                                      e.residual + 16 * v * e.ldr + p, 4));
      }
      t = activate(t, &e);
      _mm512_mask_i32scatter_ps(y + 16 * v * ldy + p, mask[v], rowsOf, t, 4);
    }
  }
}

template <int P>
void channelPixels(int64_t channels, int64_t kc, const float* w, const float* x, int64_t ldx,
                   float* y, int64_t ldy, const TileEpilogue& e) {
  if (channels > 48) return channelFixed<P, 4>(channels, kc, w, x, ldx, y, ldy, e);
  if (channels > 32) return channelFixed<P, 3>(channels, kc, w, x, ldx, y, ldy, e);
  if (channels > 16) return channelFixed<P, 2>(channels, kc, w, x, ldx, y, ldy, e);
  channelFixed<P, 1>(channels, kc, w, x, ldx, y, ldy, e);
}

void channelTile(int64_t channels, int64_t pixels, int64_t kc, const float* w, const float* x,
                 int64_t ldx, float* y, int64_t ldy, const TileEpilogue& e) {
  switch (pixels) {
    case 1:
      return channelPixels<1>(channels, kc, w, x, ldx, y, ldy, e);
    case 2:
      return channelPixels<2>(channels, kc, w, x, ldx, y, ldy, e);
    case 3:
      return channelPixels<3>(channels, kc, w, x, ldx, y, ldy, e);
    case 4:
      return channelPixels<4>(channels, kc, w, x, ldx, y, ldy, e);
    case 5:
      return channelPixels<5>(channels, kc, w, x, ldx, y, ldy, e);
    case 6:
      return channelPixels<6>(channels, kc, w, x, ldx, y, ldy, e);
    default:
      return channelPixels<7>(channels, kc, w, x, ldx, y, ldy, e);
  }
}

}  // namespace

PointwiseChannelTile avx512PointwiseChannelTile() {
  return {kPointwiseChannels, kPointwisePixels, channelTile};
}

PointwiseTile avx512PointwiseTile() {
  return {kPointwiseMr, kPointwiseNr, pointwiseTile};
}

const MicroKernel& avx512MicroKernel() {
  static const MicroKernel kernel{kMr, kNr, microKernel, smallRows, packRows, edgeKernel, copyRun};
  return kernel;
}

}  // namespace kiln::backends::cpu
