// DeviceRuntime: the memory, copies, streams and timers of one backend's devices, so that the
// builder and the runtime stay device-neutral. The CPU's is plain host memory; the CUDA
// backend's (src/backends/cuda/cuda_device.cpp) wraps the CUDA runtime.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "kiln/types.h"

namespace kiln::backends {

struct DeviceInfo {
  std::string name;
  int32_t computeCapability = 0;  //!< GPUs: major * 10 + minor; 0 for the CPU
  std::size_t totalMemory = 0;
};

enum class CopyKind { kHostToDevice, kDeviceToHost, kDeviceToDevice };

class DeviceRuntime {
 public:
  virtual ~DeviceRuntime() = default;

  virtual DeviceType type() const noexcept = 0;
  //! Devices present (the CPU: 1; CUDA: 0 without a driver or a GPU).
  virtual int32_t count() const noexcept = 0;
  //! Throws kINVALID_ARGUMENT when @p index is not a device.
  virtual DeviceInfo info(int32_t index) const = 0;
  //! Makes @p index the device that later calls of this thread use.
  virtual void makeCurrent(int32_t index) const = 0;

  //! Device memory, aligned to 256 bytes; throws std::bad_alloc when there is none left.
  virtual void* allocate(std::size_t bytes) const = 0;
  virtual void deallocate(void* memory) const noexcept = 0;
  //! Host memory the device copies from and to fastest (page-locked for CUDA).
  virtual void* allocateHost(std::size_t bytes) const = 0;
  virtual void deallocateHost(void* memory) const noexcept = 0;

  //! Ordered on @p stream (null: the default stream); returns before the copy ends.
  virtual void copyAsync(void* dst, const void* src, std::size_t bytes, CopyKind kind,
                         void* stream) const = 0;
  //! Waits for all work on @p stream; throws kFAILED_EXECUTION with the device's error.
  virtual void synchronize(void* stream) const = 0;
  //! Microseconds the device spends on what @p enqueue puts on @p stream (waits for it).
  virtual double timeUs(const std::function<void()>& enqueue, void* stream) const = 0;
};

//! The runtime of @p type's backend; null when this build has none (CUDA built without nvcc).
const DeviceRuntime* deviceRuntime(DeviceType type) noexcept;

//! True when this build has a CUDA backend and a GPU is present.
bool gpuPresent() noexcept;

//! Owns one allocation of a DeviceRuntime's device (or host) memory.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceRuntime& device, std::size_t bytes, bool host = false)
      : device_(&device),
        data_(bytes == 0 ? nullptr
              : host     ? device.allocateHost(bytes)
                         : device.allocate(bytes)),
        size_(bytes),
        host_(host) {}
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(DeviceBuffer&& other) noexcept { *this = std::move(other); }
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      reset();
      device_ = other.device_;
      data_ = other.data_;
      size_ = other.size_;
      host_ = other.host_;
      other.data_ = nullptr;
      other.size_ = 0;
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  void reset() noexcept {
    if (data_ != nullptr) host_ ? device_->deallocateHost(data_) : device_->deallocate(data_);
    data_ = nullptr;
    size_ = 0;
  }

 private:
  const DeviceRuntime* device_ = nullptr;
  void* data_ = nullptr;
  std::size_t size_ = 0;
  bool host_ = false;
};

}  // namespace kiln::backends
