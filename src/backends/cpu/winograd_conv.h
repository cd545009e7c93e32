// Winograd F(4x4, 3x3) convolution ("cpu.conv.winograd[.tm].<isa>"): 3x3, stride 1, no dilation,
// one group, NCHW float32. Each 6x6 input tile d becomes V = B^T d B, the weights U = G g G^T
// (once, at instantiate), and the 36 positions of the transformed tile are 36 independent products
// M = U * V ([K x C] * [C x tiles], kiln's packed SGEMM); each 4x4 output tile is Y = A^T M A, plus
// the fused epilogue. 36 multiplies per output tile and channel pair instead of 144.
//
// The transforms below are vectorized across tiles or output channels and compiled once per ISA
// (winograd_kernel.inc). F(4x4, 3x3) in FP32 is about 5-10x less exact than a direct sum (max
// error ~1e-5 of the output's range on ResNet layers), within the tactic checks' tolerance.
#pragma once

#include <cstdint>
#include <vector>

#include "backends/cpu/cpu_common.h"
#include "backends/cpu/gemm.h"

namespace kiln::backends {
class TacticRegistry;
}

namespace kiln::backends::cpu {

//! Output tile side, input tile side (kWinoTile + 2) and transformed positions per tile.
inline constexpr int64_t kWinoTile = 4;
inline constexpr int64_t kWinoAlpha = 6;
inline constexpr int64_t kWinoPositions = kWinoAlpha * kWinoAlpha;
//! Tiles one transform step handles (the vector width of the transforms).
inline constexpr int64_t kWinoLanes = 16;

//! Where V goes: rows of tiles per channel (plain), or, with panel > 0, the GEMM's packed B panels
//! ([tile / panel][channel][tile % panel], GemmOperand::prepacked), so the products read V as it
//! is instead of packing it again.
struct WinogradLayout {
  int64_t panel = 0;        //!< tiles per panel (the micro-kernel's nr); 0: plain
  int64_t panelStride = 0;  //!< between panels (channels * panel)
};

//! The input transform of one row of tiles of one channel.
struct WinogradInputRow {
  const float* x = nullptr;  //!< the channel's plane [ih, iw]
  int64_t ih = 0, iw = 0;
  int64_t y0 = 0;     //!< input row of the tiles' first row (may be negative: padding)
  int64_t x0 = 0;     //!< input column of the first tile's first column (-left padding)
  int64_t tiles = 0;  //!< tiles in the row
  //! Plain: V at (position 0, this channel, the row's first tile). Packed: V at (position 0,
  //! panel 0, this channel), the row's first tile being tile firstTile of the block.
  float* v = nullptr;
  int64_t firstTile = 0;
  WinogradLayout layout;
  int64_t positionStride = 0;  //!< between positions of V
  float* scratch = nullptr;    //!< kWinoAlpha rows of scratchWidth floats
  int64_t scratchWidth = 0;    //!< winogradScratchWidth(tiles)
};

//! The input transform of consecutive rows of tiles of one channel (rows of any image), as one
//! sequence of tiles: for narrow images, whose rows hold fewer tiles than a vector.
struct WinogradInputRows {
  const float* x = nullptr;  //!< the channel's plane in image 0
  int64_t imageStride = 0;   //!< between images of x (channels * ih * iw)
  int64_t ih = 0, iw = 0, ph = 0, pw = 0;
  int64_t tilesH = 0, tilesW = 0;  //!< tiles of an image
  int64_t row0 = 0, rows = 0;      //!< the tile rows, counted across the batch
  //! V at (position 0, this channel, the first row's first tile), or with a packed layout at
  //! (position 0, panel 0, this channel).
  float* v = nullptr;
  WinogradLayout layout;
  int64_t positionStride = 0;
  float* scratch = nullptr;  //!< rows * kWinoAlpha rows of scratchWidth floats
  int64_t scratchWidth = 0;  //!< winogradScratchWidth(tilesW)
};

//! The output transform and epilogue of one row of tiles of one output channel.
struct WinogradOutputRow {
  const float* m = nullptr;  //!< M at (position 0, this channel, the row's first tile)
  int64_t positionStride = 0;
  int64_t tiles = 0;
  float* y = nullptr;               //!< the channel's output plane [oh, ow]
  const float* residual = nullptr;  //!< the residual's plane, or null
  int64_t oh = 0, ow = 0;
  int64_t oy0 = 0;  //!< output row of the tiles' first row
  float bias = 0.f;
  VecAct act = VecAct::kNone;  //!< kGeneric: the caller activates afterwards
  float alpha = 0.f, beta = 0.f;
  float* scratch = nullptr;  //!< kWinoTile rows of scratchWidth floats
  int64_t scratchWidth = 0;  //!< winogradScratchWidth(tiles)
};

//! The output transform and epilogue of one row of tiles for kWinoLanes consecutive output
//! channels, from products stored tile-major (M[position][tile][channel]).
struct WinogradOutputTiles {
  const float* m = nullptr;  //!< M at (position 0, the row's first tile, the first channel)
  int64_t positionStride = 0;
  int64_t tileStride = 0;           //!< between tiles of M (K)
  int64_t tiles = 0;                //!< tiles in the row
  int64_t channels = 0;             //!< channels from the first (1..kWinoLanes)
  float* y = nullptr;               //!< the first channel's output plane [oh, ow]
  const float* residual = nullptr;  //!< the residual's plane of the first channel, or null
  const float* bias = nullptr;      //!< [channels], or null
  int64_t planeStride = 0;          //!< between channels of y and residual (oh * ow)
  int64_t oh = 0, ow = 0;
  int64_t oy0 = 0;             //!< output row of the tiles' first row
  VecAct act = VecAct::kNone;  //!< kGeneric: the caller activates afterwards
  float alpha = 0.f, beta = 0.f;
  float* scratch = nullptr;  //!< kWinoLanes * kWinoTile rows of scratchWidth floats
  int64_t scratchWidth = 0;  //!< winogradScratchWidth(tiles)
};

//! Row length of the transforms' scratch rows for @p tiles tiles (whole steps of lanes, and the
//! two columns the last tile reads past its 4).
inline int64_t winogradScratchWidth(int64_t tiles) {
  return ((tiles + kWinoLanes - 1) / kWinoLanes) * kWinoLanes * kWinoTile + kWinoLanes;
}

struct WinogradTransforms {
  void (*input)(const WinogradInputRow& r) = nullptr;
  void (*inputRows)(const WinogradInputRows& r) = nullptr;
  void (*output)(const WinogradOutputRow& r) = nullptr;
  void (*outputTiles)(const WinogradOutputTiles& r) = nullptr;
};

const WinogradTransforms& avx512WinogradTransforms();  //!< needs avx512f
const WinogradTransforms& avx2WinogradTransforms();    //!< needs avx2, fma

//! Whether a 3x3 stride-1 layer @p c has the tiles for Winograd to pay: enough tiles for each
//! product's stream of U (4x the weights), or few enough kernels.
bool winogradTilesPay(const Window2d& c);

//! U = G g G^T of every 3x3 kernel of the weights @p w [outputs][channels][3][3] (in double), one
//! [outputs x channels] matrix per position packed for @p mk: as the products' A (M = U V), or
//! with @p tileMajor transposed as their B (M^T = V^T U^T).
std::vector<PackedMatrix> packWinogradFilters(const float* w, int64_t outputs, int64_t channels,
                                              const MicroKernel& mk, bool tileMajor);

//! Registers the Winograd tactics for Convolution (after the other convolution tactics: the
//! autotuner times them all and keeps the fastest per layer).
void registerWinogradConvTactics(TacticRegistry& registry);

}  // namespace kiln::backends::cpu
