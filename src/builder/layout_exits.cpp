#include "builder/layout_exits.h"

#include <cstddef>
#include <string>

namespace kiln::builder {

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
