// The AVX2+FMA micro-kernel: a 6 x 16 tile in 12 ymm accumulators, and the small-M kernel on
// the same packed B panels. Compiled with -mavx2 -mfma (see CMakeLists.txt); called only where
// the tactic's required ISA is present. No inline function of another header is instantiated
// here, so no AVX2 copy can leak into portable code.
#include <immintrin.h>

#include "backends/cpu/avx2_lanes.h"
#include "backends/cpu/gemm.h"

namespace kiln::backends::cpu {

namespace {

using avx2::activate;
using avx2::laneMask;
using avx2::laneRange;

constexpr int32_t kMr = 6;
constexpr int32_t kNr = 16;

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
      v0 = activate(v0, e->act, e->alpha, e->beta);
      v1 = activate(v1, e->act, e->alpha, e->beta);
    }
    _mm256_storeu_ps(ci, v0);
    _mm256_storeu_ps(ci + 8, v1);
  }
}

// R live rows x V vectors of a partial tile (rows < mr or cols < nr), stored straight into C:
// no padding rows multiplied (a 64-channel layer is 10 x 6 + 4 rows) and no copy through a
// scratch tile. A partial vector is loaded and stored with lane masks (vmaskmovps stores are slow
// on AMD cores, but there are at most R of them per tile and depth block).
template <int R, int V>
void edgeFixed(int64_t cols, int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
               bool accumulate, const TileEpilogue* e) {
  __m256 acc[R][V];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) acc[r][v] = _mm256_setzero_ps();
  }
  for (int64_t k = 0; k < kc; ++k) {
    __m256 bv[V];
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) bv[v] = _mm256_load_ps(b + 8 * v);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      const __m256 ar = _mm256_broadcast_ss(a + r);
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v) acc[r][v] = _mm256_fmadd_ps(ar, bv[v], acc[r][v]);
    }
    a += kMr;
    b += kNr;
  }
  __m256i mask[V];
  bool whole[V];
#pragma GCC unroll 2
  for (int v = 0; v < V; ++v) {
    whole[v] = cols - 8 * v >= 8;
    mask[v] = laneMask(cols - 8 * v);
  }
  auto load = [&](const float* from, int v) {
    return whole[v] ? _mm256_loadu_ps(from) : _mm256_maskload_ps(from, mask[v]);
  };
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    float* cr = c + r * ldc;
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) {
      __m256 x = acc[r][v];
      if (accumulate) x = _mm256_add_ps(x, load(cr + 8 * v, v));
      if (e != nullptr) {
        if (e->rowBias != nullptr) x = _mm256_add_ps(x, _mm256_set1_ps(e->rowBias[r]));
        if (e->colBias != nullptr) x = _mm256_add_ps(x, load(e->colBias + 8 * v, v));
        if (e->residual != nullptr) x = _mm256_add_ps(x, load(e->residual + r * e->ldr + 8 * v, v));
        x = activate(x, e->act, e->alpha, e->beta);
      }
      if (whole[v]) {
        _mm256_storeu_ps(cr + 8 * v, x);
      } else {
        _mm256_maskstore_ps(cr + 8 * v, mask[v], x);
      }
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
    default:
      return edgeFixed<6, V>(cols, kc, a, b, c, ldc, accumulate, e);
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

// Column @p j of a partial tile with the vector along the rows (the A panel's k-th step is the
// tile's column of A): a 49-wide output (7 x 7) then costs 3 x 16 + 1 columns, not 64. Four
// accumulators along k hide the FMA latency of this single chain.
void oneColumn(int64_t rows, int64_t j, int64_t kc, const float* a, const float* b, float* c,
               int64_t ldc, bool accumulate, const TileEpilogue* e) {
  const __m256i rowMask = laneMask(rows);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  int64_t k = 0;
  for (; k + 4 <= kc; k += 4) {
#pragma GCC unroll 4
    for (int u = 0; u < 4; ++u) {
      const __m256 av = _mm256_maskload_ps(a + (k + u) * kMr, rowMask);
      acc[u] = _mm256_fmadd_ps(av, _mm256_broadcast_ss(b + (k + u) * kNr + j), acc[u]);
    }
  }
  for (; k < kc; ++k) {
    const __m256 av = _mm256_maskload_ps(a + k * kMr, rowMask);
    acc[0] = _mm256_fmadd_ps(av, _mm256_broadcast_ss(b + k * kNr + j), acc[0]);
  }
  alignas(32) float sum[8];
  _mm256_store_ps(sum, _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
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
constexpr int64_t kVectorRemainder = 3;

void edgeKernel(int64_t rows, int64_t cols, int64_t kc, const float* a, const float* b, float* c,
                int64_t ldc, bool accumulate, const TileEpilogue* e) {
  const int64_t rem = cols % 8;
  const int64_t vectorCols = rem != 0 && rem < kVectorRemainder ? cols - rem : cols;
  if (vectorCols > 8) {
    edgeRows<2>(rows, vectorCols, kc, a, b, c, ldc, accumulate, e);
  } else if (vectorCols > 0) {
    edgeRows<1>(rows, vectorCols, kc, a, b, c, ldc, accumulate, e);
  }
  for (int64_t j = vectorCols; j < cols; ++j) oneColumn(rows, j, kc, a, b, c, ldc, accumulate, e);
}

// One im2col run (gemm.h CopyRunFn): whole vectors where the 8 lanes are live, masked loads at
// the padding's edges (masked-off lanes are never read); stride 2 loads the source span of the
// live lanes and keeps its even elements. Stores are plain but for a run's last partial vector.
void copyRun(const float* src, int64_t stride, int64_t lo, int64_t hi, int64_t run, float* d) {
  if (stride > 2) {
    for (int64_t t = 0; t < run; ++t) d[t] = t >= lo && t < hi ? src[t * stride] : 0.f;
    return;
  }
  for (int64_t t0 = 0; t0 < run; t0 += 8) {
    const int64_t store = run - t0 < 8 ? run - t0 : 8;
    const int64_t from = lo - t0 < 0 ? 0 : lo - t0;
    const int64_t to = hi - t0 > store ? store : hi - t0;
    __m256 v;
    if (to <= from) {
      v = _mm256_setzero_ps();
    } else if (stride == 1) {
      v = from == 0 && to == 8 ? _mm256_loadu_ps(src + t0)
                               : _mm256_maskload_ps(src + t0, laneRange(from, to));
    } else {
      // Source elements [2 from, 2 to - 1) of this block's 16; the even ones are the lanes.
      const float* s = src + 2 * t0;
      const __m256 a = _mm256_maskload_ps(s, laneRange(2 * from, 2 * to - 1));
      const __m256 b = _mm256_maskload_ps(
          s + 8, laneRange(2 * from - 8 < 0 ? 0 : 2 * from - 8, 2 * to - 9 < 0 ? 0 : 2 * to - 9));
      // Even lanes of a then of b, per 128-bit half: [a0 a2 b0 b2 | a4 a6 b4 b6], reordered.
      const __m256 even = _mm256_shuffle_ps(a, b, 0x88);
      v = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even), 0xD8));
    }
    if (store == 8) {
      _mm256_storeu_ps(d + t0, v);
    } else {
      _mm256_maskstore_ps(d + t0, laneMask(store), v);
    }
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
    v0 = activate(v0, e.act, e.alpha, e.beta);
    v1 = activate(v1, e.act, e.alpha, e.beta);
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
  static const MicroKernel kernel{kMr, kNr, microKernel, smallRows, packRows, edgeKernel, copyRun};
  return kernel;
}

}  // namespace kiln::backends::cpu
