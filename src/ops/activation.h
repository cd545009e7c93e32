// Activation defaults shared by the op and the layer API.
#pragma once

#include <string_view>

#include "kiln/network.h"

namespace kiln::ops {

//! TensorRT's default alpha / beta of each activation type.
double activationDefaultAlpha(ActivationType type);
double activationDefaultBeta(ActivationType type);

//! Lower-case name of @p type ("relu", "gelu_erf"), for messages and the engine inspector.
std::string_view activationName(ActivationType type);

//! The activation function itself (the Activation op's reference, and fused epilogues').
double applyActivation(ActivationType type, double x, double alpha, double beta);

}  // namespace kiln::ops
