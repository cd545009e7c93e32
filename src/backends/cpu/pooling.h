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

//! y[oh, ow] from x[ih, iw]; an average divides by rowDivisor[oy] * colDivisor[ox]. Max keeps
//! NaN: a window with a NaN gives NaN.
using PoolPlaneFn = void (*)(const Pool2d& p, const float* x, float* y, const float* colDivisor,
                             const float* rowDivisor);

PoolPlaneFn avx512PoolPlane();  //!< needs avx512f

}  // namespace kiln::backends::cpu
