// The depthwise plane kernel with AVX-512 intrinsics (dilation 1, column stride 1 or 2): four
// output rows at a time, 16 columns a register (8 for rows of at most 8 columns), all taps, the
// bias, the residual and the activation applied before the one store. The plane is first copied
// with its padding into scratch (it stays in cache), so no tap needs a mask or a bounds check;
// stride 2 loads two vectors per tap and keeps the even lanes with one permute.
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
  // Columns 0, 2, 4, ... of p[0, 32).
  static V even(const float* p) {
    const __m512i idx =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(_mm512_loadu_ps(p), idx, _mm512_loadu_ps(p + 16));
  }
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
  static V even(const float* p) {
    const __m256i idx = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    return _mm256_permutex2var_ps(_mm256_loadu_ps(p), idx, _mm256_loadu_ps(p + 8));
  }
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

void avx512Plane(const DepthwisePlane& p) {
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
