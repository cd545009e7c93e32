// AVX-512 pooling plane (pooling.h): 16 output columns a vector, the window's taps column by
// column; stride 1 loads, stride 2 takes the even lanes of two vectors with one permute, larger
// strides gather.
// Compiled with -mavx512f; uses no inline function of another header, so no AVX-512 copy of one
// can leak into portable code. GCC 12 warns about undefined lanes inside its own intrinsics.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include "backends/cpu/pooling.h"

namespace kiln::backends::cpu {

namespace {

__mmask16 lanes(int64_t count) {
  return count >= 16 ? static_cast<__mmask16>(0xFFFF)
                     : static_cast<__mmask16>((1u << static_cast<unsigned>(count)) - 1u);
}

// Lanes [first, last) of 16, clamped.
__mmask16 range(int64_t first, int64_t last) {
  if (first < 0) first = 0;
  if (last > 16) last = 16;
  if (last <= first) return 0;
  return static_cast<__mmask16>(lanes(last) & ~lanes(first));
}

// Lanes @p m of the inputs at xs[i * sw]; the other lanes are zero and are never read.
__m512 gather(const float* xs, int64_t sw, int64_t first, int64_t last, __mmask16 m) {
  if (sw == 1) return _mm512_maskz_loadu_ps(m, xs);
  if (sw == 2) {
    // Inputs 2 * first .. 2 * (last - 1) of two vectors; the even ones are the lanes.
    const int64_t in0 = 2 * first;
    const int64_t in1 = 2 * (last - 1) + 1;
    const __m512 a = _mm512_maskz_loadu_ps(range(in0, in1), xs);
    const __m512 b = _mm512_maskz_loadu_ps(range(in0 - 16, in1 - 16), xs + 16);
    const __m512i even =
        _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return _mm512_permutex2var_ps(a, even, b);
  }
  const __m512i index =
      _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                         _mm512_set1_epi32(static_cast<int32_t>(sw)));
  return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, index, xs, 4);
}

// B vectors of 16 output columns from ox0 on (the last one @p count columns) gather every tap
// of their windows in registers and are stored once: folding taps into the output row in memory,
// as the portable loop does, would reload masked stores, which the store buffer does not forward.
// Max keeps NaN aside in a mask so each tap is one masked vmaxps on the accumulator's chain.
template <int B>
void poolVectors(const Pool2d& p, const float* x, float* yr, int64_t oy, int64_t ox0, int64_t count,
                 const Span* spans, const float* colDivisor, float rowDivisor) {
  __m512 acc[B];
  __mmask16 nan[B];
  for (int b = 0; b < B; ++b) {
    acc[b] = _mm512_set1_ps(p.average ? 0.f : -__builtin_inff());
    nan[b] = 0;
  }
  // Rows of the window inside the input.
  int64_t ky0 = p.ph - oy * p.sh;
  if (ky0 < 0) ky0 = 0;
  int64_t ky1 = p.ih + p.ph - oy * p.sh;
  if (ky1 > p.kh) ky1 = p.kh;
  // Taps column by column: the lane masks of a column serve all its rows.
  for (int64_t kx = 0; kx < p.kw; ++kx) {
    int64_t lo = 0;
    int64_t hi = 0;
    if (kx < kSpans) {
      lo = spans[kx].lo;
      hi = spans[kx].hi;
    } else {
      columnSpan(p, kx, lo, hi);
    }
#pragma GCC unroll 4
    for (int b = 0; b < B; ++b) {
      const int64_t start = ox0 + 16 * b;
      const int64_t width = b == B - 1 ? count : 16;
      const int64_t first = (lo > start ? lo : start) - start;
      const int64_t last = (hi < start + width ? hi : start + width) - start;
      if (last <= first) continue;
      const __mmask16 m = range(first, last);
      // Lane i reads column (start + i) * sw + kx - pw; masked-off lanes may point outside.
      const float* xs = x + (oy * p.sh - p.ph) * p.iw + (start * p.sw + kx - p.pw);
      for (int64_t ky = ky0; ky < ky1; ++ky) {
        const __m512 v = gather(xs + ky * p.iw, p.sw, first, last, m);
        if (p.average) {
          acc[b] = _mm512_mask_add_ps(acc[b], m, acc[b], v);
        } else {
          nan[b] = static_cast<__mmask16>(nan[b] | _mm512_mask_cmp_ps_mask(m, v, v, _CMP_UNORD_Q));
          acc[b] = _mm512_mask_max_ps(acc[b], m, v, acc[b]);
        }
      }
    }
  }
  const __m512 rd = _mm512_set1_ps(rowDivisor);
  const __m512 qnan = _mm512_set1_ps(__builtin_nanf(""));
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) {
    const int64_t start = ox0 + 16 * b;
    const __mmask16 out = lanes(b == B - 1 ? count : 16);
    __m512 r = acc[b];
    if (p.average) {
      const __m512 d = _mm512_mul_ps(rd, _mm512_maskz_loadu_ps(out, colDivisor + start));
      r = _mm512_mask_div_ps(r, out, r, d);
    } else {
      r = _mm512_mask_mov_ps(r, nan[b], qnan);
    }
    _mm512_mask_storeu_ps(yr + start, out, r);
  }
}

void poolPlane(const Pool2d& p, const float* x, float* y, const float* colDivisor,
               const float* rowDivisor) {
  Span spans[kSpans];
  for (int64_t kx = 0; kx < p.kw && kx < kSpans; ++kx) {
    columnSpan(p, kx, spans[kx].lo, spans[kx].hi);
  }
  constexpr int64_t kGroup = 4 * 16;
  for (int64_t oy = 0; oy < p.oh; ++oy) {
    float* yr = y + oy * p.ow;
    const float rd = p.average ? rowDivisor[oy] : 1.f;
    int64_t ox0 = 0;
    for (; ox0 + kGroup < p.ow; ox0 += kGroup) {
      poolVectors<4>(p, x, yr, oy, ox0, 16, spans, colDivisor, rd);
    }
    const int64_t rest = p.ow - ox0;
    if (rest <= 0) continue;
    const int64_t vectors = (rest + 15) / 16;
    const int64_t count = rest - 16 * (vectors - 1);
    if (vectors == 1) {
      poolVectors<1>(p, x, yr, oy, ox0, count, spans, colDivisor, rd);
    } else if (vectors == 2) {
      poolVectors<2>(p, x, yr, oy, ox0, count, spans, colDivisor, rd);
    } else if (vectors == 3) {
      poolVectors<3>(p, x, yr, oy, ox0, count, spans, colDivisor, rd);
    } else {
      poolVectors<4>(p, x, yr, oy, ox0, count, spans, colDivisor, rd);
    }
  }
}

}  // namespace

PoolPlaneFn avx512PoolPlane() {
  return poolPlane;
}

}  // namespace kiln::backends::cpu
