// The build pipeline: network graph -> optimized, tactic-assigned, memory-planned EnginePlan.
#pragma once

#include "builder/builder_config.h"
#include "core/reporter.h"
#include "ir/graph.h"
#include "plan/engine_plan.h"

namespace kiln::builder {

//! Throws Error naming the layer or tensor at fault. A network with dynamic or shape-tensor
//! inputs is built for the config's optimization profiles (see dynamic_build.h).
plan::EnginePlan buildPlan(const ir::Graph& network, const detail::BuilderConfigData& config,
                           const Reporter& reporter);

//! The shape-independent half of a build: lowering and the optimization passes on a network
//! whose input shapes are all known.
ir::Graph optimizeGraph(ir::Graph graph, const detail::BuilderConfigData& config,
                        const Reporter& reporter);

//! The other half: layer precisions (GPU builds with kFP16/kBF16), a tactic per node (timed
//! as the config says), memory planned, the target. @p precisionOf: the plan graph whose layer
//! precisions this one takes (a dynamic engine's later profiles take the first one's).
plan::EnginePlan finishPlan(ir::Graph graph, const detail::BuilderConfigData& config,
                            const Reporter& reporter, const ir::Graph* precisionOf = nullptr);

}  // namespace kiln::builder
