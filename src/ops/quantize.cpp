// Quantize and Dequantize: linear (de)quantization as ONNX QuantizeLinear / DequantizeLinear
// define it, computed in float32 with the spec's rounding.
//
//   Quantize:   y = saturate(round_half_even(x / scale) + zero_point)
//   Dequantize: y = (x - zero_point) * scale
//
// Inputs: x, scale (float32), optional zero_point (int32, int8 or uint8). scale and zero_point
// are per tensor (one value: rank 0 or [1]) or per axis ([C] with C = x's extent along "axis").
// Quantize: x float32; its output is int32 holding the quantized values, saturated to the range
// of "to_type" (kINT8 [-128, 127] or kUINT8 [0, 255]): inside networks integers are int32, and
// an engine output of that type converts them. Dequantize: x int32, int8 or uint8; output
// float32. Zero-size tensors give empty outputs.
#include <cmath>
#include <cstdint>

#include "ir/op_registry.h"
#include "ops/infer_checks.h"
#include "ops/op_families.h"

namespace kiln::ops {

namespace {

bool isQuantizedIntType(DataType t) {
  return t == DataType::kINT32 || t == DataType::kINT8 || t == DataType::kUINT8;
}

// Checks scale and zero point against x; returns the normalized axis.
int32_t checkQuantParams(const ir::InferContext& ctx, const Dims& x) {
  const int64_t rawAxis = ctx.attrs().getInt("axis", 1);
  const int32_t rank = x.nbDims;
  if (!ctx.hasInput(1)) ctx.fail("the scale (input 1) is missing");
  requireFloat(ctx, 1, "the scale");
  const Dims& s = ctx.input(1).dims;
  const bool perTensor = s.nbDims == 0 || (s.nbDims == 1 && s[0] == 1);
  int32_t axis = 0;
  if (!perTensor) {
    if (rawAxis < -rank || rawAxis >= rank) {
      ctx.fail("axis ", rawAxis, " is out of range for an input of shape ", toString(x),
               " (valid: ", -rank, " to ", rank - 1, ")");
    }
    axis = static_cast<int32_t>(rawAxis < 0 ? rawAxis + rank : rawAxis);
    if (s.nbDims != 1 || s[0] != x[axis]) {
      ctx.fail("the scale has shape ", toString(s), "; it needs one value (per tensor) or ",
               x[axis], " (one per element of axis ", axis, " of the input, shape ", toString(x),
               ")");
    }
  }
  if (ctx.hasInput(2)) {
    const auto& z = ctx.input(2);
    if (!isQuantizedIntType(z.dtype)) {
      ctx.fail("the zero point must be int32, int8 or uint8, not ", toString(z.dtype));
    }
    if (z.dims != s) {
      ctx.fail("the zero point has shape ", toString(z.dims), "; it needs the scale's shape ",
               toString(s));
    }
  }
  return perTensor ? -1 : axis;
}

int64_t loadInt(const ir::TensorView& t, int64_t i) {
  switch (t.dtype) {
    case DataType::kINT8:
      return t.as<const int8_t>()[i];
    case DataType::kUINT8:
      return t.as<const uint8_t>()[i];
    default:
      return t.as<const int32_t>()[i];
  }
}

// For element i of x: the index into scale / zero point (0 per tensor, the axis coordinate per
// axis).
struct ParamIndex {
  int64_t inner = 1, extent = 1;
  bool perAxis = false;
  int64_t operator()(int64_t i) const { return perAxis ? (i / inner) % extent : 0; }
};

ParamIndex paramIndex(const ir::KernelContext& ctx, const Dims& x) {
  ParamIndex p;
  const Dims& s = ctx.input(1).dims;
  if (s.nbDims == 0 || (s.nbDims == 1 && s[0] == 1)) return p;
  const int64_t rawAxis = ctx.attrs().getInt("axis", 1);
  const int32_t axis = static_cast<int32_t>(rawAxis < 0 ? rawAxis + x.nbDims : rawAxis);
  p.perAxis = true;
  p.extent = x[axis];
  for (int32_t d = axis + 1; d < x.nbDims; ++d) p.inner *= x[d];
  return p;
}

void inferQuantize(ir::InferContext& ctx) {
  requireFloat(ctx, 0);
  const auto to = ctx.attrs().getEnum("to_type", DataType::kINT8);
  if (to != DataType::kUINT8 && to != DataType::kINT8) {
    ctx.fail("the quantized type must be int8 or uint8, not ", toString(to));
  }
  checkQuantParams(ctx, ctx.input(0).dims);
  ctx.setOutput(0, DataType::kINT32, ctx.input(0).dims);
}

void runQuantize(const ir::KernelContext& ctx) {
  const auto& x = ctx.input(0);
  const auto to = ctx.attrs().getEnum("to_type", DataType::kINT8);
  const double lo = to == DataType::kINT8 ? -128 : 0;
  const double hi = to == DataType::kINT8 ? 127 : 255;
  const ParamIndex index = paramIndex(ctx, x.dims);
  const float* xs = x.as<const float>();
  const float* scale = ctx.input(1).as<const float>();
  int32_t* y = ctx.output(0).as<int32_t>();
  const int64_t n = x.count();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t p = index(i);
    const int64_t zero = ctx.hasInput(2) ? loadInt(ctx.input(2), p) : 0;
    // float32 division, then round half to even (the default rounding mode), as the spec.
    const float q = std::nearbyint(xs[i] / scale[p]);
    double v = static_cast<double>(q) + static_cast<double>(zero);
    if (std::isnan(v)) v = 0;  // undefined in the spec; kept in range
    y[i] = static_cast<int32_t>(v < lo ? lo : (v > hi ? hi : v));
  }
}

void inferDequantize(ir::InferContext& ctx) {
  const auto& x = ctx.input(0);
  if (!isQuantizedIntType(x.dtype)) {
    ctx.fail("the input must be int32, int8 or uint8 (quantized values), not ", toString(x.dtype));
  }
  checkQuantParams(ctx, x.dims);
  ctx.setOutput(0, DataType::kFLOAT, x.dims);
}

void runDequantize(const ir::KernelContext& ctx) {
  const auto& x = ctx.input(0);
  const ParamIndex index = paramIndex(ctx, x.dims);
  const float* scale = ctx.input(1).as<const float>();
  float* y = ctx.output(0).as<float>();
  const int64_t n = x.count();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t p = index(i);
    const int64_t zero = ctx.hasInput(2) ? loadInt(ctx.input(2), p) : 0;
    y[i] = (static_cast<float>(loadInt(x, i)) - static_cast<float>(zero)) * scale[p];
  }
}

}  // namespace

void registerQuantizeOps(ir::OpRegistry& registry) {
  registry.add({.name = "Quantize",
                .minInputs = 2,
                .maxInputs = 3,
                .nbOutputs = 1,
                .infer = inferQuantize,
                .reference = runQuantize});
  registry.add({.name = "Dequantize",
                .minInputs = 2,
                .maxInputs = 3,
                .nbOutputs = 1,
                .infer = inferDequantize,
                .reference = runDequantize});
}

}  // namespace kiln::ops
