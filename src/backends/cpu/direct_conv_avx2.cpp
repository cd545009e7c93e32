// AVX2 direct convolution rows (direct_conv.h): a tile of up to 4 output channels x VMAX vectors
// of 8 columns of one row lives in registers over all channels and taps; a block of 8 output
// channels is two such tiles over the same input rows, which stay in L1. Two widths, two tactics:
// 4 x 2 (8 accumulators) keeps the inputs in registers; 4 x 3 (12) leaves the compiler none for
// them, so it reloads them in the multiply-adds and the loads, many across cache lines, set the
// pace (4 x 2 ran 6-35% faster on SqueezeNet's and the UNet's 3x3 layers, one thread), yet 4 x 3
// shares each load among more outputs, which some layers (7x7 stems) still favour. With stride
// 2 the rows come split by column parity (DirectConvRow::oddOffset), so every tap is one plain
// load per vector (deinterleaving two loads per tap took the shuffle ports the FMAs need: the
// ResNet stem ran at ~60% of the FMA rate); without the split, a vector is the even lanes of two
// loads. The last vector of a row is loaded and stored with lane masks, so nothing is read or
// written past the padded row or the output row. Compiled with -mavx2 -mfma; uses no inline
// function of another header, so no AVX2 copy of one can leak into portable code.
#include <immintrin.h>

#include "backends/cpu/avx2_lanes.h"
#include "backends/cpu/direct_conv.h"

namespace kiln::backends::cpu {

namespace {

using avx2::laneMask;

constexpr int kMaxChannels = 4;

// The input lanes one output vector reads: all of them (FULL) or those of @p live outputs.
struct VectorMasks {
  __m256i out;  // output lanes (stride 1: also the input lanes)
  __m256i lo;   // stride 2: lanes of the first load (inputs 0-7)
  __m256i hi;   // stride 2: lanes of the second load (inputs 8-15); input 15 is never needed
};

VectorMasks masksFor(int64_t live) {
  const int64_t inputs = 2 * live - 1;  // stride 2: inputs 0 .. 2 (live - 1)
  return {laneMask(live), laneMask(inputs), laneMask(inputs - 8)};
}

// Output vector v (8 columns) of the tile at @p at (the first column's first tap), full or masked;
// STRIDE as the loads see it (1: stride 1, or stride 2 on rows split by parity).
template <int STRIDE, bool MASKED>
__m256 loadInput(const float* at, const VectorMasks& m) {
  if constexpr (STRIDE == 1) {
    return MASKED ? _mm256_maskload_ps(at, m.out) : _mm256_loadu_ps(at);
  } else {
    // Stride 2: inputs 0, 2, ..., 14 of two loads (the second never reads its last lane).
    const __m256 a = MASKED ? _mm256_maskload_ps(at, m.lo) : _mm256_loadu_ps(at);
    const __m256 b = _mm256_maskload_ps(at + 8, m.hi);
    // [a0 a2 b0 b2 | a4 a6 b4 b6], then the 64-bit pairs in order: a0 a2 a4 a6 b0 b2 b4 b6.
    const __m256 even = _mm256_shuffle_ps(a, b, 0x88);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even), 0xD8));
  }
}

// Output channels [o0, o0 + OCB) of the block x WV vectors from column ox0 of output row @p row;
// with PARTIAL the last vector has @p tail live columns (else all 8).
// SPLIT: stride 2 on rows split by parity; tap kx of output column ox is then at column
// ox + kx / 2 of the even (kx even) or odd half, so vectors load as for stride 1. KW: the window
// width when known at compile time (0: r.kw), so the taps of a row unroll (with few input
// channels, as in a network's first layer, the loop overhead of 3 taps a row was a third of the
// time). The load stride, the split and the masking are all compile-time: with any of them
// decided per load, the tile's accumulators, inputs and weight no longer fit the 16 registers and
// the loop spilled (a 16 -> 64 3x3 layer at 55x55 ran at a third of the FMA rate).
template <int OCB, int WV, bool SPLIT, int STRIDE, bool PARTIAL, int KW>
void tile(const DirectConvRow& r, int32_t o0, int64_t row, int64_t ox0, int64_t tail) {
  const VectorMasks full = masksFor(8);
  const VectorMasks last = masksFor(PARTIAL ? tail : 8);
  __m256 acc[OCB][WV];
#pragma GCC unroll 4
  for (int o = 0; o < OCB; ++o) {
    const __m256 b = _mm256_set1_ps(r.bias != nullptr ? r.bias[o0 + o] : 0.f);
#pragma GCC unroll 3
    for (int v = 0; v < WV; ++v) acc[o][v] = b;
  }
  const float* wc = r.w + o0;
  constexpr int64_t kStep = int64_t{8} * STRIDE;  // input columns between output vectors
  const float* xc = r.x + row * r.sh * r.wp + ox0 * STRIDE;
  for (int64_t c = 0; c < r.channels; ++c, xc += r.channelStride) {
    for (int64_t ky = 0; ky < r.kh; ++ky) {
      const float* xr = xc + ky * r.wp;
      const int64_t kw = KW > 0 ? KW : r.kw;
#pragma GCC unroll 7
      for (int64_t kx = 0; kx < kw; ++kx, wc += kDirectConvBlock) {
        const float* xt = SPLIT ? xr + (kx & 1) * r.oddOffset + (kx >> 1) : xr + kx;
        __m256 xv[WV];
#pragma GCC unroll 3
        for (int v = 0; v < WV; ++v) {
          xv[v] = PARTIAL && v == WV - 1 ? loadInput<STRIDE, true>(xt + v * kStep, last)
                                         : loadInput<STRIDE, false>(xt + v * kStep, full);
        }
#pragma GCC unroll 4
        for (int o = 0; o < OCB; ++o) {
          const __m256 wv = _mm256_broadcast_ss(wc + o);
#pragma GCC unroll 3
          for (int v = 0; v < WV; ++v) acc[o][v] = _mm256_fmadd_ps(wv, xv[v], acc[o][v]);
        }
      }
    }
  }
#pragma GCC unroll 4
  for (int o = 0; o < OCB; ++o) {
    const int64_t at = (o0 + o) * r.outStride + row * r.ow + ox0;
    float* yo = r.y + at;
    const float* ro = r.residual != nullptr ? r.residual + at : nullptr;
#pragma GCC unroll 3
    for (int v = 0; v < WV; ++v) {
      const bool masked = PARTIAL && v == WV - 1;
      __m256 a = acc[o][v];
      if (ro != nullptr) {
        a = _mm256_add_ps(a, masked ? _mm256_maskload_ps(ro + int64_t{8} * v, last.out)
                                    : _mm256_loadu_ps(ro + int64_t{8} * v));
      }
      a = avx2::activate(a, r.act, r.alpha, r.beta);
      if (masked) {
        _mm256_maskstore_ps(yo + int64_t{8} * v, last.out, a);
      } else {
        _mm256_storeu_ps(yo + int64_t{8} * v, a);
      }
    }
  }
}

// The rest of a row from column ox0: @p rest columns in WV vectors, the last one partial or not.
template <int OCB, int WV, bool SPLIT, int STRIDE, int KW>
void rowRest(const DirectConvRow& r, int32_t o0, int64_t row, int64_t ox0, int64_t tail) {
  if (tail == 8) {
    tile<OCB, WV, SPLIT, STRIDE, false, KW>(r, o0, row, ox0, 8);
  } else {
    tile<OCB, WV, SPLIT, STRIDE, true, KW>(r, o0, row, ox0, tail);
  }
}

// Every row and column of the call for output channels [o0, o0 + OCB) of the block, in tiles of
// VMAX vectors and one of the rest.
template <int VMAX, int OCB, bool SPLIT, int STRIDE, int KW>
void channels(const DirectConvRow& r, int32_t o0) {
  static_assert(VMAX == 2 || VMAX == 3, "the remainder cases below");
  constexpr int64_t kStep = int64_t{8} * VMAX;
  for (int64_t row = 0; row < r.rows; ++row) {
    int64_t ox0 = 0;
    for (; ox0 + kStep <= r.ow; ox0 += kStep) {
      tile<OCB, VMAX, SPLIT, STRIDE, false, KW>(r, o0, row, ox0, 8);
    }
    const int64_t rest = r.ow - ox0;
    if (rest <= 0) continue;
    const int64_t vectors = (rest + 7) / 8;
    const int64_t tail = rest - (vectors - 1) * 8;
    if (vectors == 1) {
      rowRest<OCB, 1, SPLIT, STRIDE, KW>(r, o0, row, ox0, tail);
    } else if (vectors == 2) {
      rowRest<OCB, 2, SPLIT, STRIDE, KW>(r, o0, row, ox0, tail);
    } else if constexpr (VMAX == 3) {
      rowRest<OCB, 3, SPLIT, STRIDE, KW>(r, o0, row, ox0, tail);
    }
  }
}

template <int VMAX, bool SPLIT, int STRIDE>
void channelsFrom(const DirectConvRow& r, int32_t o0, int32_t count) {
  switch (count) {
    case 1:
      return channels<VMAX, 1, SPLIT, STRIDE, 0>(r, o0);
    case 2:
      return channels<VMAX, 2, SPLIT, STRIDE, 0>(r, o0);
    case 3:
      return channels<VMAX, 3, SPLIT, STRIDE, 0>(r, o0);
    default:
      // Whole blocks of 4 (most of the work): the common window widths unrolled.
      if (r.kw == 3) return channels<VMAX, 4, SPLIT, STRIDE, 3>(r, o0);
      if (r.kw == 7) return channels<VMAX, 4, SPLIT, STRIDE, 7>(r, o0);
      return channels<VMAX, 4, SPLIT, STRIDE, 0>(r, o0);
  }
}

template <int VMAX>
void directRow(const DirectConvRow& r) {
  const bool split = r.sw == 2 && r.oddOffset != 0;
  for (int32_t o0 = 0; o0 < r.outputs; o0 += kMaxChannels) {
    const int32_t count = r.outputs - o0 < kMaxChannels ? r.outputs - o0 : kMaxChannels;
    if (split) {
      channelsFrom<VMAX, true, 1>(r, o0, count);
    } else if (r.sw == 1) {
      channelsFrom<VMAX, false, 1>(r, o0, count);
    } else {
      channelsFrom<VMAX, false, 2>(r, o0, count);
    }
  }
}

}  // namespace

DirectConvFn avx2DirectConv() {
  return directRow<2>;
}

DirectConvFn avx2DirectConvWide() {
  return directRow<3>;
}

}  // namespace kiln::backends::cpu
