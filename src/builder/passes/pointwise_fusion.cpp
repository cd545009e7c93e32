// pointwise-fusion: a chain of pointwise layers — Activation, Unary and ElementWise on float32,
// each the only reader of the previous one's output — becomes one PointwiseChain node
// (ops/pointwise_chain.h); the other operands of ElementWise steps become its extra inputs.
#include <vector>

#include "builder/passes/passes.h"
#include "builder/passes/pattern_util.h"
#include "ops/pointwise_chain.h"

namespace kiln::builder {

namespace {

bool floatOnly(const ir::Graph& graph, const ir::Node& node) {
  for (ir::ValueId v : node.inputs) {
    if (v == ir::kNoValue || graph.value(v).dtype != DataType::kFLOAT) return false;
  }
  for (ir::ValueId v : node.outputs) {
    if (graph.value(v).dtype != DataType::kFLOAT) return false;
  }
  return node.outputs.size() == 1;
}

bool isPointwise(const ir::Graph& graph, const ir::Node& node) {
  if (!floatOnly(graph, node)) return false;
  if (node.op == "Activation" || node.op == "PointwiseChain") return true;
  if (node.op == "Unary") return node.inputs.size() == 1;
  if (node.op == "ElementWise") return node.inputs.size() == 2 && node.inputs[0] != node.inputs[1];
  return false;
}

// Turns a single pointwise @p node into a one-step chain (in place).
void makeChain(const ir::Graph& graph, ir::Node& node) {
  if (node.op == "PointwiseChain") return;
  ir::Attributes chain;
  if (node.inputs.size() == 2) {
    // The running value is the non-constant input (input 0 when both or neither are).
    const bool swap =
        graph.value(node.inputs[0]).isConstant() && !graph.value(node.inputs[1]).isConstant();
    if (swap) std::swap(node.inputs[0], node.inputs[1]);
    ops::appendPointwiseStep(chain, node.op, node.attrs, 1, swap);
  } else {
    ops::appendPointwiseStep(chain, node.op, node.attrs, -1, false);
  }
  node.op = "PointwiseChain";
  node.attrs = std::move(chain);
}

}  // namespace

int32_t fusePointwiseChains(ir::Graph& graph, const PassContext& context) {
  int32_t changes = 0;
  Uses uses(graph);
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    if (!isPointwise(graph, graph.nodes[n])) continue;
    const auto head = static_cast<ir::NodeId>(n);
    while (true) {
      ir::Node& node = graph.node(head);
      const ir::ValueId out = node.outputs[0];
      const ir::NodeId userId = uses.soleUser(out);
      if (userId == ir::kNoNode) break;
      const ir::Node& user = graph.node(userId);
      if (!isPointwise(graph, user) || user.op == "PointwiseChain" ||
          user.precision != node.precision) {
        break;
      }
      // The running value must keep the chain's shape (a broadcast may not widen it).
      if (!(graph.value(user.outputs[0]).dims == graph.value(out).dims)) break;
      // The op's limits: steps, and inputs (PointwiseChain's schema takes 16).
      if (node.op == "PointwiseChain" &&
          (node.attrs.getInt("pw.steps", 0) >= ops::kMaxPointwiseSteps ||
           node.inputs.size() >= 16)) {
        break;
      }
      const std::string what = "fused " + joinNames(user.fusedFrom) + " (" + user.op +
                               ") into the pointwise chain '" + node.name + "'";
      makeChain(graph, node);
      int32_t operand = -1;
      bool operandFirst = false;
      if (user.inputs.size() == 2) {
        operandFirst = user.inputs[1] == out;
        node.inputs.push_back(user.inputs[operandFirst ? 0 : 1]);
        operand = static_cast<int32_t>(node.inputs.size() - 1);
      }
      ops::appendPointwiseStep(node.attrs, user.op, user.attrs, operand, operandFirst);
      absorb(graph, head, userId);
      context.log(what);
      ++changes;
      uses.refresh();
    }
  }
  return changes;
}

}  // namespace kiln::builder
