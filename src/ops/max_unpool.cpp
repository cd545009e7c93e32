// MaxUnpool (ONNX MaxUnpool): y = zeros, then y[indices[i]] = x[i] (flat offsets into all of y,
// as MaxPool's Indices output gives them). x float32 [N, C, spatial...], indices int32 of the
// same shape. Attributes: "window", "stride" (default: the window), "pre_padding",
// "post_padding" (default 0) and "output_dims" (the whole output shape; absent: the spatial
// extents are (in - 1) * stride + window - pre - post). An index outside y fails the inference.
#include <algorithm>
#include <cstring>

#include "ir/op_registry.h"
#include "ops/infer_checks.h"
#include "ops/op_families.h"
#include "ops/shape_values.h"

namespace kiln::ops {

namespace {

void inferMaxUnpool(ir::InferContext& ctx) {
  requireFloat(ctx, 0);
  const auto& x = ctx.input(0);
  const auto& indices = ctx.input(1);
  if (indices.dtype != DataType::kINT32) {
    ctx.fail("the indices (input 1) must be int32, not ", toString(indices.dtype));
  }
  if (!(indices.dims == x.dims)) {
    ctx.fail("the indices have shape ", toString(indices.dims), "; they need the input's, ",
             toString(x.dims));
  }
  const int32_t spatial = x.dims.nbDims - 2;
  const auto& attrs = ctx.attrs();
  const Dims window = attrs.getDims("window");
  if (spatial < 1 || window.nbDims != spatial) {
    ctx.fail("the input has shape ", toString(x.dims), " and the window ", toString(window),
             "; the input needs [N, C] and one spatial dimension per window extent");
  }
  const Dims stride = attrs.getDims("stride", window);
  Dims zeros;
  zeros.nbDims = spatial;
  const Dims pre = attrs.getDims("pre_padding", zeros);
  const Dims post = attrs.getDims("post_padding", zeros);
  if (stride.nbDims != spatial || pre.nbDims != spatial || post.nbDims != spatial) {
    ctx.fail("stride ", toString(stride), ", pre-padding ", toString(pre), " and post-padding ",
             toString(post), " need ", spatial, " entries each");
  }
  Dims out = x.dims;
  for (int32_t i = 0; i < spatial; ++i) {
    if (window[i] < 1 || stride[i] < 1 || pre[i] < 0 || post[i] < 0) {
      ctx.fail("window ", toString(window), " and stride ", toString(stride),
               " must be positive and the padding not negative");
    }
    const int64_t extent = (x.dims[i + 2] - 1) * stride[i] + window[i] - pre[i] - post[i];
    out[i + 2] = x.dims[i + 2] == 0 ? 0 : extent;
    if (out[i + 2] < 0) {
      ctx.fail("spatial dimension ", i, " would have extent ", out[i + 2]);
    }
  }
  Dims given = attrs.getDims("output_dims");
  if (ctx.hasInput(2)) {
    const auto values = knownShapeValues(ctx, 2, "the output shape input");
    if (!values) {  // a shape-tensor network input: known once the build gives its values
      for (int32_t i = 2; i < out.nbDims; ++i) out[i] = -1;
      ctx.setOutput(0, DataType::kFLOAT, out);
      return;
    }
    if (values->size() > static_cast<std::size_t>(Dims::kMaxRank)) {
      ctx.fail("the output shape input has ", values->size(), " values");
    }
    given.nbDims = static_cast<int32_t>(values->size());
    for (int32_t i = 0; i < given.nbDims; ++i) given[i] = (*values)[static_cast<std::size_t>(i)];
  }
  if (given.nbDims > 0) {
    if (given.nbDims != x.dims.nbDims || given[0] != x.dims[0] || given[1] != x.dims[1]) {
      ctx.fail("the output shape ", toString(given),
               " must have the input's rank and its N and C (", toString(x.dims), ")");
    }
    for (int32_t i = 0; i < given.nbDims; ++i) {
      if (given[i] < 0) ctx.fail("the output shape ", toString(given), " has a negative extent");
    }
    out = given;
  }
  ctx.setOutput(0, DataType::kFLOAT, out);
}

void runMaxUnpool(const ir::KernelContext& ctx) {
  const auto& out = ctx.output(0);
  const int64_t size = out.count();
  float* y = out.as<float>();
  std::fill(y, y + size, 0.f);
  const float* x = ctx.input(0).as<const float>();
  const int32_t* indices = ctx.input(1).as<const int32_t>();
  const int64_t count = ctx.input(0).count();
  for (int64_t i = 0; i < count; ++i) {
    const int64_t at = indices[i];
    if (at < 0 || at >= size) {
      fail(ErrorCode::kFAILED_EXECUTION, "index ", at, " at position ", i,
           " is outside the output's ", size, " elements");
    }
    y[at] = x[i];
  }
}

}  // namespace

void registerMaxUnpoolOps(ir::OpRegistry& registry) {
  registry.add({.name = "MaxUnpool",
                .minInputs = 2,
                .maxInputs = 3,
                .nbOutputs = 1,
                .infer = inferMaxUnpool,
                .reference = runMaxUnpool,
                .shapeInputs = {2}});
}

}  // namespace kiln::ops
