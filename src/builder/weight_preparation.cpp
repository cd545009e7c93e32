#include "builder/weight_preparation.h"

#include <algorithm>
#include <string>
#include <vector>

#include "backends/prepared_weights.h"
#include "backends/tactic.h"
#include "core/error.h"
#include "runtime/engine_impl.h"

namespace kiln::builder {

void prepareWeights(plan::EnginePlan& plan, const Reporter& reporter) {
  if (plan.target.device != DeviceType::kCPU || plan.isDynamic()) return;
  ir::Graph& graph = plan.graph;
  const auto& registry = backends::TacticRegistry::instance();
  plan.prepared.assign(graph.nodes.size(), {});
  // Per value: the input slots reading it, and those whose kernel absorbed it.
  std::vector<int64_t> readers(graph.values.size(), 0);
  std::vector<int64_t> absorbing(graph.values.size(), 0);
  uint64_t preparedBytes = 0;
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& node = graph.nodes[n];
    const backends::Tactic* tactic = registry.find(node.op, plan.tactics[n]);
    if (tactic == nullptr) {
      fail(ErrorCode::kINTERNAL_ERROR, "layer '", node.name, "': chosen tactic '", plan.tactics[n],
           "' is not registered");
    }
    const detail::NodeShapes shapes = detail::nodeShapes(graph, node);
    backends::PreparedWeights store;
    const backends::NodeSpec spec{node, shapes.inputs, shapes.outputs, &store};
    tactic->instantiate(spec);  // the kernel itself is not kept: the engine makes its own
    plan.prepared[n] = {store.buffers().begin(), store.buffers().end()};
    for (const auto& buffer : store.buffers()) preparedBytes += buffer->size();
    for (std::size_t i = 0; i < node.inputs.size(); ++i) {
      const ir::ValueId v = node.inputs[i];
      if (v == ir::kNoValue) continue;
      ++readers[static_cast<std::size_t>(v)];
      if (i < 64 && (store.absorbedInputs() >> i & 1U) != 0)
        ++absorbing[static_cast<std::size_t>(v)];
    }
  }
  const bool anyBuffer = std::any_of(plan.prepared.begin(), plan.prepared.end(),
                                     [](const auto& buffers) { return !buffers.empty(); });
  if (!anyBuffer) {
    plan.prepared.clear();  // no kernel prepares anything: the plan has no such section
    return;
  }
  uint64_t absorbedBytes = 0;
  for (std::size_t v = 0; v < graph.values.size(); ++v) {
    ir::Value& value = graph.values[v];
    if (!value.isConstant() || readers[v] == 0 || absorbing[v] != readers[v] ||
        graph.isGraphOutput(static_cast<ir::ValueId>(v))) {
      continue;
    }
    absorbedBytes += value.constant->size();
    value.absorbed = true;
    value.constant = std::make_shared<const std::vector<std::byte>>();
  }
  reporter.verbose("prepared weights: " + std::to_string(preparedBytes) +
                   " bytes stored packed for their kernels; " + std::to_string(absorbedBytes) +
                   " bytes of constants they absorbed left out");
}

}  // namespace kiln::builder
