// Weight preparation: the last step of a static CPU build. Each layer's chosen kernel is
// instantiated once with a recording store, so the plan keeps the weights it prepares (packed
// panels, reordered filters) and loading the engine packs nothing; a constant every reader
// absorbed is then left out (docs/plan-format.md).
#pragma once

#include "core/reporter.h"
#include "plan/engine_plan.h"

namespace kiln::builder {

//! Fills @p plan.prepared and marks (and empties) the constants every reader absorbed. Does
//! nothing for GPU or dynamic plans.
void prepareWeights(plan::EnginePlan& plan, const Reporter& reporter);

}  // namespace kiln::builder
