#include "backends/cpu/depthwise.h"

namespace kiln::backends::cpu {

namespace {
#include "backends/cpu/depthwise_kernel.inc"
}  // namespace

DepthwiseFn portableDepthwise() {
  return depthwisePlane;
}

}  // namespace kiln::backends::cpu
