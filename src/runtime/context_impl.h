// ContextImpl: per-inference state of one ExecutionContext (bindings, arena, workspace).
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "core/aligned_buffer.h"
#include "kiln/runtime.h"
#include "runtime/engine_impl.h"

namespace kiln {
class Engine;
}

namespace kiln::detail {

class ContextImpl {
 public:
  ContextImpl(std::shared_ptr<const EngineImpl> engine, const Engine& publicEngine);

  const EngineImpl& engine() const noexcept { return *engine_; }
  const Engine& publicEngine() const noexcept { return *publicEngine_; }

  void setAddress(int32_t ioIndex, void* data) {
    addresses_[static_cast<std::size_t>(ioIndex)] = data;
  }
  void* address(int32_t ioIndex) const { return addresses_[static_cast<std::size_t>(ioIndex)]; }

  void setProfiler(Profiler* profiler) noexcept { profiler_ = profiler; }
  Profiler* profiler() const noexcept { return profiler_; }

  //! Runs every node in order. Throws Error naming the layer that failed; kINVALID_STATE when
  //! an IO address is missing or another thread is running this context.
  void execute();

 private:
  std::shared_ptr<const EngineImpl> engine_;
  const Engine* publicEngine_;
  std::vector<void*> addresses_;  // per IO tensor
  AlignedBuffer arena_;
  AlignedBuffer workspace_;
  std::atomic<bool> running_{false};
  Profiler* profiler_ = nullptr;
};

}  // namespace kiln::detail
