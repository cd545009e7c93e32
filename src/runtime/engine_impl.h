// EngineImpl: a loaded engine (plan + instantiated kernels), shared by its contexts.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "backends/device.h"
#include "backends/tactic.h"
#include "core/reporter.h"
#include "core/thread_pool.h"
#include "plan/engine_plan.h"
#include "runtime/device_constants.h"

namespace kiln {
class Allocator;
}

namespace kiln::detail {

class Specialization;
struct InputBinding;

class EngineImpl {
 public:
  struct IOTensor {
    std::string name;
    ir::ValueId value;  //!< in the plan's graph (and in every specialization of it)
    TensorIOMode mode;
    bool shapeTensor = false;  //!< values read on the host decide shapes
    bool dynamic = false;      //!< some extent varies with the optimization profile
  };

  //! Instantiates every node's kernel from its tactic name; throws kINVALID_PLAN naming the
  //! layer when a tactic is unknown or does not support the node. A dynamic plan is also
  //! specialized to each profile's min and max shapes, which checks that it runs there and
  //! sizes the profile's memory.
  //! Kernels run on @p threads (shared with the runtime's other engines); null gives the engine a
  //! pool of its own with one thread per physical core. Contexts take their memory from
  //! @p allocator (null: kiln's own).
  //! A GPU plan runs on CUDA device @p gpuDevice, which must be the GPU it was built for.
  EngineImpl(plan::EnginePlan plan, const Reporter& reporter,
             std::shared_ptr<ThreadPool> threads = nullptr, Allocator* allocator = nullptr,
             int32_t gpuDevice = 0);
  ~EngineImpl();

  const plan::EnginePlan& plan() const noexcept { return plan_; }
  const std::vector<IOTensor>& ioTensors() const noexcept { return io_; }
  //! Index into ioTensors(), or -1.
  int32_t findIO(std::string_view name) const noexcept;
  //! The graph as stored: the static engine, or a dynamic one at profile 0's opt shapes.
  const Specialization& base() const noexcept { return *base_; }
  std::shared_ptr<const Specialization> baseShared() const noexcept { return base_; }
  const Reporter& reporter() const noexcept { return reporter_; }
  ThreadPool& threads() const noexcept { return *threads_; }
  Allocator* allocator() const noexcept { return allocator_; }
  //! The device the engine runs on, and its index among that backend's devices.
  const backends::DeviceRuntime& device() const noexcept { return *device_; }
  int32_t deviceIndex() const noexcept { return deviceIndex_; }
  bool onGpu() const noexcept { return device_->type() == DeviceType::kGPU; }
  //! Bytes of constants on the device (0 on the CPU, where the plan's own copy is used).
  std::size_t constantDeviceBytes() const { return constants_->deviceBytes(); }

  bool isDynamic() const noexcept { return plan_.isDynamic(); }
  std::size_t nbProfiles() const noexcept { return isDynamic() ? plan_.profiles.size() : 1; }
  //! The range of IO tensor @p io in profile @p profile; null when it does not vary.
  const plan::InputRange* range(std::size_t profile, int32_t io) const;
  //! The shape of IO tensor @p io over all profiles: -1 where an extent varies.
  const Dims& genericDims(int32_t io) const {
    return genericDims_.at(static_cast<std::size_t>(io));
  }
  //! Bytes a context needs to run profile @p profile at its largest shapes.
  std::size_t contextBytes(std::size_t profile) const { return contextBytes_.at(profile); }
  //! The engine at @p bindings (every dynamic and shape-tensor input of @p profile), made on
  //! first use and kept for later calls (the most recent few). Thread-safe.
  std::shared_ptr<const Specialization> specialize(std::size_t profile,
                                                   std::vector<InputBinding> bindings) const;

 private:
  struct CacheEntry;

  plan::EnginePlan plan_;
  const backends::DeviceRuntime* device_ = nullptr;
  int32_t deviceIndex_ = 0;
  std::unique_ptr<DeviceConstants> constants_;
  std::vector<IOTensor> io_;
  std::shared_ptr<const Specialization> base_;
  std::vector<std::size_t> contextBytes_;  // per profile
  std::vector<Dims> genericDims_;          // per IO tensor
  Reporter reporter_;
  std::shared_ptr<ThreadPool> threads_;
  Allocator* allocator_ = nullptr;
  mutable std::mutex cacheMutex_;
  mutable std::vector<CacheEntry> cache_;  // most recently used last
};

//! Shapes of a node's inputs and outputs as NodeSpec wants them.
struct NodeShapes {
  std::vector<ir::TensorInfo> inputs;
  std::vector<ir::TensorInfo> outputs;
};
NodeShapes nodeShapes(const ir::Graph& graph, const ir::Node& node);

}  // namespace kiln::detail
