// The depthwise plane kernels (depthwise_direct.inc) on AVX-512 vectors: 16 columns a register,
// 8 (ymm, with AVX-512VL masks) for rows of at most 8 columns.
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

// 16 lanes (zmm), and 8 (ymm) for rows of at most 8 columns: 256-bit multiply-adds issue twice
// as often here, so narrow rows (MobileNet's 7x7 planes) waste no half-empty zmm.
struct Zmm {
  using V = __m512;
  using Mask = __mmask16;
  static constexpr int64_t kLanes = 16;
  static constexpr int kRegisters = 32;
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
  static Mask prefix(int64_t n) {
    return n >= 16 ? Mask(0xFFFF) : Mask((1u << (n < 0 ? 0 : n)) - 1u);
  }
  static Mask range(int64_t lo, int64_t hi) { return Mask(prefix(hi) & ~prefix(lo)); }
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
  static Mask prefix(int64_t n) { return n >= 8 ? Mask(0xFF) : Mask((1u << (n < 0 ? 0 : n)) - 1u); }
  static Mask range(int64_t lo, int64_t hi) { return Mask(prefix(hi) & ~prefix(lo)); }
};

#include "backends/cpu/depthwise_direct.inc"

void avx512Plane(const DepthwisePlane& p) {
  planeWith<Zmm, Ymm>(p);
}

}  // namespace

DepthwiseFn avx512Depthwise() {
  return avx512Plane;
}

#pragma GCC diagnostic pop

}  // namespace kiln::backends::cpu
