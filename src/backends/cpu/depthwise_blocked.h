// Depthwise convolution over blocks of 8 channels, NCHW or NCHW8c in and out. The input rows of a
// block enter a zero-padded ring of channels-last rows (one vector = one pixel of 8 channels):
// from NCHW through transposes in registers, from NCHW8c (whose rows are already such pixel
// vectors) by plain copies. So every tap is an aligned load and a multiply-add with no mask and no
// edge case; NCHW output rows are transposed back, NCHW8c ones stored as they are (the transposes
// cost half to two thirds of the NCHW kernel's time). The per-plane kernels (depthwise.h) pay for
// each plane's edges and padded copy: most of the time of MobileNet's 7x7 to 28x28 planes.
#pragma once

#include <cstdint>

#include "backends/cpu/gemm.h"

namespace kiln::backends::cpu {

//! Channels of a block: one AVX2 vector.
inline constexpr int64_t kDepthwiseBlock = 8;

//! Output pixels the kernel computes together (independent multiply-add chains); rows are computed
//! in whole steps, into room past the last pixel.
inline constexpr int64_t kDepthwiseBlockStep = 4;

//! The shapes the blocked kernel takes: square k x k windows of these sizes, equal strides of 1
//! or 2, no dilation, padding >= 0.
bool depthwiseBlockedSupports(int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh,
                              int64_t dw, int64_t ph, int64_t pw);

struct DepthwiseBlock {
  //! x in NCHW8c: the block's planes are one [ih][iw][8] run of pixel vectors.
  bool blockedIn = false;
  //! y and the residual in NCHW8c ([oh][ow][8]); channels is then kDepthwiseBlock. (NCHW8c x
  //! with NCHW y is not taken.)
  bool blockedOut = false;
  const float* x = nullptr;         //!< the block's first input plane, [channels][ih][iw]
  int64_t channels = 0;             //!< live channels, 1..kDepthwiseBlock
  const float* w = nullptr;         //!< [k * k][kDepthwiseBlock], zero past the live channels
  const float* bias = nullptr;      //!< [kDepthwiseBlock]
  const float* residual = nullptr;  //!< the block's first residual plane, or null
  float* y = nullptr;               //!< the block's first output plane, [channels][oh][ow]
  int64_t ih = 0, iw = 0, oh = 0, ow = 0;
  int64_t k = 3;       //!< window size, both axes
  int64_t stride = 1;  //!< both axes
  int64_t ph = 0, pw = 0;
  VecAct act = VecAct::kNone;  //!< kGeneric: the caller activates afterwards
  float alpha = 0.f, beta = 0.f;
  float* scratch = nullptr;  //!< depthwiseBlockLayout(...).floats() floats, 32-byte aligned
};

//! DepthwiseBlock::scratch: a ring of ringRows padded input rows of pitch pixel vectors, a zero
//! row of as many, and an output row of outWidth pixel vectors.
struct DepthwiseBlockLayout {
  int64_t ringRows = 0;  //!< a power of two, at least k
  int64_t filled = 0;    //!< ring pixels the input transposes write: pw + iw rounded up to 8
  int64_t pitch = 0;     //!< pixels of a ring row: every tap of every step, and filled
  int64_t computed = 0;  //!< output pixels a row computes: ow in whole steps
  int64_t outWidth = 0;  //!< computed rounded up to 8
  int64_t floats() const {
    return (ringRows + 1) * pitch * kDepthwiseBlock + outWidth * kDepthwiseBlock;
  }
};

DepthwiseBlockLayout depthwiseBlockLayout(int64_t iw, int64_t ow, int64_t k, int64_t stride,
                                          int64_t pw);

//! Packs depthwise weights [channels][k * k] and bias [channels] (or null) per block of
//! kDepthwiseBlock channels: [k * k][kDepthwiseBlock] weights then [kDepthwiseBlock] bias,
//! zero past the last channel; depthwiseBlockPackedFloats() floats.
void packDepthwiseBlocks(const float* w, const float* bias, int64_t channels, int64_t k,
                         float* packed);

//! Blocks of kDepthwiseBlock channels that @p channels take.
inline int64_t depthwiseBlockCount(int64_t channels) {
  return (channels + kDepthwiseBlock - 1) / kDepthwiseBlock;
}
//! Floats of one block's packed weights and bias.
inline int64_t depthwiseBlockPackedStride(int64_t k) {
  return (k * k + 1) * kDepthwiseBlock;
}
inline int64_t depthwiseBlockPackedFloats(int64_t channels, int64_t k) {
  return depthwiseBlockCount(channels) * depthwiseBlockPackedStride(k);
}

using DepthwiseBlockFn = void (*)(const DepthwiseBlock& b);

DepthwiseBlockFn avx2DepthwiseBlocked();  //!< needs avx2, fma

}  // namespace kiln::backends::cpu
