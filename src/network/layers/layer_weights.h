// Helpers for the layer files: errors that name the layer (as shape inference's do), and
// weight inputs whose errors name it too.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>

#include "core/error.h"
#include "network/network_impl.h"

namespace kiln::detail {

//! Throws kINVALID_ARGUMENT as "layer 'NAME' (OP): <message>".
template <typename... Args>
[[noreturn]] void failLayer(const ir::Node& node, Args&&... args) {
  fail(ErrorCode::kINVALID_ARGUMENT, "layer '", node.name, "' (", node.op,
       "): ", std::forward<Args>(args)...);
}

//! NetworkImpl::setWeightsInput, with the layer named in front of any error.
inline void setLayerWeights(NetworkImpl& net, ir::NodeId id, int32_t index, const Dims& dims,
                            const Weights& weights, std::string_view what) {
  try {
    net.setWeightsInput(id, index, dims, weights, what);
  } catch (const Error& e) {
    const ir::Node& node = net.graph().node(id);
    fail(e.code(), "layer '", node.name, "' (", node.op, "): ", e.what());
  }
}

//! Marks optional input @p index of @p node as absent.
inline void clearInput(ir::Node& node, int32_t index) {
  if (static_cast<std::size_t>(index) < node.inputs.size()) {
    node.inputs[static_cast<std::size_t>(index)] = ir::kNoValue;
  }
}

}  // namespace kiln::detail
