// The public runtime API: Runtime, Engine, ExecutionContext. Every entry point catches the
// library's errors and reports them; nothing throws to the caller.
#include "kiln/runtime.h"

#include <cstring>

#include "core/error.h"
#include "core/thread_pool.h"
#include "plan/plan_io.h"
#include "runtime/context_impl.h"

namespace kiln {

// ---------------------------------------------------------------------------------------------
// Engine

Engine::Engine(std::shared_ptr<detail::EngineImpl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

int32_t Engine::nbIOTensors() const {
  return static_cast<int32_t>(impl_->ioTensors().size());
}

std::string_view Engine::ioTensorName(int32_t index) const {
  const auto& io = impl_->ioTensors();
  if (index < 0 || static_cast<std::size_t>(index) >= io.size()) return {};
  return io[static_cast<std::size_t>(index)].name;
}

TensorIOMode Engine::tensorIOMode(std::string_view name) const {
  const int32_t i = impl_->findIO(name);
  return i < 0 ? TensorIOMode::kNONE : impl_->ioTensors()[static_cast<std::size_t>(i)].mode;
}

Dims Engine::tensorShape(std::string_view name) const {
  const int32_t i = impl_->findIO(name);
  if (i < 0) {
    Dims unknown;
    unknown.nbDims = -1;
    return unknown;
  }
  return impl_->plan().graph.value(impl_->ioTensors()[static_cast<std::size_t>(i)].value).dims;
}

DataType Engine::tensorDataType(std::string_view name) const {
  const int32_t i = impl_->findIO(name);
  if (i < 0) return DataType::kFLOAT;
  return impl_->plan().graph.value(impl_->ioTensors()[static_cast<std::size_t>(i)].value).dtype;
}

int32_t Engine::nbLayers() const {
  return static_cast<int32_t>(impl_->plan().graph.nodes.size());
}

std::size_t Engine::deviceMemorySize() const {
  return static_cast<std::size_t>(impl_->plan().memory.arenaBytes) + impl_->workspaceBytes();
}

DeviceType Engine::deviceType() const {
  return impl_->plan().target.device;
}

std::vector<std::byte> Engine::serialize() const {
  try {
    return plan::writePlan(impl_->plan());
  } catch (const Error& e) {
    impl_->reporter().error(e.code(), std::string("Engine::serialize: ") + e.what());
  } catch (const std::exception& e) {
    impl_->reporter().error(ErrorCode::kINTERNAL_ERROR,
                            std::string("Engine::serialize: ") + e.what());
  }
  return {};
}

std::unique_ptr<ExecutionContext> Engine::createExecutionContext() {
  try {
    return std::make_unique<ExecutionContext>(std::make_unique<detail::ContextImpl>(impl_, *this));
  } catch (const std::bad_alloc&) {
    impl_->reporter().error(ErrorCode::kFAILED_ALLOCATION,
                            "createExecutionContext: out of memory for " +
                                std::to_string(deviceMemorySize()) + " bytes of activations");
  } catch (const std::exception& e) {
    impl_->reporter().error(ErrorCode::kINTERNAL_ERROR,
                            std::string("createExecutionContext: ") + e.what());
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// ExecutionContext

ExecutionContext::ExecutionContext(std::unique_ptr<detail::ContextImpl> impl)
    : impl_(std::move(impl)) {}
ExecutionContext::~ExecutionContext() = default;

bool ExecutionContext::setTensorAddress(std::string_view name, void* data) {
  const auto& engine = impl_->engine();
  const int32_t i = engine.findIO(name);
  if (i < 0) {
    engine.reporter().error(
        ErrorCode::kINVALID_ARGUMENT,
        "setTensorAddress: the engine has no input or output named '" + std::string(name) + "'");
    return false;
  }
  if (data == nullptr) {
    engine.reporter().error(ErrorCode::kINVALID_ARGUMENT,
                            "setTensorAddress: null address for '" + std::string(name) + "'");
    return false;
  }
  impl_->setAddress(i, data);
  return true;
}

bool ExecutionContext::setInputTensorAddress(std::string_view name, const void* data) {
  const auto& engine = impl_->engine();
  const int32_t i = engine.findIO(name);
  if (i >= 0 && engine.ioTensors()[static_cast<std::size_t>(i)].mode != TensorIOMode::kINPUT) {
    engine.reporter().error(ErrorCode::kINVALID_ARGUMENT,
                            "setInputTensorAddress: '" + std::string(name) + "' is an output");
    return false;
  }
  // Inputs are only read; the const_cast never leads to a write.
  return setTensorAddress(name, const_cast<void*>(data));
}

const void* ExecutionContext::tensorAddress(std::string_view name) const {
  const int32_t i = impl_->engine().findIO(name);
  return i < 0 ? nullptr : impl_->address(i);
}

Dims ExecutionContext::tensorShape(std::string_view name) const {
  return impl_->publicEngine().tensorShape(name);
}

bool ExecutionContext::enqueueV3(void* /*stream*/) {
  try {
    impl_->execute();
    return true;
  } catch (const Error& e) {
    impl_->engine().reporter().error(e.code(), std::string("inference failed: ") + e.what());
  } catch (const std::exception& e) {
    impl_->engine().reporter().error(ErrorCode::kFAILED_EXECUTION,
                                     std::string("inference failed: ") + e.what());
  }
  return false;
}

bool ExecutionContext::executeV2(std::span<void* const> bindings) {
  const auto& io = impl_->engine().ioTensors();
  if (bindings.size() != io.size()) {
    impl_->engine().reporter().error(ErrorCode::kINVALID_ARGUMENT,
                                     "executeV2: got " + std::to_string(bindings.size()) +
                                         " bindings; the engine has " + std::to_string(io.size()) +
                                         " inputs and outputs");
    return false;
  }
  for (std::size_t i = 0; i < io.size(); ++i) {
    if (!setTensorAddress(io[i].name, bindings[i])) return false;
  }
  return enqueueV3(nullptr);
}

const Engine& ExecutionContext::engine() const noexcept {
  return impl_->publicEngine();
}

// ---------------------------------------------------------------------------------------------
// Runtime

struct Runtime::Impl {
  explicit Impl(Logger& logger) : reporter(logger) {}
  Reporter reporter;
  int32_t nbThreads = 0;
  ModelLimits limits;
  // Shared by every engine this runtime loads; made at the first load with nbThreads threads.
  std::shared_ptr<ThreadPool> threads;
};

Runtime::Runtime(Logger& logger) : impl_(std::make_unique<Impl>(logger)) {}
Runtime::~Runtime() = default;

std::unique_ptr<Engine> Runtime::deserialize(std::span<const std::byte> bytes) {
  try {
    plan::EnginePlan plan = plan::readPlan(bytes, impl_->limits);
    plan::checkTarget(plan.target);
    if (!impl_->threads) impl_->threads = std::make_shared<ThreadPool>(impl_->nbThreads);
    auto impl =
        std::make_shared<detail::EngineImpl>(std::move(plan), impl_->reporter, impl_->threads);
    return std::make_unique<Engine>(std::move(impl));
  } catch (const Error& e) {
    impl_->reporter.error(e.code(), std::string("cannot load plan: ") + e.what());
  } catch (const std::bad_alloc&) {
    impl_->reporter.error(ErrorCode::kFAILED_ALLOCATION, "cannot load plan: out of memory");
  } catch (const std::exception& e) {
    impl_->reporter.error(ErrorCode::kINTERNAL_ERROR, std::string("cannot load plan: ") + e.what());
  }
  return nullptr;
}

void Runtime::setNbThreads(int32_t threads) {
  impl_->nbThreads = threads < 0 ? 0 : threads;
  // Engines already loaded keep the pool they have; later loads get one of the new size.
  if (impl_->threads && impl_->threads->size() != impl_->nbThreads) impl_->threads.reset();
}
int32_t Runtime::nbThreads() const {
  return impl_->nbThreads;
}
void Runtime::setModelLimits(const ModelLimits& limits) noexcept {
  impl_->limits = limits;
}
const ModelLimits& Runtime::modelLimits() const noexcept {
  return impl_->limits;
}
void Runtime::setErrorRecorder(ErrorRecorder* recorder) noexcept {
  impl_->reporter.setRecorder(recorder);
}
Logger& Runtime::logger() noexcept {
  return impl_->reporter.logger();
}

}  // namespace kiln
