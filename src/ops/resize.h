// What fast Resize kernels need of the op's rule (src/ops/resize.cpp).
#pragma once

#include <cstdint>
#include <vector>

#include "ir/attributes.h"
#include "kiln/types.h"

namespace kiln::ops {

//! For a Resize in nearest mode whose output size comes from its attributes (scales or sizes;
//! the data its only input) over input dims @p in: per dimension, the input index each output
//! coordinate reads, by the reference's own rule. Empty when the node is in another mode, or
//! some output would be extrapolated (kTF_CROP_AND_RESIZE outside the input).
std::vector<std::vector<int64_t>> nearestResizeIndices(const ir::Attributes& attrs, const Dims& in);

}  // namespace kiln::ops
