// Direct depthwise convolution of one [ih, iw] plane (groups == channels == outputs), NCHW.
#pragma once

#include <cstdint>

#include "backends/cpu/cpu_common.h"
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
  float* scratch = nullptr;      //!< depthwiseScratchFloats(p) floats, for kernels that take one
};

//! Floats past the padded plane that whole-vector reads of its last row may touch.
constexpr int64_t kDepthwiseSlack = 64;

//! Floats of DepthwisePlane::scratch the vector kernels need: a zero-padded copy of the plane
//! with slack for whole-vector reads past the last column.
int64_t depthwiseScratchFloats(const DepthwisePlane& p);

//! The tensors of one depthwise layer (NCHW float32; bias and residual may be null).
struct DepthwiseTensors {
  const float* x = nullptr;
  const float* w = nullptr;
  const float* bias = nullptr;
  const float* residual = nullptr;
  float* y = nullptr;
};

//! Plane @p plane (image * channels + channel) of the layer @p c over @p t, with the epilogue
//! @p act / @p e; zeros and scratch are left to the caller.
DepthwisePlane depthwisePlaneOf(const Window2d& c, const DepthwiseTensors& t, int64_t plane,
                                VecAct act, const GemmEpilogue& e);

using DepthwiseFn = void (*)(const DepthwisePlane& p);

DepthwiseFn portableDepthwise();
DepthwiseFn avx2Depthwise();    //!< needs avx2, fma
DepthwiseFn avx512Depthwise();  //!< needs avx512f, avx512vl

}  // namespace kiln::backends::cpu
