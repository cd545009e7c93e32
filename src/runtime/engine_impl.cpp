#include "runtime/engine_impl.h"

#include <algorithm>

#include "core/error.h"

namespace kiln::detail {

NodeShapes nodeShapes(const ir::Graph& graph, const ir::Node& node) {
  NodeShapes shapes;
  for (ir::ValueId v : node.inputs) {
    ir::TensorInfo info;
    if (v == ir::kNoValue) {
      info.present = false;
    } else {
      const ir::Value& value = graph.value(v);
      info.dtype = value.dtype;
      info.dims = value.dims;
      info.constData = value.isConstant() ? value.constant->data() : nullptr;
    }
    shapes.inputs.push_back(info);
  }
  for (ir::ValueId v : node.outputs) {
    const ir::Value& value = graph.value(v);
    shapes.outputs.push_back({true, value.dtype, value.dims, nullptr});
  }
  return shapes;
}

EngineImpl::EngineImpl(plan::EnginePlan plan, const Reporter& reporter,
                       std::shared_ptr<ThreadPool> threads)
    : plan_(std::move(plan)), reporter_(reporter), threads_(std::move(threads)) {
  if (!threads_) threads_ = std::make_shared<ThreadPool>(0);
  const ir::Graph& graph = plan_.graph;
  for (ir::ValueId v : graph.inputs) io_.push_back({graph.value(v).name, v, TensorIOMode::kINPUT});
  for (ir::ValueId v : graph.outputs) {
    io_.push_back({graph.value(v).name, v, TensorIOMode::kOUTPUT});
  }
  if (plan_.tactics.size() != graph.nodes.size()) {
    fail(ErrorCode::kINVALID_PLAN, "the plan names ", plan_.tactics.size(), " tactics for ",
         graph.nodes.size(), " layers");
  }
  const auto& registry = backends::TacticRegistry::instance();
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& node = graph.nodes[n];
    const backends::Tactic* tactic = registry.find(node.op, plan_.tactics[n]);
    if (tactic == nullptr) {
      fail(ErrorCode::kINVALID_PLAN, "layer '", node.name, "' (", node.op, ") uses tactic '",
           plan_.tactics[n], "', which this build of kiln does not have");
    }
    const NodeShapes shapes = nodeShapes(graph, node);
    const backends::NodeSpec spec{node, shapes.inputs, shapes.outputs};
    if (!tactic->supports(spec)) {
      fail(ErrorCode::kINVALID_PLAN, "layer '", node.name, "' (", node.op, "): tactic '",
           plan_.tactics[n], "' does not support it");
    }
    kernels_.push_back(tactic->instantiate(spec));
    workspaceBytes_ = std::max(workspaceBytes_, kernels_.back()->workspaceBytes());
  }
}

int32_t EngineImpl::findIO(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < io_.size(); ++i) {
    if (io_[i].name == name) return static_cast<int32_t>(i);
  }
  return -1;
}

}  // namespace kiln::detail
