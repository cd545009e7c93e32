// The pointwise kernels (pointwise_vec_kernel.inc) compiled for AVX-512 (f, bw, dq, vl; see
// CMakeLists.txt).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "backends/cpu/pointwise_vec.h"
#include "kiln/network.h"

namespace kiln::backends::cpu {

namespace {
#include "backends/cpu/pointwise_vec_kernel.inc"
}  // namespace

const PointwiseVecKernels& avx512PointwiseVec() {
  static const PointwiseVecKernels kernels{"avx512",    chainBlockVec,  layerNormRowsVec,
                                           activateVec, expShiftSumVec, scaledSoftmaxRowVec};
  return kernels;
}

}  // namespace kiln::backends::cpu
