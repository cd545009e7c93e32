// The CUDA backend's matrix tactics: GEMMs through cuBLASLt, convolutions through cuDNN and
// attention, with what they share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "backends/cuda/pointwise_kernels.h"
#include "backends/tactic.h"
#include "ops/epilogue.h"

namespace kiln::backends::cuda {

//! Workspace a library call may use at most (cuBLASLt's recommendation for Hopper).
inline constexpr std::size_t kLibraryWorkspaceBytes = std::size_t{32} << 20;

//! @p bytes rounded up to 256, the alignment of every piece of a kernel's workspace.
constexpr std::size_t alignWorkspace(std::size_t bytes) {
  return (bytes + 255) / 256 * 256;
}

//! The epilogue's activation as pointwise_kernels.h applies it (type -1: none).
DeviceActivation deviceActivation(const ops::Epilogue& epilogue);

//! The one element type of every present input and output of @p spec (float32, half or
//! bfloat16; the precision pass makes all float tensors of a node one type, constants
//! included), or nullopt when they mix types, hold another type, or have unknown or negative
//! extents. Every input of the matrix ops is a float tensor, so any other type is refused.
std::optional<FloatType> uniformFloatType(const NodeSpec& spec);

void registerGemmTactics(TacticRegistry& registry);
void registerConv1x1Tactics(TacticRegistry& registry);
void registerConvolutionTactics(TacticRegistry& registry);
void registerAttentionTactics(TacticRegistry& registry);

}  // namespace kiln::backends::cuda
