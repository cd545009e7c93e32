// dead-layer-elimination: layers that pass their input through unchanged (Identity of the same
// type — which is also what Dropout imports as —, a Shuffle whose transposes are identities and
// whose output has the input's shape, a one-input Concatenation) are removed. Layers whose outputs
// nobody reads are pruned by the pass manager after every pass.
#include "builder/passes/passes.h"
#include "core/shape_util.h"

namespace kiln::builder {

namespace {

bool isIdentityPermutation(const ir::Attributes& attrs, std::string_view name) {
  if (!attrs.has(name)) return true;
  const auto perm = attrs.getInts(name);
  for (std::size_t i = 0; i < perm.size(); ++i) {
    if (perm[i] != static_cast<int64_t>(i)) return false;
  }
  return true;
}

bool sameDims(const Dims& a, const Dims& b) {
  if (a.nbDims != b.nbDims) return false;
  for (int32_t i = 0; i < a.nbDims; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

bool isNoOp(const ir::Graph& graph, const ir::Node& node) {
  if (node.inputs.empty() || node.outputs.size() != 1 || node.inputs[0] == ir::kNoValue) {
    return false;
  }
  const ir::Value& in = graph.value(node.inputs[0]);
  const ir::Value& out = graph.value(node.outputs[0]);
  if (in.dtype != out.dtype || !sameDims(in.dims, out.dims)) return false;
  if (node.op == "Identity") return node.inputs.size() == 1;
  if (node.op == "Shuffle") {
    return isIdentityPermutation(node.attrs, "first_perm") &&
           isIdentityPermutation(node.attrs, "second_perm");
  }
  if (node.op == "Concatenation") return node.inputs.size() == 1;
  return false;
}

}  // namespace

int32_t eliminateDeadLayers(ir::Graph& graph, const PassContext& context) {
  int32_t changes = 0;
  Uses uses(graph);
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& node = graph.nodes[n];
    if (!isNoOp(graph, node)) continue;
    const std::string name = node.name;
    const std::string op = node.op;
    if (bypassNode(graph, uses, static_cast<ir::NodeId>(n))) {
      context.log("removed no-op layer '" + name + "' (" + op + ")");
      ++changes;
      uses.refresh();
    }
  }
  return changes;
}

}  // namespace kiln::builder
