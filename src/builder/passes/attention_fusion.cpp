// attention-fusion: scaled dot-product attention written out as
//   s = MatMul(Q, K or K^T); s = s / c (or s * c); [s = s + mask]; p = SoftMax(s, last axis);
//   y = MatMul(p, V)
// becomes one Attention node (ops/attention.cpp) when Q, K and V share their batch dims and every
// intermediate is read only inside the pattern.
#include <vector>

#include "builder/passes/passes.h"
#include "builder/passes/pattern_util.h"
#include "ops/epilogue.h"
#include "ops/softmax.h"

namespace kiln::builder {

namespace {

bool plainMatMul(const ir::Node& node) {
  return node.op == "MatrixMultiply" && node.inputs.size() == 2 &&
         ops::Epilogue::of(node.attrs).empty() &&
         node.attrs.getEnum("op0", MatrixOperation::kNONE) == MatrixOperation::kNONE;
}

bool broadcastsInto(const ir::Value& value, const Dims& target) {
  const Dims& d = value.dims;
  if (value.dtype != DataType::kFLOAT || d.nbDims > target.nbDims) return false;
  for (int32_t i = 0; i < d.nbDims; ++i) {
    const int64_t t = target[target.nbDims - d.nbDims + i];
    if (d[i] != 1 && d[i] != t) return false;
  }
  return true;
}

// From the scores @p s (read by @p reader) back through uniform scales to a plain product;
// appends the scale nodes to @p nodes and multiplies @p scale. Null when the chain breaks.
const ir::Node* walkBack(const ir::Graph& graph, const Uses& uses, ir::ValueId s, ir::NodeId reader,
                         const Dims& scores, std::vector<ir::NodeId>& nodes, double& scale) {
  for (int step = 0; step < 3; ++step) {
    const ir::NodeId p = producerId(graph, s);
    if (p == ir::kNoNode || !uses.onlyUser(s, reader)) return nullptr;
    const ir::Node& node = graph.node(p);
    if (plainMatMul(node)) return &node;
    double c = 0;
    if (isElementWise(node, ElementWiseOperation::kDIV) &&
        uniformConstant(graph, node.inputs[1], c) && c != 0) {
      scale /= c;
      s = node.inputs[0];
    } else if (isElementWise(node, ElementWiseOperation::kPROD) &&
               uniformConstant(graph, node.inputs[1], c)) {
      scale *= c;
      s = node.inputs[0];
    } else if (isElementWise(node, ElementWiseOperation::kPROD) &&
               uniformConstant(graph, node.inputs[0], c)) {
      scale *= c;
      s = node.inputs[1];
    } else {
      return nullptr;
    }
    if (!(graph.value(s).dims == scores)) return nullptr;
    nodes.push_back(p);
    reader = p;
  }
  return nullptr;
}

}  // namespace

int32_t fuseAttention(ir::Graph& graph, const PassContext& context) {
  int32_t changes = 0;
  Uses uses(graph);
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& softmax = graph.nodes[n];
    if (softmax.op != "SoftMax" || softmax.inputs.size() != 1) continue;
    const Dims scores = graph.value(softmax.inputs[0]).dims;
    const int32_t rank = scores.nbDims;
    if (rank < 2) continue;
    int64_t axis = softmax.attrs.getInt("axis", ops::softmaxDefaultAxis(rank));
    if (axis < 0) axis += rank;
    if (axis != rank - 1) continue;
    const auto softmaxId = static_cast<ir::NodeId>(n);

    // Walk back: an optional mask add, then scales, then the first product.
    std::vector<ir::NodeId> nodes = {softmaxId};
    ir::ValueId mask = ir::kNoValue;
    double scale = 1.0;
    const ir::Node* qk = nullptr;
    ir::ValueId s = softmax.inputs[0];
    ir::NodeId reader = softmaxId;
    if (const ir::NodeId p = producerId(graph, s);
        p != ir::kNoNode && uses.onlyUser(s, reader) &&
        isElementWise(graph.node(p), ElementWiseOperation::kSUM)) {
      const ir::Node& add = graph.node(p);
      for (int side = 0; side < 2 && qk == nullptr; ++side) {
        const ir::ValueId chain = add.inputs[static_cast<std::size_t>(side)];
        const ir::ValueId m = add.inputs[static_cast<std::size_t>(1 - side)];
        if (!(graph.value(chain).dims == scores) || !broadcastsInto(graph.value(m), scores)) {
          continue;
        }
        std::vector<ir::NodeId> walked = {p};
        double sc = 1.0;
        qk = walkBack(graph, uses, chain, p, scores, walked, sc);
        if (qk != nullptr) {
          nodes.insert(nodes.end(), walked.begin(), walked.end());
          scale = sc;
          mask = m;
        }
      }
    }
    if (qk == nullptr) qk = walkBack(graph, uses, s, reader, scores, nodes, scale);
    if (qk == nullptr || !(graph.value(qk->outputs[0]).dims == scores)) continue;
    nodes.push_back(idOf(graph, qk));

    const ir::Node* pv = soleUserOp(graph, uses, softmax.outputs[0], "MatrixMultiply");
    if (pv == nullptr || !plainMatMul(*pv) || pv->inputs[0] != softmax.outputs[0] ||
        pv->inputs[1] == softmax.outputs[0] ||
        pv->attrs.getEnum("op1", MatrixOperation::kNONE) != MatrixOperation::kNONE) {
      continue;
    }
    const ir::ValueId q = qk->inputs[0], k = qk->inputs[1], v = pv->inputs[1];
    const Dims& qd = graph.value(q).dims;
    const Dims& kd = graph.value(k).dims;
    const Dims& vd = graph.value(v).dims;
    if (qd.nbDims != rank || kd.nbDims != rank || vd.nbDims != rank) continue;
    bool sameBatch = true;
    for (int32_t i = 0; i < rank - 2; ++i)
      sameBatch = sameBatch && kd[i] == qd[i] && vd[i] == qd[i];
    if (!sameBatch) continue;
    const bool transposeK =
        qk->attrs.getEnum("op1", MatrixOperation::kNONE) == MatrixOperation::kTRANSPOSE;

    std::vector<std::string> names;
    for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
      for (const auto& name : graph.node(*it).fusedFrom) names.push_back(name);
    }
    for (const auto& name : pv->fusedFrom) names.push_back(name);
    const ir::NodeId last = idOf(graph, pv);
    for (ir::NodeId id : nodes) removeNode(graph, id);
    ir::Node& node = graph.node(last);
    node.op = "Attention";
    node.attrs = ir::Attributes{};
    node.attrs.set("scale", scale);
    node.attrs.set("transpose_k", static_cast<int64_t>(transposeK ? 1 : 0));
    node.inputs = {q, k, v};
    if (mask != ir::kNoValue) node.inputs.push_back(mask);
    node.fusedFrom = names;
    context.log("recognized attention in " + joinNames(names) + " as '" + node.name + "'");
    ++changes;
    uses.refresh();
  }
  return changes;
}

}  // namespace kiln::builder
