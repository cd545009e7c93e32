// Memory planning: activation values share one arena; each gets an offset chosen by liveness.
#pragma once

#include "ir/graph.h"
#include "plan/engine_plan.h"

namespace kiln::builder {

//! Assigns arena offsets to every value of @p graph (nodes in execution order) that is neither
//! a graph input/output nor a constant. Values whose lifetimes overlap never share bytes.
plan::MemoryPlan planMemory(const ir::Graph& graph);

}  // namespace kiln::builder
