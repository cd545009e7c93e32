// The AVX2+FMA tiles of the 1x1 convolutions (pointwise_conv.h), shaped for 16 ymm registers:
// row-major 6 rows x 16 pixels (12 accumulators, 2 pixel vectors, 1 broadcast weight) and
// channel-major 24 channels x 4 pixels (12 accumulators, 3 weight vectors, 1 broadcast pixel).
// Compiled with -mavx2 -mfma (the *_avx2.cpp glob); called only where the tactic's required ISA
// is present. Partial tiles load with vmaskmovps but never store with it (slow on AMD): their
// rows go through a stack buffer instead.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "backends/cpu/avx2_lanes.h"
#include "backends/cpu/pointwise_conv.h"
#include "backends/cpu/tile_runs.h"

namespace kiln::backends::cpu {

namespace {

using avx2::activate;
using avx2::laneMask;
using avx2::prefetchLines;
using avx2::storeBlocked;

constexpr int32_t kMr = 6;       // rows of W per panel
constexpr int32_t kVectors = 2;  // pixel vectors per tile row
constexpr int32_t kNr = 8 * kVectors;
constexpr int32_t kChannelVectors = 3;  // channel vectors per channel-major tile
constexpr int32_t kChannels = 8 * kChannelVectors;
constexpr int32_t kPixels = 4;          // the 4 x 8 transpose of the channel-major store
constexpr int32_t kBlockedVectors = 2;  // blocks of 8 output channels per blocked tile
constexpr int32_t kBlockedChannels = 8 * kBlockedVectors;
// Input channels per call (PointwiseTile::kc): a row tile's x rows (256 x 64 bytes) and a
// channel-major panel's weights (128 x 96 bytes) stay in L1. Measured on MobileNetV2's 7x7 layers
// of K = 960 (Zen 3): the channel-major tile gained about a fifth; the row tile little.
constexpr int32_t kRowDepth = 256;
constexpr int32_t kChannelDepth = 128;

// The row-major tile: R rows (exactly the live ones) x V vectors of pixels, read from x in place.
// FULL: all 8 V columns live (plain loads and stores).
template <int R, int V, bool FULL>
void rowFixed(int64_t cols, int64_t kc, const float* a, const float* x, int64_t ldx, float* y,
              int64_t ldy, const TileEpilogue& epilogue, const float* prefetch) {
  // A copy the stores to y cannot alias: its fields stay in registers through the epilogue.
  const TileEpilogue e = epilogue;
  __m256i mask[V];
#pragma GCC unroll 4
  for (int v = 0; v < V; ++v) mask[v] = laneMask(cols - 8 * v);
  __m256 acc[R][V];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[r][v] = _mm256_setzero_ps();
  }
  for (int64_t k = 0; k < kc; ++k) {
    const float* xk = x + k * ldx;
    if (prefetch != nullptr) {
      _mm_prefetch(reinterpret_cast<const char*>(prefetch + k * ldx), _MM_HINT_T0);
    }
    __m256 bv[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      bv[v] = FULL ? _mm256_loadu_ps(xk + 8 * v) : _mm256_maskload_ps(xk + 8 * v, mask[v]);
    }
    const float* ak = a + k * kMr;
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      const __m256 ar = _mm256_broadcast_ss(ak + r);
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) acc[r][v] = _mm256_fmadd_ps(ar, bv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    float* yr = y + r * ldy;
    const __m256 bias =
        e.rowBias != nullptr ? _mm256_broadcast_ss(e.rowBias + r) : _mm256_setzero_ps();
    alignas(32) float buffer[FULL ? 1 : 8 * V];
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      __m256 t = _mm256_add_ps(acc[r][v], bias);
      if (e.residual != nullptr) {
        const float* rr = e.residual + r * e.ldr + 8 * v;
        t = _mm256_add_ps(t, FULL ? _mm256_loadu_ps(rr) : _mm256_maskload_ps(rr, mask[v]));
      }
      t = activate(t, e.act, e.alpha, e.beta);
      if constexpr (FULL) {
        _mm256_storeu_ps(yr + 8 * v, t);
      } else {
        _mm256_store_ps(buffer + 8 * v, t);
      }
    }
    if constexpr (!FULL) std::memcpy(yr, buffer, sizeof(float) * static_cast<std::size_t>(cols));
  }
}

template <int R>
void rowRows(int64_t cols, int64_t kc, const float* a, const float* x, int64_t ldx, float* y,
             int64_t ldy, const TileEpilogue& e, const float* prefetch) {
  static_assert(kVectors == 2, "the column cases below");
  if (cols == 16) return rowFixed<R, 2, true>(cols, kc, a, x, ldx, y, ldy, e, prefetch);
  if (cols > 8) return rowFixed<R, 2, false>(cols, kc, a, x, ldx, y, ldy, e, prefetch);
  if (cols == 8) return rowFixed<R, 1, true>(cols, kc, a, x, ldx, y, ldy, e, prefetch);
  rowFixed<R, 1, false>(cols, kc, a, x, ldx, y, ldy, e, prefetch);
}

void rowTile(int64_t rows, int64_t cols, int64_t kc, const float* a, const float* x, int64_t ldx,
             float* y, int64_t ldy, const TileEpilogue& e, const float* prefetch) {
  static_assert(kMr == 6, "the row cases below");
  switch (rows) {
    case 1:
      return rowRows<1>(cols, kc, a, x, ldx, y, ldy, e, prefetch);
    case 2:
      return rowRows<2>(cols, kc, a, x, ldx, y, ldy, e, prefetch);
    case 3:
      return rowRows<3>(cols, kc, a, x, ldx, y, ldy, e, prefetch);
    case 4:
      return rowRows<4>(cols, kc, a, x, ldx, y, ldy, e, prefetch);
    case 5:
      return rowRows<5>(cols, kc, a, x, ldx, y, ldy, e, prefetch);
    default:
      return rowRows<6>(cols, kc, a, x, ldx, y, ldy, e, prefetch);
  }
}

// The first P lanes of @p v to @p d.
template <int P>
inline void storePixels(float* d, __m128 v) {
  if constexpr (P == 4) {
    _mm_storeu_ps(d, v);
  } else if constexpr (P == 3) {
    _mm_storel_pi(reinterpret_cast<__m64*>(d), v);
    _mm_store_ss(d + 2, _mm_movehl_ps(v, v));
  } else if constexpr (P == 2) {
    _mm_storel_pi(reinterpret_cast<__m64*>(d), v);
  } else {
    _mm_store_ss(d, v);
  }
}

// The first P of 4 pixels of a residual row (lanes past P zero).
template <int P>
inline __m128 loadPixels(const float* s) {
  if constexpr (P == 4) {
    return _mm_loadu_ps(s);
  } else {
    return _mm_maskload_ps(s, _mm256_castsi256_si128(laneMask(P)));
  }
}

// The channel-major tile: P pixels x V vectors of output channels. Each vector of 8 channels is
// turned by a 4 x 8 transpose into pixel rows of the NCHW output (two channels per ymm), where the
// residual is added and the activation applied before P floats per channel are stored.
template <int P, int V>
void channelFixed(int64_t channels, int64_t kc, const float* w, const float* x, int64_t ldx,
                  float* y, int64_t ldy, const TileEpilogue& epilogue) {
  const TileEpilogue e = epilogue;  // as in rowFixed
  __m256 acc[P][V];
#pragma GCC unroll 4
  for (int p = 0; p < P; ++p) {
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[p][v] = _mm256_setzero_ps();
  }
  for (int64_t k = 0; k < kc; ++k) {
    __m256 wv[V];
    const float* wk = w + k * kChannels;
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) wv[v] = _mm256_load_ps(wk + 8 * v);
    const float* xk = x + k * ldx;
#pragma GCC unroll 4
    for (int p = 0; p < P; ++p) {
      const __m256 xp = _mm256_broadcast_ss(xk + p);
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) acc[p][v] = _mm256_fmadd_ps(xp, wv[v], acc[p][v]);
    }
  }
#pragma GCC unroll 4
  for (int v = 0; v < V; ++v) {
    const int64_t live = channels - 8 * v;
    const __m256 bias = e.rowBias != nullptr ? _mm256_maskload_ps(e.rowBias + 8 * v, laneMask(live))
                                             : _mm256_setzero_ps();
    __m256 col[4];
#pragma GCC unroll 4
    for (int p = 0; p < 4; ++p) {
      col[p] = p < P ? _mm256_add_ps(acc[p < P ? p : 0][v], bias) : _mm256_setzero_ps();
    }
    // u[j]: channel j's 4 pixels in the low half, channel j + 4's in the high half.
    const __m256 t0 = _mm256_unpacklo_ps(col[0], col[1]);
    const __m256 t1 = _mm256_unpackhi_ps(col[0], col[1]);
    const __m256 t2 = _mm256_unpacklo_ps(col[2], col[3]);
    const __m256 t3 = _mm256_unpackhi_ps(col[2], col[3]);
    const __m256 u[4] = {_mm256_shuffle_ps(t0, t2, 0x44), _mm256_shuffle_ps(t0, t2, 0xEE),
                         _mm256_shuffle_ps(t1, t3, 0x44), _mm256_shuffle_ps(t1, t3, 0xEE)};
    const int64_t c0 = 8 * v;
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      const bool lo = j < live;
      const bool hi = j + 4 < live;
      if (!lo) break;
      __m256 t = u[j];
      if (e.residual != nullptr) {
        const __m128 rl = loadPixels<P>(e.residual + (c0 + j) * e.ldr);
        const __m128 rh = hi ? loadPixels<P>(e.residual + (c0 + j + 4) * e.ldr) : _mm_setzero_ps();
        t = _mm256_add_ps(t, _mm256_insertf128_ps(_mm256_castps128_ps256(rl), rh, 1));
      }
      t = activate(t, e.act, e.alpha, e.beta);
      storePixels<P>(y + (c0 + j) * ldy, _mm256_castps256_ps128(t));
      if (hi) storePixels<P>(y + (c0 + j + 4) * ldy, _mm256_extractf128_ps(t, 1));
    }
  }
}

template <int P>
void channelPixels(int64_t channels, int64_t kc, const float* w, const float* x, int64_t ldx,
                   float* y, int64_t ldy, const TileEpilogue& e) {
  static_assert(kChannelVectors == 3, "the channel cases below");
  if (channels > 16) return channelFixed<P, 3>(channels, kc, w, x, ldx, y, ldy, e);
  if (channels > 8) return channelFixed<P, 2>(channels, kc, w, x, ldx, y, ldy, e);
  channelFixed<P, 1>(channels, kc, w, x, ldx, y, ldy, e);
}

void channelTile(int64_t channels, int64_t pixels, int64_t kc, const float* w, const float* x,
                 int64_t ldx, float* y, int64_t ldy, const TileEpilogue& e) {
  static_assert(kPixels == 4, "the pixel cases below");
  switch (pixels) {
    case 1:
      return channelPixels<1>(channels, kc, w, x, ldx, y, ldy, e);
    case 2:
      return channelPixels<2>(channels, kc, w, x, ldx, y, ldy, e);
    case 3:
      return channelPixels<3>(channels, kc, w, x, ldx, y, ldy, e);
    default:
      return channelPixels<4>(channels, kc, w, x, ldx, y, ldy, e);
  }
}

// The blocked tile: P pixels x V blocks of 8 output channels, NCHW8c in and out. The input
// channels of a pixel are 8 consecutive floats per block, broadcast one by one; the accumulators
// are the output's pixel vectors, stored as they are. 6 x 2 keeps 12 accumulators, 2 weight
// vectors and the broadcast in 15 registers (4 x 3 needed all 16: the compiler then spilled an
// accumulator and read each weight vector from memory once per pixel, 16 loads for 12
// multiply-adds, at two thirds of the multiply-add peak).
template <int P, int V>
void blockedFixed(int64_t kc, const float* w, const float* x, int64_t ldx, float* y, int64_t ldy,
                  const TileEpilogue& epilogue, const float* next) {
  const TileEpilogue e = epilogue;  // as in rowFixed
  __m256 acc[P][V];
#pragma GCC unroll 8
  for (int64_t p = 0; p < P; ++p) {
#pragma GCC unroll 4
    for (int64_t v = 0; v < V; ++v) acc[p][v] = _mm256_setzero_ps();
  }
  for (int64_t cb = 0; cb < kc; cb += 8) {
    const float* xb = x + (cb / 8) * ldx;
    const float* wb = w + cb * kBlockedChannels;
    if (next != nullptr) prefetchLines<8 * kBlockedChannels>(next + cb * kBlockedChannels);
#pragma GCC unroll 8
    for (int64_t ci = 0; ci < 8; ++ci) {
      __m256 wv[V];
#pragma GCC unroll 4
      for (int64_t v = 0; v < V; ++v) wv[v] = _mm256_load_ps(wb + ci * kBlockedChannels + 8 * v);
#pragma GCC unroll 8
      for (int64_t p = 0; p < P; ++p) {
        const __m256 xp = _mm256_broadcast_ss(xb + p * 8 + ci);
#pragma GCC unroll 4
        for (int64_t v = 0; v < V; ++v) acc[p][v] = _mm256_fmadd_ps(xp, wv[v], acc[p][v]);
      }
    }
  }
  storeBlocked(acc, y, ldy, e);
}

// Pixels per tile of V blocks: 12 accumulators for 2 blocks; 8 for 1, enough for the multiply-adds'
// latency (4 cycles, 2 a cycle on Zen 3 and Intel's cores) not to set the pace.
template <int V>
constexpr int kBlockedPixels = V == 1 ? 8 : 6;

template <int V>
void blockedRun(int64_t pixels, int64_t kc, const float* w, const float* x, int64_t ldx, float* y,
                int64_t ldy, const TileEpilogue& e, const float* next) {
  forEachTile<kBlockedPixels<V>>(pixels, [&](auto size, int64_t p) {
    TileEpilogue te = e;
    if (te.residual != nullptr) te.residual += p * 8;
    blockedFixed<decltype(size)::value, V>(kc, w, x + p * 8, ldx, y + p * 8, ldy, te,
                                           p == 0 ? next : nullptr);
  });
}

// A run of pixels, a tile at a time (tile_runs.h).
void blockedTile(int64_t blocks, int64_t pixels, int64_t kc, const float* w, const float* x,
                 int64_t ldx, float* y, int64_t ldy, const TileEpilogue& e, const float* next) {
  static_assert(kBlockedVectors == 2, "the block cases below");
  if (blocks >= 2) return blockedRun<2>(pixels, kc, w, x, ldx, y, ldy, e, next);
  blockedRun<1>(pixels, kc, w, x, ldx, y, ldy, e, next);
}

}  // namespace

PointwiseBlockedTile avx2PointwiseBlockedTile() {
  return {kBlockedChannels, kBlockedPixels<kBlockedVectors>, blockedTile, kChannelDepth};
}

PointwiseTile avx2PointwiseTile() {
  return {kMr, kNr, rowTile, kRowDepth};
}

PointwiseChannelTile avx2PointwiseChannelTile() {
  return {kChannels, kPixels, channelTile, kChannelDepth};
}

}  // namespace kiln::backends::cpu
