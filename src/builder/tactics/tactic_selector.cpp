#include "builder/tactics/tactic_selector.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <random>

#include "backends/tactic.h"
#include "core/aligned_buffer.h"
#include "core/cpu_info.h"
#include "core/error.h"
#include "core/shape_util.h"
#include "runtime/engine_impl.h"

namespace kiln::builder {

namespace {

bool runsHere(const backends::Tactic& tactic) {
  for (const auto& feature : tactic.requiredIsa()) {
    if (!hostCpu().has(feature)) return false;
  }
  return true;
}

// Buffers with dummy data for timing one node.
struct DummyTensors {
  std::vector<AlignedBuffer> buffers;
  std::vector<ir::TensorView> inputs;
  std::vector<ir::TensorView> outputs;
};

DummyTensors makeDummies(const ir::Graph& graph, const ir::Node& node) {
  DummyTensors t;
  t.buffers.reserve(node.inputs.size() + node.outputs.size());
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  auto alloc = [&](const ir::Value& value) -> void* {
    const std::size_t bytes = checkedByteSize(value.dims, value.dtype, value.name);
    t.buffers.emplace_back(bytes);
    auto& buf = t.buffers.back();
    if (value.isConstant()) {
      std::memcpy(buf.data(), value.constant->data(), bytes);
    } else if (value.dtype == DataType::kFLOAT) {
      auto* f = reinterpret_cast<float*>(buf.data());
      for (std::size_t i = 0; i < bytes / sizeof(float); ++i) f[i] = dist(rng);
    } else {
      // Zeros are valid indices, conditions and counts for every integer op.
      std::memset(buf.data(), 0, bytes);
    }
    return buf.data();
  };
  for (ir::ValueId v : node.inputs) {
    if (v == ir::kNoValue) {
      t.inputs.push_back({DataType::kFLOAT, Dims{}, nullptr, false});
    } else {
      const auto& value = graph.value(v);
      t.inputs.push_back({value.dtype, value.dims, alloc(value), true});
    }
  }
  for (ir::ValueId v : node.outputs) {
    const auto& value = graph.value(v);
    t.outputs.push_back({value.dtype, value.dims, alloc(value), true});
  }
  return t;
}

double timeKernel(const backends::Kernel& kernel, const ir::Node& node, DummyTensors& dummies) {
  AlignedBuffer workspace(kernel.workspaceBytes());
  const ir::KernelContext ctx{node, dummies.inputs, dummies.outputs, workspace.data(),
                              workspace.size()};
  kernel.execute(ctx);  // warm-up
  std::vector<double> samples;
  const auto budget = std::chrono::milliseconds(50);
  const auto start = std::chrono::steady_clock::now();
  while (samples.size() < 5 ||
         (samples.size() < 20 && std::chrono::steady_clock::now() - start < budget)) {
    const auto t0 = std::chrono::steady_clock::now();
    kernel.execute(ctx);
    samples.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    if (std::chrono::steady_clock::now() - start > budget * 4) break;
  }
  std::nth_element(samples.begin(),
                   samples.begin() + static_cast<std::ptrdiff_t>(samples.size() / 2),
                   samples.end());
  return samples[samples.size() / 2];
}

}  // namespace

TacticChoice selectTactics(const ir::Graph& graph, const detail::BuilderConfigData& config,
                           const Reporter& reporter) {
  TacticChoice choice;
  const auto& registry = backends::TacticRegistry::instance();
  for (const ir::Node& node : graph.nodes) {
    const detail::NodeShapes shapes = detail::nodeShapes(graph, node);
    const backends::NodeSpec spec{node, shapes.inputs, shapes.outputs};
    std::vector<const backends::Tactic*> usable;
    std::vector<std::unique_ptr<backends::Kernel>> kernels;
    for (const backends::Tactic* tactic : registry.candidates(node.op, config.device)) {
      if (!runsHere(*tactic) || !tactic->supports(spec)) continue;
      auto kernel = tactic->instantiate(spec);
      if (kernel->workspaceBytes() > config.workspaceLimit) {
        reporter.verbose("layer '" + node.name + "': tactic " + std::string(tactic->name()) +
                         " skipped: needs " + std::to_string(kernel->workspaceBytes()) +
                         " bytes of workspace, the limit is " +
                         std::to_string(config.workspaceLimit));
        continue;
      }
      usable.push_back(tactic);
      kernels.push_back(std::move(kernel));
    }
    if (usable.empty()) {
      fail(ErrorCode::kUNSUPPORTED_NODE, "layer '", node.name, "' (", node.op,
           "): no kernel of the ", config.device == DeviceType::kCPU ? "CPU" : "GPU",
           " backend supports it with these shapes and types");
    }
    std::size_t best = 0;
    if (usable.size() > 1 && config.optimizationLevel > 0) {
      DummyTensors dummies = makeDummies(graph, node);
      double bestTime = std::numeric_limits<double>::infinity();
      for (std::size_t i = 0; i < usable.size(); ++i) {
        double us = 0;
        try {
          us = timeKernel(*kernels[i], node, dummies);
        } catch (const Error& e) {
          // Dummy data may be invalid for the op (a zero divisor, say): time the next one.
          reporter.verbose("layer '" + node.name + "': tactic " + std::string(usable[i]->name()) +
                           " not timed: " + e.what());
          continue;
        }
        reporter.verbose("layer '" + node.name + "': tactic " + std::string(usable[i]->name()) +
                         " takes " + std::to_string(us) + " us");
        if (us < bestTime) {
          best = i;
          bestTime = us;
        }
      }
    }
    choice.tactics.emplace_back(usable[best]->name());
    for (const auto& feature : usable[best]->requiredIsa()) {
      if (std::find(choice.requiredIsa.begin(), choice.requiredIsa.end(), feature) ==
          choice.requiredIsa.end()) {
        choice.requiredIsa.push_back(feature);
      }
    }
  }
  return choice;
}

}  // namespace kiln::builder
