// The CUDA runtime as a DeviceRuntime (backends/device.h).
#include <cuda_runtime_api.h>

#include <new>

#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/cuda_check.h"
#include "backends/device.h"

namespace kiln::backends::cuda {

namespace {

cudaMemcpyKind memcpyKind(CopyKind kind) {
  switch (kind) {
    case CopyKind::kHostToDevice:
      return cudaMemcpyHostToDevice;
    case CopyKind::kDeviceToHost:
      return cudaMemcpyDeviceToHost;
    case CopyKind::kDeviceToDevice:
      return cudaMemcpyDeviceToDevice;
  }
  return cudaMemcpyDefault;
}

// Destroys CUDA events however timeUs leaves.
class EventPair {
 public:
  EventPair() {
    check(cudaEventCreate(&start_), "cudaEventCreate");
    if (cudaEventCreate(&stop_) != cudaSuccess) {
      cudaEventDestroy(start_);
      fail(ErrorCode::kFAILED_EXECUTION, "cudaEventCreate failed");
    }
  }
  ~EventPair() {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
  }
  EventPair(const EventPair&) = delete;
  EventPair& operator=(const EventPair&) = delete;
  cudaEvent_t start() const noexcept { return start_; }
  cudaEvent_t stop() const noexcept { return stop_; }

 private:
  cudaEvent_t start_ = nullptr;
  cudaEvent_t stop_ = nullptr;
};

class CudaDeviceRuntime final : public DeviceRuntime {
 public:
  DeviceType type() const noexcept override { return DeviceType::kGPU; }

  int32_t count() const noexcept override {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();  // no driver or no GPU: not an error of later calls
      return 0;
    }
    return n;
  }

  DeviceInfo info(int32_t index) const override {
    if (index < 0 || index >= count()) {
      fail(ErrorCode::kINVALID_ARGUMENT, "there is no CUDA device ", index, " (this machine has ",
           count(), ")");
    }
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, index), "cudaGetDeviceProperties");
    return {prop.name, prop.major * 10 + prop.minor, prop.totalGlobalMem};
  }

  void makeCurrent(int32_t index) const override { check(cudaSetDevice(index), "cudaSetDevice"); }

  void* allocate(std::size_t bytes) const override {
    void* p = nullptr;
    if (cudaMalloc(&p, bytes) != cudaSuccess) {
      cudaGetLastError();
      throw std::bad_alloc();
    }
    return p;
  }
  void deallocate(void* memory) const noexcept override { cudaFree(memory); }

  void* allocateHost(std::size_t bytes) const override {
    void* p = nullptr;
    if (cudaMallocHost(&p, bytes) != cudaSuccess) {
      cudaGetLastError();
      throw std::bad_alloc();
    }
    return p;
  }
  void deallocateHost(void* memory) const noexcept override { cudaFreeHost(memory); }

  void copyAsync(void* dst, const void* src, std::size_t bytes, CopyKind kind,
                 void* stream) const override {
    if (bytes == 0) return;
    check(cudaMemcpyAsync(dst, src, bytes, memcpyKind(kind), static_cast<cudaStream_t>(stream)),
          "cudaMemcpyAsync");
  }

  void synchronize(void* stream) const override {
    check(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)), "cudaStreamSynchronize");
  }

  double timeUs(const std::function<void()>& enqueue, void* stream) const override {
    const auto s = static_cast<cudaStream_t>(stream);
    EventPair events;
    check(cudaEventRecord(events.start(), s), "cudaEventRecord");
    enqueue();
    check(cudaEventRecord(events.stop(), s), "cudaEventRecord");
    check(cudaEventSynchronize(events.stop()), "cudaEventSynchronize");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, events.start(), events.stop()), "cudaEventElapsedTime");
    return static_cast<double>(ms) * 1000.0;
  }
};

}  // namespace

const DeviceRuntime& cudaDeviceRuntime() noexcept {
  static const CudaDeviceRuntime runtime;
  return runtime;
}

}  // namespace kiln::backends::cuda
