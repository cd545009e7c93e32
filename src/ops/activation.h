// Activation defaults shared by the op and the layer API.
#pragma once

#include "kiln/network.h"

namespace kiln::ops {

//! TensorRT's default alpha / beta of each activation type.
double activationDefaultAlpha(ActivationType type);
double activationDefaultBeta(ActivationType type);

}  // namespace kiln::ops
