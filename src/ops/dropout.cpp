// Dropout (ONNX Dropout with a training mode known only at run time): inputs x, ratio (float32
// scalar) and training mode (bool scalar); outputs y (x) and an all-true bool mask. Inference does
// not drop values at random, so a true training mode with a non-zero ratio fails the inference.
#include <algorithm>
#include <cstring>

#include "ir/op_registry.h"
#include "ops/op_families.h"

namespace kiln::ops {

namespace {

void inferDropout(ir::InferContext& ctx) {
  const auto& x = ctx.input(0);
  const auto& ratio = ctx.input(1);
  const auto& training = ctx.input(2);
  if (ratio.dtype != DataType::kFLOAT || volume(ratio.dims) != 1) {
    ctx.fail("the ratio (input 1) must be one float32 value, not ", toString(ratio.dtype), " ",
             toString(ratio.dims));
  }
  if (training.dtype != DataType::kBOOL || volume(training.dims) != 1) {
    ctx.fail("the training mode (input 2) must be one bool value, not ", toString(training.dtype),
             " ", toString(training.dims));
  }
  ctx.setOutput(0, x.dtype, x.dims);
  ctx.setOutput(1, DataType::kBOOL, x.dims);
}

void runDropout(const ir::KernelContext& ctx) {
  const bool training = *ctx.input(2).as<const uint8_t>() != 0;
  const float ratio = *ctx.input(1).as<const float>();
  if (training && ratio != 0.f) {
    fail(ErrorCode::kFAILED_EXECUTION, "training mode with ratio ", ratio,
         " drops values at random, which kiln does not do");
  }
  const auto& x = ctx.input(0);
  const auto bytes = static_cast<std::size_t>(x.count()) * elementSize(x.dtype);
  if (bytes > 0 && ctx.output(0).data != x.data) std::memcpy(ctx.output(0).data, x.data, bytes);
  auto* mask = ctx.output(1).as<uint8_t>();
  std::fill(mask, mask + ctx.output(1).count(), uint8_t{1});
}

}  // namespace

void registerDropoutOps(ir::OpRegistry& registry) {
  registry.add({.name = "Dropout",
                .minInputs = 3,
                .maxInputs = 3,
                .nbOutputs = 2,
                .infer = inferDropout,
                .reference = runDropout});
}

}  // namespace kiln::ops
