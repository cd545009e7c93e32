// The blocked depthwise kernel (depthwise_blocked.h) on AVX2: 8 channels a vector. NCHW input
// rows enter a ring of padded channels-last rows through 8x8 transposes whose first stage is done
// by the loads (two 128-bit halves per vector); each output row is computed into a row of pixel
// vectors and transposed back into the 8 output planes, where the residual and the activation are
// applied. NCHW8c rows are copied into the ring and NCHW8c output vectors stored as they are
// (an NCHW x may go with an NCHW8c y: a region's entry read in place). Compiled
// with -mavx2 -mfma (see CMakeLists.txt).
#include <immintrin.h>

#include <algorithm>

#include "backends/cpu/avx2_lanes.h"
#include "backends/cpu/depthwise_blocked.h"

namespace kiln::backends::cpu {

namespace {

constexpr int64_t kLanes = kDepthwiseBlock;
constexpr int64_t kStep = kDepthwiseBlockStep;

// Pixels [x, x + 8) of input row src[c] (c < 8, one row per channel) as 8 pixel vectors at dst:
// 128-bit loads pair channels c and c + 4 in one register, then an in-lane 4x4 transpose per
// half. @p n < 8 reads only the first n pixels (the others come out zero).
inline void transposeIn(const float* const src[kLanes], int64_t x, int64_t n, float* dst) {
  __m256 r[8];
  if (n >= kLanes) {
    for (int64_t c = 0; c < 4; ++c) {
      r[c] = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(src[c] + x)),
                                  _mm_loadu_ps(src[c + 4] + x), 1);
      r[c + 4] = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(src[c] + x + 4)),
                                      _mm_loadu_ps(src[c + 4] + x + 4), 1);
    }
  } else {
    const __m256i mask = avx2::laneMask(n);
    const __m128i lo = _mm256_castsi256_si128(mask);
    const __m128i hi = _mm256_extractf128_si256(mask, 1);
    for (int64_t c = 0; c < 4; ++c) {
      r[c] = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_maskload_ps(src[c] + x, lo)),
                                  _mm_maskload_ps(src[c + 4] + x, lo), 1);
      r[c + 4] = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_maskload_ps(src[c] + x + 4, hi)),
                                      _mm_maskload_ps(src[c + 4] + x + 4, hi), 1);
    }
  }
  for (int64_t half = 0; half < 2; ++half) {
    const __m256* q = r + 4 * half;
    const __m256 t0 = _mm256_unpacklo_ps(q[0], q[1]);
    const __m256 t1 = _mm256_unpackhi_ps(q[0], q[1]);
    const __m256 t2 = _mm256_unpacklo_ps(q[2], q[3]);
    const __m256 t3 = _mm256_unpackhi_ps(q[2], q[3]);
    float* d = dst + 4 * half * kLanes;
    _mm256_store_ps(d, _mm256_shuffle_ps(t0, t2, 0x44));
    _mm256_store_ps(d + kLanes, _mm256_shuffle_ps(t0, t2, 0xEE));
    _mm256_store_ps(d + 2 * kLanes, _mm256_shuffle_ps(t1, t3, 0x44));
    _mm256_store_ps(d + 3 * kLanes, _mm256_shuffle_ps(t1, t3, 0xEE));
  }
}

// The 8 pixel vectors at src as 8 channel vectors (channel c of pixels [0, 8) in out[c]).
inline void transposeOut(const float* src, __m256 out[kLanes]) {
  __m256 a[8];
  for (int64_t half = 0; half < 2; ++half) {
    const float* s = src + 4 * half * kLanes;
    const __m256 q0 = _mm256_load_ps(s);
    const __m256 q1 = _mm256_load_ps(s + kLanes);
    const __m256 q2 = _mm256_load_ps(s + 2 * kLanes);
    const __m256 q3 = _mm256_load_ps(s + 3 * kLanes);
    const __m256 u0 = _mm256_unpacklo_ps(q0, q1);
    const __m256 u1 = _mm256_unpackhi_ps(q0, q1);
    const __m256 u2 = _mm256_unpacklo_ps(q2, q3);
    const __m256 u3 = _mm256_unpackhi_ps(q2, q3);
    // Channel c of these 4 pixels in lanes 0-3, channel c + 4 in lanes 4-7.
    a[4 * half] = _mm256_shuffle_ps(u0, u2, 0x44);
    a[4 * half + 1] = _mm256_shuffle_ps(u0, u2, 0xEE);
    a[4 * half + 2] = _mm256_shuffle_ps(u1, u3, 0x44);
    a[4 * half + 3] = _mm256_shuffle_ps(u1, u3, 0xEE);
  }
  for (int64_t c = 0; c < 4; ++c) {
    out[c] = _mm256_permute2f128_ps(a[c], a[c + 4], 0x20);
    out[c + 4] = _mm256_permute2f128_ps(a[c], a[c + 4], 0x31);
  }
}

// Lanes [0, n) of v (n < 8) at p, with plain stores.
inline void storePrefix(float* p, __m256 v, int64_t n) {
  __m128 part = _mm256_castps256_ps128(v);
  if (n >= 4) {
    _mm_storeu_ps(p, part);
    part = _mm256_extractf128_ps(v, 1);
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    _mm_storel_pi(reinterpret_cast<__m64*>(p), part);
    part = _mm_movehl_ps(part, part);
    p += 2;
    n -= 2;
  }
  if (n == 1) _mm_store_ss(p, part);
}

// Output pixels [ox, ox + n) of an NCHW8c row at y (n <= kStep): residual, activation, store.
inline void storeBlockedPixels(const __m256* acc, int64_t n, const DepthwiseBlock& b, float* y,
                               const float* residual) {
  for (int64_t j = 0; j < n; ++j) {
    __m256 a = acc[j];
    if (residual != nullptr) a = _mm256_add_ps(a, _mm256_loadu_ps(residual + j * kLanes));
    _mm256_storeu_ps(y + j * kLanes, avx2::activate(a, b.act, b.alpha, b.beta));
  }
}

template <int64_t K, int64_t S, bool IN, bool OUT>
void blockedKernel(const DepthwiseBlock& b) {
  const DepthwiseBlockLayout g = depthwiseBlockLayout(b.iw, b.ow, K, S, b.pw);
  const int64_t kRing = g.ringRows;
  const int64_t rowFloats = g.pitch * kLanes;
  float* const ring = b.scratch;
  float* const zeroRow = ring + kRing * rowFloats;
  float* const outRow = zeroRow + rowFloats;
  const __m256 zero = _mm256_setzero_ps();

  // Padding columns of the ring rows (the transposes write only [pw, pw + iw rounded up to 8),
  // zeros past iw; the copies of NCHW8c rows [pw, pw + iw)) and the zero row that stands for
  // input rows outside the image.
  const int64_t written = IN ? b.pw + b.iw : g.filled;
  for (int64_t r = 0; r < kRing; ++r) {
    float* row = ring + r * rowFloats;
    for (int64_t px = 0; px < b.pw; ++px) _mm256_store_ps(row + px * kLanes, zero);
    for (int64_t px = written; px < g.pitch; ++px) _mm256_store_ps(row + px * kLanes, zero);
  }
  for (int64_t px = 0; px < g.pitch; ++px) _mm256_store_ps(zeroRow + px * kLanes, zero);
  // Output pixels past the last step: no step writes them, yet the transposes back read them
  // (into lanes stored past a row's end, overwritten later).
  for (int64_t px = g.computed; px < g.outWidth; ++px) _mm256_store_ps(outRow + px * kLanes, zero);

  // Dead channels read the zero row (it holds at least iw floats).
  const float* planes[kLanes];
  for (int64_t c = 0; c < kLanes; ++c) planes[c] = c < b.channels ? b.x + c * b.ih * b.iw : nullptr;
  auto fill = [&](int64_t iy) {
    if constexpr (IN) {
      const float* src = b.x + iy * b.iw * kLanes;
      float* row = ring + (iy & (kRing - 1)) * rowFloats + b.pw * kLanes;
      for (int64_t x = 0; x < b.iw; ++x) {
        _mm256_store_ps(row + x * kLanes, _mm256_loadu_ps(src + x * kLanes));
      }
      return;
    }
    const float* src[kLanes];
    for (int64_t c = 0; c < kLanes; ++c) {
      src[c] = planes[c] != nullptr ? planes[c] + iy * b.iw : zeroRow;
    }
    float* row = ring + (iy & (kRing - 1)) * rowFloats + b.pw * kLanes;
    for (int64_t x = 0; x < b.iw; x += kLanes) transposeIn(src, x, b.iw - x, row + x * kLanes);
  };

  __m256 w[K * K];
  for (int64_t t = 0; t < K * K; ++t) w[t] = _mm256_loadu_ps(b.w + t * kLanes);
  const __m256 bias = _mm256_loadu_ps(b.bias);

  const int64_t outPlane = b.oh * b.ow;
  int64_t filled = 0;  // input rows [0, filled) have entered the ring
  for (int64_t oy = 0; oy < b.oh; ++oy) {
    const int64_t top = oy * S - b.ph;
    const int64_t needed = top + K < b.ih ? top + K : b.ih;
    for (int64_t iy = filled > top ? filled : (top > 0 ? top : 0); iy < needed; ++iy) fill(iy);
    if (needed > filled) filled = needed;
    const float* rows[K];
    for (int64_t ky = 0; ky < K; ++ky) {
      const int64_t iy = top + ky;
      rows[ky] = iy >= 0 && iy < b.ih ? ring + (iy & (kRing - 1)) * rowFloats : zeroRow;
    }
    float* const yRow = b.y + oy * b.ow * kLanes;  // NCHW8c only
    const float* const residualRow =
        OUT && b.residual != nullptr ? b.residual + oy * b.ow * kLanes : nullptr;
    for (int64_t ox = 0; ox < b.ow; ox += kStep) {
      __m256 acc[kStep];
      for (int64_t j = 0; j < kStep; ++j) acc[j] = bias;
      for (int64_t ky = 0; ky < K; ++ky) {
        const float* in = rows[ky] + ox * S * kLanes;
        for (int64_t kx = 0; kx < K; ++kx) {
          for (int64_t j = 0; j < kStep; ++j) {
            acc[j] =
                _mm256_fmadd_ps(_mm256_load_ps(in + (j * S + kx) * kLanes), w[ky * K + kx], acc[j]);
          }
        }
      }
      if constexpr (OUT) {
        // A step past the row's end stores only its live pixels: the next row may be another
        // thread's (the next block's first).
        storeBlockedPixels(acc, std::min(kStep, b.ow - ox), b, yRow + ox * kLanes,
                           residualRow != nullptr ? residualRow + ox * kLanes : nullptr);
      } else {
        for (int64_t j = 0; j < kStep; ++j) _mm256_store_ps(outRow + (ox + j) * kLanes, acc[j]);
      }
    }
    if constexpr (OUT) continue;
    // Back to the planes, 8 pixels at a time: residual, activation, store. A row's last group
    // is stored whole where that stays inside the plane, its lanes past the row landing in the
    // next rows, which are stored later (vmaskmovps stores are slow on AMD cores); the plane's
    // end takes a partial store. Dead channels are not stored.
    const int64_t rowOffset = oy * b.ow;
    for (int64_t x = 0; x < b.ow; x += kLanes) {
      __m256 v[kLanes];
      transposeOut(outRow + x * kLanes, v);
      const int64_t n = b.ow - x;
      const bool whole = rowOffset + x + kLanes <= outPlane;
      for (int64_t c = 0; c < b.channels; ++c) {
        const int64_t at = c * outPlane + rowOffset + x;
        __m256 a = v[c];
        if (b.residual != nullptr) {
          a = _mm256_add_ps(a, whole ? _mm256_loadu_ps(b.residual + at)
                                     : _mm256_maskload_ps(b.residual + at, avx2::laneMask(n)));
        }
        a = avx2::activate(a, b.act, b.alpha, b.beta);
        if (whole) {
          _mm256_storeu_ps(b.y + at, a);
        } else {
          storePrefix(b.y + at, a, n);
        }
      }
    }
  }
}

template <bool IN, bool OUT>
void blockedLayouts(const DepthwiseBlock& b) {
  if (b.stride == 1) {
    if (b.k == 3) return blockedKernel<3, 1, IN, OUT>(b);
    if (b.k == 5) return blockedKernel<5, 1, IN, OUT>(b);
    return blockedKernel<7, 1, IN, OUT>(b);
  }
  if (b.k == 3) return blockedKernel<3, 2, IN, OUT>(b);
  if (b.k == 5) return blockedKernel<5, 2, IN, OUT>(b);
  return blockedKernel<7, 2, IN, OUT>(b);
}

void blockedDispatch(const DepthwiseBlock& b) {
  if (b.blockedIn) return blockedLayouts<true, true>(b);
  if (b.blockedOut) return blockedLayouts<false, true>(b);
  blockedLayouts<false, false>(b);
}

}  // namespace

DepthwiseBlockFn avx2DepthwiseBlocked() {
  return blockedDispatch;
}

}  // namespace kiln::backends::cpu
