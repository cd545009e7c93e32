// The shape of a layer's input while the layer is being added or changed, for the few checks
// that need it then (a convolution's kernel layout depends on the input's channel count).
#pragma once

#include <optional>
#include <string>

#include "ir/graph.h"
#include "network/network_impl.h"

namespace kiln::detail {

//! The dims of @p value as inferred now, or nullopt when a layer that @p value depends on has
//! no valid shapes yet; @p why (when given) then receives that layer's problem. Layers that
//! @p value does not depend on play no part: their problems are reported when their own shapes
//! are needed, and must not make an unrelated add* call or setter fail.
std::optional<Dims> currentDims(NetworkImpl& net, ir::ValueId value, std::string* why = nullptr);

}  // namespace kiln::detail
