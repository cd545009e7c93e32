// OneHot: inputs [indices (INT32, INT64 or FLOAT), values ([off, on], any type), depth (constant
// or shape-tensor scalar or one-element vector: INT32, INT64 or FLOAT)], attribute "axis". ONNX
// OneHot: the output has the indices' shape with depth inserted at axis; output[..., d, ...] is on
// where d equals the index (negative indices count from the end; float ones are truncated) and off
// elsewhere; an index outside [-depth, depth) gives a row of off values.
#include <cmath>
#include <cstring>

#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "kiln/network.h"
#include "ops/infer_checks.h"
#include "ops/op_families.h"

namespace kiln::ops {

namespace {

bool isIndexType(DataType t) {
  return t == DataType::kINT32 || t == DataType::kINT64 || t == DataType::kFLOAT;
}

// Element @p i as an integer (float truncated toward zero; NaN and huge values give a value
// outside every depth).
int64_t loadInteger(const void* data, DataType type, int64_t i) {
  switch (type) {
    case DataType::kINT32:
      return static_cast<const int32_t*>(data)[i];
    case DataType::kINT64:
      return static_cast<const int64_t*>(data)[i];
    default: {
      const float v = static_cast<const float*>(data)[i];
      constexpr float kFar = 0x1p62f;
      if (!(v > -kFar && v < kFar)) return INT64_MIN;
      return static_cast<int64_t>(v);
    }
  }
}

// A depth value from the constant depth input; throws kINVALID_ARGUMENT when unusable.
int64_t depthOf(DataType type, const void* data) {
  if (type == DataType::kFLOAT) {
    const float v = static_cast<const float*>(data)[0];
    if (!std::isfinite(v)) fail(ErrorCode::kINVALID_ARGUMENT, "the depth is ", v);
  }
  const int64_t depth = loadInteger(data, type, 0);
  if (depth < 0) fail(ErrorCode::kINVALID_ARGUMENT, "the depth is ", depth, "; it must be >= 0");
  return depth;
}

void inferOneHot(ir::InferContext& ctx) {
  const auto& indices = ctx.input(0);
  const auto& values = ctx.input(1);
  const auto& depth = ctx.input(2);
  if (!isIndexType(indices.dtype)) {
    ctx.fail("indices must be int32, int64 or float32, not ", toString(indices.dtype));
  }
  if (values.dims.nbDims != 1 || values.dims[0] != 2) {
    ctx.fail("values must be a vector of two elements [off, on], not of shape ",
             toString(values.dims));
  }
  if (!isIndexType(depth.dtype)) {
    ctx.fail("the depth must be int32, int64 or float32, not ", toString(depth.dtype));
  }
  if (depth.dims.nbDims > 1 || volume(depth.dims) != 1) {
    ctx.fail("the depth must be a scalar (or one-element vector), not of shape ",
             toString(depth.dims));
  }
  const int32_t r = indices.dims.nbDims;
  if (r + 1 > Dims::kMaxRank) {
    ctx.fail("indices of rank ", r, " would give an output of more than ", Dims::kMaxRank,
             " dimensions");
  }
  const int64_t axis = ctx.attrs().getInt("axis", -1);
  if (axis < -(r + 1) || axis > r) {
    ctx.fail("axis ", axis, " is out of range for indices of shape ", toString(indices.dims),
             " (valid: ", -(r + 1), " to ", r, ")");
  }
  // A shape-tensor network input's depth is known once the build gives its value.
  const int64_t d = depth.constData == nullptr ? -1 : withLayerContext(ctx, [&] {
    return depthOf(depth.dtype, depth.constData);
  });
  const auto at = static_cast<int32_t>(axis < 0 ? axis + r + 1 : axis);
  Dims out;
  out.nbDims = r + 1;
  for (int32_t k = 0, j = 0; k <= r; ++k) out[k] = k == at ? d : indices.dims[j++];
  if (d >= 0) withLayerContext(ctx, [&] { checkedVolume(out, "the output"); });
  ctx.setOutput(0, values.dtype, out);
}

void runOneHot(const ir::KernelContext& ctx) {
  const auto& indices = ctx.input(0);
  const auto& values = ctx.input(1);
  const auto& out = ctx.output(0);
  const int32_t r = indices.dims.nbDims;
  const int64_t axis = ctx.attrs().getInt("axis", -1);
  const auto at = static_cast<int32_t>(axis < 0 ? axis + r + 1 : axis);
  const int64_t depth = out.dims[at];
  int64_t outer = 1;
  int64_t inner = 1;
  for (int32_t k = 0; k < at; ++k) outer *= indices.dims[k];
  for (int32_t k = at; k < r; ++k) inner *= indices.dims[k];
  const std::size_t esize = elementSize(values.dtype);
  const auto* off = values.as<const std::byte>();
  const auto* on = off + esize;
  auto* dst = out.as<std::byte>();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t d = 0; d < depth; ++d) {
      for (int64_t i = 0; i < inner; ++i) {
        int64_t index = loadInteger(indices.data, indices.dtype, o * inner + i);
        if (index < 0 && index >= -depth) index += depth;
        std::memcpy(dst, index == d ? on : off, esize);
        dst += esize;
      }
    }
  }
}

}  // namespace

void registerOneHotOps(ir::OpRegistry& registry) {
  registry.add({.name = "OneHot",
                .minInputs = 3,
                .maxInputs = 3,
                .nbOutputs = 1,
                .infer = inferOneHot,
                .reference = runOneHot,
                .shapeInputs = {2}});
}

}  // namespace kiln::ops
