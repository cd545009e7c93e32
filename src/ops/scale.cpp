// Scale: output = (x * scale + shift) ^ power. Inputs [x, shift?, scale?, power?]; attributes
// "mode" (ScaleMode) and "channel_axis" (default 1). An absent or empty coefficient input
// means 0 (shift), 1 (scale) or 1 (power).
#include <cmath>
#include <cstdint>

#include "ir/op_registry.h"
#include "kiln/network.h"
#include "ops/infer_checks.h"
#include "ops/op_families.h"

namespace kiln::ops {

namespace {

constexpr int32_t kShift = 1;
constexpr int32_t kScale = 2;
constexpr int32_t kPower = 3;

const char* coefficientName(int32_t index) {
  switch (index) {
    case kShift:
      return "shift";
    case kScale:
      return "scale";
    default:
      return "power";
  }
}

const char* modeName(ScaleMode mode) {
  switch (mode) {
    case ScaleMode::kUNIFORM:
      return "kUNIFORM";
    case ScaleMode::kCHANNEL:
      return "kCHANNEL";
    case ScaleMode::kELEMENTWISE:
      return "kELEMENTWISE";
  }
  return "unknown";
}

// Where coefficients repeat: index of element i is (i / inner) % period.
struct CoefficientLayout {
  int64_t inner = 1;
  int64_t period = 1;
};

CoefficientLayout layoutOf(ScaleMode mode, const Dims& dims, int32_t axis) {
  CoefficientLayout layout;
  if (mode == ScaleMode::kUNIFORM) return layout;
  for (int32_t i = axis + 1; i < dims.nbDims; ++i) layout.inner *= dims[i];
  layout.period = dims[axis];
  if (mode == ScaleMode::kELEMENTWISE) {
    layout.period *= layout.inner;
    layout.inner = 1;
  }
  return layout;
}

void inferScale(ir::InferContext& ctx) {
  const auto& in = ctx.input(0);
  requireFloat(ctx, 0);
  const auto mode = ctx.attrs().getEnum("mode", ScaleMode::kUNIFORM);
  if (static_cast<int32_t>(mode) < 0 || mode > ScaleMode::kELEMENTWISE) {
    ctx.fail("mode ", static_cast<int64_t>(mode), " is not a ScaleMode");
  }
  const Dims& dims = in.dims;
  int32_t axis = 0;
  if (mode != ScaleMode::kUNIFORM) {
    const int64_t raw = ctx.attrs().getInt("channel_axis", 1);
    const int64_t normalized = raw < 0 ? raw + dims.nbDims : raw;
    if (normalized < 0 || normalized >= dims.nbDims) {
      ctx.fail("channel axis ", raw, " is out of range for input shape ", toString(dims), " (",
               modeName(mode), " needs an axis in [0, ", dims.nbDims, "))");
    }
    axis = static_cast<int32_t>(normalized);
  }

  bool known = true;
  int64_t expected = 1;
  if (mode != ScaleMode::kUNIFORM) {
    const int32_t last = mode == ScaleMode::kCHANNEL ? axis + 1 : dims.nbDims;
    for (int32_t i = axis; i < last; ++i) {
      if (dims[i] < 0) known = false;
      expected *= dims[i];
    }
  }
  for (int32_t index = kShift; index <= kPower; ++index) {
    if (!ctx.hasInput(index)) continue;
    const auto& coefficient = ctx.input(index);
    if (coefficient.dtype != DataType::kFLOAT) {
      ctx.fail(coefficientName(index), " weights must be float (float32/float16/bfloat16), not ",
               toString(coefficient.dtype));
    }
    const int64_t count = volume(coefficient.dims);
    if (count == 0 || !known) continue;
    if (count != expected) {
      if (mode == ScaleMode::kUNIFORM) {
        ctx.fail(coefficientName(index), " weights have ", count,
                 " values; kUNIFORM needs exactly 1");
      }
      ctx.fail(coefficientName(index), " weights have ", count, " values; ", modeName(mode),
               " on input shape ", toString(dims), " with channel axis ", axis, " needs ",
               expected);
    }
  }
  ctx.setOutput(0, DataType::kFLOAT, dims);
}

void runScale(const ir::KernelContext& ctx) {
  const Dims& dims = ctx.input(0).dims;
  const auto mode = ctx.attrs().getEnum("mode", ScaleMode::kUNIFORM);
  int32_t axis = 0;
  if (mode != ScaleMode::kUNIFORM) {
    const int64_t raw = ctx.attrs().getInt("channel_axis", 1);
    axis = static_cast<int32_t>(raw < 0 ? raw + dims.nbDims : raw);
  }
  const CoefficientLayout layout = layoutOf(mode, dims, axis);
  auto coefficients = [&](int32_t index) -> const float* {
    return ctx.hasInput(index) && ctx.input(index).count() > 0 ? ctx.input(index).as<float>()
                                                               : nullptr;
  };
  const float* shift = coefficients(kShift);
  const float* scale = coefficients(kScale);
  const float* power = coefficients(kPower);

  const float* x = ctx.input(0).as<float>();
  float* y = ctx.output(0).as<float>();
  const int64_t count = ctx.output(0).count();
  for (int64_t i = 0; i < count; ++i) {
    const int64_t c = (i / layout.inner) % layout.period;
    double v = x[i];
    if (scale != nullptr) v *= scale[c];
    if (shift != nullptr) v += shift[c];
    if (power != nullptr) v = std::pow(v, static_cast<double>(power[c]));
    y[i] = static_cast<float>(v);
  }
}

}  // namespace

void registerScaleOps(ir::OpRegistry& registry) {
  registry.add({.name = "Scale",
                .minInputs = 1,
                .maxInputs = 4,
                .nbOutputs = 1,
                .infer = inferScale,
                .reference = runScale});
}

}  // namespace kiln::ops
