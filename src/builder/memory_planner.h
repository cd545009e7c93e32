// Memory planning: activation values share one arena; each gets an offset chosen by liveness.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "ir/graph.h"
#include "plan/engine_plan.h"

namespace kiln::builder {

//! Assigns arena offsets to every value of @p graph (nodes in execution order) that is neither
//! a graph input/output nor a constant. Values whose lifetimes overlap never share bytes, except
//! that with @p tactics (per node, as the builder chose them) the output of a pointwise node may
//! take the bytes of an input that dies at that node (see runsInPlace). Also computes the lower
//! bound: the most bytes alive during any one node, with the planner's alignment, counting
//! values that share bytes in place once.
plan::MemoryPlan planMemory(const ir::Graph& graph, std::span<const std::string> tactics = {});

//! Whether @p node, run by @p tactic, may write its output over an input of the same type and
//! size: true only where every kernel of the tactic reads element i of that input before it
//! writes element i of the output and touches no other element of either in between.
bool runsInPlace(const ir::Node& node, std::string_view tactic);

}  // namespace kiln::builder
