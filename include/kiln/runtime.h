// kiln — Runtime, Engine and ExecutionContext: load plans and run inference.
//
// An Engine is immutable and may be shared by many ExecutionContexts on many threads; one
// ExecutionContext is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/limits.h"
#include "kiln/logger.h"
#include "kiln/types.h"

namespace kiln {

namespace detail {
class EngineImpl;
class ContextImpl;
}  // namespace detail

class ExecutionContext;

//! How Engine::layerInformation and engineInformation describe layers (TensorRT's
//! LayerInformationFormat).
enum class LayerInformationFormat : int32_t {
  kONELINE = 0,  //!< one line of text per layer
  kJSON = 1,     //!< JSON: an object per layer; the engine as {"layers": [...]}
};

//! Receives the time of every layer of every inference of the contexts it is set on
//! (TensorRT's IProfiler). Called from the thread running the inference, after each layer.
class Profiler {
 public:
  virtual ~Profiler() = default;
  //! @p layerName: the engine layer (Engine::layerInformation names it); @p ms: its wall time.
  virtual void reportLayerTime(std::string_view layerName, float ms) noexcept = 0;
};

class Engine {
 public:
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  //! Inputs first, then outputs, each in network order.
  int32_t nbIOTensors() const;
  //! Empty for an index out of range.
  std::string_view ioTensorName(int32_t index) const;
  //! kNONE for a name that is not an IO tensor.
  TensorIOMode tensorIOMode(std::string_view name) const;
  //! rank 0 with nbDims = -1 for an unknown name.
  Dims tensorShape(std::string_view name) const;
  DataType tensorDataType(std::string_view name) const;

  //! Layers of the engine after optimization.
  int32_t nbLayers() const;

  //! Layer @p layerIndex (0 to nbLayers() - 1) of the engine (TensorRT's IEngineInspector):
  //! name, kind (its op), fused_from (the network layers it stands for), tactic, precision,
  //! and its inputs and outputs (name, type, shape, format, and whether each is a constant).
  //! Empty for an index out of range.
  std::string layerInformation(int32_t layerIndex, LayerInformationFormat format) const;
  //! Every layer: one line each (kONELINE), or {"layers": [...]} (kJSON).
  std::string engineInformation(LayerInformationFormat format) const;
  //! Bytes of activation memory one execution context needs.
  std::size_t deviceMemorySize() const;
  DeviceType deviceType() const;

  //! Plan bytes that Runtime::deserialize turns back into this engine.
  std::vector<std::byte> serialize() const;

  //! A new context that owns its activation memory; null on failure.
  std::unique_ptr<ExecutionContext> createExecutionContext();

  detail::EngineImpl& impl() noexcept { return *impl_; }
  const detail::EngineImpl& impl() const noexcept { return *impl_; }
  explicit Engine(std::shared_ptr<detail::EngineImpl> impl);

 private:
  std::shared_ptr<detail::EngineImpl> impl_;
};

class ExecutionContext {
 public:
  ~ExecutionContext();
  ExecutionContext(const ExecutionContext&) = delete;
  ExecutionContext& operator=(const ExecutionContext&) = delete;

  //! Binds an IO tensor by name to caller memory (CPU engines: host memory). False and a logged
  //! error for an unknown name or a null pointer.
  bool setTensorAddress(std::string_view name, void* data);
  bool setInputTensorAddress(std::string_view name, const void* data);
  const void* tensorAddress(std::string_view name) const;

  //! Shape of an IO tensor in this context.
  Dims tensorShape(std::string_view name) const;

  //! Runs inference with the addresses set by setTensorAddress. @p stream is the CUDA stream
  //! for GPU engines and is ignored by CPU engines, which run synchronously.
  bool enqueueV3(void* stream = nullptr);

  //! Runs inference synchronously with one address per IO tensor, in Engine IO order.
  bool executeV2(std::span<void* const> bindings);

  const Engine& engine() const noexcept;

  //! Times every layer of every later inference and reports it to @p profiler (null: stop).
  //! The profiler must outlive its use by this context.
  void setProfiler(Profiler* profiler) noexcept;
  Profiler* profiler() const noexcept;

  explicit ExecutionContext(std::unique_ptr<detail::ContextImpl> impl);

 private:
  std::unique_ptr<detail::ContextImpl> impl_;
};

class Runtime {
 public:
  //! @p logger must outlive the runtime and every engine it loads.
  explicit Runtime(Logger& logger);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  //! Validates @p plan completely, then loads it. Null (and a one-line error naming the
  //! problem) for a truncated, corrupted, foreign or newer plan.
  std::unique_ptr<Engine> deserialize(std::span<const std::byte> plan);

  //! Caps that deserialize checks plans against (plan size, tensor size, layer count) before
  //! allocating from any size a plan gives; a plan over a cap is refused naming it.
  void setModelLimits(const ModelLimits& limits) noexcept;
  const ModelLimits& modelLimits() const noexcept;

  //! Threads for CPU kernels of engines loaded by this runtime (0 = one per physical core).
  void setNbThreads(int32_t threads);
  int32_t nbThreads() const;

  void setErrorRecorder(ErrorRecorder* recorder) noexcept;
  Logger& logger() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln
