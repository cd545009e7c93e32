// The CPU backend: registers its tactics (the reference kernels, and the fast kernels per ISA).
#pragma once

namespace kiln::backends {
class TacticRegistry;
}

namespace kiln::backends::cpu {

void registerCpuTactics(TacticRegistry& registry);

}  // namespace kiln::backends::cpu
