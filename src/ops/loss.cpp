// Loss: classification losses as ONNX defines them (NegativeLogLikelihoodLoss and
// SoftmaxCrossEntropyLoss, opset 12+). Inputs: scores/log-probabilities x [N, C, d1, ...]
// (float32), target [N, d1, ...] (int32 or int64 class indices), optional weight [C] (float32).
// Attributes: "type" (LossType), "reduction" (LossReduction), "ignore_index" (int, present only
// when set).
//
//   logp = x (kNEGATIVE_LOG_LIKELIHOOD) or log_softmax(x) along axis 1 (kSOFTMAX_CROSS_ENTROPY)
//   loss[n, d] = -w[t] * logp[n, t, d] with t = target[n, d]; 0 with weight 0 where t is ignored
//   kNONE: loss (the target's shape); kSUM: its sum; kMEAN: its sum / the sum of the weights
//   (the count of targets not ignored without weights; 0 / 0 gives NaN, as the reference).
//
// Output 1 is logp (for kNEGATIVE_LOG_LIKELIHOOD a copy of the input, so that both types have
// the same outputs). A target outside [0, C) that is not the ignore
// index fails the execution naming it.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ir/op_registry.h"
#include "kiln/network.h"
#include "ops/infer_checks.h"
#include "ops/op_families.h"

namespace kiln::ops {

namespace {

void inferLoss(ir::InferContext& ctx) {
  const auto type = ctx.attrs().getEnum("type", LossType::kNEGATIVE_LOG_LIKELIHOOD);
  if (type != LossType::kNEGATIVE_LOG_LIKELIHOOD && type != LossType::kSOFTMAX_CROSS_ENTROPY) {
    ctx.fail("unknown loss type ", static_cast<int64_t>(type));
  }
  const auto reduction = ctx.attrs().getEnum("reduction", LossReduction::kMEAN);
  if (reduction != LossReduction::kNONE && reduction != LossReduction::kSUM &&
      reduction != LossReduction::kMEAN) {
    ctx.fail("unknown reduction ", static_cast<int64_t>(reduction),
             " (expected 0 for kNONE, 1 for kSUM or 2 for kMEAN)");
  }
  requireFloat(ctx, 0, "the input (scores)");
  const auto& x = ctx.input(0);
  if (x.dims.nbDims < 2) {
    ctx.fail("the input has shape ", toString(x.dims), "; it needs [N, C] or [N, C, d1, ...]");
  }
  if (!ctx.hasInput(1)) ctx.fail("the target (input 1) is missing");
  const auto& target = ctx.input(1);
  if (target.dtype != DataType::kINT32 && target.dtype != DataType::kINT64) {
    ctx.fail("the target must be int32 or int64 class indices, not ", toString(target.dtype));
  }
  Dims expected;
  expected.nbDims = x.dims.nbDims - 1;
  expected[0] = x.dims[0];
  for (int32_t i = 2; i < x.dims.nbDims; ++i) expected[i - 1] = x.dims[i];
  if (target.dims != expected) {
    ctx.fail("the target has shape ", toString(target.dims), "; an input of shape ",
             toString(x.dims), " needs a target of shape ", toString(expected),
             " (the input without its class dimension 1)");
  }
  if (ctx.hasInput(2)) {
    const auto& w = ctx.input(2);
    requireFloat(ctx, 2, "the weight");
    if (w.dims.nbDims != 1 || w.dims[0] != x.dims[1]) {
      ctx.fail("the weight has shape ", toString(w.dims), "; the input has ", x.dims[1],
               " classes, so it needs one weight per class (shape ", x.dims[1], ")");
    }
  }
  ctx.setOutput(0, DataType::kFLOAT, reduction == LossReduction::kNONE ? target.dims : Dims{});
  ctx.setOutput(1, DataType::kFLOAT, x.dims);
}

int64_t loadTarget(const ir::TensorView& t, int64_t i) {
  return t.dtype == DataType::kINT32 ? t.as<const int32_t>()[i] : t.as<const int64_t>()[i];
}

void runLoss(const ir::KernelContext& ctx) {
  const auto type = ctx.attrs().getEnum("type", LossType::kNEGATIVE_LOG_LIKELIHOOD);
  const auto reduction = ctx.attrs().getEnum("reduction", LossReduction::kMEAN);
  const bool hasIgnore = ctx.attrs().has("ignore_index");
  const int64_t ignore = ctx.attrs().getInt("ignore_index", 0);
  const auto& x = ctx.input(0);
  const auto& target = ctx.input(1);
  const float* weight = ctx.hasInput(2) ? ctx.input(2).as<const float>() : nullptr;
  const int64_t batch = x.dims[0];
  const int64_t classes = x.dims[1];
  int64_t inner = 1;
  for (int32_t i = 2; i < x.dims.nbDims; ++i) inner *= x.dims[i];
  const float* xs = x.as<const float>();

  // Output 1: the log-probabilities, the input itself or its log_softmax along the classes.
  float* logp = ctx.output(1).as<float>();
  if (type == LossType::kNEGATIVE_LOG_LIKELIHOOD) {
    std::copy(xs, xs + x.count(), logp);
  } else {
    for (int64_t n = 0; n < batch; ++n) {
      for (int64_t d = 0; d < inner; ++d) {
        const float* row = xs + n * classes * inner + d;
        float* dst = logp + n * classes * inner + d;
        double top = -std::numeric_limits<double>::infinity();
        for (int64_t c = 0; c < classes; ++c) top = std::fmax(top, row[c * inner]);
        double sum = 0.0;
        for (int64_t c = 0; c < classes; ++c) sum += std::exp(row[c * inner] - top);
        const double shift = top + std::log(sum);
        for (int64_t c = 0; c < classes; ++c) {
          dst[c * inner] = static_cast<float>(row[c * inner] - shift);
        }
      }
    }
  }

  float* loss = ctx.output(0).as<float>();
  double total = 0.0;
  double weightTotal = 0.0;
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t d = 0; d < inner; ++d) {
      const int64_t i = n * inner + d;
      const int64_t t = loadTarget(target, i);
      double value = 0.0;
      double w = 0.0;
      if (!hasIgnore || t != ignore) {
        if (t < 0 || t >= classes) {
          fail(ErrorCode::kFAILED_EXECUTION, "target ", t, " (target element ", i,
               ") is not a class index in [0, ", classes, ")",
               hasIgnore ? " nor the ignore index" : "");
        }
        w = weight != nullptr ? weight[t] : 1.0;
        value = -w * logp[(n * classes + t) * inner + d];
      }
      if (reduction == LossReduction::kNONE) {
        loss[i] = static_cast<float>(value);
      }
      total += value;
      weightTotal += w;
    }
  }
  if (reduction == LossReduction::kSUM) loss[0] = static_cast<float>(total);
  if (reduction == LossReduction::kMEAN) loss[0] = static_cast<float>(total / weightTotal);
}

}  // namespace

void registerLossOps(ir::OpRegistry& registry) {
  registry.add({.name = "Loss",
                .minInputs = 2,
                .maxInputs = 3,
                .nbOutputs = 2,
                .infer = inferLoss,
                .reference = runLoss});
}

}  // namespace kiln::ops
