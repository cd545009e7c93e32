// Activation defaults shared by the op and the layer API.
#pragma once

#include "kiln/network.h"

namespace kiln::ops {

//! TensorRT's default alpha / beta of each activation type.
double activationDefaultAlpha(ActivationType type);
double activationDefaultBeta(ActivationType type);

//! The activation function itself (the Activation op's reference, and fused epilogues').
double applyActivation(ActivationType type, double x, double alpha, double beta);

}  // namespace kiln::ops
