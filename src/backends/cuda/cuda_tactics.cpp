#include "backends/cuda/cuda_tactics.h"

#include "backends/cuda/cuda_backend.h"
#include "backends/tactic.h"

namespace kiln::backends::cuda {

void registerCudaTactics(TacticRegistry& registry) {
  // Native kernels first: without timing (optimization level 0) the first that fits is taken.
  registerCudaMatrixTactics(registry);
  registerCudaPointwiseTactics(registry);
  registerCudaSelectTactics(registry);
  registerCudaReduceTactics(registry);
  registerCudaDataMovementTactics(registry);
  registerHostFallbackTactics(registry);
}

}  // namespace kiln::backends::cuda
