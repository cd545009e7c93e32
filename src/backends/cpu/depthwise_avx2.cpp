// The depthwise kernel compiled for AVX2+FMA (see CMakeLists.txt).
#include "backends/cpu/depthwise.h"

namespace kiln::backends::cpu {

namespace {
#include "backends/cpu/depthwise_kernel.inc"
}  // namespace

DepthwiseFn avx2Depthwise() {
  return depthwisePlane;
}

}  // namespace kiln::backends::cpu
