#include "ops/epilogue_apply.h"

#include "ops/epilogue.h"

namespace kiln::ops {

namespace {

// The index in attribute @p name: an extra input (>= firstExtraInput) that is set.
int32_t extraInputIndex(const ir::InferContext& ctx, const char* name, const char* what,
                        int32_t firstExtraInput) {
  const int64_t index = ctx.attrs().getInt(name);
  const int32_t used = ctx.nbInputs();
  if (index < firstExtraInput || index >= used) {
    ctx.fail("the epilogue ", what, " is input ", index, ", but the layer has ", used,
             " inputs and the ", what, " must come after input ", firstExtraInput - 1);
  }
  const auto i = static_cast<int32_t>(index);
  if (!ctx.hasInput(i)) ctx.fail("the epilogue ", what, " (input ", i, ") is not set");
  if (ctx.input(i).dtype != DataType::kFLOAT) {
    ctx.fail("the epilogue ", what, " (input ", i, ") must be float32, not ",
             toString(ctx.input(i).dtype));
  }
  return i;
}

}  // namespace

void checkEpilogue(const ir::InferContext& ctx, int32_t firstExtraInput, const Dims& out,
                   bool biasAllowed) {
  const auto& attrs = ctx.attrs();
  if (attrs.has("epilogue.activation")) {
    const int64_t type = attrs.getInt("epilogue.activation");
    if (type < 0 || type > static_cast<int64_t>(ActivationType::kHARD_SWISH)) {
      ctx.fail("unknown epilogue activation type ", type);
    }
  }
  int32_t residual = -1;
  int32_t bias = -1;
  if (attrs.has("epilogue.residual")) {
    residual = extraInputIndex(ctx, "epilogue.residual", "residual", firstExtraInput);
    const Dims& dims = ctx.input(residual).dims;
    bool same = dims.nbDims == out.nbDims;
    for (int32_t d = 0; same && d < out.nbDims; ++d) {
      same = out[d] < 0 || dims[d] < 0 || dims[d] == out[d];
    }
    if (!same) {
      ctx.fail("the epilogue residual (input ", residual, ") has shape ", toString(dims),
               "; it must have the output's shape ", toString(out));
    }
  }
  if (attrs.has("epilogue.bias")) {
    if (!biasAllowed) {
      ctx.fail(
          "has an epilogue bias (\"epilogue.bias\"), which only MatrixMultiply takes; this "
          "layer's bias is its own input 2");
    }
    bias = extraInputIndex(ctx, "epilogue.bias", "bias", firstExtraInput);
    if (bias == residual) {
      ctx.fail("the epilogue bias and residual are both input ", bias);
    }
    const Dims& dims = ctx.input(bias).dims;
    const int64_t n = out.nbDims > 0 ? out[out.nbDims - 1] : -2;
    if (n == -2) ctx.fail("the epilogue bias (input ", bias, ") needs an output of rank >= 1");
    if (dims.nbDims != 1 || (n >= 0 && dims[0] >= 0 && dims[0] != n)) {
      ctx.fail("the epilogue bias (input ", bias, ") has shape ", toString(dims),
               "; it must be a vector of the output's last extent ", n, " (output shape ",
               toString(out), ")");
    }
  }
  for (int32_t i = firstExtraInput; i < ctx.nbInputs(); ++i) {
    if (ctx.hasInput(i) && i != residual && i != bias) {
      ctx.fail("input ", i, " is set, but the layer has no epilogue ",
               biasAllowed ? "bias or residual" : "residual", " that reads it");
    }
  }
}

void applyEpilogue(const ir::KernelContext& ctx) {
  const Epilogue e = Epilogue::of(ctx.attrs());
  if (e.empty()) return;
  float* y = ctx.output(0).as<float>();
  const int64_t count = ctx.output(0).count();
  const float* residual = e.residualInput ? ctx.input(*e.residualInput).as<float>() : nullptr;
  const float* bias = e.biasInput ? ctx.input(*e.biasInput).as<float>() : nullptr;
  const Dims& out = ctx.output(0).dims;
  const int64_t n = out.nbDims > 0 ? out[out.nbDims - 1] : 1;
  for (int64_t i = 0; i < count; ++i) {
    float v = y[i];
    if (bias != nullptr) v += bias[i % n];
    if (residual != nullptr) v += residual[i];
    y[i] = e.activate(v);
  }
}

}  // namespace kiln::ops
