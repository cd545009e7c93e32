// constant-folding: a layer whose inputs are all constants is run at build time by its op's
// reference kernel and its outputs become constants, so whole constant subgraphs (weight
// transposes, shape arithmetic, mask preparation) disappear. Outputs larger than the context's
// limit stay computed at run time (a Tile of a small constant could otherwise bloat the plan).
#include <optional>
#include <vector>

#include "builder/passes/passes.h"
#include "core/error.h"
#include "core/shape_util.h"
#include "ir/op_registry.h"

namespace kiln::builder {

namespace {

bool foldable(const ir::Graph& graph, const ir::Node& node, uint64_t limit) {
  if (node.outputs.empty() || node.op == "Constant") return false;
  bool anyInput = false;
  for (ir::ValueId v : node.inputs) {
    if (v == ir::kNoValue) continue;
    if (!graph.value(v).isConstant()) return false;
    anyInput = true;
  }
  if (!anyInput) return false;
  uint64_t bytes = 0;
  for (ir::ValueId v : node.outputs) {
    if (graph.isGraphOutput(v)) return false;  // a layer must write every network output
    const ir::Value& value = graph.value(v);
    if (!isFullyKnown(value.dims) || value.boundedExtents != 0) return false;
    bytes += checkedByteSize(value.dims, value.dtype, value.name);
  }
  return bytes <= limit;
}

// Runs @p node on its constant inputs; false when the kernel refuses them (the layer then
// reports the problem at run time, as it would without this pass) or an output is refused by
// the context's constant limit.
bool evaluate(const ir::Graph& graph, const ir::Node& node, const PassContext& context,
              std::vector<std::vector<std::byte>>& results) {
  const ir::OpSchema* schema = ir::OpRegistry::instance().find(node.op);
  if (schema == nullptr || !schema->reference) return false;
  std::vector<ir::TensorView> inputs;
  for (ir::ValueId v : node.inputs) {
    if (v == ir::kNoValue) {
      inputs.push_back({DataType::kFLOAT, Dims{}, nullptr, false});
      continue;
    }
    const ir::Value& value = graph.value(v);
    // Kernels only read their inputs.
    inputs.push_back(
        {value.dtype, value.dims, const_cast<std::byte*>(value.constant->data()), true});
  }
  results.clear();
  results.reserve(node.outputs.size());
  std::vector<ir::TensorView> outputs;
  for (ir::ValueId v : node.outputs) {
    const ir::Value& value = graph.value(v);
    std::optional<std::vector<std::byte>> storage =
        context.newConstant(graph, value.dims, value.dtype);
    if (!storage) return false;
    results.push_back(std::move(*storage));
    outputs.push_back({value.dtype, value.dims, results.back().data(), true});
  }
  try {
    schema->reference(ir::KernelContext{node, inputs, outputs, nullptr, 0});
  } catch (const Error&) {
    return false;
  }
  return true;
}

}  // namespace

int32_t foldConstants(ir::Graph& graph, const PassContext& context) {
  int32_t changes = 0;
  std::vector<std::vector<std::byte>> results;
  // Node order is topological, so a folded output is constant by the time its readers come.
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& node = graph.nodes[n];
    if (!foldable(graph, node, context.constantFoldLimitBytes)) continue;
    if (!evaluate(graph, node, context, results)) continue;
    for (std::size_t o = 0; o < node.outputs.size(); ++o) {
      ir::Value& value = graph.value(node.outputs[o]);
      value.constant = std::make_shared<const std::vector<std::byte>>(std::move(results[o]));
      value.producer = ir::kNoNode;
    }
    context.log("folded layer '" + node.name + "' (" + node.op + ") into a constant");
    removeNode(graph, static_cast<ir::NodeId>(n));
    ++changes;
  }
  return changes;
}

}  // namespace kiln::builder
