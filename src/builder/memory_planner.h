// Memory planning: activation values share one arena; each gets an offset chosen by liveness.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ir/graph.h"
#include "plan/engine_plan.h"

namespace kiln::builder {

//! Assigns arena offsets to every value of @p graph (nodes in execution order) that is neither
//! a graph input/output nor a constant. Values whose lifetimes overlap never share bytes, except
//! that the output of a reshape (see isReshapeAlias) takes its input's bytes, the pair living as
//! long as the longer-lived of the two, that the inputs of a concatenation may lie in its output
//! (see concatSlices), which then lives from the first of them written, and that with @p tactics
//! (per node, as the builder chose them) the output of a pointwise node may take the bytes of an
//! input that dies at that node (see runsInPlace; "dies" counting every value on those bytes). Also
//! computes the lower bound: the most bytes alive during any one node, with the planner's
//! alignment, counting values that share bytes once.
plan::MemoryPlan planMemory(const ir::Graph& graph, std::span<const std::string> tactics = {});

//! Whether @p node, run by @p tactic, may write its output over an input of the same type and
//! size: true only where every kernel of the tactic reads element i of that input before it
//! writes element i of the output and touches no other element of either in between.
bool runsInPlace(const ir::Node& node, std::string_view tactic);

//! Whether @p node's output holds its input 0's bytes unchanged, only seen with other dims: a
//! Shuffle whose transposes move only extent-1 dimensions (ONNX Reshape, Flatten, Squeeze and
//! Unsqueeze), of one type and size, neither of data-dependent extents. planMemory gives such an
//! output its input's bytes (when both are in the arena), and the runtime then skips the node:
//! whatever its tactic, it would copy every byte onto itself.
bool isReshapeAlias(const ir::Graph& graph, const ir::Node& node);

//! Where each input of @p node, a Concatenation, begins in its output (bytes from the output's
//! start), when each is one contiguous range of it (every extent before the axis is 1: batch-1
//! channel concatenations) starting at the planner's alignment; empty otherwise. planMemory
//! places such inputs at those offsets of the output's bytes when the concatenation is their
//! only reader (and all are in the arena), so that their producers write the output and the
//! concatenation, skipped by the runtime, moves nothing.
std::vector<uint64_t> concatSlices(const ir::Graph& graph, const ir::Node& node);

//! Per node of @p graph, whether @p memory lets it move no bytes: a reshape on its input's bytes,
//! or a concatenation whose inputs lie at their slices of its output. The runtime skips those;
//! a plan that copies (one from an older kiln) runs every node.
std::vector<bool> elidedNodes(const ir::Graph& graph, const plan::MemoryPlan& memory);

}  // namespace kiln::builder
