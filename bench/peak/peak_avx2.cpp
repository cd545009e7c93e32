// The AVX2+FMA loop. Compiled with -mavx2 -mfma (CMakeLists.txt); called only where the CPU has it.
#include "peak/peak_kernels.h"

#if defined(__FMA__)
#include <immintrin.h>
#endif

namespace kiln::bench {

#if defined(__FMA__)

double fmaLoopAvx2(int64_t iterations, float seed) {
  // 12 of the 16 ymm registers: enough chains for 4-cycle latency x 2 pipes, with margin.
  constexpr int kChains = 12;
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(seed + static_cast<float>(i));
  const __m256 mul = _mm256_set1_ps(0.999999f);
  const __m256 add = _mm256_set1_ps(1e-6f);
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], mul, add);
  }
  __m256 sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = _mm256_add_ps(sum, acc[i]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  volatile float sink = lanes[0];
  (void)sink;
  return 2.0 * 8.0 * kChains * static_cast<double>(iterations);
}

#else

// Built for another architecture: never called (the CPU check fails first).
double fmaLoopAvx2(int64_t, float) {
  return 0.0;
}

#endif

}  // namespace kiln::bench
