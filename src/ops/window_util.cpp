#include "ops/window_util.h"

#include <algorithm>
#include <string>
#include <variant>
#include <vector>

#include "core/error.h"
#include "core/shape_util.h"

namespace kiln::ops {

Dims filledDims(int32_t rank, int64_t value) {
  Dims dims;
  dims.nbDims = rank;
  for (int32_t i = 0; i < rank; ++i) dims[i] = value;
  return dims;
}

WindowParams readWindowParams(const ir::Attributes& attrs, std::string_view kernelAttr) {
  WindowParams p;
  p.kernel = attrs.getDims(kernelAttr);
  const int32_t rank = std::clamp(p.kernel.nbDims, 0, Dims::kMaxRank);
  p.stride = attrs.getDims("stride", filledDims(rank, 1));
  p.dilation = attrs.getDims("dilation", filledDims(rank, 1));
  p.prePadding = attrs.getDims("pre_padding", filledDims(rank, 0));
  p.postPadding = attrs.getDims("post_padding", filledDims(rank, 0));
  p.mode = attrs.getEnum("padding_mode", PaddingMode::kEXPLICIT_ROUND_DOWN);
  return p;
}

std::string checkWindowSize(const Dims& size, std::string_view what) {
  if (size.nbDims < 1 || size.nbDims > 3) {
    return detail::concat(what, " must have 1, 2 or 3 spatial dimensions; got rank ", size.nbDims);
  }
  for (int32_t i = 0; i < size.nbDims; ++i) {
    if (size[i] < 1 || size[i] > kMaxWindowValue) {
      return detail::concat(what, " ", toString(size), " must have extents in [1, ",
                            kMaxWindowValue, "]");
    }
  }
  return {};
}

std::string checkWindowDims(const Dims& dims, int32_t rank, int64_t minValue,
                            std::string_view what) {
  if (dims.nbDims != rank) {
    return detail::concat(what, " has rank ", dims.nbDims, " (", toString(dims),
                          ") but the window has ", rank, " spatial dimensions");
  }
  for (int32_t i = 0; i < rank; ++i) {
    if (dims[i] < minValue || dims[i] > kMaxWindowValue) {
      return detail::concat(what, " ", toString(dims), " must lie in [", minValue, ", ",
                            kMaxWindowValue, "] in every dimension");
    }
  }
  return {};
}

std::string checkWindowParams(const WindowParams& p, std::string_view kernelWord) {
  std::string problem = checkWindowSize(p.kernel, kernelWord);
  if (problem.empty()) problem = checkWindowDims(p.stride, p.rank(), 1, "stride");
  if (problem.empty()) problem = checkWindowDims(p.dilation, p.rank(), 1, "dilation");
  if (problem.empty()) problem = checkWindowDims(p.prePadding, p.rank(), 0, "pre-padding");
  if (problem.empty()) problem = checkWindowDims(p.postPadding, p.rank(), 0, "post-padding");
  if (problem.empty() && (static_cast<int32_t>(p.mode) < 0 || p.mode > PaddingMode::kSAME_LOWER)) {
    problem = detail::concat("unknown padding mode ", static_cast<int64_t>(p.mode));
  }
  return problem;
}

namespace {
bool isSame(PaddingMode mode) {
  return mode == PaddingMode::kSAME_UPPER || mode == PaddingMode::kSAME_LOWER;
}
}  // namespace

WindowExtent forwardWindow(int64_t in, const WindowParams& p, int32_t dim, CeilRule rule) {
  const int64_t extent = dilatedExtent(p.kernel[dim], p.dilation[dim]);
  const int64_t stride = p.stride[dim];
  WindowExtent w;
  if (isSame(p.mode)) {
    w.out = ceilDiv(in, stride);
    if (w.out == 0) return w;
    const int64_t total = std::max<int64_t>((w.out - 1) * stride + extent - in, 0);
    w.pre = p.mode == PaddingMode::kSAME_UPPER ? total / 2 : total - total / 2;
    w.post = total - w.pre;
    return w;
  }
  w.pre = p.prePadding[dim];
  w.post = p.postPadding[dim];
  // Every pooling window must see at least one input cell; an empty input has none.
  if (in == 0 && rule == CeilRule::kDropPaddingOnly) return w;
  const int64_t span = in + w.pre + w.post - extent;
  if (p.mode == PaddingMode::kEXPLICIT_ROUND_UP) {
    w.out = ceilDiv(span, stride) + 1;
    if (rule == CeilRule::kDropPaddingOnly && (w.out - 1) * stride >= in + w.pre) --w.out;
  } else {
    w.out = floorDiv(span, stride) + 1;
  }
  return w;
}

bool transposedTooLarge(int64_t in, const WindowParams& p, int32_t dim) {
  int64_t product = 0;
  if (__builtin_mul_overflow(in, p.stride[dim], &product)) return true;
  return product + dilatedExtent(p.kernel[dim], p.dilation[dim]) > kMaxTensorElements;
}

WindowExtent transposedWindow(int64_t in, const WindowParams& p, int32_t dim) {
  const int64_t extent = dilatedExtent(p.kernel[dim], p.dilation[dim]);
  const int64_t stride = p.stride[dim];
  WindowExtent w;
  if (in == 0) return w;
  const int64_t full = (in - 1) * stride + extent;
  if (isSame(p.mode)) {
    w.out = in * stride;
    const int64_t total = full - w.out;
    const int64_t half = floorDiv(total, 2);
    w.pre = p.mode == PaddingMode::kSAME_UPPER ? half : total - half;
    w.post = total - w.pre;
    return w;
  }
  w.pre = p.prePadding[dim];
  w.post = p.postPadding[dim];
  w.out = full - w.pre - w.post;
  return w;
}

Geometry3 makeGeometry(const WindowParams& p, const Dims& inDims, const Dims& outDims,
                       bool transposed, CeilRule rule) {
  Geometry3 g;
  const int32_t rank = p.rank();
  KILN_ASSERT(rank >= 1 && rank <= 3 && inDims.nbDims == rank + 2 && outDims.nbDims == rank + 2);
  for (int32_t i = 0; i < rank; ++i) {
    const int32_t slot = 3 - rank + i;  // the missing leading dimensions stay extent 1
    const auto j = static_cast<std::size_t>(slot);
    const int64_t in = inDims[2 + i];
    const WindowExtent w = transposed ? transposedWindow(in, p, i) : forwardWindow(in, p, i, rule);
    g.in[j] = in;
    g.out[j] = outDims[2 + i];
    g.kernel[j] = p.kernel[i];
    g.stride[j] = p.stride[i];
    g.dilation[j] = p.dilation[i];
    g.pre[j] = w.pre;
    g.post[j] = w.post;
  }
  return g;
}

bool channelsLast(const ir::Attributes& attrs) {
  // Asked of every node by the layout pass: another op's "layout" of another kind (ONNX's LSTM
  // has an int one) is not channels-last, and must not stop the build.
  const auto it = attrs.all().find(kLayoutAttr);
  return it != attrs.all().end() && std::holds_alternative<std::string>(it->second) &&
         std::get<std::string>(it->second) == kChannelsLast;
}

std::string checkLayout(const ir::Attributes& attrs, int32_t spatialRank) {
  if (!attrs.has(kLayoutAttr)) return {};
  const auto& value = attrs.all().find(kLayoutAttr)->second;
  if (!std::holds_alternative<std::string>(value)) return "layout must be a string (NCHW or NHWC)";
  const std::string& layout = std::get<std::string>(value);
  if (layout == kChannelsFirst) return {};
  if (layout != kChannelsLast) {
    return "unknown layout '" + layout + "' (expected NCHW or NHWC)";
  }
  if (spatialRank != 2) {
    return "layout NHWC needs 2 spatial dimensions, but the window has " +
           std::to_string(spatialRank);
  }
  return {};
}

Dims toChannelsFirst(const Dims& dims) {
  if (dims.nbDims != 4) return dims;
  Dims out = dims;
  for (std::size_t i = 0; i < 4; ++i) out[static_cast<int32_t>(i)] = dims[kToChannelsFirst[i]];
  return out;
}

Dims toChannelsLast(const Dims& dims) {
  if (dims.nbDims != 4) return dims;
  Dims out = dims;
  for (std::size_t i = 0; i < 4; ++i) out[static_cast<int32_t>(i)] = dims[kToChannelsLast[i]];
  return out;
}

void permute4d(const float* src, const Dims& srcDims, const std::array<int32_t, 4>& perm,
               float* dst) {
  std::array<int64_t, 4> srcStride{};
  int64_t stride = 1;
  for (int32_t d = 3; d >= 0; --d) {
    srcStride[static_cast<std::size_t>(d)] = stride;
    stride *= srcDims[d];
  }
  std::array<int64_t, 4> extent{};
  std::array<int64_t, 4> step{};
  for (std::size_t i = 0; i < 4; ++i) {
    extent[i] = srcDims[perm[i]];
    step[i] = srcStride[static_cast<std::size_t>(perm[i])];
  }
  int64_t index = 0;
  for (int64_t a = 0; a < extent[0]; ++a) {
    for (int64_t b = 0; b < extent[1]; ++b) {
      for (int64_t c = 0; c < extent[2]; ++c) {
        const float* row = src + a * step[0] + b * step[1] + c * step[2];
        for (int64_t d = 0; d < extent[3]; ++d) dst[index++] = row[d * step[3]];
      }
    }
  }
}

namespace {

bool permutes(std::span<const int32_t> permuted, std::size_t i) {
  for (int32_t p : permuted) {
    if (p >= 0 && static_cast<std::size_t>(p) == i) return true;
  }
  return false;
}

}  // namespace

void inferChannelsLast(ir::InferContext& ctx, std::span<const int32_t> permuted,
                       void (*infer)(ir::InferContext&)) {
  std::vector<ir::TensorInfo> inputs;
  for (int32_t i = 0; i < ctx.nbInputs(); ++i) {
    ir::TensorInfo info = ctx.input(i);
    if (ctx.hasInput(i) && permutes(permuted, static_cast<std::size_t>(i))) {
      if (info.dims.nbDims != 4) {
        ctx.fail("layout NHWC needs rank-4 tensors, but input ", i, " has shape ",
                 toString(info.dims));
      }
      info.dims = toChannelsFirst(info.dims);
    }
    inputs.push_back(info);
  }
  std::vector<ir::TensorInfo> outputs(static_cast<std::size_t>(ctx.nbOutputs()));
  ir::InferContext inner(ctx.node(), inputs, outputs);
  try {
    infer(inner);
  } catch (const Error& e) {
    fail(e.code(), e.what(), " (layout NHWC: the shapes are shown as NCHW)");
  }
  for (int32_t i = 0; i < ctx.nbOutputs(); ++i) {
    ir::TensorInfo& out = ctx.output(i);
    out = outputs[static_cast<std::size_t>(i)];
    if (i == 0) out.dims = toChannelsLast(out.dims);
  }
}

void runChannelsLast(const ir::KernelContext& ctx, std::span<const int32_t> permuted,
                     void (*kernel)(const ir::KernelContext&)) {
  std::vector<ir::TensorView> inputs(ctx.inputs.begin(), ctx.inputs.end());
  std::vector<std::vector<float>> buffers;
  buffers.reserve(inputs.size() + 1);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    ir::TensorView& view = inputs[i];
    if (!view.present || !permutes(permuted, i) || view.dims.nbDims != 4) continue;
    std::vector<float>& buffer = buffers.emplace_back(static_cast<std::size_t>(view.count()));
    permute4d(view.as<float>(), view.dims, kToChannelsFirst, buffer.data());
    view = {.dtype = view.dtype, .dims = toChannelsFirst(view.dims), .data = buffer.data()};
  }
  const ir::TensorView& y = ctx.output(0);
  std::vector<ir::TensorView> outputs(ctx.outputs.begin(), ctx.outputs.end());
  std::vector<float>& result = buffers.emplace_back(static_cast<std::size_t>(y.count()));
  outputs[0] = {.dtype = y.dtype, .dims = toChannelsFirst(y.dims), .data = result.data()};
  const ir::KernelContext inner{.node = ctx.node,
                                .inputs = inputs,
                                .outputs = outputs,
                                .workspace = ctx.workspace,
                                .workspaceBytes = ctx.workspaceBytes,
                                .threads = ctx.threads};
  kernel(inner);
  permute4d(result.data(), outputs[0].dims, kToChannelsLast, y.as<float>());
}

}  // namespace kiln::ops
