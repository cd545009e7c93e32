// The AVX2 row of 2-d pooling in NCHW8c (pooling.h): each output pixel is one vector of 8
// channels, folded over the window cells inside the input, so no lane ever crosses channels and
// edges only narrow the window. Compiled with -mavx2 -mfma (the *_avx2.cpp glob).
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include "backends/cpu/pooling.h"

namespace kiln::backends::cpu {

namespace {

constexpr int64_t kLanes = 8;

// max(a, b) that keeps a NaN of either operand: vmaxps returns its second operand when either is
// NaN, so one of the two orders has the NaN, and OR-ing their bits keeps it (all exponent bits
// set, a mantissa bit set). Equal values give the same bits (+0 and -0 give -0).
inline __m256 maxKeepingNan(__m256 a, __m256 b) {
  return _mm256_or_ps(_mm256_max_ps(a, b), _mm256_max_ps(b, a));
}

// Separable: each input column's window rows fold first (max or sum) into @p scratch, then each
// output folds its window's columns of those. A 3x3 stride-1 pool then loads 6 vectors per
// output, not 9.
void blockedPoolRow(const Pool2d& p, const float* x, int64_t oy, float* y, const float* colDivisor,
                    float rowDivisor, float* scratch) {
  const int64_t iy0 = std::max<int64_t>(oy * p.sh - p.ph, 0);
  const int64_t iy1 = std::min<int64_t>(oy * p.sh - p.ph + p.kh, p.ih);
  // The columns some window reads.
  const int64_t columns = std::min<int64_t>(p.iw, (p.ow - 1) * p.sw - p.pw + p.kw);
  const __m256 lowest = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  for (int64_t ix = 0; ix < columns; ++ix) {
    __m256 acc = p.average ? _mm256_setzero_ps() : lowest;
    const float* cell = x + (iy0 * p.iw + ix) * kLanes;
    for (int64_t iy = iy0; iy < iy1; ++iy, cell += p.iw * kLanes) {
      const __m256 v = _mm256_loadu_ps(cell);
      acc = p.average ? _mm256_add_ps(acc, v) : maxKeepingNan(acc, v);
    }
    _mm256_storeu_ps(scratch + ix * kLanes, acc);
  }
  for (int64_t ox = 0; ox < p.ow; ++ox) {
    const int64_t ix0 = std::max<int64_t>(ox * p.sw - p.pw, 0);
    const int64_t ix1 = std::min<int64_t>(ox * p.sw - p.pw + p.kw, columns);
    __m256 acc = p.average ? _mm256_setzero_ps() : lowest;
    for (int64_t ix = ix0; ix < ix1; ++ix) {
      const __m256 v = _mm256_loadu_ps(scratch + ix * kLanes);
      acc = p.average ? _mm256_add_ps(acc, v) : maxKeepingNan(acc, v);
    }
    if (p.average) acc = _mm256_div_ps(acc, _mm256_set1_ps(rowDivisor * colDivisor[ox]));
    _mm256_storeu_ps(y + ox * kLanes, acc);
  }
}

}  // namespace

BlockedPoolRowFn avx2BlockedPoolRow() {
  return blockedPoolRow;
}

}  // namespace kiln::backends::cpu
