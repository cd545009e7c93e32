#include "runtime/specialization.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <limits>

#include "builder/memory_planner.h"
#include "core/aligned_buffer.h"
#include "core/cpu_info.h"
#include "core/error.h"
#include "ir/op_registry.h"
#include "runtime/engine_impl.h"

namespace kiln::detail {

namespace {

std::size_t alignUp(uint64_t bytes, uint64_t alignment = kBufferAlignment) noexcept {
  return static_cast<std::size_t>((bytes + alignment - 1) / alignment * alignment);
}

// The workspace follows the arena at a 256-byte boundary: cuBLASLt refuses a workspace with
// CUBLAS_STATUS_INVALID_VALUE otherwise (split-K GEMMs, which FP16 picks for small M and N).
constexpr uint64_t kWorkspaceAlignment = 256;

}  // namespace

std::string floatText(double value) {
  std::array<char, 32> text{};
  const auto result = std::to_chars(text.data(), text.data() + text.size(), value);
  return {text.data(), result.ptr};
}

std::vector<InputBinding> bindingsAt(std::span<const plan::InputRange> inputs,
                                     OptProfileSelector which) {
  const auto index = static_cast<std::size_t>(which);
  std::vector<InputBinding> bindings;
  for (const plan::InputRange& input : inputs) {
    bindings.push_back({input.name, input.shapeTensor, input.dims[index], input.values[index],
                        input.floatValues[index]});
  }
  return bindings;
}

bool hasShapeTensor(std::span<const plan::InputRange> inputs) {
  return std::any_of(inputs.begin(), inputs.end(),
                     [](const plan::InputRange& r) { return r.shapeTensor; });
}

ir::ConstantBytes shapeTensorBytes(const InputBinding& binding, DataType type) {
  if (type == DataType::kFLOAT) {
    std::vector<std::byte> bytes(binding.floatValues.size() * sizeof(float));
    for (std::size_t i = 0; i < binding.floatValues.size(); ++i) {
      const auto v = static_cast<float>(binding.floatValues[i]);
      std::memcpy(bytes.data() + i * sizeof(v), &v, sizeof(v));
    }
    return std::make_shared<const std::vector<std::byte>>(std::move(bytes));
  }
  std::vector<std::byte> bytes(binding.values.size() * elementSize(type));
  for (std::size_t i = 0; i < binding.values.size(); ++i) {
    const int64_t v = binding.values[i];
    if (type == DataType::kINT32) {
      if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
        fail(ErrorCode::kINVALID_ARGUMENT, "shape-tensor input '", binding.name, "': value ", v,
             " does not fit its int32 type");
      }
      const auto narrow = static_cast<int32_t>(v);
      std::memcpy(bytes.data() + i * sizeof(narrow), &narrow, sizeof(narrow));
    } else {
      std::memcpy(bytes.data() + i * sizeof(v), &v, sizeof(v));
    }
  }
  return std::make_shared<const std::vector<std::byte>>(std::move(bytes));
}

std::size_t contextBytes(uint64_t arena, uint64_t workspace) noexcept {
  return alignUp(arena, kWorkspaceAlignment) + alignUp(workspace);
}

ir::Graph specializeGraph(const ir::Graph& source, std::span<const InputBinding> bindings) {
  ir::Graph graph = source;
  for (const InputBinding& binding : bindings) {
    bool found = false;
    for (auto& value : graph.values) {
      if (value.name != binding.name || value.isConstant() != binding.shapeTensor) continue;
      if (binding.shapeTensor) {
        const std::size_t given =
            value.dtype == DataType::kFLOAT ? binding.floatValues.size() : binding.values.size();
        if (static_cast<std::size_t>(volume(value.dims)) != given) {
          fail(ErrorCode::kINVALID_ARGUMENT, "shape-tensor input '", binding.name, "' takes ",
               volume(value.dims), " values, not ", given);
        }
        value.constant = shapeTensorBytes(binding, value.dtype);
      } else {
        value.dims = binding.dims;
      }
      found = true;
    }
    if (!found) {
      fail(ErrorCode::kINVALID_ARGUMENT, "the engine has no ",
           binding.shapeTensor ? "shape-tensor input" : "input", " named '", binding.name, "'");
    }
  }
  try {
    ir::inferShapes(graph);
  } catch (const Error& e) {
    std::string shapes;
    for (const InputBinding& binding : bindings) {
      if (!shapes.empty()) shapes += ", ";
      shapes += binding.name + ":";
      if (binding.shapeTensor) {
        shapes += '[';
        for (std::size_t i = 0; i < binding.values.size(); ++i) {
          if (i > 0) shapes += ',';
          shapes += std::to_string(binding.values[i]);
        }
        for (std::size_t i = 0; i < binding.floatValues.size(); ++i) {
          if (i > 0) shapes += ',';
          shapes += floatText(binding.floatValues[i]);
        }
        shapes += "]";
      } else {
        shapes += toString(binding.dims);
      }
    }
    fail(ErrorCode::kINVALID_ARGUMENT, "the engine does not run at ", shapes, ": ", e.what());
  }
  return graph;
}

Specialization::Specialization(const plan::EnginePlan& plan, DeviceConstants& constants)
    : graph_(plan.graph), tactics_(plan.tactics), memory_(plan.memory) {
  instantiate(nullptr, plan.prepared);
  locateConstants(constants);
  // Where the memory plan (perhaps a stored one that copies) already puts the bytes in place.
  elided_ = builder::elidedNodes(graph_, memory_);
}

Specialization::Specialization(const plan::EnginePlan& plan, std::size_t profile,
                               std::span<const InputBinding> bindings, const Reporter& reporter,
                               DeviceConstants& constants)
    : graph_(specializeGraph(plan.graph, bindings)), tactics_(plan.profiles.at(profile).tactics) {
  instantiate(&reporter, {});  // may swap tactics, which decide what runs in place
  memory_ = builder::planMemory(graph_, tactics_);
  locateConstants(constants);
  // Where the memory plan (perhaps a stored one that copies) already puts the bytes in place.
  elided_ = builder::elidedNodes(graph_, memory_);
}

namespace {

// With @p stored (the plan's prepared weights of @p node, possibly none), the kernel replays
// them and must take them all; every input the plan left out must be one the kernel absorbed,
// so that no kernel ever reads bytes that are not there.
std::unique_ptr<backends::Kernel> instantiateKernel(
    const backends::Tactic& tactic, const ir::Node& node, const NodeShapes& shapes,
    const std::vector<backends::PreparedBuffer>* stored) {
  if (stored == nullptr || stored->empty()) {
    for (std::size_t i = 0; i < shapes.inputs.size(); ++i) {
      if (shapes.inputs[i].absorbed) {
        fail(ErrorCode::kINVALID_PLAN, "layer '", node.name, "' (", node.op, "): input ", i,
             " was left out of the plan, but the plan stores no prepared weights for it");
      }
    }
    return tactic.instantiate({node, shapes.inputs, shapes.outputs});
  }
  backends::PreparedWeights replay(node.name, *stored);
  auto kernel = tactic.instantiate({node, shapes.inputs, shapes.outputs, &replay});
  if (!replay.allTaken()) {
    fail(ErrorCode::kINVALID_PLAN, "layer '", node.name, "' (", node.op, "): the plan stores ",
         stored->size(), " prepared weight buffers; tactic '", tactic.name(), "' uses fewer");
  }
  for (std::size_t i = 0; i < shapes.inputs.size(); ++i) {
    if (shapes.inputs[i].absorbed && (i >= 64 || (replay.absorbedInputs() >> i & 1U) == 0)) {
      fail(ErrorCode::kINVALID_PLAN, "layer '", node.name, "' (", node.op, "): input ", i,
           " was left out of the plan, but tactic '", tactic.name(), "' reads it");
    }
  }
  return kernel;
}

}  // namespace

void Specialization::locateConstants(DeviceConstants& constants) {
  constantAddresses_.assign(graph_.values.size(), nullptr);
  for (std::size_t v = 0; v < graph_.values.size(); ++v) {
    if (graph_.values[v].isConstant()) constantAddresses_[v] = constants.locate(graph_.values[v]);
  }
}

void Specialization::instantiate(const Reporter* fallbackReporter,
                                 std::span<const std::vector<backends::PreparedBuffer>> prepared) {
  if (!prepared.empty() && prepared.size() != graph_.nodes.size()) {
    fail(ErrorCode::kINVALID_PLAN, "the plan stores prepared weights for ", prepared.size(),
         " layers of ", graph_.nodes.size());
  }
  if (tactics_.size() != graph_.nodes.size()) {
    fail(ErrorCode::kINVALID_PLAN, "the plan names ", tactics_.size(), " tactics for ",
         graph_.nodes.size(), " layers");
  }
  const auto& registry = backends::TacticRegistry::instance();
  for (std::size_t n = 0; n < graph_.nodes.size(); ++n) {
    const ir::Node& node = graph_.nodes[n];
    const backends::Tactic* tactic = registry.find(node.op, tactics_[n]);
    if (tactic == nullptr) {
      fail(ErrorCode::kINVALID_PLAN, "layer '", node.name, "' (", node.op, ") uses tactic '",
           tactics_[n], "', which this build of kiln does not have");
    }
    const NodeShapes shapes = nodeShapes(graph_, node);
    const backends::NodeSpec spec{node, shapes.inputs, shapes.outputs};
    if (!tactic->supports(spec)) {
      if (fallbackReporter == nullptr) {
        fail(ErrorCode::kINVALID_PLAN, "layer '", node.name, "' (", node.op, "): tactic '",
             tactics_[n], "' does not support it");
      }
      // Tuned at the profile's opt shapes, the tactic may not cover every shape of the range.
      const backends::Tactic* fallback = nullptr;
      for (const backends::Tactic* candidate : registry.candidates(node.op, tactic->device())) {
        if (backends::runsHere(*candidate) && candidate->supports(spec)) {
          fallback = candidate;
          break;
        }
      }
      if (fallback == nullptr) {
        fail(ErrorCode::kUNSUPPORTED_NODE, "layer '", node.name, "' (", node.op,
             "): no kernel supports it at these shapes");
      }
      fallbackReporter->verbose("layer '" + node.name + "': tactic " + tactics_[n] +
                                " does not support these shapes; using " +
                                std::string(fallback->name()));
      tactic = fallback;
      tactics_[n] = std::string(fallback->name());
    }
    kernels_.push_back(
        instantiateKernel(*tactic, node, shapes, prepared.empty() ? nullptr : &prepared[n]));
    workspaceBytes_ = std::max(workspaceBytes_, kernels_.back()->workspaceBytes());
    constexpr std::size_t kHostAlignment = 64;
    hostOffsets_.push_back(hostWorkspaceBytes_);
    hostWorkspaceBytes_ += (kernels_.back()->hostWorkspaceBytes() + kHostAlignment - 1) /
                           kHostAlignment * kHostAlignment;
  }
}

std::size_t Specialization::contextBytes() const noexcept {
  return detail::contextBytes(memory_.arenaBytes, workspaceBytes_);
}

}  // namespace kiln::detail
