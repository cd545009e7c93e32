// The fused epilogue of Convolution, Deconvolution, FullyConnected and MatrixMultiply: what the
// builder's fusion passes fold into these ops and what every kernel of them (reference and fast)
// applies after the accumulation:
//
//   y = activation(op(x) + bias + residual)
//
// It lives in the node's attributes, so it survives the plan round trip like any attribute:
//   "epilogue.activation"  ActivationType as int; absent when there is none
//   "epilogue.alpha", "epilogue.beta"  its parameters (TensorRT's defaults when absent)
//   "epilogue.residual"    index of the node input that holds the residual (a tensor of the
//                          output's shape and type, added element-wise); absent when none
//   "epilogue.bias"        MatrixMultiply only (the other layers have a bias input of their
//                          own): index of the node input that holds a vector [N] added along
//                          the output's last dimension (N, the columns of input 1) before the
//                          residual and the activation; absent when none
#pragma once

#include <cstdint>
#include <optional>

#include "ir/graph.h"
#include "kiln/network.h"
#include "ops/activation.h"

namespace kiln::ops {

struct Epilogue {
  std::optional<ActivationType> activation;
  double alpha = 0.0;
  double beta = 0.0;
  std::optional<int32_t> residualInput;
  std::optional<int32_t> biasInput;  //!< "epilogue.bias" (MatrixMultiply)

  static Epilogue of(const ir::Attributes& attrs) {
    Epilogue e;
    if (attrs.has("epilogue.activation")) {
      const auto type = attrs.getEnum("epilogue.activation", ActivationType::kRELU);
      e.activation = type;
      e.alpha = attrs.getFloat("epilogue.alpha", activationDefaultAlpha(type));
      e.beta = attrs.getFloat("epilogue.beta", activationDefaultBeta(type));
    }
    if (attrs.has("epilogue.residual")) {
      e.residualInput = static_cast<int32_t>(attrs.getInt("epilogue.residual"));
    }
    if (attrs.has("epilogue.bias")) {
      e.biasInput = static_cast<int32_t>(attrs.getInt("epilogue.bias"));
    }
    return e;
  }

  bool empty() const noexcept { return !activation && !residualInput && !biasInput; }

  //! The activation alone (bias and residual are added by the caller, before this).
  float activate(float x) const {
    return activation ? static_cast<float>(applyActivation(*activation, x, alpha, beta)) : x;
  }
};

}  // namespace kiln::ops
