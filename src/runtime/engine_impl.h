// EngineImpl: a loaded engine (plan + instantiated kernels), shared by its contexts.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backends/tactic.h"
#include "core/reporter.h"
#include "core/thread_pool.h"
#include "plan/engine_plan.h"

namespace kiln::detail {

class EngineImpl {
 public:
  struct IOTensor {
    std::string name;
    ir::ValueId value;
    TensorIOMode mode;
  };

  //! Instantiates every node's kernel from its tactic name; throws kINVALID_PLAN naming the
  //! layer when a tactic is unknown or does not support the node.
  //! Kernels run on @p threads (shared with the runtime's other engines); null gives the engine a
  //! pool of its own with one thread per physical core.
  EngineImpl(plan::EnginePlan plan, const Reporter& reporter,
             std::shared_ptr<ThreadPool> threads = nullptr);

  const plan::EnginePlan& plan() const noexcept { return plan_; }
  const std::vector<IOTensor>& ioTensors() const noexcept { return io_; }
  //! Index into ioTensors(), or -1.
  int32_t findIO(std::string_view name) const noexcept;
  const backends::Kernel& kernel(std::size_t node) const { return *kernels_[node]; }
  std::size_t workspaceBytes() const noexcept { return workspaceBytes_; }
  const Reporter& reporter() const noexcept { return reporter_; }
  ThreadPool& threads() const noexcept { return *threads_; }

 private:
  plan::EnginePlan plan_;
  std::vector<IOTensor> io_;
  std::vector<std::unique_ptr<backends::Kernel>> kernels_;
  std::size_t workspaceBytes_ = 0;
  Reporter reporter_;
  std::shared_ptr<ThreadPool> threads_;
};

//! Shapes of a node's inputs and outputs as NodeSpec wants them.
struct NodeShapes {
  std::vector<ir::TensorInfo> inputs;
  std::vector<ir::TensorInfo> outputs;
};
NodeShapes nodeShapes(const ir::Graph& graph, const ir::Node& node);

}  // namespace kiln::detail
