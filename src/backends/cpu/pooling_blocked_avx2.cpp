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

// Separable: each input column's window rows fold first (max with its NaN lanes, or sum) into
// @p scratch, then each output folds its window's columns of those. A 3x3 stride-1 pool then
// loads 6 vectors per output, not 9, and checks each input cell for NaN once per row.
void blockedPoolRow(const Pool2d& p, const float* x, int64_t oy, float* y, const float* colDivisor,
                    float rowDivisor, float* scratch) {
  const int64_t iy0 = std::max<int64_t>(oy * p.sh - p.ph, 0);
  const int64_t iy1 = std::min<int64_t>(oy * p.sh - p.ph + p.kh, p.ih);
  // The columns some window reads.
  const int64_t columns = std::min<int64_t>(p.iw, (p.ow - 1) * p.sw - p.pw + p.kw);
  float* folded = scratch;               // [columns][8]
  float* nan = scratch + p.iw * kLanes;  // [columns][8]: lanes that met a NaN (max)
  const __m256 lowest = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  for (int64_t ix = 0; ix < columns; ++ix) {
    __m256 acc = p.average ? _mm256_setzero_ps() : lowest;
    __m256 n = _mm256_setzero_ps();
    const float* cell = x + (iy0 * p.iw + ix) * kLanes;
    for (int64_t iy = iy0; iy < iy1; ++iy, cell += p.iw * kLanes) {
      const __m256 v = _mm256_loadu_ps(cell);
      if (p.average) {
        acc = _mm256_add_ps(acc, v);
      } else {
        acc = _mm256_max_ps(acc, v);
        n = _mm256_or_ps(n, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
      }
    }
    _mm256_storeu_ps(folded + ix * kLanes, acc);
    if (!p.average) _mm256_storeu_ps(nan + ix * kLanes, n);
  }
  const __m256 quietNan = _mm256_set1_ps(std::numeric_limits<float>::quiet_NaN());
  for (int64_t ox = 0; ox < p.ow; ++ox) {
    const int64_t ix0 = std::max<int64_t>(ox * p.sw - p.pw, 0);
    const int64_t ix1 = std::min<int64_t>(ox * p.sw - p.pw + p.kw, columns);
    __m256 acc = p.average ? _mm256_setzero_ps() : lowest;
    __m256 n = _mm256_setzero_ps();
    for (int64_t ix = ix0; ix < ix1; ++ix) {
      const __m256 v = _mm256_loadu_ps(folded + ix * kLanes);
      if (p.average) {
        acc = _mm256_add_ps(acc, v);
      } else {
        acc = _mm256_max_ps(acc, v);
        n = _mm256_or_ps(n, _mm256_loadu_ps(nan + ix * kLanes));
      }
    }
    if (p.average) {
      acc = _mm256_div_ps(acc, _mm256_set1_ps(rowDivisor * colDivisor[ox]));
    } else {
      acc = _mm256_blendv_ps(acc, quietNan, n);
    }
    _mm256_storeu_ps(y + ox * kLanes, acc);
  }
}

}  // namespace

BlockedPoolRowFn avx2BlockedPoolRow() {
  return blockedPoolRow;
}

}  // namespace kiln::backends::cpu
