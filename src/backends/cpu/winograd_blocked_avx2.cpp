// The AVX2+FMA transforms of the blocked Winograd convolution (winograd_blocked.h): one vector is
// a pixel's 8 channels of a block, so each 1-d pass of a transform is a handful of vector adds
// and multiply-adds over six loads. Each tile goes through a 36-vector scratch on the stack
// between its row and column passes. Compiled with -mavx2 -mfma (the *_avx2.cpp glob).
//
// B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
// A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
#include <immintrin.h>

#include <cstdint>

#include "backends/cpu/avx2_lanes.h"
#include "backends/cpu/winograd_blocked.h"

namespace kiln::backends::cpu {

namespace {

constexpr int64_t kLanes = 8;
constexpr int64_t kAlpha = 6;  // input tile side
constexpr int64_t kTile = 4;   // output tile side

// t = B^T d over six vectors d (d[i] at d + i * step).
inline void inputPass(const float* d, int64_t step, __m256 (&t)[kAlpha]) {
  const __m256 d0 = _mm256_loadu_ps(d);
  const __m256 d1 = _mm256_loadu_ps(d + step);
  const __m256 d2 = _mm256_loadu_ps(d + 2 * step);
  const __m256 d3 = _mm256_loadu_ps(d + 3 * step);
  const __m256 d4 = _mm256_loadu_ps(d + 4 * step);
  const __m256 d5 = _mm256_loadu_ps(d + 5 * step);
  const __m256 four = _mm256_set1_ps(4.f);
  const __m256 five = _mm256_set1_ps(5.f);
  const __m256 two = _mm256_set1_ps(2.f);
  t[0] = _mm256_fnmadd_ps(five, d2, _mm256_fmadd_ps(four, d0, d4));
  t[1] = _mm256_fnmadd_ps(four, _mm256_add_ps(d1, d2), _mm256_add_ps(d3, d4));
  t[2] = _mm256_fmadd_ps(four, _mm256_sub_ps(d1, d2), _mm256_sub_ps(d4, d3));
  const __m256 d42 = _mm256_sub_ps(d4, d2);
  const __m256 d31 = _mm256_sub_ps(d3, d1);
  t[3] = _mm256_fmadd_ps(two, d31, d42);
  t[4] = _mm256_fnmadd_ps(two, d31, d42);
  t[5] = _mm256_fnmadd_ps(five, d3, _mm256_fmadd_ps(four, d1, d5));
}

// o = A^T m over six vectors m (m[i] at m + i * step).
inline void outputPass(const float* m, int64_t step, __m256 (&o)[kTile]) {
  const __m256 m0 = _mm256_loadu_ps(m);
  const __m256 m1 = _mm256_loadu_ps(m + step);
  const __m256 m2 = _mm256_loadu_ps(m + 2 * step);
  const __m256 m3 = _mm256_loadu_ps(m + 3 * step);
  const __m256 m4 = _mm256_loadu_ps(m + 4 * step);
  const __m256 m5 = _mm256_loadu_ps(m + 5 * step);
  const __m256 sum12 = _mm256_add_ps(m1, m2);
  const __m256 diff12 = _mm256_sub_ps(m1, m2);
  const __m256 sum34 = _mm256_add_ps(m3, m4);
  const __m256 diff34 = _mm256_sub_ps(m3, m4);
  o[0] = _mm256_add_ps(_mm256_add_ps(m0, sum12), sum34);
  o[1] = _mm256_fmadd_ps(_mm256_set1_ps(2.f), diff34, diff12);
  o[2] = _mm256_fmadd_ps(_mm256_set1_ps(4.f), sum34, sum12);
  o[3] = _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(8.f), diff34, diff12), m5);
}

void blockedInput(const BlockedWinogradInput& r) {
  alignas(32) float e[kAlpha][kAlpha][kLanes];  // d B, row by row
  const int64_t rowFloats = r.wp * kLanes;
  for (int64_t t = r.t0; t < r.t1; ++t) {
    const int64_t ty = t / r.tilesW;
    const int64_t tx = t % r.tilesW;
    const float* origin = r.x + (ty * kTile * r.wp + tx * kTile) * kLanes;
    float* vt = r.v + (t - r.t0) * r.ldv;
    for (int64_t b = r.b0; b < r.b1; ++b) {
      const float* d = origin + b * r.blockStride;
      for (int64_t i = 0; i < kAlpha; ++i) {
        __m256 row[kAlpha];
        inputPass(d + i * rowFloats, kLanes, row);
        for (int64_t j = 0; j < kAlpha; ++j) _mm256_store_ps(e[i][j], row[j]);
      }
      float* vb = vt + b * kLanes;
      for (int64_t j = 0; j < kAlpha; ++j) {
        __m256 column[kAlpha];
        inputPass(e[0][j], kAlpha * kLanes, column);
        for (int64_t k = 0; k < kAlpha; ++k) {
          _mm256_storeu_ps(vb + (k * kAlpha + j) * r.positionStride, column[k]);
        }
      }
    }
  }
}

void blockedOutput(const BlockedWinogradOutput& r) {
  alignas(32) float f[kAlpha][kTile][kLanes];  // M A, row by row
  const int64_t plane = r.oh * r.ow * kLanes;
  for (int64_t t = r.t0; t < r.t1; ++t) {
    const int64_t oy0 = t / r.tilesW * kTile;
    const int64_t ox0 = t % r.tilesW * kTile;
    const int64_t rows = r.oh - oy0 < kTile ? r.oh - oy0 : kTile;
    const int64_t cols = r.ow - ox0 < kTile ? r.ow - ox0 : kTile;
    const float* mt = r.m + (t - r.t0) * r.ldm;
    for (int64_t kb = r.k0; kb < r.k1; ++kb) {
      const float* mb = mt + kb * kLanes;
      for (int64_t k = 0; k < kAlpha; ++k) {
        __m256 row[kTile];
        outputPass(mb + k * kAlpha * r.positionStride, r.positionStride, row);
        for (int64_t c = 0; c < kTile; ++c) _mm256_store_ps(f[k][c], row[c]);
      }
      const __m256 bias =
          r.bias != nullptr ? _mm256_loadu_ps(r.bias + kb * kLanes) : _mm256_setzero_ps();
      const int64_t at = kb * plane + (oy0 * r.ow + ox0) * kLanes;
      float* y = r.y + at;
      const float* res = r.residual != nullptr ? r.residual + at : nullptr;
      for (int64_t c = 0; c < cols; ++c) {
        __m256 column[kTile];
        outputPass(f[0][c], kTile * kLanes, column);
        for (int64_t q = 0; q < rows; ++q) {
          const int64_t offset = (q * r.ow + c) * kLanes;
          __m256 s = _mm256_add_ps(column[q], bias);
          if (res != nullptr) s = _mm256_add_ps(s, _mm256_loadu_ps(res + offset));
          _mm256_storeu_ps(y + offset, avx2::activate(s, r.act, r.alpha, r.beta));
        }
      }
    }
  }
}

}  // namespace

const BlockedWinogradTransforms& avx2BlockedWinogradTransforms() {
  static const BlockedWinogradTransforms transforms{blockedInput, blockedOutput};
  return transforms;
}

}  // namespace kiln::backends::cpu
