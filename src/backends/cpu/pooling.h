// One plane of 2-d max or average pooling (NCHW float32), as the pooling tactics run it: the
// portable loop and ISA-specific versions share this description.
#pragma once

#include <cstdint>

namespace kiln::backends::cpu {

struct Pool2d {
  bool average = false;
  bool excludePadding = true;
  int64_t planes = 0, ih = 1, iw = 1, oh = 1, ow = 1;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, qh = 0, qw = 0;  // q: post padding
};

//! Output columns [lo, hi) whose tap kx lands inside the row. The divisions cost more than a
//! vector of the work, so a plane computes them once per tap, not once per row.
inline void columnSpan(const Pool2d& p, int64_t kx, int64_t& lo, int64_t& hi) {
  // Ceiling of a / b for b > 0 and any sign of a.
  const auto ceilDiv = [](int64_t a, int64_t b) { return a <= 0 ? -((-a) / b) : (a + b - 1) / b; };
  const int64_t offset = kx - p.pw;
  lo = ceilDiv(-offset, p.sw);
  if (lo < 0) lo = 0;
  hi = p.iw - offset <= 0 ? 0 : ceilDiv(p.iw - offset, p.sw);
  if (hi > p.ow) hi = p.ow;
  if (hi < lo) hi = lo;
}

struct Span {
  int64_t lo = 0, hi = 0;
};
//! Taps whose spans a plane caches (wider windows compute the rest per row).
constexpr int64_t kSpans = 16;

//! y[oh, ow] from x[ih, iw]; an average divides by rowDivisor[oy] * colDivisor[ox]. Max keeps
//! NaN: a window with a NaN gives NaN.
using PoolPlaneFn = void (*)(const Pool2d& p, const float* x, float* y, const float* colDivisor,
                             const float* rowDivisor);

PoolPlaneFn avx512PoolPlane();  //!< needs avx512f
PoolPlaneFn avx2PoolPlane();    //!< needs avx2, fma

//! Output row @p oy of 2-d pooling in NCHW8c: y[ox][8] for ox < ow from one block's planes
//! x[ih][iw][8] (planes counts blocks); an average divides by rowDivisor * colDivisor[ox]. Max
//! keeps NaN, lane by lane. @p scratch: blockedPoolScratch(p) floats.
using BlockedPoolRowFn = void (*)(const Pool2d& p, const float* x, int64_t oy, float* y,
                                  const float* colDivisor, float rowDivisor, float* scratch);

//! Floats of a blocked pooling row's scratch: a vector per input column.
inline int64_t blockedPoolScratch(const Pool2d& p) {
  return p.iw * 8;
}

BlockedPoolRowFn avx2BlockedPoolRow();  //!< needs avx2, fma

//! y[r] = scale * (sum of x[r * inner, (r + 1) * inner)), for r in [0, rows).
using SumRowsFn = void (*)(const float* x, int64_t rows, int64_t inner, float scale, float* y);

SumRowsFn avx512SumRows();  //!< needs avx512f
SumRowsFn avx2SumRows();    //!< needs avx2, fma

}  // namespace kiln::backends::cpu
