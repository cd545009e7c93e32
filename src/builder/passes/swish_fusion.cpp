// swish-fusion: x times a gate of x — x * sigmoid(x) (SiLU: PyTorch's nn.SiLU as exported, a
// Sigmoid and a Mul of its input by its output), x * hard_sigmoid(x) with slope 1/6 and offset
// 0.5 (hard-swish: ONNX HardSwish as imported, nn.Hardswish before opset 14), and
// x * clip(x + 3, 0, 6) / 6 (hard-swish as PaddlePaddle exports it: Add, Clip, Mul, Div) —
// becomes one Activation (kSILU, kHARD_SWISH), which activation-fusion then folds into the
// epilogue of the convolution or GEMM before it (EfficientNet, YOLO, MobileNetV3, PP-OCR): the
// activation runs on the tile as it is stored instead of in two to four passes over the tensor.
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "builder/passes/passes.h"
#include "builder/passes/pattern_util.h"
#include "ops/activation.h"

namespace kiln::builder {

namespace {

struct Swish {
  ir::ValueId x = ir::kNoValue;
  ActivationType type = ActivationType::kSILU;
  //! The nodes the activation replaces besides the matched last one (which it rewrites).
  std::vector<const ir::Node*> replaced;
};

// The activation x * gate(x) is, for a gate of @p type with @p attrs; nullopt for other gates.
std::optional<ActivationType> swishOf(const ir::Attributes& attrs) {
  const auto type = attrs.getEnum("type", ActivationType::kRELU);
  if (type == ActivationType::kSIGMOID) return ActivationType::kSILU;
  if (type == ActivationType::kHARD_SIGMOID) {
    const double alpha = attrs.getFloat("alpha", ops::activationDefaultAlpha(type));
    const double beta = attrs.getFloat("beta", ops::activationDefaultBeta(type));
    // The slope as a float32 (0.16666667) is what importers store.
    if (std::fabs(alpha - 1.0 / 6.0) < 1e-7 && beta == 0.5) return ActivationType::kHARD_SWISH;
  }
  return std::nullopt;
}

// The gate whose output @p node (a Mul) multiplies by that gate's own input, and which nothing
// else reads; nullopt otherwise.
std::optional<Swish> swishGate(const ir::Graph& graph, const Uses& uses, const ir::Node& node) {
  if (!isElementWise(node, ElementWiseOperation::kPROD) || node.outputs.size() != 1) {
    return std::nullopt;
  }
  for (std::size_t side = 0; side < 2; ++side) {
    const ir::ValueId g = node.inputs[side];
    const ir::ValueId x = node.inputs[1 - side];
    const ir::Node* gate = producerOf(graph, g, "Activation");
    if (gate == nullptr || gate->inputs.size() != 1 || gate->inputs[0] != x ||
        !uses.onlyUser(g, idOf(graph, &node))) {
      continue;
    }
    const std::optional<ActivationType> type = swishOf(gate->attrs);
    const ir::Value& in = graph.value(x);
    if (!type || in.dtype != DataType::kFLOAT || graph.value(node.outputs[0]).dims != in.dims) {
      continue;
    }
    return Swish{x, *type, {gate}};
  }
  return std::nullopt;
}

// x * clip(x + 3, 0, 6) / 6 (or * 1/6) ending at @p node, each step read only by the next.
std::optional<Swish> clippedHardSwish(const ir::Graph& graph, const Uses& uses,
                                      const ir::Node& node) {
  if (node.outputs.size() != 1) return std::nullopt;
  const std::optional<ir::ValueId> product =
      isElementWise(node, ElementWiseOperation::kDIV)    ? withConstant(graph, node, 6.0, 1)
      : isElementWise(node, ElementWiseOperation::kPROD) ? withConstant(graph, node, 1.0 / 6.0)
                                                         : std::nullopt;
  if (!product) return std::nullopt;
  const ir::Node* mul = producerOf(graph, *product, "ElementWise");
  if (mul == nullptr || !isElementWise(*mul, ElementWiseOperation::kPROD) ||
      !uses.onlyUser(*product, idOf(graph, &node))) {
    return std::nullopt;
  }
  for (std::size_t side = 0; side < 2; ++side) {
    const ir::ValueId x = mul->inputs[side];
    const ir::ValueId clipped = mul->inputs[1 - side];
    const ir::Node* clip = producerOf(graph, clipped, "Activation");
    if (clip == nullptr || clip->inputs.size() != 1 || !uses.onlyUser(clipped, idOf(graph, mul)) ||
        clip->attrs.getEnum("type", ActivationType::kRELU) != ActivationType::kCLIP ||
        clip->attrs.getFloat("alpha", 0.0) != 0.0 || clip->attrs.getFloat("beta", 0.0) != 6.0) {
      continue;
    }
    const ir::Node* add = producerOf(graph, clip->inputs[0], "ElementWise");
    if (add == nullptr || !isElementWise(*add, ElementWiseOperation::kSUM) ||
        !uses.onlyUser(clip->inputs[0], idOf(graph, clip)) || withConstant(graph, *add, 3.0) != x) {
      continue;
    }
    const ir::Value& in = graph.value(x);
    if (in.dtype != DataType::kFLOAT || graph.value(node.outputs[0]).dims != in.dims ||
        graph.value(clip->inputs[0]).dims != in.dims) {
      continue;
    }
    return Swish{x, ActivationType::kHARD_SWISH, {add, clip, mul}};
  }
  return std::nullopt;
}

}  // namespace

int32_t fuseSwish(ir::Graph& graph, const PassContext& context) {
  int32_t changes = 0;
  Uses uses(graph);
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    std::optional<Swish> swish = swishGate(graph, uses, graph.nodes[n]);
    if (!swish) swish = clippedHardSwish(graph, uses, graph.nodes[n]);
    if (!swish) continue;
    std::vector<std::string> names;
    std::vector<ir::NodeId> replaced;
    for (const ir::Node* step : swish->replaced) {
      names.insert(names.end(), step->fusedFrom.begin(), step->fusedFrom.end());
      replaced.push_back(idOf(graph, step));
    }
    ir::Node& node = graph.nodes[n];
    names.insert(names.end(), node.fusedFrom.begin(), node.fusedFrom.end());
    node.op = "Activation";
    node.attrs = ir::Attributes{};
    node.attrs.set("type", swish->type);
    node.inputs = {swish->x};
    node.fusedFrom = names;
    for (ir::NodeId id : replaced) removeNode(graph, id);
    context.log(std::string("recognized ") +
                (swish->type == ActivationType::kSILU ? "SiLU" : "hard-swish") + " in " +
                joinNames(names) + " as '" + graph.nodes[n].name + "'");
    ++changes;
    uses.refresh();
  }
  return changes;
}

}  // namespace kiln::builder
