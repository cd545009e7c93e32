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

// Widest rows the separable max pooling takes (its row of column maxima lives on the stack).
constexpr int64_t kSeparableWidth = 2048;

// Max pooling with 3 columns at stride 2 (SqueezeNet's, ResNet's, GoogLeNet's), separably: the
// window rows' maximum of each column first (vertical vmaxps; only a row's first and last vector
// are masked, for the padding), then 3 of those columns per output (even/odd lanes by permutes).
// The taps at once, as poolVectors does, cost 9 masked gathers per output vector instead.
// NaN: either pass marks its lanes with an unordered compare, so a window with a NaN gives NaN.
bool separableMax3s2(const Pool2d& p, const float* x, float* y) {
  if (p.average || p.kw != 3 || p.sw != 2 || p.ph < 0 || p.pw < 0 || p.kh < 1 || p.sh < 1) {
    return false;
  }
  const int64_t width = 2 * p.ow + 1;  // columns the windows read, padding included
  if (p.oh < 1 || p.ow < 1 || width > kSeparableWidth) return false;
  alignas(64) float cols[kSeparableWidth + 48];
  const __m512 qnan = _mm512_set1_ps(__builtin_nanf(""));
  const __m512 lowest = _mm512_set1_ps(-__builtin_inff());
  for (int64_t i = 0; i < 48; ++i) cols[width + i] = 0.f;  // read by unused lanes only
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
  for (int64_t oy = 0; oy < p.oh; ++oy) {
    // Rows of the window inside the input; padding (rows and columns) reads as -inf.
    int64_t ky0 = p.ph - oy * p.sh;
    if (ky0 < 0) ky0 = 0;
    int64_t ky1 = p.ih + p.ph - oy * p.sh;
    if (ky1 > p.kh) ky1 = p.kh;
    const float* top = x + (oy * p.sh - p.ph) * p.iw - p.pw;  // padded column 0 of window row 0
    for (int64_t j = 0; j < width; j += 16) {
      // Lanes whose input column j + lane - pw lies in the row (masked-off lanes never load).
      const __mmask16 m =
          static_cast<__mmask16>(range(p.pw - j, p.pw - j + p.iw) & lanes(width - j));
      __m512 acc = lowest;
      __mmask16 nan = 0;
      for (int64_t ky = ky0; ky < ky1; ++ky) {
        const __m512 v = _mm512_mask_loadu_ps(lowest, m, top + ky * p.iw + j);
        nan = static_cast<__mmask16>(nan | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q));
        acc = _mm512_max_ps(acc, v);
      }
      _mm512_store_ps(cols + j, _mm512_mask_mov_ps(acc, nan, qnan));
    }
    float* yr = y + oy * p.ow;
    for (int64_t ox = 0; ox < p.ow; ox += 16) {
      const float* c = cols + 2 * ox;
      const __m512 a = _mm512_load_ps(c);
      const __m512 b = _mm512_load_ps(c + 16);
      const __m512 a2 = _mm512_loadu_ps(c + 2);
      const __m512 b2 = _mm512_loadu_ps(c + 18);
      const __m512 e0 = _mm512_permutex2var_ps(a, even, b);
      const __m512 o = _mm512_permutex2var_ps(a, odd, b);
      const __m512 e1 = _mm512_permutex2var_ps(a2, even, b2);
      const auto nan = static_cast<__mmask16>(_mm512_cmp_ps_mask(e0, o, _CMP_UNORD_Q) |
                                              _mm512_cmp_ps_mask(e1, e1, _CMP_UNORD_Q));
      const __m512 r = _mm512_mask_mov_ps(_mm512_max_ps(_mm512_max_ps(e0, o), e1), nan, qnan);
      _mm512_mask_storeu_ps(yr + ox, lanes(p.ow - ox), r);
    }
  }
  return true;
}

void poolPlane(const Pool2d& p, const float* x, float* y, const float* colDivisor,
               const float* rowDivisor) {
  if (separableMax3s2(p, x, y)) return;
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

// Partial sums in double, as the reference keeps them (1e8 + 1 must not lose the 1): four
// independent chains of eight widened floats.
void sumRows(const float* x, int64_t rows, int64_t inner, float scale, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * inner;
    __m512d a0 = _mm512_setzero_pd();
    __m512d a1 = _mm512_setzero_pd();
    __m512d a2 = _mm512_setzero_pd();
    __m512d a3 = _mm512_setzero_pd();
    int64_t j = 0;
    for (; j + 32 <= inner; j += 32) {
      a0 = _mm512_add_pd(a0, _mm512_cvtps_pd(_mm256_loadu_ps(xr + j)));
      a1 = _mm512_add_pd(a1, _mm512_cvtps_pd(_mm256_loadu_ps(xr + j + 8)));
      a2 = _mm512_add_pd(a2, _mm512_cvtps_pd(_mm256_loadu_ps(xr + j + 16)));
      a3 = _mm512_add_pd(a3, _mm512_cvtps_pd(_mm256_loadu_ps(xr + j + 24)));
    }
    double sum = _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(a0, a1), _mm512_add_pd(a2, a3)));
    for (; j < inner; ++j) sum += xr[j];
    y[r] = static_cast<float>(sum * static_cast<double>(scale));
  }
}

}  // namespace

PoolPlaneFn avx512PoolPlane() {
  return poolPlane;
}

SumRowsFn avx512SumRows() {
  return sumRows;
}

}  // namespace kiln::backends::cpu
