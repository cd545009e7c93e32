// The AVX2+FMA tile of the blocked direct convolution (blocked_conv.h): 5 output pixels x 2
// blocks of 8 output channels, 10 accumulators, 2 weight vectors and a broadcast input channel.
// Each pixel keeps its own input pointer, so the pixels may span rows. The blocked 1x1 tile's 6
// pixels (pointwise_conv_avx2.cpp) fill 15 of the 16 ymm registers; with six pointers as well
// the compiler kept an accumulator on the stack, and on Zen 3 the 5-pixel tile ran a quarter
// faster (one thread, hot: 82 GFLOP/s of 95.5 at ResNet-50's stride-2 3x3 layers, against 65).
// Compiled with -mavx2 -mfma (the *_avx2.cpp glob); called only where the tactic's required ISA is
// present.
#include <immintrin.h>

#include <cstdint>

#include "backends/cpu/avx2_lanes.h"
#include "backends/cpu/blocked_conv.h"
#include "backends/cpu/tile_runs.h"

namespace kiln::backends::cpu {

namespace {

using avx2::prefetchLines;
using avx2::storeBlocked;

constexpr int32_t kVectors = 2;  // blocks of 8 output channels per tile
constexpr int32_t kChannels = 8 * kVectors;
constexpr int32_t kLanes = 8;
constexpr int64_t kTapFloats = int64_t{kLanes} * kChannels;  // one tap's packed weights

// 8 accumulators for one block (enough for the multiply-adds' latency), 10 for two.
template <int V>
constexpr int kTilePixels = V == 1 ? 8 : 5;

// P pixels (their windows' origins in @p origin) x V blocks over every input block and tap.
template <int P, int V>
void directFixed(const int64_t* origin, const BlockedConvGeometry& g, int64_t inBlocks,
                 const float* w, const float* x, float* y, int64_t ldy,
                 const TileEpilogue& epilogue, const float* next) {
  const TileEpilogue e = epilogue;  // a local copy: the stores below cannot alias it
  __m256 acc[P][V];
#pragma GCC unroll 8
  for (int64_t p = 0; p < P; ++p) {
#pragma GCC unroll 4
    for (int64_t v = 0; v < V; ++v) acc[p][v] = _mm256_setzero_ps();
  }
  const int32_t* const tapsEnd = g.taps + g.tapCount;
  for (int64_t b = 0; b < inBlocks; ++b) {
    // One pointer per pixel; a tap is then the same index off each (base + index * 4 + lane *
    // 4 addressing: no per-pixel, per-lane offsets for the compiler to keep on the stack).
    const float* px[P];
#pragma GCC unroll 8
    for (int64_t p = 0; p < P; ++p) px[p] = x + b * g.blockStride + origin[p];
    for (const int32_t* tap = g.taps; tap != tapsEnd; ++tap) {
      const int64_t o = *tap;
      if (next != nullptr) {
        prefetchLines<kTapFloats>(next);
        next += kTapFloats;
      }
#pragma GCC unroll 8
      for (int64_t ci = 0; ci < kLanes; ++ci) {
        __m256 wv[V];
#pragma GCC unroll 4
        for (int64_t v = 0; v < V; ++v) wv[v] = _mm256_load_ps(w + ci * kChannels + 8 * v);
#pragma GCC unroll 8
        for (int64_t p = 0; p < P; ++p) {
          const __m256 xp = _mm256_broadcast_ss(px[p] + o + ci);
#pragma GCC unroll 4
          for (int64_t v = 0; v < V; ++v) acc[p][v] = _mm256_fmadd_ps(xp, wv[v], acc[p][v]);
        }
      }
      w += kTapFloats;
    }
  }
  storeBlocked(acc, y, ldy, e);
}

// The window origins of consecutive output pixels, row by row.
class OriginWalk {
 public:
  OriginWalk(const BlockedConvGeometry& g, int64_t q0) : g_(g), oy_(q0 / g.ow), ox_(q0 % g.ow) {}
  void next(int64_t count, int64_t* origin) {
    for (int64_t i = 0; i < count; ++i) {
      origin[i] = (oy_ * g_.sh * g_.rowPitch + ox_ * g_.sw) * kLanes;
      if (++ox_ == g_.ow) {
        ox_ = 0;
        ++oy_;
      }
    }
  }

 private:
  const BlockedConvGeometry& g_;
  int64_t oy_, ox_;
};

// A run of pixels, a tile at a time (tile_runs.h).
template <int V>
void directRun(const BlockedConvGeometry& g, int64_t q0, int64_t pixels, int64_t inBlocks,
               const float* w, const float* x, float* y, int64_t ldy, const TileEpilogue& e,
               const float* next) {
  constexpr int kTile = kTilePixels<V>;
  OriginWalk walk(g, q0);
  forEachTile<kTile>(pixels, [&](auto size, int64_t p) {
    constexpr int kSize = decltype(size)::value;
    int64_t origin[kSize];
    walk.next(kSize, origin);
    TileEpilogue te = e;
    if (te.residual != nullptr) te.residual += p * kLanes;
    directFixed<kSize, V>(origin, g, inBlocks, w, x, y + p * kLanes, ldy, te,
                          p == 0 ? next : nullptr);
  });
}

void directTile(const BlockedConvGeometry& g, int64_t q0, int64_t pixels, int64_t blocks,
                int64_t inBlocks, const float* w, const float* x, float* y, int64_t ldy,
                const TileEpilogue& e, const float* next) {
  static_assert(kVectors == 2, "the block cases below");
  if (blocks >= 2) return directRun<2>(g, q0, pixels, inBlocks, w, x, y, ldy, e, next);
  directRun<1>(g, q0, pixels, inBlocks, w, x, y, ldy, e, next);
}

}  // namespace

BlockedConvTile avx2BlockedConvTile() {
  return {kChannels, kTilePixels<kVectors>, directTile};
}

}  // namespace kiln::backends::cpu
