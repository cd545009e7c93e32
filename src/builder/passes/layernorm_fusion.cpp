// layernorm-fusion: the LayerNorm that ONNX exports (and kiln's LayerNormalization import) write
// out as
//   mean = ReduceMean(x); d = x - mean; var = ReduceMean(d^2 or d*d); y = d / sqrt(var + eps)
//   [* gamma] [+ beta]
// over trailing axes becomes one LayerNorm node (ops/layer_norm.cpp).
#include <optional>
#include <span>
#include <vector>

#include "builder/passes/passes.h"
#include "builder/passes/pattern_util.h"
#include "core/shape_util.h"

namespace kiln::builder {

namespace {

// The first reduced axis when @p node is a keep-dims mean over trailing axes; -1 otherwise.
int32_t trailingMeanAxis(const ir::Graph& graph, const ir::Node& node) {
  if (node.op != "Reduce" ||
      node.attrs.getEnum("op", ReduceOperation::kSUM) != ReduceOperation::kAVG ||
      node.attrs.getInt("keep_dims", 0) == 0) {
    return -1;
  }
  const auto axes = static_cast<uint32_t>(node.attrs.getInt("axes", 0));
  const int32_t rank = graph.value(node.inputs[0]).dims.nbDims;
  int32_t first = rank;
  while (first > 0 && ((axes >> (first - 1)) & 1u) != 0) --first;
  const uint32_t trailing = rank >= 32 ? 0 : ((1u << rank) - 1u) & ~((1u << first) - 1u);
  return first < rank && axes == trailing ? first : -1;
}

// gamma/beta as one value per normalized element (broadcast out), or nullopt when @p v is not a
// float constant that broadcasts over the normalized dims only, or when the context refuses a
// constant that large (then the pattern stays unfused).
std::optional<std::vector<std::byte>> normalizedConstant(const ir::Graph& graph, ir::ValueId v,
                                                         const Dims& x, int32_t axis,
                                                         const PassContext& context) {
  const std::vector<float> values = floatConstant(graph, v);
  if (values.empty()) return std::nullopt;
  const Dims& c = graph.value(v).dims;
  if (c.nbDims > x.nbDims) return std::nullopt;
  const int32_t offset = x.nbDims - c.nbDims;
  for (int32_t i = 0; i < c.nbDims; ++i) {
    const int32_t dim = i + offset;
    if (dim < axis ? c[i] != 1 : (c[i] != 1 && c[i] != x[dim])) return std::nullopt;
  }
  // Broadcast over the normalized dims [axis, rank).
  Dims inner;
  for (int32_t d = axis; d < x.nbDims; ++d) inner[inner.nbDims++] = x[d];
  std::optional<std::vector<std::byte>> storage =
      context.newConstant(graph, inner, DataType::kFLOAT);
  if (!storage || storage->empty()) return std::nullopt;
  const std::span<float> out = floatsOf(*storage);
  const auto count = static_cast<int64_t>(out.size());
  for (int64_t i = 0; i < count; ++i) {
    int64_t rest = i, index = 0, stride = 1;
    for (int32_t d = inner.nbDims - 1; d >= 0; --d) {
      const int64_t coord = rest % inner[d];
      rest /= inner[d];
      const int32_t cd = axis + d - offset;
      if (cd >= 0 && c[cd] != 1) index += coord * stride;
      if (cd >= 0) stride *= c[cd];
    }
    out[static_cast<std::size_t>(i)] = values[static_cast<std::size_t>(index)];
  }
  return storage;
}

}  // namespace

int32_t fuseLayerNorm(ir::Graph& graph, const PassContext& context) {
  int32_t changes = 0;
  Uses uses(graph);
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& mean = graph.nodes[n];
    if (mean.outputs.size() != 1 || mean.inputs.empty()) continue;
    const int32_t axis = trailingMeanAxis(graph, mean);
    if (axis < 0) continue;
    const ir::ValueId x = mean.inputs[0];
    const Dims xDims = graph.value(x).dims;
    if (graph.value(x).dtype != DataType::kFLOAT) continue;
    std::vector<ir::NodeId> nodes = {static_cast<ir::NodeId>(n)};

    const ir::Node* sub = soleUserOp(graph, uses, mean.outputs[0], "ElementWise");
    if (sub == nullptr || !isElementWise(*sub, ElementWiseOperation::kSUB) || sub->inputs[0] != x ||
        sub->inputs[1] != mean.outputs[0]) {
      continue;
    }
    const ir::ValueId d = sub->outputs[0];
    if (graph.isGraphOutput(d) || uses.of(d).size() < 2) continue;
    nodes.push_back(idOf(graph, sub));
    // d is read by the square (once or twice) and the division.
    const ir::Node* square = nullptr;
    const ir::Node* div = nullptr;
    for (ir::NodeId user : uses.of(d)) {
      const ir::Node& u = graph.node(user);
      if (isElementWise(u, ElementWiseOperation::kPOW) && u.inputs[0] == d &&
          withConstant(graph, u, 2.0, 1) == d) {
        square = &u;
      } else if (isElementWise(u, ElementWiseOperation::kPROD) && u.inputs[0] == d &&
                 u.inputs[1] == d) {
        square = &u;
      } else if (isElementWise(u, ElementWiseOperation::kDIV) && u.inputs[0] == d) {
        div = &u;
      } else {
        square = div = nullptr;
        break;
      }
    }
    if (square == nullptr || div == nullptr) continue;
    nodes.push_back(idOf(graph, square));
    const ir::Node* var = soleUserOp(graph, uses, square->outputs[0], "Reduce");
    if (var == nullptr || trailingMeanAxis(graph, *var) != axis) continue;
    nodes.push_back(idOf(graph, var));
    const ir::Node* addEps = soleUserOp(graph, uses, var->outputs[0], "ElementWise");
    if (addEps == nullptr || !isElementWise(*addEps, ElementWiseOperation::kSUM)) continue;
    const ir::ValueId epsValue =
        addEps->inputs[0] == var->outputs[0] ? addEps->inputs[1] : addEps->inputs[0];
    double epsilon = 0;
    if (!uniformConstant(graph, epsValue, epsilon) || epsilon < 0) continue;
    nodes.push_back(idOf(graph, addEps));
    const ir::Node* sqrt = soleUserOp(graph, uses, addEps->outputs[0], "Unary");
    if (sqrt == nullptr ||
        sqrt->attrs.getEnum("op", UnaryOperation::kEXP) != UnaryOperation::kSQRT ||
        !uses.onlyUser(sqrt->outputs[0], idOf(graph, div)) || div->inputs[1] != sqrt->outputs[0]) {
      continue;
    }
    nodes.push_back(idOf(graph, sqrt));
    nodes.push_back(idOf(graph, div));
    if (!(graph.value(div->outputs[0]).dims == xDims)) continue;

    // Optional affine part.
    ir::ValueId result = div->outputs[0];
    std::optional<std::vector<std::byte>> gamma, beta;
    if (const ir::Node* mul = soleUserOp(graph, uses, result, "ElementWise");
        mul != nullptr && isElementWise(*mul, ElementWiseOperation::kPROD)) {
      const ir::ValueId g = mul->inputs[0] == result ? mul->inputs[1] : mul->inputs[0];
      gamma = normalizedConstant(graph, g, xDims, axis, context);
      if (gamma && graph.value(mul->outputs[0]).dims == xDims) {
        nodes.push_back(idOf(graph, mul));
        result = mul->outputs[0];
      } else {
        gamma.reset();
      }
    }
    if (const ir::Node* add = soleUserOp(graph, uses, result, "ElementWise");
        add != nullptr && isElementWise(*add, ElementWiseOperation::kSUM)) {
      const ir::ValueId b = add->inputs[0] == result ? add->inputs[1] : add->inputs[0];
      beta = normalizedConstant(graph, b, xDims, axis, context);
      if (beta && graph.value(add->outputs[0]).dims == xDims) {
        nodes.push_back(idOf(graph, add));
      } else {
        beta.reset();
      }
    }

    std::vector<std::string> names;
    for (ir::NodeId id : nodes) {
      for (const auto& name : graph.node(id).fusedFrom) names.push_back(name);
    }
    const ir::NodeId last = nodes.back();
    const std::string name = graph.node(last).name;
    Dims inner;
    for (int32_t i = axis; i < xDims.nbDims; ++i) inner[inner.nbDims++] = xDims[i];
    ir::ValueId g = ir::kNoValue, b = ir::kNoValue;
    if (gamma) g = addFloatConstant(graph, name + "_gamma", inner, std::move(*gamma));
    if (beta) b = addFloatConstant(graph, name + "_beta", inner, std::move(*beta));
    for (ir::NodeId id : nodes) {
      if (id != last) removeNode(graph, id);
    }
    ir::Node& node = graph.node(last);
    node.op = "LayerNorm";
    node.attrs = ir::Attributes{};
    node.attrs.set("axis", static_cast<int64_t>(axis));
    node.attrs.set("epsilon", epsilon);
    node.inputs = {x, g, b};
    while (node.inputs.back() == ir::kNoValue) node.inputs.pop_back();
    node.fusedFrom = names;
    context.log("recognized LayerNorm in " + joinNames(names) + " as '" + name + "'");
    ++changes;
    uses.refresh();
  }
  return changes;
}

}  // namespace kiln::builder
