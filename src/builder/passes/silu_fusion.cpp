// silu-fusion: x * sigmoid(x) — SiLU (swish), as PyTorch exports nn.SiLU: a Sigmoid and a Mul of
// its input by its output — becomes one Activation of type kSILU, which activation-fusion then
// folds into the epilogue of the convolution or GEMM before it (EfficientNet, YOLO): the
// activation runs on the tile as it is stored instead of in two passes over the tensor.
#include <string>
#include <vector>

#include "builder/passes/passes.h"
#include "builder/passes/pattern_util.h"

namespace kiln::builder {

namespace {

// The Sigmoid whose output @p node (a Mul) multiplies by that Sigmoid's own input, and which
// nothing else reads; null otherwise.
const ir::Node* siluSigmoid(const ir::Graph& graph, const Uses& uses, const ir::Node& node) {
  if (!isElementWise(node, ElementWiseOperation::kPROD) || node.outputs.size() != 1) return nullptr;
  for (std::size_t side = 0; side < 2; ++side) {
    const ir::ValueId s = node.inputs[side];
    const ir::ValueId x = node.inputs[1 - side];
    const ir::Node* sigmoid = producerOf(graph, s, "Activation");
    if (sigmoid == nullptr || sigmoid->inputs.size() != 1 || sigmoid->inputs[0] != x ||
        sigmoid->attrs.getEnum("type", ActivationType::kRELU) != ActivationType::kSIGMOID ||
        !uses.onlyUser(s, idOf(graph, &node))) {
      continue;
    }
    const ir::Value& in = graph.value(x);
    if (in.dtype != DataType::kFLOAT || graph.value(node.outputs[0]).dims != in.dims) continue;
    return sigmoid;
  }
  return nullptr;
}

}  // namespace

int32_t fuseSilu(ir::Graph& graph, const PassContext& context) {
  int32_t changes = 0;
  Uses uses(graph);
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node* sigmoid = siluSigmoid(graph, uses, graph.nodes[n]);
    if (sigmoid == nullptr) continue;
    const ir::ValueId x = sigmoid->inputs[0];
    std::vector<std::string> names = sigmoid->fusedFrom;
    const ir::NodeId sigmoidId = idOf(graph, sigmoid);
    ir::Node& node = graph.nodes[n];
    names.insert(names.end(), node.fusedFrom.begin(), node.fusedFrom.end());
    node.op = "Activation";
    node.attrs = ir::Attributes{};
    node.attrs.set("type", ActivationType::kSILU);
    node.inputs = {x};
    node.fusedFrom = names;
    removeNode(graph, sigmoidId);
    context.log("recognized SiLU in " + joinNames(names) + " as '" + graph.nodes[n].name + "'");
    ++changes;
    uses.refresh();
  }
  return changes;
}

}  // namespace kiln::builder
