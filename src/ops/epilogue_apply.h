// Shape checks and the reference application of the fused epilogue (ops/epilogue.h), shared by
// the reference kernels of Convolution, Deconvolution, FullyConnected and MatrixMultiply.
#pragma once

#include <cstdint>

#include "ir/op_registry.h"
#include "kiln/types.h"

namespace kiln::ops {

//! Checks the node's epilogue attributes in shape inference: a known activation type, and a
//! residual input at an index >= @p firstExtraInput, present, float32 and of shape @p out.
void checkEpilogue(const ir::InferContext& ctx, int32_t firstExtraInput, const Dims& out);

//! Applies the node's epilogue in place to output 0, which holds op(x) + bias.
void applyEpilogue(const ir::KernelContext& ctx);

}  // namespace kiln::ops
