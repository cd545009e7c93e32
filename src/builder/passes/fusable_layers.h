// The layers that carry a fused epilogue (ops/epilogue.h) and where their residual input goes.
#pragma once

#include <string_view>

#include "ir/graph.h"

namespace kiln::builder {

inline bool hasEpilogue(std::string_view op) {
  return op == "Convolution" || op == "Deconvolution" || op == "FullyConnected" ||
         op == "MatrixMultiply";
}

//! Index the residual input takes: after the optional bias for the layers that have one, and
//! after a MatrixMultiply's inputs so far (its epilogue bias, which matmul-bias puts first).
inline std::size_t residualSlot(const ir::Node& node) {
  if (node.op != "MatrixMultiply") return 3;
  return node.inputs.size() > 2 ? node.inputs.size() : 2;
}

}  // namespace kiln::builder
