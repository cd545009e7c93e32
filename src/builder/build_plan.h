// The build pipeline: network graph -> optimized, tactic-assigned, memory-planned EnginePlan.
#pragma once

#include "builder/builder_config.h"
#include "core/reporter.h"
#include "ir/graph.h"
#include "plan/engine_plan.h"

namespace kiln::builder {

//! Throws Error naming the layer or tensor at fault.
plan::EnginePlan buildPlan(const ir::Graph& network, const detail::BuilderConfigData& config,
                           const Reporter& reporter);

}  // namespace kiln::builder
