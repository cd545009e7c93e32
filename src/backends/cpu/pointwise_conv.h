// 1x1 convolutions (stride 1, no padding, NCHW float32) as a GEMM that reads the input in place:
// y[M, N] = W[M, K] * x[K, N] with N = H * W pixels. The packed GEMM (gemm.h) copies x into
// column panels first; for MobileNet's and SqueezeNet's layers (few output channels over many
// pixels, or few input channels) that copy cost as much as the product, since each panel is used
// by only a few row panels of W. Here the tile kernel loads rows of x straight from the image
// (masked for the last columns), and only the constant weights are packed, once.
#pragma once

#include <cstdint>

#include "backends/cpu/gemm.h"

namespace kiln::backends {
class TacticRegistry;
}

namespace kiln::backends::cpu {

//! y[r][0..cols) (row stride ldy) for r < rows = sum over k < kc of a[k * mr + r] *
//! x[k * ldx + 0..cols), then the epilogue @p e (tile origin; VecAct::kGeneric is left to the
//! caller), where mr x nr is the tile's shape (PointwiseTile). rows <= mr, cols <= nr. x is read
//! only in its first cols columns. @p prefetch, when not null, is a tile of x (same ldx) to bring
//! towards L1 meanwhile. e.residual may be y itself (a sum over blocks of K, PointwiseTile::kc):
//! each element of it is read before that element of y is written.
using PointwiseTileFn = void (*)(int64_t rows, int64_t cols, int64_t kc, const float* a,
                                 const float* x, int64_t ldx, float* y, int64_t ldy,
                                 const TileEpilogue& e, const float* prefetch);

//! One ISA's row-major tile: mr rows of W (a packed panel's width) by nr pixels. The shape is the
//! kernel's own, fitted to its register file.
struct PointwiseTile {
  int32_t mr = 0;
  int32_t nr = 0;
  PointwiseTileFn fn = nullptr;
  //! Input channels per call, for a tile's x rows and weights to stay in L1; the driver then
  //! sums the partial products through the residual (y itself). 0: all of K in one call.
  int32_t kc = 0;
};

PointwiseTile avx512PointwiseTile();  //!< 12 x 32; needs avx512f
PointwiseTile avx2PointwiseTile();    //!< 6 x 16, K in blocks of 256; needs avx2, fma

//! y[c * ldy + p] for c < channels, p < pixels (channels <= the tile's channels, pixels <= its
//! pixels) = sum over k < kc of w[k * tile channels + c] * x[k * ldx + p], then the epilogue @p e
//! (tile origin; rowBias per channel; the residual with row stride e.ldr; VecAct::kGeneric left
//! to the caller; the residual may be y itself, as for PointwiseTileFn). w is 32-byte aligned (64
//! for AVX-512), zero past the live channels.
using PointwiseChannelTileFn = void (*)(int64_t channels, int64_t pixels, int64_t kc,
                                        const float* w, const float* x, int64_t ldx, float* y,
                                        int64_t ldy, const TileEpilogue& e);

//! One ISA's channel-major tile: for layers of few pixels (7x7: 49, a vector and a lane over) the
//! vectors run along the output channels instead; `channels` is the packed panel's width.
struct PointwiseChannelTile {
  int32_t channels = 0;
  int32_t pixels = 0;
  PointwiseChannelTileFn fn = nullptr;
  int32_t kc = 0;  //!< as PointwiseTile::kc
};

PointwiseChannelTile avx512PointwiseChannelTile();  //!< 64 x 7; needs avx512f
PointwiseChannelTile avx2PointwiseChannelTile();    //!< 24 x 4, K in blocks of 128; avx2, fma

//! y for a run of tiles in the blocked layout NCHW8c (ops/window_util.h), in and out: for
//! p < pixels (any number: the kernel walks them a tile at a time) and v < blocks (of 8 output
//! channels; blocks <= the tile's channels / 8),
//! y[v * ldy + p * 8 + lane] = sum over input channels c < kc (a multiple of 8) of
//! x[(c / 8) * ldx + p * 8 + c % 8] * w[c * tile channels + v * 8 + lane], then the epilogue @p e
//! (tile origin; rowBias per channel; the residual at e.residual + v * e.ldr + p * 8;
//! VecAct::kGeneric left to the caller; the residual may be y itself, as for PointwiseTileFn).
//! The weights are packed as for the channel-major tile, in panels of the blocked tile's
//! channels; no transposes on either side. @p next, when not null, is the weights of the
//! caller's next call (as many floats as w's): the run's first tile brings them towards L1
//! while the others reuse w. A layer's weights come from memory once per inference (ResNet-50's
//! are 100 MB), and a run's first tile would otherwise wait on them.
using PointwiseBlockedTileFn = void (*)(int64_t blocks, int64_t pixels, int64_t kc, const float* w,
                                        const float* x, int64_t ldx, float* y, int64_t ldy,
                                        const TileEpilogue& e, const float* next);

struct PointwiseBlockedTile {
  int32_t channels = 0;  //!< a packed panel's width, whole blocks of 8
  int32_t pixels = 0;    //!< pixels of a tile
  PointwiseBlockedTileFn fn = nullptr;
  int32_t kc = 0;  //!< as PointwiseTile::kc, a multiple of 8
};

PointwiseBlockedTile avx2PointwiseBlockedTile();  //!< 16 x 6, K in blocks of 128; avx2, fma

//! Registers "cpu.conv.pointwise.avx512" and "cpu.conv.pointwise.cm.avx512" (channel-major), and
//! their AVX2+FMA twins "cpu.conv.pointwise.avx2" and "cpu.conv.pointwise.cm.avx2", and
//! "cpu.conv.pointwise.nchw8c.avx2" for nodes in the blocked layout.
void registerPointwiseConvTactics(TacticRegistry& registry);

}  // namespace kiln::backends::cpu
