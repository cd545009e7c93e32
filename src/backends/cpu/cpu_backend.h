// The CPU backend: registers its tactics (the reference kernels, and the fast kernels per ISA).
#pragma once

namespace kiln::backends {
class TacticRegistry;
class DeviceRuntime;
}  // namespace kiln::backends

namespace kiln::backends::cpu {

void registerCpuTactics(TacticRegistry& registry);

//! Host memory and plain copies (backends/device.h).
const DeviceRuntime& cpuDeviceRuntime() noexcept;

}  // namespace kiln::backends::cpu
