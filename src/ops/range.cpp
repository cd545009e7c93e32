// Range: inputs [start, limit, delta] (scalars or one-element vectors: FLOAT, INT32 or INT64).
// ONNX Range: a vector of max(ceil((limit - start) / delta), 0) elements, element i being
// start + i * delta, of start's type; limit and delta of another type are converted to it as ONNX
// Cast would (the importer passes a network input read through a Cast as it is). All three inputs
// decide the length, so they are shape inputs: constants, or shape-tensor network inputs whose
// values the build gives (the length is unknown until then).
#include <cmath>
#include <cstring>
#include <limits>

#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "ops/infer_checks.h"
#include "ops/op_families.h"

namespace kiln::ops {

namespace {

// Element 0 of @p data (of type @p from) as float32, as ONNX Cast converts it.
float floatOf(DataType from, const void* data) {
  switch (from) {
    case DataType::kINT32:
      return static_cast<float>(*static_cast<const int32_t*>(data));
    case DataType::kINT64:
      return static_cast<float>(*static_cast<const int64_t*>(data));
    default:
      return *static_cast<const float*>(data);
  }
}

// Element 0 of @p data (of type @p from) as integer type @p to, as ONNX Cast converts it (floats
// truncated toward zero); throws kINVALID_ARGUMENT for a float no integer holds.
int64_t intOf(DataType to, DataType from, const void* data) {
  int64_t v = 0;
  if (from == DataType::kFLOAT) {
    const float f = *static_cast<const float*>(data);
    if (!(f > -0x1p63f && f < 0x1p63f)) {
      fail(ErrorCode::kINVALID_ARGUMENT, "the bound ", f, " is no ", toString(to), " value");
    }
    v = static_cast<int64_t>(f);
  } else {
    v = from == DataType::kINT32 ? *static_cast<const int32_t*>(data)
                                 : *static_cast<const int64_t*>(data);
  }
  return to == DataType::kINT32 ? static_cast<int32_t>(v) : v;
}

// The length of the range of element type @p type; throws kINVALID_ARGUMENT when delta is 0 or
// the length is not finite.
int64_t rangeLength(DataType type, const ir::TensorInfo& start, const ir::TensorInfo& limit,
                    const ir::TensorInfo& delta) {
  if (type == DataType::kFLOAT) {
    const double s = floatOf(start.dtype, start.constData);
    const double l = floatOf(limit.dtype, limit.constData);
    const double d = floatOf(delta.dtype, delta.constData);
    if (d == 0) fail(ErrorCode::kINVALID_ARGUMENT, "delta is 0");
    const double steps = std::max(std::ceil((l - s) / d), 0.0);
    if (!(steps < 0x1p62)) {
      fail(ErrorCode::kINVALID_ARGUMENT, "start ", s, ", limit ", l, " and delta ", d,
           " give no usable length");
    }
    return static_cast<int64_t>(steps);
  }
  // Integers exactly: the difference rounded up (away from zero) in steps of delta.
  const int64_t s = intOf(type, start.dtype, start.constData);
  const int64_t l = intOf(type, limit.dtype, limit.constData);
  const int64_t d = intOf(type, delta.dtype, delta.constData);
  if (d == 0) fail(ErrorCode::kINVALID_ARGUMENT, "delta is 0");
  int64_t diff = 0;
  if (__builtin_sub_overflow(l, s, &diff)) {
    fail(ErrorCode::kINVALID_ARGUMENT, "start ", s, " and limit ", l,
         " are too far apart for int64");
  }
  if (d > 0) return diff <= 0 ? 0 : (diff - 1) / d + 1;
  return diff >= 0 ? 0 : (diff + 1) / d + 1;
}

void inferRange(ir::InferContext& ctx) {
  const DataType type = ctx.input(0).dtype;
  if (type != DataType::kFLOAT && type != DataType::kINT32 && type != DataType::kINT64) {
    ctx.fail("start must be float32, int32 or int64, not ", toString(type));
  }
  static constexpr const char* kNames[] = {"start", "limit", "delta"};
  bool known = true;
  for (int32_t i = 0; i < 3; ++i) {
    const auto& in = ctx.input(i);
    if (in.dtype != DataType::kFLOAT && in.dtype != DataType::kINT32 &&
        in.dtype != DataType::kINT64) {
      ctx.fail(kNames[i], " must be float32, int32 or int64, not ", toString(in.dtype));
    }
    if (in.dims.nbDims > 1 || volume(in.dims) != 1) {
      ctx.fail(kNames[i], " must be a scalar (or one-element vector), not of shape ",
               toString(in.dims));
    }
    known = known && in.constData != nullptr;
  }
  Dims out{-1};  // a shape-tensor network input's values come when the engine is built
  if (known) {
    out[0] = withLayerContext(
        ctx, [&] { return rangeLength(type, ctx.input(0), ctx.input(1), ctx.input(2)); });
    withLayerContext(ctx, [&] { checkedVolume(out, "the output"); });
  }
  ctx.setOutput(0, type, out);
}

void runRange(const ir::KernelContext& ctx) {
  const auto& out = ctx.output(0);
  const DataType type = out.dtype;
  const int64_t count = out.count();
  const auto& start = ctx.input(0);
  const auto& delta = ctx.input(2);
  if (type == DataType::kFLOAT) {
    const double s = floatOf(start.dtype, start.data);
    const double d = floatOf(delta.dtype, delta.data);
    auto* dst = out.as<float>();
    for (int64_t i = 0; i < count; ++i) dst[i] = static_cast<float>(s + static_cast<double>(i) * d);
    return;
  }
  // Every element lies between start and limit, so none overflows.
  const int64_t s = intOf(type, start.dtype, start.data);
  const int64_t d = intOf(type, delta.dtype, delta.data);
  for (int64_t i = 0; i < count; ++i) {
    const int64_t v = s + i * d;
    if (type == DataType::kINT32) {
      out.as<int32_t>()[i] = static_cast<int32_t>(v);
    } else {
      out.as<int64_t>()[i] = v;
    }
  }
}

}  // namespace

void registerRangeOps(ir::OpRegistry& registry) {
  registry.add({.name = "Range",
                .minInputs = 3,
                .maxInputs = 3,
                .nbOutputs = 1,
                .infer = inferRange,
                .reference = runRange,
                .shapeInputs = {0, 1, 2}});
}

}  // namespace kiln::ops
