// The depthwise plane kernels with AVX-512 intrinsics. 3x3 windows with equal strides of 1 or 2
// (MobileNet's) read the input in place with masked loads (depthwise3x3Direct). Other windows
// (dilation 1, column stride 1 or 2) go through a padded copy of the plane in scratch (it stays in
// cache), so no tap needs a mask or a bounds check: four output rows at a time, 16 columns a
// register (8 for rows of at most 8 columns); stride 2 loads two vectors per tap and keeps the
// even lanes with one permute. Both apply all taps, the bias, the residual and the activation
// before the one store.
// GCC 12 warns about the undefined upper lanes inside its own _mm512 intrinsics.
#pragma GCC diagnostic push
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include "backends/cpu/depthwise.h"

namespace kiln::backends::cpu {

namespace {

#include "backends/cpu/depthwise_kernel.inc"

inline __mmask16 lanesUpTo(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}

// Copies the plane into p.scratch with its padding as zeros: rows and columns as far as the
// windows reach (input past the last window is left out).
void padPlane(const DepthwisePlane& p, int64_t hp, int64_t wp) {
  float* dst = p.scratch;
  const int64_t top = p.ph < hp ? p.ph : hp;
  const int64_t left = p.pw < wp ? p.pw : wp;
  int64_t rowsIn = p.ih < hp - top ? p.ih : hp - top;
  if (rowsIn < 0) rowsIn = 0;
  int64_t colsIn = p.iw < wp - left ? p.iw : wp - left;
  if (colsIn < 0) colsIn = 0;
  const int64_t right = wp - left - colsIn;
  const __m512 zero = _mm512_setzero_ps();
  auto zeros = [&](float* d, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(d + i, zero);
    if (i < n) _mm512_mask_storeu_ps(d + i, lanesUpTo(n - i), zero);
  };
  zeros(dst, top * wp);
  // Whole-vector stores only (masked ones are slow to forward to the loads that follow): a row's
  // stores may spill up to 16 floats into the next row, which is written after it (the last
  // one's spill lands in the bottom padding or the slack, zeroed below).
  for (int64_t iy = 0; iy < rowsIn; ++iy) {
    float* row = dst + (top + iy) * wp;
    const float* src = p.x + iy * p.iw;
    if (left <= 16) {
      _mm512_storeu_ps(row, zero);
    } else {
      for (int64_t i = 0; i < left; ++i) row[i] = 0.f;
    }
    float* d = row + left;
    int64_t i = 0;
    for (; i + 16 <= colsIn; i += 16) _mm512_storeu_ps(d + i, _mm512_loadu_ps(src + i));
    if (i < colsIn) {
      _mm512_storeu_ps(d + i, _mm512_maskz_loadu_ps(lanesUpTo(colsIn - i), src + i));
      i += 16;
    }
    // Right padding the tail's zero lanes did not cover.
    for (int64_t c = i; c < colsIn + right; c += 16) _mm512_storeu_ps(d + c, zero);
  }
  const int64_t filled = top + rowsIn;
  zeros(dst + filled * wp, (hp - filled) * wp + kDepthwiseSlack);
}

// 16 lanes (zmm), and 8 (ymm) for rows of at most 8 columns: 256-bit multiply-adds issue twice
// as often here, so narrow rows (MobileNet's 7x7 planes) waste no half-empty zmm.
struct Zmm {
  using V = __m512;
  using Mask = __mmask16;
  static constexpr int64_t kLanes = 16;
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V loadMasked(Mask m, const float* p) { return _mm512_maskz_loadu_ps(m, p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static void storeMasked(float* p, Mask m, V v) { _mm512_mask_storeu_ps(p, m, v); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  static V min(V a, V b) { return _mm512_min_ps(a, b); }
  static Mask geZero(V a) { return _mm512_cmp_ps_mask(a, _mm512_setzero_ps(), _CMP_GE_OQ); }
  static V blend(Mask m, V a, V b) { return _mm512_mask_blend_ps(m, a, b); }
  // Lanes 0, 2, 4, ... of a then of b.
  static V evenOf(V a, V b) {
    const __m512i idx =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(a, idx, b);
  }
  // Columns 0, 2, 4, ... of p[0, 32).
  static V even(const float* p) { return evenOf(load(p), load(p + 16)); }
};

struct Ymm {
  using V = __m256;
  using Mask = __mmask8;
  static constexpr int64_t kLanes = 8;
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V loadMasked(Mask m, const float* p) { return _mm256_maskz_loadu_ps(m, p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static void storeMasked(float* p, Mask m, V v) { _mm256_mask_storeu_ps(p, m, v); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static V min(V a, V b) { return _mm256_min_ps(a, b); }
  static Mask geZero(V a) { return _mm256_cmp_ps_mask(a, _mm256_setzero_ps(), _CMP_GE_OQ); }
  static V blend(Mask m, V a, V b) { return _mm256_mask_blend_ps(m, a, b); }
  static V evenOf(V a, V b) {
    const __m256i idx = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    return _mm256_permutex2var_ps(a, idx, b);
  }
  static V even(const float* p) { return evenOf(load(p), load(p + 8)); }
};

// KW > 0: that kernel width, unrolled; 0: p.kw at run time. Reads the padded copy: every tap is
// an unmasked load (stride 2: two, and a permute keeping the even lanes); lanes past the row
// read the next row or the slack and are not stored.
template <typename I, int64_t SW, int64_t KW>
void depthwiseRows(const DepthwisePlane& p) {
  using V = typename I::V;
  using Mask = typename I::Mask;
  constexpr int64_t L = I::kLanes;
  const int64_t kw = KW > 0 ? KW : p.kw;
  const int64_t kh = p.kh;
  const int64_t hp = (p.oh - 1) * p.sh + kh;
  const int64_t wp = (p.ow - 1) * SW + kw;
  padPlane(p, hp, wp);
  const V bias = I::set1(p.bias);
  const float* const padded = p.scratch;
  const float* const weights = p.w;
  const float* const residual = p.residual;
  float* const out = p.y;
  const int64_t oh = p.oh;
  const int64_t ow = p.ow;
  const int64_t sh = p.sh;
  const VecAct act = p.act;
  const V alpha = I::set1(p.alpha);
  const V beta = I::set1(p.beta);
  const V zero = I::set1(0.f);
  // R output rows at a time: R independent accumulators hide the multiply-add latency (one
  // chain of kh * kw dependent FMAs per vector would wait on each).
  auto rows = [&]<int64_t R>(int64_t oy) {
    for (int64_t ox = 0; ox < ow; ox += L) {
      V acc[R];
      for (int64_t r = 0; r < R; ++r) acc[r] = bias;
      for (int64_t ky = 0; ky < kh; ++ky) {
        const float* w = weights + ky * kw;
        for (int64_t kx = 0; kx < kw; ++kx) {
          const V wv = I::set1(w[kx]);
          for (int64_t r = 0; r < R; ++r) {
            const float* row = padded + ((oy + r) * sh + ky) * wp + ox * SW + kx;
            const V v = SW == 1 ? I::load(row) : I::even(row);
            acc[r] = I::fma(wv, v, acc[r]);
          }
        }
      }
      const int64_t n = ow - ox < L ? ow - ox : L;
      const auto store = static_cast<Mask>((1u << n) - 1u);
      for (int64_t r = 0; r < R; ++r) {
        V a = acc[r];
        float* yr = out + (oy + r) * ow + ox;
        if (residual != nullptr) {
          a = I::add(a, I::loadMasked(store, residual + (oy + r) * ow + ox));
        }
        switch (act) {
          case VecAct::kRelu:
            a = I::max(a, zero);  // NaN becomes 0, as the reference does
            break;
          case VecAct::kLeaky:
            a = I::blend(I::geZero(a), I::mul(a, alpha), a);
            break;
          case VecAct::kClip:  // max/min return their second operand on NaN: NaN stays
            a = I::min(beta, I::max(alpha, a));
            break;
          default:
            break;
        }
        if (n == L) {
          I::store(yr, a);
        } else {
          I::storeMasked(yr, store, a);
        }
      }
    }
  };
  int64_t oy = 0;
  for (; oy + 4 <= oh; oy += 4) rows.template operator()<4>(oy);
  for (; oy + 2 <= oh; oy += 2) rows.template operator()<2>(oy);
  for (; oy < oh; ++oy) rows.template operator()<1>(oy);
}

template <typename I>
void depthwiseWidth(const DepthwisePlane& p) {
  if (p.sw == 1) {
    if (p.kw == 3) return depthwiseRows<I, 1, 3>(p);
    if (p.kw == 5) return depthwiseRows<I, 1, 5>(p);
    return depthwiseRows<I, 1, 0>(p);
  }
  if (p.kw == 3) return depthwiseRows<I, 2, 3>(p);
  if (p.kw == 5) return depthwiseRows<I, 2, 5>(p);
  return depthwiseRows<I, 2, 0>(p);
}

// Lanes [lo, hi) of a mask of I (both clamped to [0, lanes)).
template <typename I>
typename I::Mask laneRange(int64_t lo, int64_t hi) {
  lo = lo < 0 ? 0 : lo;
  hi = hi > I::kLanes ? I::kLanes : hi;
  if (hi <= lo) return 0;
  return static_cast<typename I::Mask>(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

// 3x3 taps, stride S along both axes, dilation 1, any padding: straight from the input, no padded
// copy. Every tap of a row is one masked load (stride 2: two, and a permute keeping the even
// lanes); the masks, found once per column block, zero the lanes in the padding, and masked-off
// lanes are never read (no fault past either end of the plane). Copying each plane into a padded
// buffer first cost as much as the arithmetic (MobileNet's 14x14 planes), and the loads from that
// freshly stored copy often waited on store forwarding. R output rows at a time share the loads
// of their input rows ((R - 1) * S + 3 of them) and give R independent multiply-add chains.
template <typename I, int64_t S>
void depthwise3x3Direct(const DepthwisePlane& p) {
  using V = typename I::V;
  using Mask = typename I::Mask;
  constexpr int64_t L = I::kLanes;
  V w[9];
  for (int64_t i = 0; i < 9; ++i) w[i] = I::set1(p.w[i]);
  const V bias = I::set1(p.bias);
  const V alpha = I::set1(p.alpha);
  const V beta = I::set1(p.beta);
  const V zero = I::set1(0.f);
  const int64_t ih = p.ih;
  const int64_t iw = p.iw;
  const int64_t ow = p.ow;
  // Tap kx of lane i of the column block at ox reads input column start[kx] + S * i; lo / hi:
  // the lanes of its (S == 2: two) loads inside the row, store: the block's live outputs.
  struct Columns {
    int64_t start[3];
    Mask lo[3];
    Mask hi[3];
    Mask store;
  };
  auto columns = [&](int64_t ox) {
    Columns c;
    const int64_t n = ow - ox < L ? ow - ox : L;
    c.store = static_cast<Mask>((1u << n) - 1u);
    for (int64_t kx = 0; kx < 3; ++kx) {
      const int64_t start = ox * S + kx - p.pw;
      c.start[kx] = start;
      if constexpr (S == 1) {
        c.lo[kx] = laneRange<I>(-start, (iw - start < n ? iw - start : n));
        c.hi[kx] = 0;
      } else {
        // Raw lanes t of the two loads read columns start + t and start + L + t; only those of
        // the first 2n - 1 columns (the even ones of them) are kept.
        const int64_t used = 2 * n - 1;
        const int64_t end = iw - start < used ? iw - start : used;
        c.lo[kx] = laneRange<I>(-start, end);
        c.hi[kx] = laneRange<I>(-start - L, end - L);
      }
    }
    return c;
  };
  // Planes of one column block (MobileNet's 7x7 and 14x14) find it once, not per row block.
  const bool oneBlock = ow <= L;
  const Columns first = columns(0);
  // Row blocks outside, column blocks inside: a wide plane (112 x 112, 49 KiB) is read once
  // from L2 instead of once per column block.
  auto rows = [&]<int64_t R>(int64_t oy) {
    for (int64_t ox = 0; ox < ow; ox += L) {
      const Columns cb = oneBlock ? first : columns(ox);
      const int64_t* start = cb.start;
      const Mask* lo = cb.lo;
      const Mask* hi = cb.hi;
      const Mask store = cb.store;
      // One accumulator per output row and kernel row: chains of three dependent multiply-adds
      // (nine, one per tap, kept narrow planes waiting on the FMA latency).
      V acc[R][3];
      for (int64_t r = 0; r < R; ++r) {
        acc[r][0] = bias;
        acc[r][1] = zero;
        acc[r][2] = zero;
      }
      const int64_t iy0 = oy * S - p.ph;
#pragma GCC unroll 16
      for (int64_t j = 0; j < (R - 1) * S + 3; ++j) {
        const int64_t iy = iy0 + j;
        if (iy < 0 || iy >= ih) continue;
        const float* row = p.x + iy * iw;
        V v[3];
        for (int64_t kx = 0; kx < 3; ++kx) {
          const float* at = row + start[kx];
          if constexpr (S == 1) {
            v[kx] = I::loadMasked(lo[kx], at);
          } else {
            v[kx] = I::evenOf(I::loadMasked(lo[kx], at), I::loadMasked(hi[kx], at + L));
          }
        }
#pragma GCC unroll 4
        for (int64_t r = 0; r < R; ++r) {
          const int64_t ky = j - r * S;
          if (ky < 0 || ky > 2) continue;
          acc[r][ky] = I::fma(w[ky * 3], v[0], acc[r][ky]);
          acc[r][ky] = I::fma(w[ky * 3 + 1], v[1], acc[r][ky]);
          acc[r][ky] = I::fma(w[ky * 3 + 2], v[2], acc[r][ky]);
        }
      }
      for (int64_t r = 0; r < R; ++r) {
        V a = I::add(acc[r][0], I::add(acc[r][1], acc[r][2]));
        const int64_t offset = (oy + r) * ow + ox;
        if (p.residual != nullptr) a = I::add(a, I::loadMasked(store, p.residual + offset));
        switch (p.act) {
          case VecAct::kRelu:
            a = I::max(a, zero);  // NaN becomes 0, as the reference does
            break;
          case VecAct::kLeaky:
            a = I::blend(I::geZero(a), I::mul(a, alpha), a);
            break;
          case VecAct::kClip:  // max/min return their second operand on NaN: NaN stays
            a = I::min(beta, I::max(alpha, a));
            break;
          default:
            break;
        }
        if (ow - ox >= L) {
          I::store(p.y + offset, a);
        } else {
          I::storeMasked(p.y + offset, store, a);
        }
      }
    }
  };
  int64_t oy = 0;
  for (; oy + 4 <= p.oh; oy += 4) rows.template operator()<4>(oy);
  if (p.oh - oy == 3) {
    rows.template operator()<3>(oy);
  } else if (p.oh - oy == 2) {
    rows.template operator()<2>(oy);
  } else if (p.oh - oy == 1) {
    rows.template operator()<1>(oy);
  }
}

void avx512Plane(const DepthwisePlane& p) {
  if (p.kh == 3 && p.kw == 3 && p.dh == 1 && p.dw == 1 && p.sh == p.sw &&
      (p.sw == 1 || p.sw == 2) && p.oh >= 1 && p.ow >= 1) {
    const bool narrow = p.ow <= Ymm::kLanes;
    if (p.sw == 1) return narrow ? depthwise3x3Direct<Ymm, 1>(p) : depthwise3x3Direct<Zmm, 1>(p);
    return narrow ? depthwise3x3Direct<Ymm, 2>(p) : depthwise3x3Direct<Zmm, 2>(p);
  }
  if (p.dh != 1 || p.dw != 1 || (p.sw != 1 && p.sw != 2) || p.sh < 1 || p.ph < 0 || p.pw < 0 ||
      p.scratch == nullptr || p.oh < 1 || p.ow < 1) {
    depthwisePlane(p);  // the generic row kernel
    return;
  }
  if (p.ow <= Ymm::kLanes) {
    depthwiseWidth<Ymm>(p);
  } else {
    depthwiseWidth<Zmm>(p);
  }
}

}  // namespace

DepthwiseFn avx512Depthwise() {
  return avx512Plane;
}

#pragma GCC diagnostic pop

}  // namespace kiln::backends::cpu
