#include "backends/cpu/cpu_backend.h"
#include "backends/tactic.h"
#include "core/cpu_info.h"
#ifdef KILN_WITH_CUDA
#include "backends/cuda/cuda_backend.h"
#endif

namespace kiln::backends {

bool runsHere(const Tactic& tactic) {
  for (const auto& feature : tactic.requiredIsa()) {
    if (!hostCpu().has(feature)) return false;
  }
  return true;
}

const TacticRegistry& TacticRegistry::instance() {
  static const TacticRegistry registry = [] {
    TacticRegistry r;
    cpu::registerCpuTactics(r);
#ifdef KILN_WITH_CUDA
    cuda::registerCudaTactics(r);
#endif
    return r;
  }();
  return registry;
}

void TacticRegistry::add(std::string op, std::unique_ptr<Tactic> tactic) {
  tactics_[std::move(op)].push_back(std::move(tactic));
}

std::vector<const Tactic*> TacticRegistry::candidates(std::string_view op,
                                                      DeviceType device) const {
  std::vector<const Tactic*> result;
  auto it = tactics_.find(op);
  if (it == tactics_.end()) return result;
  for (const auto& t : it->second) {
    if (t->device() == device) result.push_back(t.get());
  }
  return result;
}

const Tactic* TacticRegistry::find(std::string_view op, std::string_view name) const {
  auto it = tactics_.find(op);
  if (it == tactics_.end()) return nullptr;
  for (const auto& t : it->second) {
    if (t->name() == name) return t.get();
  }
  return nullptr;
}

}  // namespace kiln::backends
