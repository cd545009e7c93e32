// The CPU as a DeviceRuntime: device memory is host memory, copies are memcpy, nothing is
// asynchronous.
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>

#include "backends/cpu/cpu_backend.h"
#include "backends/device.h"
#include "core/cpu_info.h"
#include "core/error.h"

namespace kiln::backends::cpu {

namespace {

constexpr std::size_t kAlignment = 256;

class CpuDeviceRuntime final : public DeviceRuntime {
 public:
  DeviceType type() const noexcept override { return DeviceType::kCPU; }
  int32_t count() const noexcept override { return 1; }
  DeviceInfo info(int32_t index) const override {
    if (index != 0) fail(ErrorCode::kINVALID_ARGUMENT, "there is one CPU device, not ", index);
    return {hostCpu().name, 0, 0};
  }
  void makeCurrent(int32_t /*index*/) const override {}
  void* allocate(std::size_t bytes) const override {
    void* p = std::aligned_alloc(kAlignment, (bytes + kAlignment - 1) / kAlignment * kAlignment);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  void deallocate(void* memory) const noexcept override { std::free(memory); }
  void* allocateHost(std::size_t bytes) const override { return allocate(bytes); }
  void deallocateHost(void* memory) const noexcept override { std::free(memory); }
  void copyAsync(void* dst, const void* src, std::size_t bytes, CopyKind /*kind*/,
                 void* /*stream*/) const override {
    if (bytes > 0) std::memcpy(dst, src, bytes);
  }
  void synchronize(void* /*stream*/) const override {}
  double timeUs(const std::function<void()>& enqueue, void* /*stream*/) const override {
    const auto start = std::chrono::steady_clock::now();
    enqueue();
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
        .count();
  }
};

}  // namespace

const DeviceRuntime& cpuDeviceRuntime() noexcept {
  static const CpuDeviceRuntime runtime;
  return runtime;
}

}  // namespace kiln::backends::cpu
