// Helpers for the layer files: errors that name the layer (as shape inference's do), weight
// inputs whose errors name it too, and argument checks several layers share.
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

//! Refuses weights whose type is known but not float (float32/float16/bfloat16), naming @p what
//! ("kernel", "bias", ...). The type is known at the call, so such weights are refused then;
//! unknown types are left to setLayerWeights, which names them.
inline void checkFloatWeights(const ir::Node& node, const Weights& weights, std::string_view what) {
  if (weights.count == 0 || !isValidDataType(static_cast<int32_t>(weights.type))) return;
  if (weights.type != DataType::kFLOAT && weights.type != DataType::kHALF &&
      weights.type != DataType::kBF16) {
    failLayer(node, what, " weights must be float (float32/float16/bfloat16), not ",
              toString(weights.type));
  }
}

//! Refuses @p dims whose rank no tensor can have; @p what names them in the message.
inline void checkRank(const Dims& dims, std::string_view what) {
  if (dims.nbDims < 0 || dims.nbDims > Dims::kMaxRank) {
    fail(ErrorCode::kINVALID_ARGUMENT, what, " has rank ", dims.nbDims, ", outside [0, ",
         Dims::kMaxRank, "]");
  }
}

//! Marks optional input @p index of @p node as absent.
inline void clearInput(ir::Node& node, int32_t index) {
  if (static_cast<std::size_t>(index) < node.inputs.size()) {
    node.inputs[static_cast<std::size_t>(index)] = ir::kNoValue;
  }
}

}  // namespace kiln::detail
