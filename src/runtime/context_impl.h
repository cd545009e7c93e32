// ContextImpl: per-inference state of one ExecutionContext (bindings, profile, input shapes,
// activation memory).
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "core/async_errors.h"
#include "kiln/runtime.h"
#include "runtime/context_memory.h"
#include "runtime/engine_impl.h"
#include "runtime/output_allocation.h"
#include "runtime/specialization.h"

namespace kiln {
class Engine;
}

namespace kiln::detail {

class ContextImpl {
 public:
  ContextImpl(std::shared_ptr<const EngineImpl> engine, const Engine& publicEngine,
              ExecutionContextAllocationStrategy strategy);

  const EngineImpl& engine() const noexcept { return *engine_; }
  const Engine& publicEngine() const noexcept { return *publicEngine_; }

  void setAddress(int32_t ioIndex, void* data) {
    addresses_[static_cast<std::size_t>(ioIndex)] = data;
  }
  void* address(int32_t ioIndex) const { return addresses_[static_cast<std::size_t>(ioIndex)]; }

  void setProfiler(Profiler* profiler) noexcept { profiler_ = profiler; }
  Profiler* profiler() const noexcept { return profiler_; }
  //! Output allocators and data-dependent shapes (output_allocation.h).
  OutputAllocation& outputAllocation() noexcept { return outputAllocation_; }
  const OutputAllocation& outputAllocation() const noexcept { return outputAllocation_; }

  //! Throws kINVALID_ARGUMENT for a bad index; kFAILED_ALLOCATION when memory for it cannot be
  //! had (kON_PROFILE_CHANGE).
  void setOptimizationProfile(int32_t profile);
  int32_t optimizationProfile() const noexcept { return profile_; }
  //! Throws kINVALID_ARGUMENT naming the input, the shape and the profile's range.
  void setInputShape(int32_t ioIndex, const Dims& dims);
  bool allInputDimensionsSpecified() const noexcept;
  //! The shape of IO tensor @p ioIndex as far as the inputs set so far decide it.
  Dims tensorShape(int32_t ioIndex) const;
  //! Throws kINVALID_ARGUMENT when @p bytes is less than the current profile needs.
  void setDeviceMemory(void* memory, std::size_t bytes);

  //! Runs every node in order: enqueued on @p stream (a cudaStream_t; null: the default
  //! stream) for GPU engines, and waited for when @p wait. Throws Error naming the layer that
  //! failed; kINVALID_STATE when an IO address or input shape is missing, memory is not set,
  //! or another thread is running this context. Errors of host steps that ran after an
  //! earlier call returned are thrown by the next call.
  void execute(void* stream, bool wait);

 private:
  //! The bindings of the current profile from the shapes and shape-tensor values set; throws
  //! kINVALID_STATE naming what is missing.
  std::vector<InputBinding> bindings() const;
  std::vector<double> floatBinding(const plan::InputRange& range, const void* data) const;
  std::shared_ptr<const Specialization> currentSpecialization() const;

  std::shared_ptr<const EngineImpl> engine_;
  const Engine* publicEngine_;
  ExecutionContextAllocationStrategy strategy_;
  std::vector<void*> addresses_;  // per IO tensor
  std::vector<Dims> shapes_;      // per IO tensor: dynamic inputs' shapes (nbDims -1: unset)
  int32_t profile_ = 0;
  ContextMemory memory_;
  backends::DeviceBuffer hostWorkspace_;  // page-locked on GPUs: Kernel::hostWorkspaceBytes
  AsyncErrors asyncErrors_;
  std::shared_ptr<const Specialization> lastSpecialization_;
  std::atomic<bool> running_{false};
  Profiler* profiler_ = nullptr;
  OutputAllocation outputAllocation_{*engine_};
};

}  // namespace kiln::detail
