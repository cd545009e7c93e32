// Launcher of the selection kernel: Select (where(cond, then, else)) on elements of any size,
// copying bit patterns, and the bool ElementWise ops AND / OR / XOR, both with numpy
// broadcasting (broadcast_loops.h). No kiln header reaches nvcc.
#pragma once

#include <cstdint>

#include "backends/cuda/cuda_kernels.h"

namespace kiln::backends::cuda::kernels {

enum SelectOp : int32_t { kSelectWhere = 0, kSelectAnd = 1, kSelectOr = 2, kSelectXor = 3 };

struct SelectParams {
  //! kSelectWhere: cond (bool), then, else; the logical ops: a, b (bool).
  const void* inputs[3] = {};
  void* output = nullptr;
  int64_t count = 0;  //!< output elements
  int32_t op = kSelectWhere;
  int32_t elementBytes = 1;  //!< of then / else / the output: 1, 2, 4 or 8
  int32_t rank = 1;
  int64_t extent[kKernelMaxRank] = {};
  int64_t stride[3][kKernelMaxRank] = {};  //!< elements per loop step, per input
};

void launchSelect(const SelectParams& params, void* stream);

}  // namespace kiln::backends::cuda::kernels
