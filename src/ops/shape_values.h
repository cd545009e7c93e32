// Values of inputs that decide output shapes (OpSchema::shapeInputs): int32/int64 tensors of
// rank 0 or 1, constants when the engine is built (a shape-tensor network input is specialized
// to its profile values), read again by kernels at run time.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "ir/op_registry.h"

namespace kiln::ops {

inline std::vector<int64_t> intValues(DataType type, const void* data, int64_t count) {
  std::vector<int64_t> values(static_cast<std::size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    values[static_cast<std::size_t>(i)] = type == DataType::kINT64
                                              ? static_cast<const int64_t*>(data)[i]
                                              : static_cast<const int32_t*>(data)[i];
  }
  return values;
}

//! The values of input @p index, checked to be int32/int64 of rank 0 or 1 (@p what names it);
//! nullopt while they are not known (a shape-tensor network input before the build).
inline std::optional<std::vector<int64_t>> knownShapeValues(const ir::InferContext& ctx,
                                                            int32_t index, std::string_view what) {
  const ir::TensorInfo& info = ctx.input(index);
  if (info.dtype != DataType::kINT32 && info.dtype != DataType::kINT64) {
    ctx.fail(what, " must be int32 or int64, not ", toString(info.dtype));
  }
  if (info.dims.nbDims > 1) {
    ctx.fail(what, " must be a scalar or 1-D, not of shape ", toString(info.dims));
  }
  if (info.constData == nullptr) return std::nullopt;
  return intValues(info.dtype, info.constData, volume(info.dims));
}

//! The values of input @p index at run time.
inline std::vector<int64_t> shapeValues(const ir::KernelContext& ctx, int32_t index) {
  const ir::TensorView& view = ctx.input(index);
  return intValues(view.dtype, view.data, view.count());
}

}  // namespace kiln::ops
