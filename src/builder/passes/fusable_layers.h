// The layers that carry a fused epilogue (ops/epilogue.h) and where their residual input goes.
#pragma once

#include <cstddef>
#include <cstdint>
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

//! Feeds @p value to @p node's epilogue as its input @p slot (absent inputs fill any gap before
//! it), named by the epilogue attribute @p attribute ("epilogue.bias", "epilogue.residual").
inline void addEpilogueInput(ir::Node& node, std::string_view attribute, ir::ValueId value,
                             std::size_t slot) {
  node.inputs.resize(slot, ir::kNoValue);
  node.inputs.push_back(value);
  node.attrs.set(attribute, static_cast<int64_t>(slot));
}

}  // namespace kiln::builder
