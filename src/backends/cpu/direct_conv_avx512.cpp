// AVX-512 direct convolution rows (direct_conv.h): a tile of OCB output channels x WV vectors
// lives in registers over all channels and taps. The vectors are 16 columns of one row (the last
// one masked; with stride 2 the even lanes of two loads), or, for rows of at most 16 columns, one
// masked vector from each of WV rows (two rows a vector at most 8 columns), so narrow layers still
// use each broadcast weight for several full vectors. Compiled with -mavx512f; uses no inline
// function of another header, so no AVX-512 copy of one can leak into portable code. GCC 12 warns
// about undefined lanes inside its own intrinsics.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include "backends/cpu/direct_conv.h"

namespace kiln::backends::cpu {

namespace {

constexpr int32_t kMaxVectors = 3;

// Where a tile's vectors come from: 16 columns each along one row, one row each (at most 16
// columns), or two rows each (at most 8 columns: lanes 0-7 one row, lanes 8-15 the next).
enum class Layout { kWidth, kRows, kPairs };

// Vector v of a tile: its first element (input or output), given the row stride.
template <Layout L>
int64_t vectorAt(int v, int64_t rowStride) {
  if (L == Layout::kWidth) return 16 * v;
  return (L == Layout::kRows ? v : 2 * v) * rowStride;
}

// Loads vector v (kPairs: the second row's columns land in lanes 8-15, @p high says which exist).
template <Layout L>
__m512 loadVector(const float* at, int64_t rowStride, __mmask16 low, __mmask16 high) {
  if (L != Layout::kPairs) return _mm512_maskz_loadu_ps(low, at);
  return _mm512_mask_loadu_ps(_mm512_maskz_loadu_ps(low, at), high, at + rowStride - 8);
}

template <Layout L>
void storeVector(float* at, int64_t rowStride, __mmask16 low, __mmask16 high, __m512 v) {
  _mm512_mask_storeu_ps(at, low, v);
  if (L == Layout::kPairs) _mm512_mask_storeu_ps(at + rowStride - 8, high, v);
}

__mmask16 lanes(int64_t count) {
  return count >= 16 ? static_cast<__mmask16>(0xFFFF)
                     : static_cast<__mmask16>((1u << static_cast<unsigned>(count)) - 1u);
}

// The masks of the two loads loadEven makes for the output lanes @p m (a prefix): the inputs of
// those lanes only (0 .. 2 * count - 2), so none is read past the padded row.
struct EvenMasks {
  __mmask16 lo = 0;
  __mmask16 hi = 0;
};

EvenMasks evenMasks(__mmask16 m) {
  const int64_t inputs = 2 * __builtin_popcount(m) - 1;
  return {lanes(inputs), lanes(inputs > 16 ? inputs - 16 : 0)};
}

// Lanes of at[0], at[2], at[4], ... (those @p m was made for): two loads and the even lanes of
// both. The masks are found once per tile, not per tap.
__m512 loadEven(const float* at, EvenMasks m) {
  const __m512 a = _mm512_maskz_loadu_ps(m.lo, at);
  const __m512 b = _mm512_maskz_loadu_ps(m.hi, at + 16);
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  return _mm512_permutex2var_ps(a, even, b);
}

// @p tail: the lanes of the last vector (kWidth) or of every vector (kRows, kPairs' first row);
// @p lastHigh: kPairs' second-row lanes of the last vector (none when its row does not exist).
template <int OCB, int WV, Layout L>
void tile(const DirectConvRow& r, int64_t row, int64_t ox0, __mmask16 tail, __mmask16 lastHigh) {
  const auto full = static_cast<__mmask16>(0xFFFF);
  const auto pairHigh = static_cast<__mmask16>(tail << 8);
  __m512 acc[OCB][WV];
#pragma GCC unroll 8
  for (int o = 0; o < OCB; ++o) {
    const __m512 b = _mm512_set1_ps(r.bias != nullptr ? r.bias[o] : 0.f);
#pragma GCC unroll 4
    for (int v = 0; v < WV; ++v) acc[o][v] = b;
  }
  const EvenMasks evenFull = evenMasks(full);
  const EvenMasks evenTail = evenMasks(tail);
  const float* wc = r.w;
  const int64_t rowStride = r.sh * r.wp;  // input between output rows
  const float* xc = r.x + row * rowStride + ox0 * r.sw;
  for (int64_t c = 0; c < r.channels; ++c, xc += r.channelStride) {
    for (int64_t ky = 0; ky < r.kh; ++ky) {
      const float* xr = xc + ky * r.wp;
      for (int64_t kx = 0; kx < r.kw; ++kx, wc += kDirectConvBlock) {
        __m512 xv[WV];
#pragma GCC unroll 4
        for (int v = 0; v < WV; ++v) {
          if (L == Layout::kWidth && r.sw == 2) {
            xv[v] = loadEven(xr + kx + 32 * v, v == WV - 1 ? evenTail : evenFull);
            continue;
          }
          const float* at = xr + kx + vectorAt<L>(v, rowStride);
          if (L == Layout::kWidth && v != WV - 1) {
            xv[v] = _mm512_loadu_ps(at);
          } else {
            xv[v] = loadVector<L>(at, rowStride, tail, v == WV - 1 ? lastHigh : pairHigh);
          }
        }
#pragma GCC unroll 8
        for (int o = 0; o < OCB; ++o) {
          const __m512 wv = _mm512_set1_ps(wc[o]);
#pragma GCC unroll 4
          for (int v = 0; v < WV; ++v) acc[o][v] = _mm512_fmadd_ps(wv, xv[v], acc[o][v]);
        }
      }
    }
  }
  const __m512 zero = _mm512_setzero_ps();
  const __m512 alpha = _mm512_set1_ps(r.alpha);
  const __m512 beta = _mm512_set1_ps(r.beta);
#pragma GCC unroll 8
  for (int o = 0; o < OCB; ++o) {
    const int64_t at = o * r.outStride + row * r.ow + ox0;
    float* yo = r.y + at;
    const float* ro = r.residual != nullptr ? r.residual + at : nullptr;
#pragma GCC unroll 4
    for (int v = 0; v < WV; ++v) {
      const __mmask16 m = L != Layout::kWidth || v == WV - 1 ? tail : full;
      const __mmask16 high = v == WV - 1 ? lastHigh : pairHigh;
      __m512 a = acc[o][v];
      if (ro != nullptr) {
        a = _mm512_add_ps(a, loadVector<L>(ro + vectorAt<L>(v, r.ow), r.ow, m, high));
      }
      switch (r.act) {
        case VecAct::kRelu:
          a = _mm512_max_ps(a, zero);
          break;
        case VecAct::kLeaky:
          a = _mm512_mask_mul_ps(a, _mm512_cmp_ps_mask(a, zero, _CMP_LT_OQ), a, alpha);
          break;
        case VecAct::kClip:
          // max/min return their second operand on NaN: a NaN input stays NaN.
          a = _mm512_min_ps(beta, _mm512_max_ps(alpha, a));
          break;
        default:
          break;
      }
      storeVector<L>(yo + vectorAt<L>(v, r.ow), r.ow, m, high, a);
    }
  }
}

template <int OCB>
void rowsOf(const DirectConvRow& r) {
  if (r.ow <= 8) {
    const __mmask16 tail = lanes(r.ow);
    const auto both = static_cast<__mmask16>(tail << 8);
    int64_t row = 0;
    for (; row + 2 * kMaxVectors <= r.rows; row += 2 * kMaxVectors) {
      tile<OCB, kMaxVectors, Layout::kPairs>(r, row, 0, tail, both);
    }
    const int64_t rest = r.rows - row;
    const __mmask16 lastHigh = rest % 2 == 0 ? both : static_cast<__mmask16>(0);
    if (rest > 4) tile<OCB, 3, Layout::kPairs>(r, row, 0, tail, lastHigh);
    if (rest > 2 && rest <= 4) tile<OCB, 2, Layout::kPairs>(r, row, 0, tail, lastHigh);
    if (rest > 0 && rest <= 2) tile<OCB, 1, Layout::kPairs>(r, row, 0, tail, lastHigh);
    return;
  }
  if (r.ow <= 16) {
    const __mmask16 tail = lanes(r.ow);
    int64_t row = 0;
    for (; row + kMaxVectors <= r.rows; row += kMaxVectors) {
      tile<OCB, kMaxVectors, Layout::kRows>(r, row, 0, tail, 0);
    }
    if (r.rows - row == 2) tile<OCB, 2, Layout::kRows>(r, row, 0, tail, 0);
    if (r.rows - row == 1) tile<OCB, 1, Layout::kRows>(r, row, 0, tail, 0);
    return;
  }
  constexpr int64_t kStep = 16 * kMaxVectors;
  for (int64_t row = 0; row < r.rows; ++row) {
    int64_t ox0 = 0;
    for (; ox0 + kStep <= r.ow; ox0 += kStep) {
      tile<OCB, kMaxVectors, Layout::kWidth>(r, row, ox0, 0xFFFF, 0);
    }
    const int64_t rest = r.ow - ox0;
    if (rest <= 0) continue;
    const int64_t vectors = (rest + 15) / 16;
    const __mmask16 tail = lanes(rest - (vectors - 1) * 16);
    if (vectors == 1) {
      tile<OCB, 1, Layout::kWidth>(r, row, ox0, tail, 0);
    } else if (vectors == 2) {
      tile<OCB, 2, Layout::kWidth>(r, row, ox0, tail, 0);
    } else {
      tile<OCB, 3, Layout::kWidth>(r, row, ox0, tail, 0);
    }
  }
}

void directRow(const DirectConvRow& r) {
  switch (r.outputs) {
    case 1:
      return rowsOf<1>(r);
    case 2:
      return rowsOf<2>(r);
    case 3:
      return rowsOf<3>(r);
    case 4:
      return rowsOf<4>(r);
    case 5:
      return rowsOf<5>(r);
    case 6:
      return rowsOf<6>(r);
    case 7:
      return rowsOf<7>(r);
    default:
      return rowsOf<8>(r);
  }
}

}  // namespace

DirectConvFn avx512DirectConv() {
  return directRow;
}

}  // namespace kiln::backends::cpu
