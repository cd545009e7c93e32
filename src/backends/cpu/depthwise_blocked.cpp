// The blocked depthwise kernel's shapes, scratch layout and weight packing (depthwise_blocked.h);
// the kernel itself is per ISA (depthwise_blocked_avx2.cpp).
#include "backends/cpu/depthwise_blocked.h"

#include <algorithm>

#include "ops/window_util.h"

namespace kiln::backends::cpu {

bool depthwiseBlockedSupports(int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh,
                              int64_t dw, int64_t ph, int64_t pw) {
  return kh == kw && (kh == 3 || kh == 5 || kh == 7) && sh == sw && (sh == 1 || sh == 2) &&
         dh == 1 && dw == 1 && ph >= 0 && pw >= 0;
}

DepthwiseBlockLayout depthwiseBlockLayout(int64_t iw, int64_t ow, int64_t k, int64_t stride,
                                          int64_t pw) {
  DepthwiseBlockLayout l;
  l.ringRows = k <= 4 ? 4 : 8;
  l.filled = pw + ops::ceilDiv(iw, kDepthwiseBlock) * kDepthwiseBlock;
  l.computed = ops::ceilDiv(ow, kDepthwiseBlockStep) * kDepthwiseBlockStep;
  l.pitch = std::max((l.computed - 1) * stride + k, l.filled);
  l.outWidth = ops::ceilDiv(l.computed, kDepthwiseBlock) * kDepthwiseBlock;
  return l;
}

void packDepthwiseBlocks(const float* w, const float* bias, int64_t channels, int64_t k,
                         float* packed) {
  const int64_t taps = k * k;
  for (int64_t b = 0; b < depthwiseBlockCount(channels); ++b) {
    float* out = packed + b * depthwiseBlockPackedStride(k);
    for (int64_t lane = 0; lane < kDepthwiseBlock; ++lane) {
      const int64_t c = b * kDepthwiseBlock + lane;
      const bool live = c < channels;
      for (int64_t t = 0; t < taps; ++t)
        out[t * kDepthwiseBlock + lane] = live ? w[c * taps + t] : 0.f;
      out[taps * kDepthwiseBlock + lane] = live && bias != nullptr ? bias[c] : 0.f;
    }
  }
}

}  // namespace kiln::backends::cpu
