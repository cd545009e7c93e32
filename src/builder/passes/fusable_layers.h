// The layers that carry a fused epilogue (ops/epilogue.h) and where their residual input goes.
#pragma once

#include <string_view>

#include "ir/graph.h"

namespace kiln::builder {

inline bool hasEpilogue(std::string_view op) {
  return op == "Convolution" || op == "Deconvolution" || op == "FullyConnected" ||
         op == "MatrixMultiply";
}

//! Index the residual input takes: after the optional bias for the layers that have one.
inline std::size_t residualSlot(std::string_view op) {
  return op == "MatrixMultiply" ? 2 : 3;
}

}  // namespace kiln::builder
