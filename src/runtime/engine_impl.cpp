#include "runtime/engine_impl.h"

#include <algorithm>
#include <chrono>

#include "builder/memory_planner.h"
#include "core/error.h"
#include "runtime/output_allocation.h"
#include "runtime/specialization.h"

namespace kiln::detail {

namespace {
// Specializations kept per engine: enough for the shapes a service alternates between, few
// enough that the packed weights they hold stay bounded.
constexpr std::size_t kCachedSpecializations = 8;

std::string gpuText(const std::string& name, int32_t computeCapability) {
  return "'" + name + "' (compute capability " + std::to_string(computeCapability / 10) + "." +
         std::to_string(computeCapability % 10) + ")";
}

// The device a plan of @p target runs on; throws kINVALID_PLAN when this build or machine
// lacks it, naming both GPUs when the one present is not the one the plan was built for.
const backends::DeviceRuntime& targetDevice(const plan::Target& target, int32_t gpuDevice) {
  const backends::DeviceRuntime* device = backends::deviceRuntime(target.device);
  if (target.device != DeviceType::kGPU) return *device;
  const std::string planned = gpuText(target.deviceName, target.computeCapability);
  if (device == nullptr) {
    fail(ErrorCode::kINVALID_PLAN, "the plan targets GPU ", planned,
         ", and this build of kiln has no CUDA backend");
  }
  if (device->count() == 0) {
    fail(ErrorCode::kINVALID_PLAN, "the plan targets GPU ", planned,
         ", and this machine has no CUDA GPU (or no driver)");
  }
  if (gpuDevice < 0 || gpuDevice >= device->count()) {
    fail(ErrorCode::kINVALID_ARGUMENT, "the plan targets GPU ", planned, "; CUDA device ",
         gpuDevice, " does not exist (this machine has ", device->count(), ")");
  }
  const backends::DeviceInfo here = device->info(gpuDevice);
  if (here.name != target.deviceName || here.computeCapability != target.computeCapability) {
    fail(ErrorCode::kINVALID_PLAN, "the plan was built for GPU ", planned, ", but CUDA device ",
         gpuDevice, " is ", gpuText(here.name, here.computeCapability),
         "; rebuild the engine on this GPU");
  }
  return *device;
}

}  // namespace

struct EngineImpl::CacheEntry {
  std::size_t profile;
  std::vector<InputBinding> bindings;
  std::shared_ptr<const Specialization> specialization;
};

NodeShapes nodeShapes(const ir::Graph& graph, const ir::Node& node) {
  NodeShapes shapes;
  for (ir::ValueId v : node.inputs) {
    ir::TensorInfo info;
    if (v == ir::kNoValue) {
      info.present = false;
    } else {
      const ir::Value& value = graph.value(v);
      info.dtype = value.dtype;
      info.dims = value.dims;
      info.constData = value.isConstant() && !value.absorbed ? value.constant->data() : nullptr;
      info.absorbed = value.absorbed;
    }
    shapes.inputs.push_back(info);
  }
  for (ir::ValueId v : node.outputs) {
    const ir::Value& value = graph.value(v);
    shapes.outputs.push_back({true, value.dtype, value.dims, nullptr});
  }
  return shapes;
}

EngineImpl::EngineImpl(plan::EnginePlan plan, const Reporter& reporter,
                       std::shared_ptr<ThreadPool> threads, Allocator* allocator, int32_t gpuDevice)
    : plan_(std::move(plan)),
      device_(&targetDevice(plan_.target, gpuDevice)),
      deviceIndex_(plan_.target.device == DeviceType::kGPU ? gpuDevice : 0),
      constants_(std::make_unique<DeviceConstants>(*device_)),
      reporter_(reporter),
      threads_(std::move(threads)),
      allocator_(allocator) {
  if (!threads_) threads_ = std::make_shared<ThreadPool>(0);
  device_->makeCurrent(deviceIndex_);
  const ir::Graph& graph = plan_.graph;
  for (ir::ValueId v : graph.inputs) io_.push_back({graph.value(v).name, v, TensorIOMode::kINPUT});
  if (isDynamic()) {
    for (const plan::InputRange& input : plan_.profiles[0].inputs) {
      if (!input.shapeTensor) continue;
      for (std::size_t v = 0; v < graph.values.size(); ++v) {
        if (graph.values[v].name == input.name && graph.values[v].isConstant()) {
          io_.push_back(
              {input.name, static_cast<ir::ValueId>(v), TensorIOMode::kINPUT, true, false});
        }
      }
    }
    for (auto& io : io_) {
      for (const plan::InputRange& input : plan_.profiles[0].inputs) {
        if (!input.shapeTensor && input.name == io.name) io.dynamic = true;
      }
    }
  }
  for (ir::ValueId v : graph.outputs) {
    io_.push_back({graph.value(v).name, v, TensorIOMode::kOUTPUT});
  }
  base_ = std::make_shared<const Specialization>(plan_, *constants_);
  for (const auto& io : io_) genericDims_.push_back(publishedDims(graph.value(io.value)));
  if (!isDynamic()) {
    contextBytes_.push_back(base_->contextBytes());
    return;
  }
  // Every profile must run at its extremes; its memory is what its largest shapes need. Only
  // shapes are inferred and memory planned here: kernels are made when a context runs.
  for (std::size_t p = 0; p < plan_.profiles.size(); ++p) {
    const plan::Profile& profile = plan_.profiles[p];
    uint64_t arena = 0;
    for (OptProfileSelector which : {OptProfileSelector::kMIN, OptProfileSelector::kMAX}) {
      try {
        const ir::Graph at = specializeGraph(plan_.graph, bindingsAt(profile.inputs, which));
        arena = std::max(arena, builder::planMemory(at, profile.tactics).arenaBytes);
        for (std::size_t i = 0; i < io_.size(); ++i) {
          Dims& generic = genericDims_[i];
          const Dims& here = at.value(io_[i].value).dims;
          for (int32_t d = 0; d < generic.nbDims; ++d) {
            if (here.nbDims != generic.nbDims || here[d] != generic[d]) generic[d] = -1;
          }
        }
      } catch (const Error& e) {
        // The corners of shape-tensor ranges need not be valid (the builder checked opt).
        if (!hasShapeTensor(profile.inputs))
          fail(ErrorCode::kINVALID_PLAN, "optimization profile ", p, ": ", e.what());
      }
    }
    contextBytes_.push_back(
        detail::contextBytes(std::max(arena, profile.arenaBytes),
                             std::max<uint64_t>(profile.workspaceBytes, base_->workspaceBytes())));
  }
}

EngineImpl::~EngineImpl() = default;

int32_t EngineImpl::findIO(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < io_.size(); ++i) {
    if (io_[i].name == name) return static_cast<int32_t>(i);
  }
  return -1;
}

const plan::InputRange* EngineImpl::range(std::size_t profile, int32_t io) const {
  if (!isDynamic() || io < 0) return nullptr;
  const std::string& name = io_[static_cast<std::size_t>(io)].name;
  for (const plan::InputRange& input : plan_.profiles.at(profile).inputs) {
    if (input.name == name) return &input;
  }
  return nullptr;
}

std::shared_ptr<const Specialization> EngineImpl::specialize(
    std::size_t profile, std::vector<InputBinding> bindings) const {
  if (!isDynamic()) return base_;
  {
    const std::lock_guard lock(cacheMutex_);
    for (auto it = cache_.begin(); it != cache_.end(); ++it) {
      if (it->profile == profile && it->bindings == bindings) {
        std::rotate(it, it + 1, cache_.end());
        return cache_.back().specialization;
      }
    }
  }
  // Made outside the lock: other contexts keep running meanwhile. Two contexts asking for the
  // same new shapes at once may both make it; the cache keeps one.
  const auto start = std::chrono::steady_clock::now();
  device_->makeCurrent(deviceIndex_);
  auto made =
      std::make_shared<const Specialization>(plan_, profile, bindings, reporter_, *constants_);
  std::string shapes;
  for (const InputBinding& b : bindings) {
    if (!shapes.empty()) shapes += ", ";
    shapes += b.name;
    if (b.shapeTensor) {
      shapes += " (values)";
    } else {
      shapes += ':';
      shapes += toString(b.dims);
    }
  }
  reporter_.verbose(
      "specialized the engine to " + shapes + " (profile " + std::to_string(profile) + ") in " +
      std::to_string(static_cast<int64_t>(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count())) +
      " ms");
  const std::lock_guard lock(cacheMutex_);
  if (cache_.size() >= kCachedSpecializations) cache_.erase(cache_.begin());
  cache_.push_back({profile, std::move(bindings), made});
  return made;
}

}  // namespace kiln::detail
