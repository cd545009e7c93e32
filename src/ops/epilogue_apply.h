// Shape checks and the reference application of the fused epilogue (ops/epilogue.h), shared by
// the reference kernels of Convolution, Deconvolution, FullyConnected and MatrixMultiply.
#pragma once

#include <cstdint>

#include "ir/op_registry.h"
#include "kiln/types.h"

namespace kiln::ops {

//! Checks the node's epilogue attributes in shape inference: a known activation type, a
//! residual input at an index >= @p firstExtraInput, present, float32 and of shape @p out, and
//! (only where @p biasAllowed: MatrixMultiply) a bias input at such an index, a float32 vector
//! of @p out's last extent. Every input from @p firstExtraInput on must be one of them.
void checkEpilogue(const ir::InferContext& ctx, int32_t firstExtraInput, const Dims& out,
                   bool biasAllowed = false);

//! Applies the node's epilogue in place to output 0, which holds op(x) (+ the layer's own bias).
void applyEpilogue(const ir::KernelContext& ctx);

}  // namespace kiln::ops
