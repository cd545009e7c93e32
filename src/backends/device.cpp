#include "backends/device.h"

#include "backends/cpu/cpu_backend.h"
#ifdef KILN_WITH_CUDA
#include "backends/cuda/cuda_backend.h"
#endif

namespace kiln::backends {

const DeviceRuntime* deviceRuntime(DeviceType type) noexcept {
  if (type == DeviceType::kCPU) return &cpu::cpuDeviceRuntime();
#ifdef KILN_WITH_CUDA
  if (type == DeviceType::kGPU) return &cuda::cudaDeviceRuntime();
#endif
  return nullptr;
}

bool gpuPresent() noexcept {
  const DeviceRuntime* gpu = deviceRuntime(DeviceType::kGPU);
  return gpu != nullptr && gpu->count() > 0;
}

}  // namespace kiln::backends
