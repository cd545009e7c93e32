// Status checks for cuBLASLt and cuDNN, like cuda_check.h's for the runtime: a failure throws
// kiln::Error naming the call and the library's own message.
#pragma once

#include <cublasLt.h>
#include <cudnn.h>

#include "core/error.h"

namespace kiln::backends::cuda {

inline void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    fail(status == CUBLAS_STATUS_ALLOC_FAILED ? ErrorCode::kFAILED_ALLOCATION
                                              : ErrorCode::kFAILED_EXECUTION,
         what, ": ", cublasLtGetStatusName(status), " (", cublasLtGetStatusString(status), ")");
  }
}

inline void check(cudnnStatus_t status, const char* what) {
  if (status != CUDNN_STATUS_SUCCESS) {
    fail(ErrorCode::kFAILED_EXECUTION, what, ": ", cudnnGetErrorString(status));
  }
}

//! This thread's cuDNN handle for the current device, created at first use and destroyed when
//! the thread ends. A handle holds a stream, so handles are never shared between threads.
cudnnHandle_t threadCudnnHandle();

}  // namespace kiln::backends::cuda
