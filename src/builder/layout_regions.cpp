#include "builder/layout_regions.h"

#include <cstddef>
#include <string>

#include "ops/epilogue.h"

namespace kiln::builder {

bool extraInputsFit(const ir::Graph& graph, const ir::Node& node,
                    const std::function<bool(ir::ValueId)>& residualFits) {
  const ops::Epilogue epilogue = ops::Epilogue::of(node.attrs);
  for (std::size_t i = 2; i < node.inputs.size(); ++i) {
    const ir::ValueId v = node.inputs[i];
    if (v == ir::kNoValue) continue;
    const bool residual =
        epilogue.residualInput && static_cast<std::size_t>(*epilogue.residualInput) == i;
    if (residual ? !residualFits(v) : !graph.value(v).isConstant()) return false;
  }
  return true;
}

void routeRegionExits(ir::Graph& graph, const std::vector<bool>& regionNodes,
                      const std::vector<bool>& regionValues,
                      const std::function<ir::ValueId(ir::ValueId)>& exitOf,
                      std::string_view suffix) {
  const std::vector<std::vector<ir::NodeId>> consumers = graph.consumers();
  for (std::size_t v = 0; v < regionValues.size(); ++v) {
    if (!regionValues[v]) continue;
    const auto id = static_cast<ir::ValueId>(v);
    for (ir::NodeId c : consumers[v]) {
      const auto ci = static_cast<std::size_t>(c);
      if (ci < regionNodes.size() && regionNodes[ci]) continue;
      for (ir::ValueId& in : graph.node(c).inputs) {
        if (in == id) in = exitOf(id);
      }
    }
    for (ir::ValueId& out : graph.outputs) {
      if (out != id) continue;
      const ir::ValueId fresh = exitOf(id);
      const std::string userName = graph.value(id).name;
      if (graph.value(fresh).name != userName) {
        graph.value(id).name = userName + std::string(suffix);
        graph.value(fresh).name = userName;
      }
      out = fresh;
    }
  }
}

}  // namespace kiln::builder
