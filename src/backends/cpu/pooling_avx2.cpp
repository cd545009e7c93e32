// AVX2 pooling plane (pooling.h), separably, for any window and stride: each output row first
// folds the rows of its windows into one padded row (vertical vmaxps / vaddps; padding reads as
// -inf or 0), then folds kw neighbours of that row per output (stride 1: unaligned loads; stride
// 2: even/odd lanes by in-lane shuffles, put in order once after the fold; larger strides:
// scalar, the row being in L1). Folding taps column by column as the portable loop does costs
// kh * kw strided loads per output instead of about kh / sh + kw. Rows go in blocks (a small
// plane's all at once), the vertical folds of a block before its horizontal ones, and the rows
// whose windows lie inside the input in one loop: per-row overhead is most of a 7x7 plane.
// Max keeps NaN: the vertical fold marks NaN columns by unordered compares and stores NaN there;
// the horizontal fold checks for NaN only in rows that have one.
// Windows too wide for the stack row (over ~2000 columns) take a scalar loop.
// Compiled with -mavx2 -mfma; uses no inline function of another header (pooling.h's are
// constexpr/inline helpers that this file does not call), so no AVX2 copy can leak into
// portable code.
#include <immintrin.h>

#include <cstdint>

#include "backends/cpu/avx2_lanes.h"
#include "backends/cpu/pooling.h"

namespace kiln::backends::cpu {

namespace {

// Widest padded row a chunk of outputs folds on the stack; wider rows go in chunks.
constexpr int64_t kRow = 2048;
// Floats past a chunk's row that the horizontal fold's last vectors may read (lanes not stored).
constexpr int64_t kSlack = 64;

void store(float* y, __m256 v, int64_t count) {
  if (count >= 8) {
    _mm256_storeu_ps(y, v);
  } else {
    _mm256_maskstore_ps(y, avx2::laneMask(count), v);
  }
}

// Reference semantics for what the vector paths do not take: a window whose row does not fit
// the stack buffer. Same fold as the portable loop.
void scalarPlane(const Pool2d& p, const float* x, float* y, const float* colDivisor,
                 const float* rowDivisor) {
  for (int64_t oy = 0; oy < p.oh; ++oy) {
    for (int64_t ox = 0; ox < p.ow; ++ox) {
      float m = p.average ? 0.f : -__builtin_inff();
      for (int64_t ky = 0; ky < p.kh; ++ky) {
        const int64_t iy = oy * p.sh - p.ph + ky;
        if (iy < 0 || iy >= p.ih) continue;
        for (int64_t kx = 0; kx < p.kw; ++kx) {
          const int64_t ix = ox * p.sw - p.pw + kx;
          if (ix < 0 || ix >= p.iw) continue;
          const float v = x[iy * p.iw + ix];
          if (p.average) {
            m += v;
          } else {
            m = (v > m || v != v) && m == m ? v : m;
          }
        }
      }
      y[oy * p.ow + ox] = p.average ? m / (rowDivisor[oy] * colDivisor[ox]) : m;
    }
  }
}

// One vector of the vertical fold: @p rows rows (kRows of them where kRows > 0) from @p xs
// (row stride iw), loaded whole or, for a row's last vector where reading past it could leave
// the plane, through the lane mask @p m. Max marks NaN lanes in @p nan.
template <bool kAverage, int kRows>
[[gnu::always_inline]] inline __m256 foldVector(const float* xs, int64_t iw, int64_t rows,
                                                bool whole, __m256i m, __m256& nan) {
  const auto load = [&](int64_t r) {
    return whole ? _mm256_loadu_ps(xs + r * iw) : _mm256_maskload_ps(xs + r * iw, m);
  };
  if (kRows > 0) rows = kRows;
  if (kAverage) {
    __m256 acc = load(0);
    for (int64_t r = 1; r < rows; ++r) acc = _mm256_add_ps(acc, load(r));
    return acc;
  }
  __m256 acc = _mm256_set1_ps(-__builtin_inff());
  int64_t r = 0;
  for (; r + 2 <= rows; r += 2) {
    const __m256 v0 = load(r);
    const __m256 v1 = load(r + 1);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(v0, v1, _CMP_UNORD_Q));
    acc = _mm256_max_ps(acc, _mm256_max_ps(v0, v1));
  }
  if (r < rows) {
    const __m256 v = load(r);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    acc = _mm256_max_ps(acc, v);
  }
  return acc;
}

// Folds @p count output rows: each @p rows input rows from x + r * step (row stride iw),
// columns [0, n), into out + r * pitch, [0, n); the last vector's lanes past n get @p pad, so
// that the row's padding after n, stored before, stays. @p spill: whole vectors may read up to
// 7 columns past n (they stay in the plane). nans[r]: whether output row r's fold met a NaN
// (max only).
template <bool kAverage, int kRows>
void foldRows(const float* x, int64_t iw, int64_t step, int64_t rows, int64_t count, int64_t n,
              bool spill, __m256 pad, float* out, int64_t pitch, bool* nans) {
  const __m256 qnan = _mm256_set1_ps(__builtin_nanf(""));
  const __m256i tail = avx2::laneMask(n & 7);
  const int64_t whole = n & ~int64_t{7};
  for (int64_t r = 0; r < count; ++r) {
    const float* xs = x + r * step;
    float* o = out + r * pitch;
    __m256 any = _mm256_setzero_ps();
    for (int64_t j = 0; j < whole; j += 8) {
      __m256 nan = _mm256_setzero_ps();
      const __m256 acc = foldVector<kAverage, kRows>(xs + j, iw, rows, true, tail, nan);
      if (kAverage) {
        _mm256_storeu_ps(o + j, acc);
      } else {
        any = _mm256_or_ps(any, nan);
        _mm256_storeu_ps(o + j, _mm256_blendv_ps(acc, qnan, nan));
      }
    }
    if (whole < n) {
      __m256 nan = _mm256_setzero_ps();
      const __m256 m = _mm256_castsi256_ps(tail);
      __m256 acc = foldVector<kAverage, kRows>(xs + whole, iw, rows, spill, tail, nan);
      acc = _mm256_blendv_ps(pad, acc, m);
      if (!kAverage) {
        nan = _mm256_and_ps(nan, m);
        any = _mm256_or_ps(any, nan);
        acc = _mm256_blendv_ps(acc, qnan, nan);
      }
      _mm256_storeu_ps(o + whole, acc);
    }
    nans[r] = !kAverage && _mm256_movemask_ps(any) != 0;
  }
}

template <bool kAverage>
void foldRowsOf(const float* x, int64_t iw, int64_t step, int64_t rows, int64_t count, int64_t n,
                bool spill, __m256 pad, float* out, int64_t pitch, bool* nans) {
  switch (rows) {
    case 1:
      return foldRows<kAverage, 1>(x, iw, step, rows, count, n, spill, pad, out, pitch, nans);
    case 2:
      return foldRows<kAverage, 2>(x, iw, step, rows, count, n, spill, pad, out, pitch, nans);
    case 3:
      return foldRows<kAverage, 3>(x, iw, step, rows, count, n, spill, pad, out, pitch, nans);
    default:
      return foldRows<kAverage, 0>(x, iw, step, rows, count, n, spill, pad, out, pitch, nans);
  }
}

// The window's maximum (or sum) of kw consecutive entries of @p c at stride 1, outputs [0, n).
template <bool kAverage, bool kNaN>
__m256 foldStride1(const float* c, int64_t kw) {
  __m256 acc = _mm256_loadu_ps(c);
  __m256 nan = kNaN ? _mm256_cmp_ps(acc, acc, _CMP_UNORD_Q) : _mm256_setzero_ps();
  for (int64_t kx = 1; kx < kw; ++kx) {
    const __m256 v = _mm256_loadu_ps(c + kx);
    if (kAverage) {
      acc = _mm256_add_ps(acc, v);
    } else {
      if (kNaN) nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
      acc = _mm256_max_ps(acc, v);
    }
  }
  if (kNaN) acc = _mm256_blendv_ps(acc, _mm256_set1_ps(__builtin_nanf("")), nan);
  return acc;
}

// Stride 2: entries 2i + kx of @p c for 8 outputs i. vshufps takes the even (odd) entries of
// two vectors within 128-bit lanes, so the outputs come as 0 1 4 5 2 3 6 7 for every tap; the
// fold keeps that order and one vpermpd restores it.
template <bool kAverage, bool kNaN>
__m256 foldStride2(const float* c, int64_t kw) {
  __m256 acc = _mm256_set1_ps(kAverage ? 0.f : -__builtin_inff());
  __m256 nan = _mm256_setzero_ps();
  const auto fold = [&](__m256 v) {
    if (kAverage) {
      acc = _mm256_add_ps(acc, v);
    } else {
      if (kNaN) nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
      acc = _mm256_max_ps(acc, v);
    }
  };
  int64_t kx = 0;
  for (; kx + 2 <= kw; kx += 2) {
    const __m256 a = _mm256_loadu_ps(c + kx);
    const __m256 b = _mm256_loadu_ps(c + kx + 8);
    fold(_mm256_shuffle_ps(a, b, 0x88));
    fold(_mm256_shuffle_ps(a, b, 0xDD));
  }
  if (kx < kw) {
    fold(_mm256_shuffle_ps(_mm256_loadu_ps(c + kx), _mm256_loadu_ps(c + kx + 8), 0x88));
  }
  if (kNaN) acc = _mm256_blendv_ps(acc, _mm256_set1_ps(__builtin_nanf("")), nan);
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(acc), _MM_SHUFFLE(3, 1, 2, 0)));
}

// Outputs [0, n) of one row from the folded row @p c (entry i: padded column ox0 * sw + i).
// @p spill: whole vectors may store up to 7 outputs past n (ones written later).
// KW, SW: the window's width and stride where fixed at compile time (0: p's).
template <bool kAverage, bool kNaN, int KW, int SW>
void foldColumns(const Pool2d& p, const float* c, int64_t n, bool spill, float* yr,
                 const float* colDivisor, float rowDivisor) {
  const int64_t kw = KW > 0 ? KW : p.kw;
  const int64_t sw = SW > 0 ? SW : p.sw;
  const __m256 rd = _mm256_set1_ps(rowDivisor);
  for (int64_t i = 0; i < n; i += 8) {
    __m256 r;
    if (sw == 1) {
      r = foldStride1<kAverage, kNaN>(c + i, kw);
    } else if (sw == 2) {
      r = foldStride2<kAverage, kNaN>(c + 2 * i, kw);
    } else {
      // Only the outputs that exist: at large strides the others' windows lie past the row.
      alignas(32) float lanesOut[8] = {};
      for (int64_t l = 0; l < 8 && i + l < n; ++l) {
        const float* w = c + (i + l) * sw;
        float m = w[0];
        for (int64_t kx = 1; kx < kw; ++kx) {
          const float v = w[kx];
          if (kAverage) {
            m += v;
          } else {
            m = (v > m || v != v) && m == m ? v : m;
          }
        }
        lanesOut[l] = m;
      }
      r = _mm256_load_ps(lanesOut);
    }
    if (kAverage) {
      const __m256 d =
          _mm256_mul_ps(rd, n - i >= 8 ? _mm256_loadu_ps(colDivisor + i)
                                       : _mm256_maskload_ps(colDivisor + i, avx2::laneMask(n - i)));
      r = _mm256_div_ps(r, d);
    }
    // vmaskmovps stores are slow on AMD: whole vectors wherever their spill is rewritten later.
    store(yr + i, r, spill ? 8 : n - i);
  }
}

// Floats of the folded rows on the stack: a block of output rows is folded vertically first,
// then horizontally, so that the horizontal fold's unaligned loads find the vertical fold's
// stores in the cache, not in the store buffer (which cannot forward them: a stall per load
// that dominated small planes).
constexpr int64_t kBlock = 4096;

template <bool kAverage, int KW, int SW>
void separablePlane(const Pool2d& p, const float* x, float* y, const float* colDivisor,
                    const float* rowDivisor) {
  const int64_t kw = KW > 0 ? KW : p.kw;
  const int64_t sw = SW > 0 ? SW : p.sw;
  // Outputs a chunk takes: its padded row, (chunk - 1) * sw + kw wide, fits kRow.
  int64_t chunk = ((kRow - kw) / sw + 1) & ~int64_t{7};
  if (chunk > p.ow) chunk = p.ow;
  const int64_t widest = (chunk - 1) * sw + kw;
  // Row pitch: the widest row, the vertical fold's spill (7) and the pad stores' (7) rounded up.
  const int64_t pitch = ((widest + 7) & ~int64_t{7}) + 16;
  const int64_t block = p.oh * pitch <= kBlock ? p.oh : kBlock / pitch;
  alignas(32) float rows[kBlock + kSlack];
  bool nans[kBlock / 16];
  const __m256 pad = _mm256_set1_ps(kAverage ? 0.f : -__builtin_inff());
  const bool chunked = chunk < p.ow;
  // Output rows [.., interiorEnd) have no window past the input's last row.
  const int64_t interiorEnd = p.ih + p.ph - p.kh < 0 ? 0 : (p.ih + p.ph - p.kh) / p.sh + 1;
  for (int64_t oy0 = 0; oy0 < p.oh; oy0 += block) {
    const int64_t oy1 = oy0 + block < p.oh ? oy0 + block : p.oh;
    for (int64_t ox0 = 0; ox0 < p.ow; ox0 += chunk) {
      const int64_t n = p.ow - ox0 < chunk ? p.ow - ox0 : chunk;
      const int64_t width = (n - 1) * sw + kw;
      // Entry i of a row is input column ox0 * sw - pw + i; [lo, hi) lie inside the input.
      const int64_t c0 = ox0 * sw - p.pw;
      int64_t lo = -c0;
      if (lo < 0) lo = 0;
      if (lo > width) lo = width;
      int64_t hi = p.iw - c0;
      if (hi > width) hi = width;
      if (hi < lo) hi = lo;
      // Padding first: left of lo, and from hi to the pitch (up to 7 past it land in the next
      // row, which pads itself after). The fold then writes [lo, hi) only. The block's last
      // row pads on into the slack that the horizontal fold's unused lanes read (the first
      // block is whole, so that later ones find it written): never uninitialized values.
      for (int64_t r = 0; r < oy1 - oy0; ++r) {
        float* row = rows + r * pitch;
        const int64_t end = r == block - 1 ? pitch + 16 : pitch;
        for (int64_t i = 0; i < lo; i += 8) _mm256_storeu_ps(row + i, pad);
        for (int64_t i = hi; i < end; i += 8) _mm256_storeu_ps(row + i, pad);
      }
      // Rows whose window lies inside the input fold in one call; the others (at most a few
      // at the top and bottom) one by one with their clipped windows.
      for (int64_t oy = oy0; oy < oy1;) {
        // Rows of the window inside the input.
        int64_t ky0 = p.ph - oy * p.sh;
        if (ky0 < 0) ky0 = 0;
        int64_t ky1 = p.ih + p.ph - oy * p.sh;
        if (ky1 > p.kh) ky1 = p.kh;
        const int64_t iy = oy * p.sh - p.ph + ky0;
        // Whole vectors may read up to 7 floats past the last row's hi within the plane.
        const auto spills = [&](int64_t lastRow) {
          return lastRow * p.iw + c0 + hi + 7 <= p.ih * p.iw;
        };
        int64_t count = 1;
        if (ky0 == 0 && ky1 == p.kh) {
          // The run of full windows that may spill: from oy to (before) interiorEnd.
          while (oy + count < interiorEnd && oy + count < oy1 &&
                 spills((oy + count) * p.sh - p.ph + p.kh - 1)) {
            ++count;
          }
        }
        if (ky1 > ky0 && hi > lo) {
          foldRowsOf<kAverage>(x + iy * p.iw + c0 + lo, p.iw, p.sh * p.iw, ky1 - ky0, count,
                               hi - lo, spills(iy + ky1 - ky0 - 1 + (count - 1) * p.sh), pad,
                               rows + (oy - oy0) * pitch + lo, pitch, nans + (oy - oy0));
        } else {  // windows all padding (or empty rows): padding throughout
          for (int64_t r = oy - oy0; r < oy - oy0 + count; ++r) {
            for (int64_t i = lo; i < hi; i += 8) _mm256_storeu_ps(rows + r * pitch + i, pad);
            nans[r] = false;
          }
        }
        oy += count;
      }
      for (int64_t oy = oy0; oy < oy1; ++oy) {
        const float* row = rows + (oy - oy0) * pitch;
        float* yr = y + oy * p.ow + ox0;
        const float rd = kAverage ? rowDivisor[oy] : 1.f;
        // Spilled outputs (up to 7) belong to this row's next chunk or, unchunked, the next
        // rows of the plane.
        const bool spill = ox0 + n < p.ow || (!chunked && (p.oh - 1 - oy) * p.ow >= 7);
        if (nans[oy - oy0]) {
          foldColumns<kAverage, true, KW, SW>(p, row, n, spill, yr, colDivisor + ox0, rd);
        } else {
          foldColumns<kAverage, false, KW, SW>(p, row, n, spill, yr, colDivisor + ox0, rd);
        }
      }
    }
  }
}

void poolPlane(const Pool2d& p, const float* x, float* y, const float* colDivisor,
               const float* rowDivisor) {
  if (p.oh <= 0 || p.ow <= 0) return;
  // The stack row must hold at least 8 outputs' windows and the fold's spill past a row.
  if (p.kw < 1 || p.sw < 1 || p.kh < 1 || p.sh < 1 || 7 * p.sw + p.kw + 8 > kRow) {
    scalarPlane(p, x, y, colDivisor, rowDivisor);
    return;
  }
  // The common windows (3 wide at stride 1 or 2, 2 wide at stride 2) with their folds unrolled.
  const auto plane = [&]<bool kAverage>() {
    if (p.kw == 3 && p.sw == 1) {
      separablePlane<kAverage, 3, 1>(p, x, y, colDivisor, rowDivisor);
    } else if (p.kw == 3 && p.sw == 2) {
      separablePlane<kAverage, 3, 2>(p, x, y, colDivisor, rowDivisor);
    } else if (p.kw == 2 && p.sw == 2) {
      separablePlane<kAverage, 2, 2>(p, x, y, colDivisor, rowDivisor);
    } else {
      separablePlane<kAverage, 0, 0>(p, x, y, colDivisor, rowDivisor);
    }
  };
  if (p.average) {
    plane.template operator()<true>();
  } else {
    plane.template operator()<false>();
  }
}

// Partial sums in double, as the reference keeps them (1e8 + 1 must not lose the 1): four
// independent chains of four widened floats.
void sumRows(const float* x, int64_t rows, int64_t inner, float scale, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * inner;
    __m256d a0 = _mm256_setzero_pd();
    __m256d a1 = _mm256_setzero_pd();
    __m256d a2 = _mm256_setzero_pd();
    __m256d a3 = _mm256_setzero_pd();
    int64_t j = 0;
    for (; j + 16 <= inner; j += 16) {
      a0 = _mm256_add_pd(a0, _mm256_cvtps_pd(_mm_loadu_ps(xr + j)));
      a1 = _mm256_add_pd(a1, _mm256_cvtps_pd(_mm_loadu_ps(xr + j + 4)));
      a2 = _mm256_add_pd(a2, _mm256_cvtps_pd(_mm_loadu_ps(xr + j + 8)));
      a3 = _mm256_add_pd(a3, _mm256_cvtps_pd(_mm_loadu_ps(xr + j + 12)));
    }
    const __m256d s = _mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3));
    const __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    double sum = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
    for (; j < inner; ++j) sum += xr[j];
    y[r] = static_cast<float>(sum * static_cast<double>(scale));
  }
}

}  // namespace

PoolPlaneFn avx2PoolPlane() {
  return poolPlane;
}

SumRowsFn avx2SumRows() {
  return sumRows;
}

}  // namespace kiln::backends::cpu
