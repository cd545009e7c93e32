// The pointwise kernels (pointwise_vec_kernel.inc) compiled for AVX2 + FMA (see CMakeLists.txt).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "backends/cpu/pointwise_vec.h"
#include "kiln/network.h"

namespace kiln::backends::cpu {

namespace {
#include "backends/cpu/pointwise_vec_kernel.inc"
}  // namespace

const PointwiseVecKernels& avx2PointwiseVec() {
  static const PointwiseVecKernels kernels{"avx2",      chainBlockVec,  layerNormRowsVec,
                                           activateVec, expShiftSumVec, scaledSoftmaxRowVec};
  return kernels;
}

}  // namespace kiln::backends::cpu
