// The optimization passes of the builder (issue #5): an ordered list, each with a stable name by
// which BuilderConfig::disablePass and `kiln build --disablePasses` switch it off.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "builder/passes/pass_context.h"
#include "ir/graph.h"

namespace kiln::builder {

//! A pass rewrites the graph in place and returns the number of rewrites it made. Shapes are
//! inferred on entry; the manager re-orders, prunes and re-infers after each pass that changed
//! something.
using PassFn = int32_t (*)(ir::Graph& graph, const PassContext& context);

struct Pass {
  std::string_view name;
  std::string_view summary;
  //! Null for a step that finishPlan runs for one kind of device after the passes (a layout
  //! step): listed here so that it too is switched off by name.
  PassFn run;
};

//! The CPU builds' channel-blocked layout step (builder/channel_blocking.h).
inline constexpr std::string_view kChannelBlockingPass = "channel-blocking";

//! Every pass, in the order the builder runs them.
const std::vector<Pass>& allPasses();

//! True when @p name is the name of a pass.
bool isPassName(std::string_view name);

//! Runs every pass not named in @p disabled over @p graph (lowered, shapes inferred).
void runPasses(ir::Graph& graph, const std::vector<std::string>& disabled,
               const Reporter& reporter);

}  // namespace kiln::builder
