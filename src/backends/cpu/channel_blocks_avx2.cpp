// The NCHW <-> NCHW8c reformat (channel_blocks.h) on AVX2: 8x8 transposes of 8 channel rows of 8
// pixels (unpack, shuffle, then 128-bit lane swaps); a tail of fewer than 8 pixels goes element by
// element. Compiled with -mavx2 -mfma (the *_avx2.cpp glob).
#include <immintrin.h>

#include "backends/cpu/channel_blocks.h"

namespace kiln::backends::cpu {

namespace {

constexpr int64_t kBlock = 8;

// r[i] (row i of an 8x8 matrix) becomes column i.
inline void transpose8x8(__m256 r[kBlock]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]);
  const __m256 t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]);
  const __m256 t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]);
  const __m256 t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]);
  const __m256 t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44);
  const __m256 u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44);
  const __m256 u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44);
  const __m256 u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44);
  const __m256 u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
  r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
  r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
  r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
  r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

void channelBlock(float* planes, float* blocked, int64_t plane, int64_t p0, int64_t p1,
                  bool toBlocked) {
  int64_t p = p0;
  __m256 r[kBlock];
  for (; p + kBlock <= p1; p += kBlock) {
    float* vectors = blocked + p * kBlock;
    if (toBlocked) {
      for (int64_t c = 0; c < kBlock; ++c) r[c] = _mm256_loadu_ps(planes + c * plane + p);
      transpose8x8(r);
      for (int64_t i = 0; i < kBlock; ++i) _mm256_storeu_ps(vectors + i * kBlock, r[i]);
    } else {
      for (int64_t i = 0; i < kBlock; ++i) r[i] = _mm256_loadu_ps(vectors + i * kBlock);
      transpose8x8(r);
      for (int64_t c = 0; c < kBlock; ++c) _mm256_storeu_ps(planes + c * plane + p, r[c]);
    }
  }
  if (p < p1) portableChannelBlock(planes, blocked, plane, p, p1, toBlocked);
}

}  // namespace

ChannelBlockFn avx2ChannelBlock() {
  return channelBlock;
}

}  // namespace kiln::backends::cpu
