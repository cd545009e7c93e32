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

//! Rows of W a packed panel holds, and pixels a tile covers.
constexpr int32_t kPointwiseMr = 12;
constexpr int32_t kPointwiseNr = 32;

//! y[r][0..cols) (row stride ldy) for r < rows = sum over k < kc of a[k * kPointwiseMr + r] *
//! x[k * ldx + 0..cols), then the epilogue @p e (tile origin; VecAct::kGeneric is left to the
//! caller). rows <= kPointwiseMr, cols <= kPointwiseNr. x is read only in its first cols columns.
//! @p prefetch, when not null, is a tile of x (same ldx) to bring towards L1 meanwhile.
using PointwiseTileFn = void (*)(int64_t rows, int64_t cols, int64_t kc, const float* a,
                                 const float* x, int64_t ldx, float* y, int64_t ldy,
                                 const TileEpilogue& e, const float* prefetch);

PointwiseTileFn avx512PointwiseTile();  //!< needs avx512f

//! Output channels and pixels of a channel-major tile: for layers of few pixels (7x7: 49, a
//! vector and a lane over) the vectors run along the output channels instead.
constexpr int32_t kPointwiseChannels = 64;
constexpr int32_t kPointwisePixels = 7;

//! y[c * ldy + p] for c < channels, p < pixels (channels <= kPointwiseChannels, pixels <=
//! kPointwisePixels) = sum over k < kc of w[k * kPointwiseChannels + c] * x[k * ldx + p], then the
//! epilogue @p e (tile origin; rowBias per channel; the residual with row stride e.ldr;
//! VecAct::kGeneric left to the caller). w is 64-byte aligned, zero past the live channels.
using PointwiseChannelTileFn = void (*)(int64_t channels, int64_t pixels, int64_t kc,
                                        const float* w, const float* x, int64_t ldx, float* y,
                                        int64_t ldy, const TileEpilogue& e);

PointwiseChannelTileFn avx512PointwiseChannelTile();  //!< needs avx512f

//! Registers "cpu.conv.pointwise.avx512" and "cpu.conv.pointwise.cm.avx512" (channel-major).
void registerPointwiseConvTactics(TacticRegistry& registry);

}  // namespace kiln::backends::cpu
