// The pointwise kernels (pointwise_vec_kernel.inc) compiled for the build's baseline ISA.
#include <cstddef>
#include <cstdint>

#include "backends/cpu/pointwise_vec.h"
#include "kiln/network.h"

namespace kiln::backends::cpu {

namespace {
#include "backends/cpu/pointwise_vec_kernel.inc"
}  // namespace

const PointwiseVecKernels& portablePointwiseVec() {
  static const PointwiseVecKernels kernels{"portable",  chainBlockVec,  layerNormRowsVec,
                                           activateVec, expShiftSumVec, scaledSoftmaxRowVec};
  return kernels;
}

}  // namespace kiln::backends::cpu
