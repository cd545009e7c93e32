// Checks shared by the shape rules of several op families; their errors name the layer.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "ir/op_registry.h"

namespace kiln::ops {

//! Fails unless input @p index is float32; @p what names the input in the message.
inline void requireFloat(const ir::InferContext& ctx, int32_t index,
                         std::string_view what = "input") {
  const DataType type = ctx.input(index).dtype;
  if (type != DataType::kFLOAT) {
    ctx.fail(what, " must be float32, not ", toString(type), " (convert it with addCast)");
  }
}

//! Runs @p fn, a rule that throws plain kiln errors (core/shape_util.h), so that its message
//! names the layer.
template <typename Fn>
auto withLayerContext(const ir::InferContext& ctx, Fn&& fn) {
  try {
    return fn();
  } catch (const Error& e) {
    ctx.fail(e.what());
  }
}

}  // namespace kiln::ops
