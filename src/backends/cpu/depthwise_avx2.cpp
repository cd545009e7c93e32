// The depthwise plane kernels (depthwise_direct.inc) on AVX2 vectors of 8 columns: lane masks are
// vectors (vmaskmovps), stride 2 keeps the even lanes with a shuffle and a 64-bit permute. With
// 16 vector registers, 3x3 windows take the padded-copy kernel (depthwise3x3Padded).
// Compiled with -mavx2 -mfma (see CMakeLists.txt); no inline function of another header is
// instantiated here, so no AVX2 copy can leak into portable code.
#include <immintrin.h>

#include "backends/cpu/avx2_lanes.h"
#include "backends/cpu/depthwise.h"

namespace kiln::backends::cpu {

namespace {

#include "backends/cpu/depthwise_kernel.inc"

struct Ymm {
  using V = __m256;
  using Mask = __m256i;
  static constexpr int64_t kLanes = 8;
  static constexpr int kRegisters = 16;
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V loadMasked(Mask m, const float* p) { return _mm256_maskload_ps(p, m); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static void storeMasked(float* p, Mask m, V v) { _mm256_maskstore_ps(p, m, v); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static V min(V a, V b) { return _mm256_min_ps(a, b); }
  static V geZero(V a) { return _mm256_cmp_ps(a, _mm256_setzero_ps(), _CMP_GE_OQ); }
  static V blend(V m, V a, V b) { return _mm256_blendv_ps(a, b, m); }
  static V evenOf(V a, V b) {
    // [a0 a2 b0 b2 | a4 a6 b4 b6], then the 64-bit pairs in order.
    const __m256 even = _mm256_shuffle_ps(a, b, 0x88);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even), 0xD8));
  }
  static V oddOf(V a, V b) {
    const __m256 odd = _mm256_shuffle_ps(a, b, 0xDD);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(odd), 0xD8));
  }
  static V even(const float* p) { return evenOf(load(p), load(p + 8)); }
  static Mask prefix(int64_t n) { return avx2::laneMask(n); }
  static Mask range(int64_t lo, int64_t hi) { return avx2::laneRange(lo, hi); }
};

#include "backends/cpu/depthwise_direct.inc"

void avx2Plane(const DepthwisePlane& p) {
  planeWith<Ymm, Ymm>(p);
}

}  // namespace

DepthwiseFn avx2Depthwise() {
  return avx2Plane;
}

}  // namespace kiln::backends::cpu
