#include "backends/cpu/depthwise.h"

namespace kiln::backends::cpu {

namespace {
#include "backends/cpu/depthwise_kernel.inc"
}  // namespace

int64_t depthwiseScratchFloats(const DepthwisePlane& p) {
  const int64_t hp = p.oh > 0 ? (p.oh - 1) * p.sh + (p.kh - 1) * p.dh + 1 : 0;
  const int64_t wp = p.ow > 0 ? (p.ow - 1) * p.sw + (p.kw - 1) * p.dw + 1 : 0;
  return hp * wp + kDepthwiseSlack;
}

DepthwiseFn portableDepthwise() {
  return depthwisePlane;
}

}  // namespace kiln::backends::cpu
