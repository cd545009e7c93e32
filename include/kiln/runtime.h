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

//! Memory for engines and contexts (TensorRT's IGpuAllocator). Set one on a Runtime or a
//! Builder to place every execution context's activation memory and workspace where the
//! application wants it (CPU engines: host memory). Both calls may come from any thread at any
//! time while an engine or context made with it lives; the allocator must outlive them.
class Allocator {
 public:
  virtual ~Allocator() = default;
  //! @p size bytes aligned to @p alignment (a power of two); null when it cannot.
  virtual void* allocate(std::size_t size, std::size_t alignment) noexcept = 0;
  //! Frees memory from allocate; true on success.
  virtual bool deallocate(void* memory) noexcept = 0;
};

//! Memory for an output whose size is known only while inference runs (TensorRT's
//! IOutputAllocator): outputs of data-dependent shape (NonZero, Unique, NMS, ...), whose
//! Engine::tensorShape has -1 extents, or any output the application wants to place late. Set
//! one per output with ExecutionContext::setOutputAllocator; it is called from the thread
//! running the inference, once the output's size is known, and must outlive its use.
class OutputAllocator {
 public:
  virtual ~OutputAllocator() = default;
  //! Memory of at least @p size bytes (never 0, even for an empty tensor) aligned to
  //! @p alignment for output @p tensorName, which inference then writes; null fails the
  //! inference. @p currentMemory is what this call returned for the output last time (or the
  //! address set with setTensorAddress; null the first time): return it when it is large enough.
  virtual void* reallocateOutput(std::string_view tensorName, void* currentMemory, uint64_t size,
                                 uint64_t alignment) noexcept {
    return nullptr;
  }
  //! As reallocateOutput, on @p stream (the one given to enqueueV3; CPU engines: ignored).
  //! kiln calls this one; by default it calls reallocateOutput.
  virtual void* reallocateOutputAsync(std::string_view tensorName, void* currentMemory,
                                      uint64_t size, uint64_t alignment, void* stream) noexcept {
    return reallocateOutput(tensorName, currentMemory, size, alignment);
  }
  //! The real shape of output @p tensorName in the inference that just ran (after it is
  //! written).
  virtual void notifyShape(std::string_view tensorName, const Dims& dims) noexcept = 0;
};

//! Who provides a new context's activation memory (TensorRT's
//! ExecutionContextAllocationStrategy).
enum class ExecutionContextAllocationStrategy : int32_t {
  kSTATIC = 0,             //!< the context allocates enough for every profile, once
  kON_PROFILE_CHANGE = 1,  //!< the context allocates for its current profile
  kUSER_MANAGED = 2,       //!< the application calls ExecutionContext::setDeviceMemory
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
  //! name, kind (its op), fused_from (the network layers it stands for), tactic, elided (it
  //! moves no bytes, so inference skips it: a reshape on its input's memory, a concatenation
  //! whose inputs were written into their slices; for a dynamic engine, at the stored plan's
  //! shapes), precision, and its inputs and outputs (name, type, shape, format, and whether each
  //! is a constant).
  //! Empty for an index out of range.
  std::string layerInformation(int32_t layerIndex, LayerInformationFormat format) const;
  //! Every layer: one line each (kONELINE), or {"layers": [...]} (kJSON).
  std::string engineInformation(LayerInformationFormat format) const;
  //! Bytes of activation memory and workspace one execution context needs, for the largest
  //! profile.
  std::size_t deviceMemorySize() const;
  //! The same for optimization profile @p profile (its max shapes); 0 for a bad index.
  std::size_t deviceMemorySizeForProfile(int32_t profile) const;

  //! Optimization profiles (1 for an engine built without dynamic inputs).
  int32_t nbOptimizationProfiles() const;
  //! Shape @p which of input @p name in profile @p profile; for an input of fixed shape its
  //! shape; nbDims = -1 for an unknown name or profile.
  Dims profileShape(std::string_view name, int32_t profile, OptProfileSelector which) const;
  //! Values @p which of shape-tensor input @p name in profile @p profile; empty otherwise.
  std::vector<int64_t> profileTensorValues(std::string_view name, int32_t profile,
                                           OptProfileSelector which) const;
  //! True for a shape-tensor input: its values, read on the host when inference starts, decide
  //! shapes (bind it with setInputTensorAddress to host memory).
  bool isShapeInferenceIO(std::string_view name) const;
  DeviceType deviceType() const;

  //! Plan bytes that Runtime::deserialize turns back into this engine.
  std::vector<std::byte> serialize() const;

  //! A new context that owns its activation memory; null on failure.
  std::unique_ptr<ExecutionContext> createExecutionContext(
      ExecutionContextAllocationStrategy strategy = ExecutionContextAllocationStrategy::kSTATIC);
  //! A new context without activation memory: call ExecutionContext::setDeviceMemory before
  //! running it.
  std::unique_ptr<ExecutionContext> createExecutionContextWithoutDeviceMemory();

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

  //! Shape of an IO tensor in this context: an input's shape as set (or fixed), an output's as
  //! the current input shapes (and shape-tensor values) give it; -1 extents while unknown. An
  //! output of data-dependent shape has -1 there until an inference ran at these shapes, then
  //! the shape that inference gave it.
  Dims tensorShape(std::string_view name) const;

  //! Places output @p name through @p allocator from the next inference on (null: back to
  //! setTensorAddress). An output of data-dependent shape needs either an allocator or an
  //! address from setTensorAddress with room for its upper bound (the engine's
  //! layerInformation shows it; kiln inspect); the inference fails naming the output when it
  //! has neither. False (and a logged error) for an unknown name or an input.
  bool setOutputAllocator(std::string_view name, OutputAllocator* allocator);
  //! The allocator set for output @p name; null when none is set (or for another name).
  OutputAllocator* outputAllocator(std::string_view name) const;

  //! Selects optimization profile @p profile (0 by default) for later inferences; input shapes
  //! set before are forgotten. False (the reason logged) for a bad index, or when the context's
  //! memory (kON_PROFILE_CHANGE: allocated now; user memory: too small) cannot hold it.
  bool setOptimizationProfile(int32_t profile);
  int32_t optimizationProfile() const noexcept;

  //! Shape of dynamic input @p name for later inferences. False, with an error naming the
  //! input, the shape and the profile's range, when it is outside the current profile.
  bool setInputShape(std::string_view name, const Dims& dims);
  //! True when every dynamic input has a shape set.
  bool allInputDimensionsSpecified() const;

  //! Activation memory for a context made with createExecutionContextWithoutDeviceMemory (or
  //! kUSER_MANAGED): Engine::deviceMemorySize() bytes (enough for every profile), 64-byte
  //! aligned, owned by the caller and not used by anything else while inferences run.
  bool setDeviceMemory(void* memory);
  //! As setDeviceMemory, for @p bytes: at least Engine::deviceMemorySizeForProfile(current
  //! profile). Shape-tensor values beyond what the profile's min and max build may need more; a
  //! run that does is refused, naming both sizes.
  bool setDeviceMemoryV2(void* memory, int64_t bytes);

  //! Runs inference with the addresses set by setTensorAddress. GPU engines enqueue the work
  //! on @p stream (a cudaStream_t; null: the default stream) and return without waiting for
  //! it; their tensor addresses are device memory, except shape-tensor inputs, which are read
  //! on the host. CPU engines ignore @p stream and run synchronously.
  bool enqueueV3(void* stream = nullptr);

  //! Runs inference synchronously (GPU engines: on the default stream, waited for) with one
  //! address per IO tensor, in Engine IO order.
  bool executeV2(std::span<void* const> bindings);

  const Engine& engine() const noexcept;

  //! Times every layer of every later inference and reports it to @p profiler (null: stop).
  //! The profiler must outlive its use by this context.
  void setProfiler(Profiler* profiler) noexcept;
  Profiler* profiler() const noexcept;

  explicit ExecutionContext(std::unique_ptr<detail::ContextImpl> impl);

 private:
  bool run(void* stream, bool wait);

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

  //! Memory for the contexts of engines loaded after this call (null: kiln's own).
  void setAllocator(Allocator* allocator) noexcept;

  //! Threads for CPU kernels of engines loaded by this runtime (0 = one per physical core).
  void setNbThreads(int32_t threads);
  int32_t nbThreads() const;

  //! The CUDA device that GPU engines loaded after this call run on (default 0). A GPU plan
  //! loads only on a GPU of the name and compute capability it was built for.
  void setGpuDevice(int32_t index) noexcept;
  int32_t gpuDevice() const noexcept;

  void setErrorRecorder(ErrorRecorder* recorder) noexcept;
  Logger& logger() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln
