// The AVX-512 FMA loop. Compiled with -mavx512f (CMakeLists.txt); called only where the CPU has it.
#include "peak/peak_kernels.h"

#if defined(__AVX512F__)
// GCC 12 warns about the undefined upper lanes inside its own _mm512 intrinsics.
#pragma GCC diagnostic push
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#endif

namespace kiln::bench {

#if defined(__AVX512F__)

double fmaLoopAvx512(int64_t iterations, float seed) {
  // 16 chains: 4-cycle FMA latency x 2 FMA pipes needs 8; 16 leaves margin for a longer latency
  // and for the loop's own instructions.
  constexpr int kChains = 16;
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(seed + static_cast<float>(i));
  // x * (1 - eps) + eps stays near 1: no overflow, no denormals, nothing the compiler can fold.
  const __m512 mul = _mm512_set1_ps(0.999999f);
  const __m512 add = _mm512_set1_ps(1e-6f);
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], mul, add);
  }
  __m512 sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = _mm512_add_ps(sum, acc[i]);
  // Keeps the chains live; the caller ignores the value otherwise.
  volatile float sink = _mm512_reduce_add_ps(sum);
  (void)sink;
  return 2.0 * 16.0 * kChains * static_cast<double>(iterations);
}

#else

// Built for another architecture: never called (the CPU check fails first).
double fmaLoopAvx512(int64_t, float) {
  return 0.0;
}

#endif

}  // namespace kiln::bench
