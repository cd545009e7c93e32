// Direct convolution of consecutive output rows, stride 1 or 2 along rows, no dilation, one group:
// the input is a zero-padded copy (every tap in range), the weights are packed per block of output
// channels, so the inner loop is loads of input vectors and broadcast FMAs with no im2col packing.
// For convolutions with few output channels, where packing im2col panels costs as much as the
// product.
#pragma once

#include <cstdint>

#include "backends/cpu/gemm.h"

namespace kiln::backends::cpu {

//! Output channels per packed weight block.
inline constexpr int32_t kDirectConvBlock = 8;

struct DirectConvRow {
  const float* x = nullptr;  //!< padded input at (channel 0, first tap row of the first row, 0)
  int64_t channels = 0;
  int64_t channelStride = 0;  //!< hp * wp
  int64_t wp = 0;             //!< padded row length ((ow - 1) * sw + kw)
  int64_t sh = 1, sw = 1;     //!< strides (sw 1 or 2; with 2, more than 16 columns)
  //! Stride 2 with the padded rows split by column parity (for the kernels that take it: the
  //! AVX2 one): a row holds its even columns, then from this offset its odd ones, so tap kx
  //! of consecutive outputs is a contiguous run. 0: rows in their plain order.
  int64_t oddOffset = 0;
  int64_t kh = 1, kw = 1;
  const float* w = nullptr;         //!< [channels][kh][kw][kDirectConvBlock] of this block
  int32_t outputs = 0;              //!< channels of the block that exist (1..kDirectConvBlock)
  const float* bias = nullptr;      //!< [outputs] or null
  const float* residual = nullptr;  //!< at (first output channel, first row, 0), or null
  float* y = nullptr;               //!< at (first output channel, first row, 0)
  int64_t outStride = 0;            //!< between output channels (oh * ow)
  int64_t ow = 0;
  int64_t rows = 1;            //!< output rows from y on
  VecAct act = VecAct::kNone;  //!< kGeneric: the caller activates afterwards
  float alpha = 0.f, beta = 0.f;
};

using DirectConvFn = void (*)(const DirectConvRow& r);

DirectConvFn avx512DirectConv();    //!< needs avx512f
DirectConvFn avx2DirectConv();      //!< 4 x 2 tiles; needs avx2, fma; takes split stride-2 rows
DirectConvFn avx2DirectConvWide();  //!< the same on 4 x 3 tiles

}  // namespace kiln::backends::cpu
