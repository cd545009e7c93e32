// Specialization: an engine's graph at concrete input shapes, with a kernel ready for every
// layer and its activation memory planned. A static engine has exactly one; a dynamic engine
// makes one for every set of input shapes (and shape-tensor values) its contexts run with.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "backends/tactic.h"
#include "core/reporter.h"
#include "plan/engine_plan.h"
#include "runtime/device_constants.h"

namespace kiln::detail {

//! A concrete value for one input of a profile: a dynamic input's shape, or the values of a
//! shape-tensor input.
struct InputBinding {
  std::string name;
  bool shapeTensor = false;
  Dims dims;
  std::vector<int64_t> values;
  std::vector<double> floatValues;  //!< those of a float32 shape tensor (values empty)

  friend bool operator==(const InputBinding&, const InputBinding&) = default;
};

//! The bindings of @p inputs (a profile's ranges) at their @p which shapes or values.
std::vector<InputBinding> bindingsAt(std::span<const plan::InputRange> inputs,
                                     OptProfileSelector which);

//! @p value as short as it reads back exactly (float shape-tensor values in messages).
std::string floatText(double value);

//! True when some range of @p inputs is a shape-tensor input.
bool hasShapeTensor(std::span<const plan::InputRange> inputs);

//! The constant bytes of shape-tensor @p binding's values as @p type (int32, int64, or float32
//! from its floatValues); throws kINVALID_ARGUMENT when a value does not fit int32.
ir::ConstantBytes shapeTensorBytes(const InputBinding& binding, DataType type);

//! @p graph with every binding applied (a dynamic input takes its shape, a shape-tensor
//! constant its values) and every shape inferred again. Throws kINVALID_ARGUMENT naming the
//! layer whose shapes the bindings break.
ir::Graph specializeGraph(const ir::Graph& graph, std::span<const InputBinding> bindings);

class Specialization {
 public:
  //! The graph exactly as @p plan stores it, with its tactics and memory plan. Throws
  //! kINVALID_PLAN naming the layer when a tactic is unknown or does not fit. Constants are
  //! read where @p constants puts them.
  Specialization(const plan::EnginePlan& plan, DeviceConstants& constants);
  //! @p plan's graph at @p bindings, with profile @p profile's tactics (a tactic that does not
  //! support a layer at these shapes gives way to one that does) and memory planned anew.
  Specialization(const plan::EnginePlan& plan, std::size_t profile,
                 std::span<const InputBinding> bindings, const Reporter& reporter,
                 DeviceConstants& constants);

  const ir::Graph& graph() const noexcept { return graph_; }
  const std::vector<std::string>& tactics() const noexcept { return tactics_; }
  const plan::MemoryPlan& memory() const noexcept { return memory_; }
  const backends::Kernel& kernel(std::size_t node) const { return *kernels_[node]; }
  //! Whether layer @p node moves no bytes: a reshape whose output the memory plan puts on its
  //! input's bytes, or a concatenation whose inputs it puts in their slices of the output
  //! (builder::elidedNodes), so that running it would copy bytes onto themselves.
  bool elided(std::size_t node) const { return elided_[node]; }
  std::size_t workspaceBytes() const noexcept { return workspaceBytes_; }
  //! Host scratch the kernels need: each kernel has a block of its own, because a GPU kernel's
  //! host work runs later than its enqueue (a stream callback), when the next kernels have
  //! already been enqueued and may have written their own blocks.
  std::size_t hostWorkspaceBytes() const noexcept { return hostWorkspaceBytes_; }
  //! Where kernel @p node's block of the host scratch starts.
  std::size_t hostWorkspaceOffset(std::size_t node) const { return hostOffsets_[node]; }
  //! Where constant value @p v lives on the engine's device; null for other values.
  void* constantAddress(std::size_t v) const noexcept { return constantAddresses_[v]; }
  //! Arena and workspace together, as a context lays them out (each 64-byte aligned).
  std::size_t contextBytes() const noexcept;

 private:
  //! @p prepared: the plan's prepared weights per node (empty: every kernel prepares its own).
  void instantiate(const Reporter* fallbackReporter,
                   std::span<const std::vector<backends::PreparedBuffer>> prepared);
  void locateConstants(DeviceConstants& constants);

  ir::Graph graph_;
  std::vector<std::string> tactics_;
  plan::MemoryPlan memory_;
  std::vector<std::unique_ptr<backends::Kernel>> kernels_;
  std::size_t workspaceBytes_ = 0;
  std::size_t hostWorkspaceBytes_ = 0;
  std::vector<std::size_t> hostOffsets_;  // per node
  std::vector<void*> constantAddresses_;  // per value
  std::vector<bool> elided_;              // per node
};

//! Bytes a context needs for @p arena and @p workspace bytes laid out one after the other.
std::size_t contextBytes(uint64_t arena, uint64_t workspace) noexcept;

}  // namespace kiln::detail
