// Math a node may use beyond exact FP32, as the builder allows it per node (BuilderFlag), so the
// choice travels in the plan with the node and kernels read it from their node's attributes.
#pragma once

#include "ir/attributes.h"

namespace kiln::ir {

//! Attribute set (to 1) on matrix nodes (Convolution, Deconvolution, FullyConnected,
//! MatrixMultiply, Attention) of GPU engines built with BuilderFlag::kTF32: their FP32 products
//! may run on TF32 tensor cores (10-bit mantissa operands, FP32 accumulation).
inline constexpr const char* kAllowTf32 = "math.tf32";

inline bool allowsTf32(const Attributes& attrs) {
  return attrs.getInt(kAllowTf32, 0) != 0;
}

}  // namespace kiln::ir
