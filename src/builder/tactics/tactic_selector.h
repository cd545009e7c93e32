// Tactic selection: for every node, the fastest applicable tactic of the target backend.
#pragma once

#include <string>
#include <vector>

#include "builder/builder_config.h"
#include "core/reporter.h"
#include "ir/graph.h"

namespace kiln::builder {

struct TacticChoice {
  std::vector<std::string> tactics;      //!< per node
  std::vector<std::string> requiredIsa;  //!< union of what the chosen tactics need
};

//! Picks one tactic per node of @p graph (shapes inferred). Candidates are the registered
//! tactics of the config's device that support the node, run on this CPU and fit the workspace
//! limit. With one candidate, or at optimization level 0, the first is taken; otherwise each is
//! timed on the real shapes (dummy data; interleaved repeats, see tactic_timing.h) and the
//! fastest kept.
//! Throws kUNSUPPORTED_NODE naming the layer when no tactic applies.
TacticChoice selectTactics(const ir::Graph& graph, const detail::BuilderConfigData& config,
                           const Reporter& reporter);

}  // namespace kiln::builder
