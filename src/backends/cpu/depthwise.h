// Direct depthwise convolution of one [ih, iw] plane (groups == channels == outputs), NCHW.
#pragma once

#include <cstdint>

#include "backends/cpu/gemm.h"

namespace kiln::backends::cpu {

struct DepthwisePlane {
  const float* x = nullptr;  //!< [ih, iw]
  const float* w = nullptr;  //!< [kh, kw]
  float bias = 0.f;
  const float* residual = nullptr;  //!< [oh, ow] or null
  float* y = nullptr;               //!< [oh, ow]
  int64_t ih = 0, iw = 0, oh = 0, ow = 0;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1, ph = 0, pw = 0;
  VecAct act = VecAct::kNone;  //!< kGeneric: the caller activates afterwards
  float alpha = 0.f, beta = 0.f;
  const float* zeros = nullptr;  //!< [iw] zeros (rows in the padding), or null
};

using DepthwiseFn = void (*)(const DepthwisePlane& p);

DepthwiseFn portableDepthwise();
DepthwiseFn avx2Depthwise();  //!< needs avx2, fma

}  // namespace kiln::backends::cpu
