#include "builder/build_plan.h"

#include <algorithm>
#include <chrono>
#include <span>

#include "backends/device.h"
#include "builder/attention_layout.h"
#include "builder/channel_blocking.h"
#include "builder/dynamic_build.h"
#include "builder/layout.h"
#include "builder/lowering.h"
#include "builder/memory_planner.h"
#include "builder/passes/pass_manager.h"
#include "builder/precision.h"
#include "builder/tactics/tactic_selector.h"
#include "builder/weight_preparation.h"
#include "core/cpu_info.h"
#include "core/error.h"
#include "ir/math_mode.h"
#include "ir/op_registry.h"
#include "plan/plan_io.h"

namespace kiln::builder {

ir::Graph optimizeGraph(ir::Graph graph, const detail::BuilderConfigData& config,
                        const Reporter& reporter) {
  checkBuildable(graph);
  ir::inferShapes(graph);
  insertRequestedCasts(graph);
  foldConstantLayers(graph);
  pruneAndOrder(graph);
  ir::inferShapes(graph);
  reporter.verbose("lowered the network to " + std::to_string(graph.nodes.size()) + " layers");
  runPasses(graph, config.disabledPasses, reporter);
  return graph;
}

namespace {

// Marks the matrix nodes whose FP32 products may run on TF32 tensor cores (kernels read the
// attribute, so the choice is stored with each node in the plan).
void allowTf32(ir::Graph& graph) {
  for (ir::Node& node : graph.nodes) {
    if (ir::reducedPrecision(node.attrs)) continue;
    if (node.op == "Convolution" || node.op == "Deconvolution" || node.op == "FullyConnected" ||
        node.op == "MatrixMultiply" || node.op == "Attention") {
      node.attrs.set(ir::kAllowTf32, int64_t{1});
    }
  }
}

}  // namespace

namespace {

// GPU engines cannot publish a shape that a kernel learns on the device (the runtime reads it
// on the host, right after enqueueing): such networks are refused, naming the layer.
void checkNoDataDependentShapes(const ir::Graph& graph) {
  for (const ir::Value& value : graph.values) {
    if (value.boundedExtents == 0 || value.producer == ir::kNoNode) continue;
    const ir::Node& producer = graph.node(value.producer);
    fail(ErrorCode::kUNSUPPORTED_NODE, "layer '", producer.name, "' (", producer.op,
         ") gives output '", value.name,
         "' a data-dependent shape, which GPU engines do not support yet; build this network "
         "for the CPU (BuilderConfig::setDeviceType(DeviceType::kCPU), kiln --device=cpu)");
  }
}

}  // namespace

plan::EnginePlan finishPlan(ir::Graph graph, const detail::BuilderConfigData& config,
                            const Reporter& reporter, const ir::Graph* precisionOf) {
  if (config.device == DeviceType::kGPU) checkNoDataDependentShapes(graph);
  plan::EnginePlan plan;
  plan.graph = std::move(graph);
  if (config.device == DeviceType::kGPU) {
    const ReducedSupport gpuSupport = gpuReducedSupport();
    assignReducedPrecision(plan.graph, config, gpuSupport, reporter, precisionOf);
    // Later profiles of a dynamic engine take the first profile's layout too (precisionOf).
    assignChannelsLast(plan.graph, gpuSupport, reporter, precisionOf);
    packAttentionHeads(plan.graph, gpuSupport, reporter, precisionOf);
  } else {
    if (config.flag(BuilderFlag::kFP16) || config.flag(BuilderFlag::kBF16)) {
      reporter.info(
          "FP16/BF16 allowed, but the CPU backend has no reduced-precision kernels: "
          "the engine runs in FP32");
    }
    // The CPU's attention tactics (and the reference kernel) all take packed heads.
    const ReducedSupport everyNode = [](const ir::Node&, std::span<const ir::TensorInfo>,
                                        std::span<const ir::TensorInfo>) { return true; };
    packAttentionHeads(plan.graph, everyNode, reporter, precisionOf);
    const auto& disabled = config.disabledPasses;
    if (std::find(disabled.begin(), disabled.end(), kChannelBlockingPass) == disabled.end()) {
      assignBlockedChannels(plan.graph, blockedLayoutPays(hostCpu()), reporter, precisionOf);
    }
  }
  if (config.device == DeviceType::kGPU && config.flag(BuilderFlag::kTF32)) allowTf32(plan.graph);
  TacticChoice choice = selectTactics(plan.graph, config, reporter);
  plan.tactics = std::move(choice.tactics);
  plan.memory = planMemory(plan.graph, plan.tactics);
  plan.target = plan::hostTarget(config.device);
  if (config.device == DeviceType::kGPU) {
    const backends::DeviceInfo gpu =
        backends::deviceRuntime(DeviceType::kGPU)->info(config.gpuDevice);
    plan.target.deviceName = gpu.name;
    plan.target.computeCapability = gpu.computeCapability;
  }
  plan.target.requiredIsa = std::move(choice.requiredIsa);
  plan.builderFlags = config.flags;
  return plan;
}

plan::EnginePlan buildPlan(const ir::Graph& network, const detail::BuilderConfigData& config,
                           const Reporter& reporter) {
  const auto start = std::chrono::steady_clock::now();
  if (config.device == DeviceType::kGPU) {
    const backends::DeviceRuntime* gpu = backends::deviceRuntime(DeviceType::kGPU);
    if (gpu == nullptr) {
      fail(ErrorCode::kINVALID_CONFIG,
           "this build of kiln has no GPU backend (configured without nvcc); build for "
           "DeviceType::kCPU");
    }
    if (config.gpuDevice < 0 || config.gpuDevice >= gpu->count()) {
      fail(ErrorCode::kINVALID_CONFIG, "no CUDA GPU ", config.gpuDevice,
           " is present on this machine (it has ", gpu->count(),
           "); the builder times kernels on the GPU it builds for: build for DeviceType::kCPU "
           "or on a machine with that GPU");
    }
    gpu->makeCurrent(config.gpuDevice);
  }
  plan::EnginePlan plan =
      needsProfiles(network, config)
          ? buildDynamicPlan(network, config, reporter)
          : finishPlan(optimizeGraph(network, config, reporter), config, reporter);
  prepareWeights(plan, reporter);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  reporter.info("built an engine of " + std::to_string(plan.graph.nodes.size()) + " layers in " +
                std::to_string(static_cast<int64_t>(ms)) + " ms; activation memory " +
                std::to_string(plan.memory.arenaBytes) + " bytes" +
                (plan.isDynamic() ? " at profile 0's opt shapes, " +
                                        std::to_string(plan.profiles.size()) + " profile(s)"
                                  : ""));
  return plan;
}

}  // namespace kiln::builder
