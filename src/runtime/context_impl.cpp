#include "runtime/context_impl.h"

#include <chrono>
#include <new>

#include "core/error.h"

namespace kiln::detail {

namespace {
// Clears the running flag however execute() leaves.
class RunningGuard {
 public:
  explicit RunningGuard(std::atomic<bool>& flag) : flag_(flag) {
    if (flag_.exchange(true)) {
      fail(ErrorCode::kINVALID_STATE,
           "this execution context is already running on another thread; use one context per "
           "thread");
    }
  }
  ~RunningGuard() { flag_.store(false); }
  RunningGuard(const RunningGuard&) = delete;
  RunningGuard& operator=(const RunningGuard&) = delete;

 private:
  std::atomic<bool>& flag_;
};
}  // namespace

ContextImpl::ContextImpl(std::shared_ptr<const EngineImpl> engine, const Engine& publicEngine)
    : engine_(std::move(engine)), publicEngine_(&publicEngine) {
  addresses_.assign(engine_->ioTensors().size(), nullptr);
  arena_.resize(static_cast<std::size_t>(engine_->plan().memory.arenaBytes));
  workspace_.resize(engine_->workspaceBytes());
}

void ContextImpl::execute() {
  RunningGuard guard(running_);
  const plan::EnginePlan& plan = engine_->plan();
  const ir::Graph& graph = plan.graph;
  const auto& io = engine_->ioTensors();

  // Where every value lives for this execution.
  std::vector<void*> location(graph.values.size(), nullptr);
  for (std::size_t v = 0; v < graph.values.size(); ++v) {
    const ir::Value& value = graph.values[v];
    if (value.isConstant()) {
      location[v] = const_cast<std::byte*>(value.constant->data());
    } else if (plan.memory.valueOffsets[v] >= 0) {
      location[v] = arena_.data() + plan.memory.valueOffsets[v];
    }
  }
  for (std::size_t i = 0; i < io.size(); ++i) {
    if (addresses_[i] == nullptr && volume(graph.value(io[i].value).dims) > 0) {
      fail(ErrorCode::kINVALID_STATE, "no address is set for ",
           io[i].mode == TensorIOMode::kINPUT ? "input" : "output", " '", io[i].name,
           "' (call setTensorAddress first)");
    }
    // The builder guarantees outputs are written by layers (never inputs or constants).
    location[static_cast<std::size_t>(io[i].value)] = addresses_[i];
  }

  std::vector<ir::TensorView> inputs;
  std::vector<ir::TensorView> outputs;
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& node = graph.nodes[n];
    inputs.clear();
    outputs.clear();
    for (ir::ValueId v : node.inputs) {
      if (v == ir::kNoValue) {
        inputs.push_back({DataType::kFLOAT, Dims{}, nullptr, false});
      } else {
        const ir::Value& value = graph.value(v);
        inputs.push_back({value.dtype, value.dims, location[static_cast<std::size_t>(v)], true});
      }
    }
    for (ir::ValueId v : node.outputs) {
      const ir::Value& value = graph.value(v);
      outputs.push_back({value.dtype, value.dims, location[static_cast<std::size_t>(v)], true});
    }
    const ir::KernelContext ctx{
        node, inputs, outputs, workspace_.data(), workspace_.size(), &engine_->threads()};
    try {
      if (profiler_ == nullptr) {
        engine_->kernel(n).execute(ctx);
      } else {
        const auto start = std::chrono::steady_clock::now();
        engine_->kernel(n).execute(ctx);
        profiler_->reportLayerTime(node.name, std::chrono::duration<float, std::milli>(
                                                  std::chrono::steady_clock::now() - start)
                                                  .count());
      }
    } catch (const Error& e) {
      fail(e.code(), "layer '", node.name, "' (", node.op, "): ", e.what());
    } catch (const std::bad_alloc&) {
      fail(ErrorCode::kFAILED_ALLOCATION, "layer '", node.name, "' (", node.op, "): out of memory");
    } catch (const std::exception& e) {
      fail(ErrorCode::kFAILED_EXECUTION, "layer '", node.name, "' (", node.op, "): ", e.what());
    }
  }
}

}  // namespace kiln::detail
