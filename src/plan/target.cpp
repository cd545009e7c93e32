// Which target a plan was built for, and whether this machine can run it.
#include "core/cpu_info.h"
#include "core/error.h"
#include "plan/plan_io.h"

namespace kiln::plan {

Target hostTarget(DeviceType device) {
  Target target;
  target.device = device;
  if (device == DeviceType::kCPU) target.deviceName = hostCpu().name;
  return target;
}

void checkTarget(const Target& target) {
  // A GPU plan is checked against the GPU it is loaded on by the runtime (EngineImpl), which
  // knows which device that is.
  if (target.device == DeviceType::kGPU) return;
  const CpuInfo& cpu = hostCpu();
  for (const auto& feature : target.requiredIsa) {
    if (!cpu.has(feature)) {
      fail(ErrorCode::kINVALID_PLAN, "the plan was built for a CPU with ", feature, " (on '",
           target.deviceName, "'), but this CPU ('", cpu.name, "') lacks ", feature,
           "; rebuild the engine on this machine");
    }
  }
}

}  // namespace kiln::plan
