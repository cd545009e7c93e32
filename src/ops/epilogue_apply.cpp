#include "ops/epilogue_apply.h"

#include "ops/epilogue.h"

namespace kiln::ops {

void checkEpilogue(const ir::InferContext& ctx, int32_t firstExtraInput, const Dims& out) {
  const auto& attrs = ctx.attrs();
  if (attrs.has("epilogue.activation")) {
    const int64_t type = attrs.getInt("epilogue.activation");
    if (type < 0 || type > static_cast<int64_t>(ActivationType::kGELU_TANH)) {
      ctx.fail("unknown epilogue activation type ", type);
    }
  }
  const int32_t used = ctx.nbInputs();
  if (!attrs.has("epilogue.residual")) {
    for (int32_t i = firstExtraInput; i < used; ++i) {
      if (ctx.hasInput(i)) {
        ctx.fail("input ", i, " is set, but the layer has no epilogue residual that reads it");
      }
    }
    return;
  }
  const int64_t index = attrs.getInt("epilogue.residual");
  if (index < firstExtraInput || index >= used) {
    ctx.fail("the epilogue residual is input ", index, ", but the layer has ", used,
             " inputs and the residual must come after input ", firstExtraInput - 1);
  }
  const auto i = static_cast<int32_t>(index);
  if (!ctx.hasInput(i)) ctx.fail("the epilogue residual (input ", i, ") is not set");
  const auto& residual = ctx.input(i);
  if (residual.dtype != DataType::kFLOAT) {
    ctx.fail("the epilogue residual (input ", i, ") must be float32, not ",
             toString(residual.dtype));
  }
  bool same = residual.dims.nbDims == out.nbDims;
  for (int32_t d = 0; same && d < out.nbDims; ++d) {
    same = out[d] < 0 || residual.dims[d] < 0 || residual.dims[d] == out[d];
  }
  if (!same) {
    ctx.fail("the epilogue residual (input ", i, ") has shape ", toString(residual.dims),
             "; it must have the output's shape ", toString(out));
  }
}

void applyEpilogue(const ir::KernelContext& ctx) {
  const Epilogue e = Epilogue::of(ctx.attrs());
  if (e.empty()) return;
  float* y = ctx.output(0).as<float>();
  const int64_t count = ctx.output(0).count();
  const float* residual = e.residualInput ? ctx.input(*e.residualInput).as<float>() : nullptr;
  for (int64_t i = 0; i < count; ++i) {
    float v = y[i];
    if (residual != nullptr) v += residual[i];
    y[i] = e.activate(v);
  }
}

}  // namespace kiln::ops
