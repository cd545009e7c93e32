#include "builder/build_plan.h"

#include <chrono>

#include "builder/lowering.h"
#include "builder/memory_planner.h"
#include "builder/passes/pass_manager.h"
#include "builder/tactics/tactic_selector.h"
#include "core/error.h"
#include "ir/op_registry.h"
#include "plan/plan_io.h"

namespace kiln::builder {

plan::EnginePlan buildPlan(const ir::Graph& network, const detail::BuilderConfigData& config,
                           const Reporter& reporter) {
  const auto start = std::chrono::steady_clock::now();
  if (config.device != DeviceType::kCPU) {
    fail(ErrorCode::kINVALID_CONFIG,
         "this build of kiln has no GPU backend; build for DeviceType::kCPU");
  }
  plan::EnginePlan plan;
  plan.graph = network;
  ir::Graph& graph = plan.graph;
  checkBuildable(graph);
  ir::inferShapes(graph);
  insertRequestedCasts(graph);
  foldConstantLayers(graph);
  pruneAndOrder(graph);
  ir::inferShapes(graph);
  reporter.verbose("lowered the network to " + std::to_string(graph.nodes.size()) + " layers");
  runPasses(graph, config.disabledPasses, reporter);

  TacticChoice choice = selectTactics(graph, config, reporter);
  plan.tactics = std::move(choice.tactics);
  plan.memory = planMemory(graph);
  plan.target = plan::hostTarget(config.device);
  plan.target.requiredIsa = std::move(choice.requiredIsa);
  plan.builderFlags = config.flags;

  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  reporter.info("built an engine of " + std::to_string(graph.nodes.size()) + " layers in " +
                std::to_string(static_cast<int64_t>(ms)) + " ms; activation memory " +
                std::to_string(plan.memory.arenaBytes) + " bytes");
  return plan;
}

}  // namespace kiln::builder
