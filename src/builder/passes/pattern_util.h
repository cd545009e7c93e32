// Small matchers the pattern-recognition passes (GELU, LayerNorm, attention) share.
#pragma once

#include <cmath>
#include <optional>

#include "builder/passes/pass_context.h"
#include "kiln/network.h"

namespace kiln::builder {

//! @p node is an ElementWise @p op.
inline bool isElementWise(const ir::Node& node, ElementWiseOperation op) {
  return node.op == "ElementWise" && node.inputs.size() == 2 &&
         node.attrs.getEnum("op", ElementWiseOperation::kSUM) == op;
}

//! When one input of the binary ElementWise @p node is a uniform float constant within
//! @p tolerance (relative) of @p expected — on the side @p side (0, 1, or -1 for either) —
//! the other input.
inline std::optional<ir::ValueId> withConstant(const ir::Graph& graph, const ir::Node& node,
                                               double expected, int side = -1,
                                               double tolerance = 1e-4) {
  for (int s = 0; s < 2; ++s) {
    if (side >= 0 && s != side) continue;
    double value = 0;
    if (!uniformConstant(graph, node.inputs[static_cast<std::size_t>(s)], value)) continue;
    if (std::fabs(value - expected) <= tolerance * std::max(1.0, std::fabs(expected))) {
      return node.inputs[static_cast<std::size_t>(1 - s)];
    }
  }
  return std::nullopt;
}

//! The node that alone reads @p v, when it has op @p op; null otherwise.
inline const ir::Node* soleUserOp(const ir::Graph& graph, const Uses& uses, ir::ValueId v,
                                  std::string_view op) {
  const ir::NodeId user = uses.soleUser(v);
  if (user == ir::kNoNode) return nullptr;
  const ir::Node& node = graph.node(user);
  return node.op == op ? &node : nullptr;
}

inline ir::NodeId idOf(const ir::Graph& graph, const ir::Node* node) {
  return static_cast<ir::NodeId>(node - graph.nodes.data());
}

}  // namespace kiln::builder
