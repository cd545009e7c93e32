// Activation: one pointwise nonlinearity selected by the "type" attribute (ActivationType),
// with parameters "alpha" and "beta".
#include "ops/activation.h"

#include <cmath>
#include <numbers>

#include "ir/op_registry.h"
#include "kiln/network.h"
#include "ops/op_families.h"

namespace kiln::ops {

// Default alpha/beta per type, as TensorRT documents them.
double activationDefaultAlpha(ActivationType type) {
  switch (type) {
    case ActivationType::kLEAKY_RELU:
      return 0.01;
    case ActivationType::kELU:
      return 1.0;
    case ActivationType::kSELU:
      return 1.6732632423543772;
    case ActivationType::kSOFTPLUS:
      return 1.0;
    case ActivationType::kHARD_SIGMOID:
      return 0.2;
    case ActivationType::kSCALED_TANH:
      return 1.0;
    case ActivationType::kTHRESHOLDED_RELU:
      return 1.0;
    default:
      return 0.0;
  }
}

double activationDefaultBeta(ActivationType type) {
  switch (type) {
    case ActivationType::kSELU:
      return 1.0507009873554805;
    case ActivationType::kSOFTPLUS:
      return 1.0;
    case ActivationType::kHARD_SIGMOID:
      return 0.5;
    case ActivationType::kSCALED_TANH:
      return 1.0;
    case ActivationType::kCLIP:
      return 0.0;
    default:
      return 0.0;
  }
}

std::string_view activationName(ActivationType type) {
  switch (type) {
    case ActivationType::kRELU:
      return "relu";
    case ActivationType::kSIGMOID:
      return "sigmoid";
    case ActivationType::kTANH:
      return "tanh";
    case ActivationType::kLEAKY_RELU:
      return "leaky_relu";
    case ActivationType::kELU:
      return "elu";
    case ActivationType::kSELU:
      return "selu";
    case ActivationType::kSOFTSIGN:
      return "softsign";
    case ActivationType::kSOFTPLUS:
      return "softplus";
    case ActivationType::kCLIP:
      return "clip";
    case ActivationType::kHARD_SIGMOID:
      return "hard_sigmoid";
    case ActivationType::kSCALED_TANH:
      return "scaled_tanh";
    case ActivationType::kTHRESHOLDED_RELU:
      return "thresholded_relu";
    case ActivationType::kGELU_ERF:
      return "gelu_erf";
    case ActivationType::kGELU_TANH:
      return "gelu_tanh";
    case ActivationType::kSILU:
      return "silu";
    case ActivationType::kHARD_SWISH:
      return "hard_swish";
  }
  return "unknown";
}

double applyActivation(ActivationType type, double x, double alpha, double beta) {
  switch (type) {
    case ActivationType::kRELU:
      return x > 0 ? x : 0.0;
    case ActivationType::kSIGMOID:
      return 1.0 / (1.0 + std::exp(-x));
    case ActivationType::kTANH:
      return std::tanh(x);
    case ActivationType::kLEAKY_RELU:
      return x >= 0 ? x : alpha * x;
    case ActivationType::kELU:
      return x >= 0 ? x : alpha * (std::exp(x) - 1.0);
    case ActivationType::kSELU:
      return beta * (x >= 0 ? x : alpha * (std::exp(x) - 1.0));
    case ActivationType::kSOFTSIGN:
      return x / (1.0 + std::fabs(x));
    case ActivationType::kSOFTPLUS: {
      // log(1 + e^z) = max(z, 0) + log(1 + e^-|z|): exp(z) alone overflows for z > ~709.
      const double z = beta * x;
      return alpha * (std::fmax(z, 0.0) + std::log1p(std::exp(-std::fabs(z))));
    }
    case ActivationType::kCLIP:
      // NaN stays NaN (ONNX Clip, PyTorch clamp); fmin/fmax alone would return a bound.
      return std::isnan(x) ? x : std::fmin(std::fmax(x, alpha), beta);
    case ActivationType::kHARD_SIGMOID:
      return std::fmax(0.0, std::fmin(1.0, alpha * x + beta));
    case ActivationType::kSCALED_TANH:
      return alpha * std::tanh(beta * x);
    case ActivationType::kTHRESHOLDED_RELU:
      return x > alpha ? x : 0.0;
    case ActivationType::kGELU_ERF:
      return 0.5 * x * (1.0 + std::erf(x / std::numbers::sqrt2));
    case ActivationType::kGELU_TANH: {
      const double c = std::sqrt(2.0 / std::numbers::pi);
      return 0.5 * x * (1.0 + std::tanh(c * (x + 0.044715 * x * x * x)));
    }
    case ActivationType::kSILU:
      return x / (1.0 + std::exp(-x));
    case ActivationType::kHARD_SWISH:
      return x * std::fmax(0.0, std::fmin(1.0, x / 6.0 + 0.5));
  }
  return x;
}

namespace {

void inferActivation(ir::InferContext& ctx) {
  const auto& in = ctx.input(0);
  const auto type = ctx.attrs().getEnum("type", ActivationType::kRELU);
  if (static_cast<int32_t>(type) < 0 || type > ActivationType::kHARD_SWISH) {
    ctx.fail("unknown activation type ", static_cast<int64_t>(type));
  }
  if (in.dtype != DataType::kFLOAT) {
    ctx.fail("input must be float32, not ", toString(in.dtype), " (convert with addCast)");
  }
  ctx.setOutput(0, in.dtype, in.dims);
}

void runActivation(const ir::KernelContext& ctx) {
  const auto type = ctx.attrs().getEnum("type", ActivationType::kRELU);
  const double alpha = ctx.attrs().getFloat("alpha", activationDefaultAlpha(type));
  const double beta = ctx.attrs().getFloat("beta", activationDefaultBeta(type));
  const float* x = ctx.input(0).as<float>();
  float* y = ctx.output(0).as<float>();
  const int64_t n = ctx.output(0).count();
  for (int64_t i = 0; i < n; ++i)
    y[i] = static_cast<float>(applyActivation(type, x[i], alpha, beta));
}

}  // namespace

void registerActivationOps(ir::OpRegistry& registry) {
  registry.add({.name = "Activation",
                .minInputs = 1,
                .maxInputs = 1,
                .nbOutputs = 1,
                .infer = inferActivation,
                .reference = runActivation});
}

}  // namespace kiln::ops
