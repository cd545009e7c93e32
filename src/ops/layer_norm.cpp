// LayerNorm: y = (x - mean) / sqrt(var + epsilon) * gamma + beta, mean and (biased) variance
// taken over the dimensions from "axis" (attribute, >= 0) to the last. A fused op: the builder's
// layernorm-fusion pass makes it from the Reduce/ElementWise/Unary pattern that ONNX exports
// (and kiln's own LayerNormalization import) use. Inputs: x (float32), gamma and beta (optional,
// float32, one value per normalized element: volume = product of the normalized extents);
// attribute "epsilon".
#include <cmath>
#include <cstdint>

#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "ops/infer_checks.h"
#include "ops/op_families.h"

namespace kiln::ops {

namespace {

void inferLayerNorm(ir::InferContext& ctx) {
  requireFloat(ctx, 0);
  const Dims& x = ctx.input(0).dims;
  const int64_t axis = ctx.attrs().getInt("axis", -1);
  if (axis < 0 || axis >= x.nbDims) {
    ctx.fail("axis ", axis, " is out of range for input shape ", toString(x), " (need [0, ",
             x.nbDims, "))");
  }
  int64_t inner = 1;
  bool known = true;
  for (int32_t i = static_cast<int32_t>(axis); i < x.nbDims; ++i) {
    if (x[i] < 0) known = false;
    inner *= std::max<int64_t>(x[i], 0);
  }
  for (int32_t i = 1; i <= 2; ++i) {
    if (!ctx.hasInput(i)) continue;
    const auto& w = ctx.input(i);
    if (w.dtype != DataType::kFLOAT) {
      ctx.fail(i == 1 ? "gamma" : "beta", " must be float32, not ", toString(w.dtype));
    }
    if (known && volume(w.dims) != inner) {
      ctx.fail(i == 1 ? "gamma" : "beta", " has ", volume(w.dims), " values; the ", inner,
               " normalized elements of input ", toString(x), " from axis ", axis,
               " need one each");
    }
  }
  if (ctx.attrs().getFloat("epsilon", 1e-5) < 0) ctx.fail("epsilon must not be negative");
  ctx.setOutput(0, DataType::kFLOAT, x);
}

void runLayerNorm(const ir::KernelContext& ctx) {
  const auto& in = ctx.input(0);
  const auto axis = static_cast<int32_t>(ctx.attrs().getInt("axis", -1));
  const double epsilon = ctx.attrs().getFloat("epsilon", 1e-5);
  int64_t inner = 1;
  for (int32_t i = axis; i < in.dims.nbDims; ++i) inner *= in.dims[i];
  const int64_t total = in.count();
  const int64_t rows = inner == 0 ? 0 : total / inner;
  const float* x = in.as<float>();
  const float* gamma = ctx.hasInput(1) ? ctx.input(1).as<float>() : nullptr;
  const float* beta = ctx.hasInput(2) ? ctx.input(2).as<float>() : nullptr;
  float* y = ctx.output(0).as<float>();
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * inner;
    float* yr = y + r * inner;
    double sum = 0;
    for (int64_t j = 0; j < inner; ++j) sum += xr[j];
    const double mean = sum / static_cast<double>(inner);
    double squares = 0;
    for (int64_t j = 0; j < inner; ++j) squares += (xr[j] - mean) * (xr[j] - mean);
    const double rstd = 1.0 / std::sqrt(squares / static_cast<double>(inner) + epsilon);
    for (int64_t j = 0; j < inner; ++j) {
      double v = (xr[j] - mean) * rstd;
      if (gamma != nullptr) v *= gamma[j];
      if (beta != nullptr) v += beta[j];
      yr[j] = static_cast<float>(v);
    }
  }
}

}  // namespace

void registerLayerNormOps(ir::OpRegistry& registry) {
  registry.add({.name = "LayerNorm",
                .minInputs = 1,
                .maxInputs = 3,
                .nbOutputs = 1,
                .infer = inferLayerNorm,
                .reference = runLayerNorm});
}

}  // namespace kiln::ops
