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

void blockedPoolRow(const Pool2d& p, const float* x, int64_t oy, float* y, const float* colDivisor,
                    float rowDivisor) {
  const int64_t iy0 = std::max<int64_t>(oy * p.sh - p.ph, 0);
  const int64_t iy1 = std::min<int64_t>(oy * p.sh - p.ph + p.kh, p.ih);
  const __m256 lowest = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  for (int64_t ox = 0; ox < p.ow; ++ox) {
    const int64_t ix0 = std::max<int64_t>(ox * p.sw - p.pw, 0);
    const int64_t ix1 = std::min<int64_t>(ox * p.sw - p.pw + p.kw, p.iw);
    __m256 acc = p.average ? _mm256_setzero_ps() : lowest;
    __m256 nan = _mm256_setzero_ps();  // lanes that met a NaN (max only)
    for (int64_t iy = iy0; iy < iy1; ++iy) {
      const float* row = x + (iy * p.iw + ix0) * kLanes;
      for (int64_t ix = ix0; ix < ix1; ++ix, row += kLanes) {
        const __m256 v = _mm256_loadu_ps(row);
        if (p.average) {
          acc = _mm256_add_ps(acc, v);
        } else {
          acc = _mm256_max_ps(acc, v);
          nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        }
      }
    }
    if (p.average) {
      acc = _mm256_div_ps(acc, _mm256_set1_ps(rowDivisor * colDivisor[ox]));
    } else {
      acc = _mm256_blendv_ps(acc, _mm256_set1_ps(std::numeric_limits<float>::quiet_NaN()), nan);
    }
    _mm256_storeu_ps(y + ox * kLanes, acc);
  }
}

}  // namespace

BlockedPoolRowFn avx2BlockedPoolRow() {
  return blockedPoolRow;
}

}  // namespace kiln::backends::cpu
