// SoftMax defaults shared by the op and the layer API.
#pragma once

#include <cstdint>

namespace kiln::ops {

//! Axis used when none is set: rank - 3 for rank >= 4, else rank - 1 (0 for rank <= 1).
int32_t softmaxDefaultAxis(int32_t rank);

}  // namespace kiln::ops
