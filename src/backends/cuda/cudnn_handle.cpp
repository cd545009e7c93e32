// One cuDNN handle per thread and device: cudnnSetStream changes the handle, so a handle shared
// between threads would race; creating one per call would cost milliseconds.
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <vector>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/library_check.h"

namespace kiln::backends::cuda {

namespace {

class ThreadCudnnHandles {
 public:
  ThreadCudnnHandles() = default;
  ThreadCudnnHandles(const ThreadCudnnHandles&) = delete;
  ThreadCudnnHandles& operator=(const ThreadCudnnHandles&) = delete;
  ~ThreadCudnnHandles() {
    for (std::size_t device = 0; device < handles_.size(); ++device) {
      if (handles_[device] == nullptr) continue;
      // cudnnDestroy works on the handle's device.
      if (cudaSetDevice(static_cast<int>(device)) == cudaSuccess) cudnnDestroy(handles_[device]);
    }
  }

  cudnnHandle_t get(int device) {
    const auto index = static_cast<std::size_t>(device);
    if (index >= handles_.size()) handles_.resize(index + 1, nullptr);
    if (handles_[index] == nullptr) check(cudnnCreate(&handles_[index]), "cudnnCreate");
    return handles_[index];
  }

 private:
  std::vector<cudnnHandle_t> handles_;
};

}  // namespace

cudnnHandle_t threadCudnnHandle() {
  int device = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  thread_local ThreadCudnnHandles handles;
  return handles.get(device);
}

}  // namespace kiln::backends::cuda
