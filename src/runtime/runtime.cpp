// The public runtime API: Runtime, Engine, ExecutionContext. Every entry point catches the
// library's errors and reports them; nothing throws to the caller.
#include "kiln/runtime.h"

#include <algorithm>
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
  return impl_->genericDims(i);
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
  std::size_t bytes = 0;
  for (std::size_t p = 0; p < impl_->nbProfiles(); ++p) {
    bytes = std::max(bytes, impl_->contextBytes(p));
  }
  return bytes;
}

std::size_t Engine::deviceMemorySizeForProfile(int32_t profile) const {
  if (profile < 0 || static_cast<std::size_t>(profile) >= impl_->nbProfiles()) return 0;
  return impl_->contextBytes(static_cast<std::size_t>(profile));
}

int32_t Engine::nbOptimizationProfiles() const {
  return static_cast<int32_t>(impl_->nbProfiles());
}

Dims Engine::profileShape(std::string_view name, int32_t profile, OptProfileSelector which) const {
  Dims unknown;
  unknown.nbDims = -1;
  const int32_t i = impl_->findIO(name);
  if (i < 0 || profile < 0 || static_cast<std::size_t>(profile) >= impl_->nbProfiles() ||
      static_cast<uint32_t>(which) > 2) {
    return unknown;
  }
  const plan::InputRange* range = impl_->range(static_cast<std::size_t>(profile), i);
  if (range == nullptr || range->shapeTensor) return impl_->genericDims(i);
  return range->dims[static_cast<std::size_t>(which)];
}

std::vector<int64_t> Engine::profileTensorValues(std::string_view name, int32_t profile,
                                                 OptProfileSelector which) const {
  const int32_t i = impl_->findIO(name);
  if (i < 0 || profile < 0 || static_cast<std::size_t>(profile) >= impl_->nbProfiles() ||
      static_cast<uint32_t>(which) > 2) {
    return {};
  }
  const plan::InputRange* range = impl_->range(static_cast<std::size_t>(profile), i);
  if (range == nullptr || !range->shapeTensor) return {};
  return range->values[static_cast<std::size_t>(which)];
}

bool Engine::isShapeInferenceIO(std::string_view name) const {
  const int32_t i = impl_->findIO(name);
  return i >= 0 && impl_->ioTensors()[static_cast<std::size_t>(i)].shapeTensor;
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

std::unique_ptr<ExecutionContext> Engine::createExecutionContextWithoutDeviceMemory() {
  return createExecutionContext(ExecutionContextAllocationStrategy::kUSER_MANAGED);
}

std::unique_ptr<ExecutionContext> Engine::createExecutionContext(
    ExecutionContextAllocationStrategy strategy) {
  try {
    if (static_cast<uint32_t>(strategy) > 2) {
      fail(ErrorCode::kINVALID_ARGUMENT, "unknown allocation strategy ",
           static_cast<int32_t>(strategy));
    }
    return std::make_unique<ExecutionContext>(
        std::make_unique<detail::ContextImpl>(impl_, *this, strategy));
  } catch (const Error& e) {
    impl_->reporter().error(e.code(), std::string("createExecutionContext: ") + e.what());
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
  const int32_t i = impl_->engine().findIO(name);
  if (i < 0) {
    Dims unknown;
    unknown.nbDims = -1;
    return unknown;
  }
  return impl_->tensorShape(i);
}

namespace {
// Runs @p body, reporting a library error under @p api; false when it failed.
template <typename Body>
bool reported(const detail::EngineImpl& engine, std::string_view api, Body&& body) {
  try {
    body();
    return true;
  } catch (const Error& e) {
    engine.reporter().error(e.code(), std::string(api) + ": " + e.what());
  } catch (const std::bad_alloc&) {
    engine.reporter().error(ErrorCode::kFAILED_ALLOCATION, std::string(api) + ": out of memory");
  } catch (const std::exception& e) {
    engine.reporter().error(ErrorCode::kINTERNAL_ERROR, std::string(api) + ": " + e.what());
  }
  return false;
}
}  // namespace

bool ExecutionContext::setOptimizationProfile(int32_t profile) {
  return reported(impl_->engine(), "setOptimizationProfile",
                  [&] { impl_->setOptimizationProfile(profile); });
}

int32_t ExecutionContext::optimizationProfile() const noexcept {
  return impl_->optimizationProfile();
}

bool ExecutionContext::setInputShape(std::string_view name, const Dims& dims) {
  return reported(impl_->engine(), "setInputShape", [&] {
    const int32_t i = impl_->engine().findIO(name);
    if (i < 0) {
      fail(ErrorCode::kINVALID_ARGUMENT, "the engine has no input named '", name, "'");
    }
    impl_->setInputShape(i, dims);
  });
}

bool ExecutionContext::allInputDimensionsSpecified() const {
  return impl_->allInputDimensionsSpecified();
}

bool ExecutionContext::setDeviceMemory(void* memory) {
  // As TensorRT: the memory is Engine::deviceMemorySize() bytes, enough for every profile.
  return setDeviceMemoryV2(memory, static_cast<int64_t>(engine().deviceMemorySize()));
}

bool ExecutionContext::setDeviceMemoryV2(void* memory, int64_t bytes) {
  return reported(impl_->engine(), "setDeviceMemory", [&] {
    if (bytes < 0) fail(ErrorCode::kINVALID_ARGUMENT, "negative size ", bytes);
    impl_->setDeviceMemory(memory, static_cast<std::size_t>(bytes));
  });
}

bool ExecutionContext::enqueueV3(void* stream) {
  return run(stream, /*wait=*/false);
}

bool ExecutionContext::run(void* stream, bool wait) {
  try {
    impl_->execute(stream, wait);
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
  return run(nullptr, /*wait=*/true);
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
  Allocator* allocator = nullptr;
  int32_t gpuDevice = 0;
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
    auto impl = std::make_shared<detail::EngineImpl>(
        std::move(plan), impl_->reporter, impl_->threads, impl_->allocator, impl_->gpuDevice);
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

void Runtime::setAllocator(Allocator* allocator) noexcept {
  impl_->allocator = allocator;
}

void Runtime::setNbThreads(int32_t threads) {
  impl_->nbThreads = threads < 0 ? 0 : threads;
  // Engines already loaded keep the pool they have; later loads get one of the new size.
  if (impl_->threads && impl_->threads->size() != impl_->nbThreads) impl_->threads.reset();
}
int32_t Runtime::nbThreads() const {
  return impl_->nbThreads;
}
void Runtime::setGpuDevice(int32_t index) noexcept {
  impl_->gpuDevice = index;
}
int32_t Runtime::gpuDevice() const noexcept {
  return impl_->gpuDevice;
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
