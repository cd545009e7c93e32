#include "runtime/output_allocation.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "core/error.h"
#include "core/shape_util.h"
#include "runtime/context_impl.h"

namespace kiln {

bool ExecutionContext::setOutputAllocator(std::string_view name, OutputAllocator* allocator) {
  const auto& engine = impl_->engine();
  const int32_t i = engine.findIO(name);
  if (i < 0 || engine.ioTensors()[static_cast<std::size_t>(i)].mode != TensorIOMode::kOUTPUT) {
    engine.reporter().error(
        ErrorCode::kINVALID_ARGUMENT,
        "setOutputAllocator: the engine has no output named '" + std::string(name) + "'");
    return false;
  }
  impl_->outputAllocation().setAllocator(i, allocator);
  return true;
}

OutputAllocator* ExecutionContext::outputAllocator(std::string_view name) const {
  const int32_t i = impl_->engine().findIO(name);
  return i < 0 ? nullptr : impl_->outputAllocation().allocator(i);
}

}  // namespace kiln

namespace kiln::detail {

Dims publishedDims(const ir::Value& value) {
  Dims dims = value.dims;
  for (int32_t i = 0; i < dims.nbDims; ++i) {
    if ((value.boundedExtents >> i) & 1u) dims[i] = -1;
  }
  return dims;
}

namespace {
std::size_t bytesOf(const Dims& dims, DataType type) {
  return static_cast<std::size_t>(std::max<int64_t>(volume(dims), 0)) * elementSize(type);
}
}  // namespace

OutputAllocation::OutputAllocation(const EngineImpl& engine)
    : engine_(engine),
      allocators_(engine.ioTensors().size(), nullptr),
      allocated_(engine.ioTensors().size(), nullptr),
      scratch_(engine.ioTensors().size()),
      found_(engine.ioTensors().size()) {}

void OutputAllocation::setAllocator(int32_t io, OutputAllocator* allocator) {
  const auto i = static_cast<std::size_t>(io);
  if (allocators_[i] != allocator) allocated_[i] = nullptr;  // not the new one's memory
  allocators_[i] = allocator;
}

void OutputAllocation::begin(const ir::Graph& graph, const void* key, void* stream) {
  graph_ = &graph;
  key_ = key;
  stream_ = stream;
  foundKey_ = nullptr;  // until this inference finishes
  active_ = std::any_of(allocators_.begin(), allocators_.end(),
                        [](const OutputAllocator* a) { return a != nullptr; }) ||
            std::any_of(graph.values.begin(), graph.values.end(),
                        [](const ir::Value& v) { return v.boundedExtents != 0; });
  if (!active_) return;
  real_.assign(graph.values.size(), Dims{});
  hasReal_.assign(graph.values.size(), 0);
}

bool OutputAllocation::handles(int32_t io) const {
  const auto& tensor = engine_.ioTensors()[static_cast<std::size_t>(io)];
  if (tensor.mode != TensorIOMode::kOUTPUT) return false;
  return allocators_[static_cast<std::size_t>(io)] != nullptr ||
         graph_->value(tensor.value).boundedExtents != 0;
}

void OutputAllocation::place(std::span<void* const> addresses, std::vector<void*>& location) {
  if (!active_) return;
  const auto& io = engine_.ioTensors();
  for (std::size_t i = 0; i < io.size(); ++i) {
    if (!handles(static_cast<int32_t>(i))) continue;
    const ir::Value& value = graph_->value(io[i].value);
    const std::size_t bound = bytesOf(value.dims, value.dtype);
    void*& at = location[static_cast<std::size_t>(io[i].value)];
    OutputAllocator* allocator = allocators_[i];
    if (value.boundedExtents != 0) {
      if (allocator != nullptr) {
        if (scratch_[i].size() < bound) scratch_[i].resize(bound);
        at = scratch_[i].data();
      } else if (addresses[i] == nullptr && bound > 0) {
        fail(ErrorCode::kINVALID_STATE, "output '", io[i].name, "' has a data-dependent shape ",
             toString(publishedDims(value)),
             ": set an OutputAllocator for it (setOutputAllocator), or an address "
             "(setTensorAddress) with room for its upper bound ",
             toString(value.dims), " (", bound, " bytes)");
      } else {
        at = addresses[i];
      }
      continue;
    }
    // The size is known now: the allocator's memory is written directly.
    void* current = allocated_[i] != nullptr ? allocated_[i] : addresses[i];
    void* memory = allocator->reallocateOutputAsync(
        io[i].name, current, std::max<std::size_t>(bound, 1), kBufferAlignment, stream_);
    if (memory == nullptr) {
      fail(ErrorCode::kFAILED_ALLOCATION, "the OutputAllocator of output '", io[i].name,
           "' returned no memory for ", std::max<std::size_t>(bound, 1), " bytes");
    }
    allocated_[i] = memory;
    at = memory;
  }
}

std::span<Dims> OutputAllocation::prepare(const ir::Node& node, std::vector<ir::TensorView>& inputs,
                                          std::vector<ir::TensorView>& outputs) {
  if (!active_) return {};
  bool readsReal = false;
  for (std::size_t k = 0; k < node.inputs.size(); ++k) {
    const ir::ValueId v = node.inputs[k];
    if (v != ir::kNoValue && hasReal_[static_cast<std::size_t>(v)] != 0) {
      inputs[k].dims = real_[static_cast<std::size_t>(v)];
      readsReal = true;
    }
  }
  if (readsReal) {
    std::vector<ir::TensorInfo> infos;
    for (std::size_t k = 0; k < node.inputs.size(); ++k) {
      ir::TensorInfo info;
      info.present = inputs[k].present;
      info.dtype = inputs[k].dtype;
      info.dims = inputs[k].dims;
      const ir::ValueId v = node.inputs[k];
      if (v != ir::kNoValue && graph_->value(v).isConstant()) info.constData = inputs[k].data;
      infos.push_back(info);
    }
    const std::vector<ir::TensorInfo> inferred = ir::inferNode(node, infos);
    for (std::size_t i = 0; i < outputs.size(); ++i) outputs[i].dims = inferred[i].dims;
  }
  nodeDims_.clear();
  for (const auto& out : outputs) nodeDims_.push_back(out.dims);
  return nodeDims_;
}

void OutputAllocation::record(const ir::Node& node) {
  if (!active_) return;
  for (std::size_t i = 0; i < node.outputs.size(); ++i) {
    const auto v = static_cast<std::size_t>(node.outputs[i]);
    const ir::Value& value = graph_->value(node.outputs[i]);
    if (value.boundedExtents == 0) continue;
    const Dims& dims = nodeDims_[i];
    bool within = dims.nbDims == value.dims.nbDims;
    for (int32_t d = 0; within && d < dims.nbDims; ++d) {
      within = dims[d] >= 0 && dims[d] <= value.dims[d];
    }
    if (!within) {
      fail(ErrorCode::kINTERNAL_ERROR, "output '", value.name, "' came out as ", toString(dims),
           ", outside its upper bound ", toString(value.dims));
    }
    real_[v] = dims;
    hasReal_[v] = 1;
  }
}

void OutputAllocation::finish(std::span<void* const> addresses,
                              const std::vector<void*>& location) {
  if (!active_) return;
  const auto& io = engine_.ioTensors();
  for (std::size_t i = 0; i < io.size(); ++i) {
    if (io[i].mode != TensorIOMode::kOUTPUT) continue;
    const auto v = static_cast<std::size_t>(io[i].value);
    const ir::Value& value = graph_->value(io[i].value);
    const Dims dims = hasReal_[v] != 0 ? real_[v] : value.dims;
    found_[i] = dims;
    OutputAllocator* allocator = allocators_[i];
    if (allocator == nullptr) continue;
    if (value.boundedExtents != 0) {
      const std::size_t bytes = bytesOf(dims, value.dtype);
      void* current = allocated_[i] != nullptr ? allocated_[i] : addresses[i];
      void* memory = allocator->reallocateOutputAsync(
          io[i].name, current, std::max<std::size_t>(bytes, 1), kBufferAlignment, stream_);
      if (memory == nullptr) {
        fail(ErrorCode::kFAILED_ALLOCATION, "the OutputAllocator of output '", io[i].name,
             "' returned no memory for ", std::max<std::size_t>(bytes, 1), " bytes");
      }
      allocated_[i] = memory;
      if (bytes > 0) std::memcpy(memory, location[v], bytes);
    }
    allocator->notifyShape(io[i].name, dims);
  }
  foundKey_ = key_;
}

Dims OutputAllocation::shape(int32_t io, const ir::Value& value, const void* key) const {
  if (value.boundedExtents != 0 && key == foundKey_ && key != nullptr) {
    return found_[static_cast<std::size_t>(io)];
  }
  return publishedDims(value);
}

}  // namespace kiln::detail
