// Registration of the CUDA backend's tactics, one function per op family. Native kernels are
// registered before the host fallback, so a build that does not time candidates takes them.
//
// The contract of every CUDA kernel (backends/tactic.h, ir::KernelContext):
// - inputs, outputs, constants and the workspace are device memory of the current device;
//   constant inputs' host copies are in NodeSpec::inputs[i].constData at instantiate time;
// - execute() enqueues on ctx.stream (a cudaStream_t) and never synchronizes, allocates or
//   frees device memory (instantiate() may: state a kernel prepares is read-only afterwards,
//   because one kernel serves every execution context of the engine, on any stream);
// - every launch is checked (checkLaunch), so a bad configuration throws instead of leaving a
//   sticky error.
#pragma once

#include <string_view>

namespace kiln::backends {
class TacticRegistry;
}

namespace kiln::backends::cuda {

//! Name of the tactic that runs an op's reference kernel on the host inside a GPU engine.
inline constexpr std::string_view kHostFallbackTactic = "cuda.host";

void registerHostFallbackTactics(TacticRegistry& registry);
void registerCudaMatrixTactics(TacticRegistry& registry);     // cuBLASLt, cuDNN, attention
void registerCudaPointwiseTactics(TacticRegistry& registry);  // kiln's own kernels
void registerCudaSelectTactics(TacticRegistry& registry);     // Select, bool AND / OR / XOR
void registerCudaReduceTactics(TacticRegistry& registry);     // Reduce, SoftMax, LayerNorm, Pooling
void registerCudaDataMovementTactics(TacticRegistry& registry);

}  // namespace kiln::backends::cuda
