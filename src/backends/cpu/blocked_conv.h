// Direct convolution in the blocked layout NCHW8c (ops/window_util.h), any window, stride and
// dilation, one group. The input is read from a zero-padded blocked copy (or in place where no
// padding is needed), in which every tap of every output pixel is in range: a pixel's taps are
// then fixed offsets from one pointer, so a tile of output pixels may run on across rows (7x7
// layers fill whole tiles) and the inner loop is the blocked 1x1 tile's (pointwise_conv.h): two
// weight vectors of 8 output channels, a broadcast input channel per pixel, two multiply-adds
// per pixel. For the layers Winograd does not take or gains little on: ResNet's stride-2
// 3x3 convolutions, and the 3x3 ones at 7x7.
#pragma once

#include <cstdint>

#include "backends/cpu/cpu_common.h"
#include "backends/cpu/gemm.h"

namespace kiln::backends {
class TacticRegistry;
}

namespace kiln::backends::cpu {

//! Where the input of a blocked direct convolution lies and how its windows step.
struct BlockedConvGeometry {
  int64_t ow = 1;                 //!< output row length: the tile's pixels wrap into the next row
  int64_t sh = 1, sw = 1;         //!< strides
  int64_t rowPitch = 0;           //!< input pixels from one row to the next
  int64_t blockStride = 0;        //!< floats from one block of 8 input channels to the next
  const int32_t* taps = nullptr;  //!< floats from a pixel's window origin to each tap
  int32_t tapCount = 0;
};

//! y for the output pixels [q0, q0 + pixels) of one image (flat over its rows) and @p blocks
//! (<= the tile's channels / 8) blocks of 8 output channels:
//! y[v * ldy + (q - q0) * 8 + lane] = sum over input blocks b < @p inBlocks, taps t and lanes c < 8
//! of x[b * blockStride + origin(q) + taps[t] + c] * w[((b * tapCount + t) * 8 + c) * tile channels
//! + v * 8 + lane], with origin(q) = ((q / ow) * sh * rowPitch + (q % ow) * sw) * 8; then the
//! epilogue @p e (tile origin: pixel q0; rowBias per channel; the residual at e.residual +
//! v * e.ldr + (q - q0) * 8; VecAct::kGeneric left to the caller; the residual may be y itself,
//! each element read before it is written). w is 32-byte aligned, zero past the live channels.
//! @p next, when not null: the weights of the caller's next call, which the run's first tile
//! prefetches (as PointwiseBlockedTileFn's).
using BlockedConvTileFn = void (*)(const BlockedConvGeometry& g, int64_t q0, int64_t pixels,
                                   int64_t blocks, int64_t inBlocks, const float* w, const float* x,
                                   float* y, int64_t ldy, const TileEpilogue& e, const float* next);

struct BlockedConvTile {
  int32_t channels = 0;  //!< a packed panel's width, whole blocks of 8
  int32_t pixels = 0;    //!< pixels of a whole tile
  BlockedConvTileFn fn = nullptr;
};

BlockedConvTile avx2BlockedConvTile();  //!< 16 x 5; needs avx2, fma

//! Copies x of @p c (NCHW8c, or NCHW where not @p blocked) into @p out, zero-padded and blocked:
//! [image][block][hp][wp][8], padded row r and column s holding input row r - c.ph and column
//! s - c.pw (zeros outside the input), over the threads of @p pool.
void padBlockedInput(const Window2d& c, bool blocked, const float* x, int64_t hp, int64_t wp,
                     float* out, ThreadPool& pool);

//! Registers "cpu.conv.direct.nchw8c.avx2".
void registerBlockedConvTactics(TacticRegistry& registry);

}  // namespace kiln::backends::cpu
