// gelu-fusion: the GELU of exported transformers, written out in elementary layers, becomes one
// Activation (kGELU_ERF or kGELU_TANH):
//   erf form:  0.5 * x * (1 + erf(x / sqrt 2))        (x / sqrt 2 may be x * (1 / sqrt 2))
//   tanh form: 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))
// with the 0.5 applied first, to x, or last. Every intermediate must be read only inside the
// pattern.
#include <numbers>
#include <vector>

#include "builder/passes/passes.h"
#include "builder/passes/pattern_util.h"

namespace kiln::builder {

namespace {

struct Match {
  ir::ValueId x = ir::kNoValue;
  std::vector<ir::NodeId> nodes;  // the pattern, the last one writes the result
};

// From the (1 + f) node on: (1 + f) * x * 0.5 in any of the usual orders. Appends the nodes.
bool matchTail(const ir::Graph& graph, const Uses& uses, ir::NodeId plusOne, Match& m) {
  const ir::Node* mul = soleUserOp(graph, uses, graph.node(plusOne).outputs[0], "ElementWise");
  if (mul == nullptr || !isElementWise(*mul, ElementWiseOperation::kPROD)) return false;
  const ir::ValueId s = graph.node(plusOne).outputs[0];
  const ir::ValueId other = mul->inputs[0] == s ? mul->inputs[1] : mul->inputs[0];
  m.nodes.push_back(idOf(graph, mul));
  if (other == m.x) {
    // ((1 + f) * x) * 0.5
    const ir::Node* half = soleUserOp(graph, uses, mul->outputs[0], "ElementWise");
    if (half == nullptr || !isElementWise(*half, ElementWiseOperation::kPROD) ||
        withConstant(graph, *half, 0.5) != mul->outputs[0]) {
      return false;
    }
    m.nodes.push_back(idOf(graph, half));
    return true;
  }
  if (const ir::Node* h = producerOf(graph, other, "ElementWise");
      h != nullptr && isElementWise(*h, ElementWiseOperation::kPROD) &&
      withConstant(graph, *h, 0.5) == m.x && uses.onlyUser(other, idOf(graph, mul))) {
    // (1 + f) * (0.5 * x)
    m.nodes.push_back(idOf(graph, h));
    std::swap(m.nodes[m.nodes.size() - 1], m.nodes[m.nodes.size() - 2]);
    return true;
  }
  double value = 0;
  if (uniformConstant(graph, other, value) && std::fabs(value - 0.5) < 1e-6) {
    // ((1 + f) * 0.5) * x
    const ir::Node* last = soleUserOp(graph, uses, mul->outputs[0], "ElementWise");
    if (last == nullptr || !isElementWise(*last, ElementWiseOperation::kPROD)) return false;
    const ir::ValueId o = last->inputs[0] == mul->outputs[0] ? last->inputs[1] : last->inputs[0];
    if (o != m.x) return false;
    m.nodes.push_back(idOf(graph, last));
    return true;
  }
  return false;
}

// f -> 1 + f, then the tail.
bool matchOnePlus(const ir::Graph& graph, const Uses& uses, ir::ValueId f, Match& m) {
  const ir::Node* add = soleUserOp(graph, uses, f, "ElementWise");
  if (add == nullptr || !isElementWise(*add, ElementWiseOperation::kSUM) ||
      withConstant(graph, *add, 1.0) != f) {
    return false;
  }
  m.nodes.push_back(idOf(graph, add));
  return matchTail(graph, uses, idOf(graph, add), m);
}

bool matchErf(const ir::Graph& graph, const Uses& uses, const ir::Node& erf, Match& m) {
  if (erf.op != "Unary" || erf.attrs.getEnum("op", UnaryOperation::kEXP) != UnaryOperation::kERF) {
    return false;
  }
  const ir::NodeId scaleId = producerId(graph, erf.inputs[0]);
  if (scaleId == ir::kNoNode || !uses.onlyUser(erf.inputs[0], idOf(graph, &erf))) return false;
  const ir::Node& scale = graph.node(scaleId);
  std::optional<ir::ValueId> x;
  if (isElementWise(scale, ElementWiseOperation::kDIV)) {
    x = withConstant(graph, scale, std::numbers::sqrt2, 1);
  } else if (isElementWise(scale, ElementWiseOperation::kPROD)) {
    x = withConstant(graph, scale, 1.0 / std::numbers::sqrt2);
  }
  if (!x) return false;
  m.x = *x;
  m.nodes = {scaleId, idOf(graph, &erf)};
  return matchOnePlus(graph, uses, erf.outputs[0], m);
}

bool matchTanh(const ir::Graph& graph, const Uses& uses, const ir::Node& tanh, Match& m) {
  if (tanh.op != "Activation" ||
      tanh.attrs.getEnum("type", ActivationType::kRELU) != ActivationType::kTANH) {
    return false;
  }
  // sqrt(2 / pi) * inner
  const ir::NodeId outerId = producerId(graph, tanh.inputs[0]);
  if (outerId == ir::kNoNode || !uses.onlyUser(tanh.inputs[0], idOf(graph, &tanh))) return false;
  const ir::Node& outer = graph.node(outerId);
  if (!isElementWise(outer, ElementWiseOperation::kPROD)) return false;
  const auto inner = withConstant(graph, outer, std::sqrt(2.0 / std::numbers::pi), -1, 1e-3);
  if (!inner) return false;
  // x + 0.044715 * x^3
  const ir::NodeId sumId = producerId(graph, *inner);
  if (sumId == ir::kNoNode || !uses.onlyUser(*inner, outerId)) return false;
  const ir::Node& sum = graph.node(sumId);
  if (!isElementWise(sum, ElementWiseOperation::kSUM)) return false;
  for (int side = 0; side < 2; ++side) {
    const ir::ValueId x = sum.inputs[static_cast<std::size_t>(side)];
    const ir::ValueId cubicTerm = sum.inputs[static_cast<std::size_t>(1 - side)];
    const ir::NodeId termId = producerId(graph, cubicTerm);
    if (termId == ir::kNoNode || !uses.onlyUser(cubicTerm, sumId)) continue;
    const ir::Node& term = graph.node(termId);
    if (!isElementWise(term, ElementWiseOperation::kPROD)) continue;
    const auto cube = withConstant(graph, term, 0.044715, -1, 1e-3);
    if (!cube) continue;
    const ir::NodeId powId = producerId(graph, *cube);
    if (powId == ir::kNoNode || !uses.onlyUser(*cube, termId)) continue;
    const ir::Node& pow = graph.node(powId);
    if (!isElementWise(pow, ElementWiseOperation::kPOW) || withConstant(graph, pow, 3.0, 1) != x) {
      continue;
    }
    m.x = x;
    m.nodes = {powId, termId, sumId, outerId, idOf(graph, &tanh)};
    return matchOnePlus(graph, uses, tanh.outputs[0], m);
  }
  return false;
}

}  // namespace

int32_t fuseGelu(ir::Graph& graph, const PassContext& context) {
  int32_t changes = 0;
  Uses uses(graph);
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    Match m;
    bool erf = true;
    if (!matchErf(graph, uses, graph.nodes[n], m)) {
      m = Match{};
      erf = false;
      if (!matchTanh(graph, uses, graph.nodes[n], m)) continue;
    }
    if (graph.value(m.x).dtype != DataType::kFLOAT) continue;
    std::vector<std::string> names;
    for (ir::NodeId id : m.nodes) {
      for (const auto& name : graph.node(id).fusedFrom) names.push_back(name);
    }
    const ir::NodeId last = m.nodes.back();
    for (ir::NodeId id : m.nodes) {
      if (id != last) removeNode(graph, id);
    }
    ir::Node& node = graph.node(last);
    node.op = "Activation";
    node.attrs = ir::Attributes{};
    node.attrs.set("type", erf ? ActivationType::kGELU_ERF : ActivationType::kGELU_TANH);
    node.inputs = {m.x};
    node.fusedFrom = names;
    context.log(std::string("recognized GELU (") + (erf ? "erf" : "tanh") + ") in " +
                joinNames(names) + " as '" + node.name + "'");
    ++changes;
    uses.refresh();
  }
  return changes;
}

}  // namespace kiln::builder
