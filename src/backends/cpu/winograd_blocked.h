// Winograd F(4x4, 3x3) convolution in the blocked layout NCHW8c ("cpu.conv.winograd.nchw8c.avx2"):
// the NCHW tactics' arithmetic (winograd_conv.h), with the transforms vectorized across the 8
// channels of a block instead of across tiles. A pixel's 8 channels are one vector, so a tile's
// 6x6 input window is 36 vector loads and its 4x4 outputs 16 vector stores: no gathers and
// scatters of tiles, and the layers a ResNet or UNet runs blocked need no reformats around their
// 3x3 convolutions. The products are tile-major (M^T = V^T U^T, [tiles x K]): each tile's V is a
// row of channels, which the transform writes 8 at a time.
#pragma once

#include <cstdint>

#include "backends/cpu/gemm.h"

namespace kiln::backends {
class TacticRegistry;
}

namespace kiln::backends::cpu {

//! The input transform V = B^T d B of tiles [t0, t1) of one image (tilesW to a tile row) for
//! input blocks [b0, b1): d is the tile's 6x6 window of a zero-padded blocked input x
//! ([block][hp][wp][8], @p blockStride floats a block, tile (ty, tx) at row 4 ty, column 4 tx), V
//! goes to v[position * positionStride + (t - t0) * ldv + channel] (channels of block b at 8 b).
struct BlockedWinogradInput {
  const float* x = nullptr;
  int64_t wp = 0;
  int64_t blockStride = 0;
  int64_t tilesW = 0;
  int64_t t0 = 0, t1 = 0;
  int64_t b0 = 0, b1 = 0;
  float* v = nullptr;
  int64_t ldv = 0;
  int64_t positionStride = 0;
};

//! The output transform Y = A^T M A of tiles [t0, t1) of one image for output blocks [k0, k1),
//! from m[position * positionStride + (t - t0) * ldm + channel], then the epilogue: the bias
//! (bias[channel], or none), the residual (laid out as y, or none), the activation (kGeneric is
//! left to the caller). y: the image's [K / 8][oh][ow][8]; tiles past the output's edge store
//! their rows and columns inside it only.
struct BlockedWinogradOutput {
  const float* m = nullptr;
  int64_t ldm = 0;
  int64_t positionStride = 0;
  int64_t tilesW = 0;
  int64_t t0 = 0, t1 = 0;
  int64_t k0 = 0, k1 = 0;
  const float* bias = nullptr;
  const float* residual = nullptr;
  float* y = nullptr;
  int64_t oh = 0, ow = 0;
  VecAct act = VecAct::kNone;
  float alpha = 0.f, beta = 0.f;
};

struct BlockedWinogradTransforms {
  void (*input)(const BlockedWinogradInput& r) = nullptr;
  void (*output)(const BlockedWinogradOutput& r) = nullptr;
};

const BlockedWinogradTransforms& avx2BlockedWinogradTransforms();  //!< needs avx2, fma

//! Registers "cpu.conv.winograd.nchw8c.avx2".
void registerBlockedWinogradTactics(TacticRegistry& registry);

}  // namespace kiln::backends::cpu
