// Every CUDA, cuBLAS and cuDNN call's status is checked: a failure throws kiln::Error naming
// the call and the library's own message.
#pragma once

#include <cuda_runtime_api.h>

#include "core/error.h"

namespace kiln::backends::cuda {

inline void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    fail(status == cudaErrorMemoryAllocation ? ErrorCode::kFAILED_ALLOCATION
                                             : ErrorCode::kFAILED_EXECUTION,
         what, ": ", cudaGetErrorName(status), " (", cudaGetErrorString(status), ")");
  }
}

//! The error of the last kernel launch, if any (launches report nothing themselves).
inline void checkLaunch(const char* kernel) {
  check(cudaGetLastError(), kernel);
}

}  // namespace kiln::backends::cuda
