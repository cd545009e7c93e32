#include "runtime/context_impl.h"

#include <chrono>
#include <cstring>
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

std::string rangeText(const plan::InputRange& range) {
  const auto& min = range.dims[static_cast<std::size_t>(OptProfileSelector::kMIN)];
  const auto& max = range.dims[static_cast<std::size_t>(OptProfileSelector::kMAX)];
  return "min " + toString(min) + ", max " + toString(max);
}

std::string valuesText(const std::vector<int64_t>& values) {
  std::string text = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) text += ',';
    text += std::to_string(values[i]);
  }
  return text + "]";
}
std::string valuesText(const std::vector<double>& values) {
  std::string text = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) text += ',';
    text += floatText(values[i]);
  }
  return text + "]";
}

}  // namespace

// The values of float32 shape-tensor input @p range at host address @p data, checked to lie in
// the profile's range.
std::vector<double> ContextImpl::floatBinding(const plan::InputRange& range,
                                              const void* data) const {
  const auto& min = range.floatValues[static_cast<std::size_t>(OptProfileSelector::kMIN)];
  const auto& max = range.floatValues[static_cast<std::size_t>(OptProfileSelector::kMAX)];
  std::vector<double> values(min.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    float x = 0;
    std::memcpy(&x, static_cast<const std::byte*>(data) + i * sizeof(x), sizeof(x));
    values[i] = x;
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!(values[i] >= min[i] && values[i] <= max[i])) {
      fail(ErrorCode::kINVALID_ARGUMENT, "shape-tensor input '", range.name, "': values ",
           valuesText(values), " are outside optimization profile ", profile_, " (min ",
           valuesText(min), ", max ", valuesText(max), ")");
    }
  }
  return values;
}

ContextImpl::ContextImpl(std::shared_ptr<const EngineImpl> engine, const Engine& publicEngine,
                         ExecutionContextAllocationStrategy strategy)
    : engine_(std::move(engine)),
      publicEngine_(&publicEngine),
      strategy_(strategy),
      memory_(engine_->allocator(), engine_->device()) {
  const auto& io = engine_->ioTensors();
  addresses_.assign(io.size(), nullptr);
  for (const auto& tensor : io) {
    Dims dims = engine_->base().graph().value(tensor.value).dims;
    if (tensor.dynamic) dims.nbDims = -1;
    shapes_.push_back(dims);
  }
  if (strategy_ == ExecutionContextAllocationStrategy::kSTATIC) {
    std::size_t bytes = 0;
    for (std::size_t p = 0; p < engine_->nbProfiles(); ++p) {
      bytes = std::max(bytes, engine_->contextBytes(p));
    }
    memory_.reserve(bytes);
  } else if (strategy_ == ExecutionContextAllocationStrategy::kON_PROFILE_CHANGE) {
    memory_.reserve(engine_->contextBytes(0));
  }
}

void ContextImpl::setOptimizationProfile(int32_t profile) {
  if (profile < 0 || static_cast<std::size_t>(profile) >= engine_->nbProfiles()) {
    fail(ErrorCode::kINVALID_ARGUMENT, "optimization profile ", profile,
         " does not exist; the engine has ", engine_->nbProfiles());
  }
  const std::size_t needed = engine_->contextBytes(static_cast<std::size_t>(profile));
  if (memory_.isLent() && memory_.size() < needed) {
    fail(ErrorCode::kINVALID_ARGUMENT, "optimization profile ", profile, " needs ", needed,
         " bytes of context memory; the memory set with setDeviceMemory has ", memory_.size());
  }
  if (strategy_ == ExecutionContextAllocationStrategy::kON_PROFILE_CHANGE) {
    memory_.reserve(needed);
  }
  profile_ = profile;
  const auto& io = engine_->ioTensors();
  for (std::size_t i = 0; i < io.size(); ++i) {
    if (io[i].dynamic) shapes_[i].nbDims = -1;
  }
}

void ContextImpl::setInputShape(int32_t ioIndex, const Dims& dims) {
  const auto& tensor = engine_->ioTensors()[static_cast<std::size_t>(ioIndex)];
  if (tensor.mode != TensorIOMode::kINPUT || tensor.shapeTensor) {
    fail(ErrorCode::kINVALID_ARGUMENT, "'", tensor.name, "' is ",
         tensor.shapeTensor ? "a shape-tensor input: set its values in host memory with "
                              "setInputTensorAddress"
                            : "an output; outputs get their shapes from the inputs");
  }
  const plan::InputRange* range = engine_->range(static_cast<std::size_t>(profile_), ioIndex);
  if (range == nullptr) {
    const Dims& fixed = engine_->base().graph().value(tensor.value).dims;
    if (!(dims == fixed)) {
      fail(ErrorCode::kINVALID_ARGUMENT, "input '", tensor.name, "' has the fixed shape ",
           toString(fixed), "; it cannot take ", toString(dims));
    }
    return;
  }
  const Dims& min = range->dims[static_cast<std::size_t>(OptProfileSelector::kMIN)];
  const Dims& max = range->dims[static_cast<std::size_t>(OptProfileSelector::kMAX)];
  bool inside = dims.nbDims == min.nbDims;
  for (int32_t i = 0; inside && i < dims.nbDims; ++i) {
    inside = dims[i] >= min[i] && dims[i] <= max[i];
  }
  if (!inside) {
    fail(ErrorCode::kINVALID_ARGUMENT, "input '", tensor.name, "': shape ", toString(dims),
         " is outside optimization profile ", profile_, " (", rangeText(*range), ")");
  }
  shapes_[static_cast<std::size_t>(ioIndex)] = dims;
}

bool ContextImpl::allInputDimensionsSpecified() const noexcept {
  for (const Dims& dims : shapes_) {
    if (dims.nbDims < 0) return false;
  }
  return true;
}

std::vector<InputBinding> ContextImpl::bindings() const {
  std::vector<InputBinding> bindings;
  if (!engine_->isDynamic()) return bindings;
  const plan::Profile& profile = engine_->plan().profiles[static_cast<std::size_t>(profile_)];
  for (const plan::InputRange& range : profile.inputs) {
    const int32_t io = engine_->findIO(range.name);
    const auto index = static_cast<std::size_t>(io);
    InputBinding binding{range.name, range.shapeTensor, {}, {}, {}};
    if (!range.shapeTensor) {
      if (shapes_[index].nbDims < 0) {
        fail(ErrorCode::kINVALID_STATE, "input '", range.name,
             "' has no shape: call setInputShape (optimization profile ", profile_, " allows ",
             rangeText(range), ")");
      }
      binding.dims = shapes_[index];
    } else {
      const void* data = addresses_[index];
      if (data == nullptr) {
        fail(ErrorCode::kINVALID_STATE, "shape-tensor input '", range.name,
             "' has no address: set its values in host memory with setInputTensorAddress");
      }
      const ir::Value& value = engine_->base().graph().value(engine_->ioTensors()[index].value);
      if (value.dtype == DataType::kFLOAT) {
        binding.floatValues = floatBinding(range, data);
        bindings.push_back(std::move(binding));
        continue;
      }
      const std::size_t count = range.values[0].size();
      binding.values.resize(count);
      for (std::size_t i = 0; i < count; ++i) {
        if (value.dtype == DataType::kINT32) {
          int32_t x = 0;
          std::memcpy(&x, static_cast<const std::byte*>(data) + i * sizeof(x), sizeof(x));
          binding.values[i] = x;
        } else {
          std::memcpy(&binding.values[i], static_cast<const std::byte*>(data) + i * sizeof(int64_t),
                      sizeof(int64_t));
        }
      }
      for (std::size_t i = 0; i < count; ++i) {
        const int64_t lo = range.values[static_cast<std::size_t>(OptProfileSelector::kMIN)][i];
        const int64_t hi = range.values[static_cast<std::size_t>(OptProfileSelector::kMAX)][i];
        if (binding.values[i] < lo || binding.values[i] > hi) {
          fail(ErrorCode::kINVALID_ARGUMENT, "shape-tensor input '", range.name, "': values ",
               valuesText(binding.values), " are outside optimization profile ", profile_, " (min ",
               valuesText(range.values[0]), ", max ", valuesText(range.values[2]), ")");
        }
      }
    }
    bindings.push_back(std::move(binding));
  }
  return bindings;
}

std::shared_ptr<const Specialization> ContextImpl::currentSpecialization() const {
  if (!engine_->isDynamic()) return engine_->baseShared();
  return engine_->specialize(static_cast<std::size_t>(profile_), bindings());
}

Dims ContextImpl::tensorShape(int32_t ioIndex) const {
  const auto index = static_cast<std::size_t>(ioIndex);
  const auto& tensor = engine_->ioTensors()[index];
  if (tensor.mode == TensorIOMode::kINPUT) {
    if (tensor.shapeTensor) return engine_->base().graph().value(tensor.value).dims;
    if (shapes_[index].nbDims >= 0) return shapes_[index];
    Dims unknown = engine_->base().graph().value(tensor.value).dims;
    for (int32_t i = 0; i < unknown.nbDims; ++i) unknown[i] = -1;
    return unknown;
  }
  try {
    const auto spec = currentSpecialization();
    return outputAllocation_.shape(ioIndex, spec->graph().value(tensor.value), spec.get());
  } catch (const Error&) {
    Dims unknown = engine_->base().graph().value(tensor.value).dims;
    for (int32_t i = 0; i < unknown.nbDims; ++i) unknown[i] = -1;
    return unknown;
  }
}

void ContextImpl::setDeviceMemory(void* memory, std::size_t bytes) {
  if (memory == nullptr) fail(ErrorCode::kINVALID_ARGUMENT, "setDeviceMemory: null memory");
  // GPU libraries (cuBLASLt's workspace) need 256-byte alignment, as TensorRT asks of it.
  const std::size_t alignment =
      engine_->device().type() == DeviceType::kGPU ? std::size_t{256} : kBufferAlignment;
  if (reinterpret_cast<std::uintptr_t>(memory) % alignment != 0) {
    fail(ErrorCode::kINVALID_ARGUMENT, "setDeviceMemory: the memory must be ", alignment,
         "-byte aligned");
  }
  const std::size_t needed = engine_->contextBytes(static_cast<std::size_t>(profile_));
  if (bytes < needed) {
    fail(ErrorCode::kINVALID_ARGUMENT, "setDeviceMemory: ", bytes,
         " bytes is less than optimization profile ", profile_, " needs (", needed,
         "; Engine::deviceMemorySizeForProfile)");
  }
  memory_.lend(static_cast<std::byte*>(memory), bytes);
}

void ContextImpl::execute(void* stream, bool wait) {
  RunningGuard guard(running_);
  const backends::DeviceRuntime& device = engine_->device();
  device.makeCurrent(engine_->deviceIndex());
  if (auto error = asyncErrors_.take()) {
    fail(ErrorCode::kFAILED_EXECUTION, "an earlier inference of this context failed: ", *error);
  }
  const std::shared_ptr<const Specialization> specialization = currentSpecialization();
  const Specialization& spec = *specialization;
  // Work enqueued on a GPU may still read the specialization after this call returns.
  lastSpecialization_ = specialization;
  const ir::Graph& graph = spec.graph();
  const auto& io = engine_->ioTensors();

  const std::size_t needed = spec.contextBytes();
  if (memory_.size() < needed) {
    if (memory_.isLent() || strategy_ == ExecutionContextAllocationStrategy::kUSER_MANAGED) {
      fail(ErrorCode::kINVALID_STATE, "the context has ", memory_.size(),
           " bytes of memory; these shapes need ", needed,
           " (set it with setDeviceMemory; Engine::deviceMemorySizeForProfile gives the size)");
    }
    memory_.reserve(needed);
  }
  if (hostWorkspace_.size() < spec.hostWorkspaceBytes()) {
    // Work still queued may use the old block: wait for it before freeing.
    if (hostWorkspace_.size() > 0) device.synchronize(stream);
    hostWorkspace_ = backends::DeviceBuffer(device, spec.hostWorkspaceBytes(), /*host=*/true);
  }
  std::byte* arena = memory_.data();
  const std::size_t arenaBytes = contextBytes(spec.memory().arenaBytes, 0);
  std::byte* workspace = spec.workspaceBytes() > 0 ? arena + arenaBytes : nullptr;

  // Where every value lives for this execution.
  std::vector<void*> location(graph.values.size(), nullptr);
  for (std::size_t v = 0; v < graph.values.size(); ++v) {
    const ir::Value& value = graph.values[v];
    if (value.isConstant()) {
      location[v] = spec.constantAddress(v);
    } else if (spec.memory().valueOffsets[v] >= 0) {
      location[v] = arena + spec.memory().valueOffsets[v];
    }
  }
  outputAllocation_.begin(graph, specialization.get(), stream);
  for (std::size_t i = 0; i < io.size(); ++i) {
    if (io[i].shapeTensor) continue;  // a constant of the specialization
    if (addresses_[i] == nullptr && volume(graph.value(io[i].value).dims) > 0 &&
        !outputAllocation_.handles(static_cast<int32_t>(i))) {
      fail(ErrorCode::kINVALID_STATE, "no address is set for ",
           io[i].mode == TensorIOMode::kINPUT ? "input" : "output", " '", io[i].name,
           "' (call setTensorAddress first)");
    }
    // The builder guarantees outputs are written by layers (never inputs or constants).
    location[static_cast<std::size_t>(io[i].value)] = addresses_[i];
  }
  outputAllocation_.place(addresses_, location);

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
    const std::span<Dims> realDims = outputAllocation_.prepare(node, inputs, outputs);
    const ir::KernelContext ctx{
        node,
        inputs,
        outputs,
        workspace,
        spec.workspaceBytes(),
        &engine_->threads(),
        stream,
        spec.hostWorkspaceBytes() > 0
            ? static_cast<std::byte*>(hostWorkspace_.data()) + spec.hostWorkspaceOffset(n)
            : nullptr,
        &asyncErrors_,
        realDims};
    try {
      if (spec.elided(n) && inputs[0].data == outputs[0].data) {
        // A reshape on its input's bytes, or a concatenation whose producers wrote its output:
        // nothing to move (TensorRT reports such layers as not run at all; a zero time keeps one
        // entry per layer).
        if (profiler_ != nullptr) profiler_->reportLayerTime(node.name, 0.0f);
      } else if (profiler_ == nullptr) {
        spec.kernel(n).execute(ctx);
      } else {
        // Timed on the device (CUDA events: this waits for each layer).
        const double us = device.timeUs([&] { spec.kernel(n).execute(ctx); }, stream);
        profiler_->reportLayerTime(node.name, static_cast<float>(us / 1000.0));
      }
    } catch (const Error& e) {
      fail(e.code(), "layer '", node.name, "' (", node.op, "): ", e.what());
    } catch (const std::bad_alloc&) {
      fail(ErrorCode::kFAILED_ALLOCATION, "layer '", node.name, "' (", node.op, "): out of memory");
    } catch (const std::exception& e) {
      fail(ErrorCode::kFAILED_EXECUTION, "layer '", node.name, "' (", node.op, "): ", e.what());
    }
    outputAllocation_.record(node);
  }
  outputAllocation_.finish(addresses_, location);
  if (wait) {
    device.synchronize(stream);
    if (auto error = asyncErrors_.take()) fail(ErrorCode::kFAILED_EXECUTION, *error);
  }
}

}  // namespace kiln::detail
