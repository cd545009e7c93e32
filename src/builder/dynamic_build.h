// Builds of networks with dynamic inputs (-1 extents) or shape-tensor inputs: one engine for the
// config's optimization profiles.
#pragma once

#include "builder/builder_config.h"
#include "core/reporter.h"
#include "ir/graph.h"
#include "plan/engine_plan.h"

namespace kiln::builder {

//! True when @p network has an input with -1 extents, or a profile gives values for a
//! shape-tensor input.
bool needsProfiles(const ir::Graph& network, const detail::BuilderConfigData& config);

//! The network is specialized to every profile's min, opt and max shapes and optimized at each;
//! the optimized graphs must agree but for their shapes (a pass whose rewrite depends on the
//! shapes is caught here, and the build falls back to no passes). The plan keeps the graph at
//! profile 0's opt shapes with tactics timed there, and per profile the tactics timed at its
//! opt shapes and the memory its largest shapes need. Throws kINVALID_ARGUMENT naming the
//! profile and input when a profile does not fit the network.
plan::EnginePlan buildDynamicPlan(const ir::Graph& network, const detail::BuilderConfigData& config,
                                  const Reporter& reporter);

}  // namespace kiln::builder
