// Math a node may use beyond exact FP32, as the builder allows it per node (BuilderFlag), so the
// choice travels in the plan with the node and kernels read it from their node's attributes.
#pragma once

#include <optional>

#include "ir/attributes.h"
#include "kiln/types.h"

namespace kiln::ir {

//! Attribute set (to 1) on matrix nodes (Convolution, Deconvolution, FullyConnected,
//! MatrixMultiply, Attention) of GPU engines built with BuilderFlag::kTF32: their FP32 products
//! may run on TF32 tensor cores (10-bit mantissa operands, FP32 accumulation).
inline constexpr const char* kAllowTf32 = "math.tf32";

inline bool allowsTf32(const Attributes& attrs) {
  return attrs.getInt(kAllowTf32, 0) != 0;
}

//! Attribute (a DataType: kHALF or kBF16) on nodes that BuilderFlag::kFP16 / kBF16 moved to
//! reduced precision: every floating-point tensor of the node (activations, weights, outputs) is
//! stored in that type, and its kernel computes in FP32. Shape rules see those tensors as FP32
//! (ir::inferNode maps them), so an op is defined once, on FP32.
inline constexpr const char* kReducedPrecision = "math.precision";

inline std::optional<DataType> reducedPrecision(const Attributes& attrs) {
  if (!attrs.has(kReducedPrecision)) return std::nullopt;
  return static_cast<DataType>(attrs.getInt(kReducedPrecision));
}

}  // namespace kiln::ir
