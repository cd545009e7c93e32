#include "ops/window_util.h"

#include <algorithm>
#include <cstring>
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

Layout layoutOf(const ir::Attributes& attrs) {
  // Asked of every node by the layout passes: another op's "layout" of another kind (ONNX's LSTM
  // has an int one) is no layout of these, and must not stop the build.
  const auto it = attrs.all().find(kLayoutAttr);
  if (it == attrs.all().end() || !std::holds_alternative<std::string>(it->second)) {
    return Layout::kChannelsFirst;
  }
  const std::string& value = std::get<std::string>(it->second);
  if (value == kChannelsLast) return Layout::kChannelsLast;
  if (value == kChannelsBlocked) return Layout::kChannelsBlocked;
  return Layout::kChannelsFirst;
}

const char* layoutName(Layout layout) {
  switch (layout) {
    case Layout::kChannelsLast:
      return kChannelsLast;
    case Layout::kChannelsBlocked:
      return kChannelsBlocked;
    case Layout::kChannelsFirst:
      break;
  }
  return kChannelsFirst;
}

std::string checkLayout(const ir::Attributes& attrs, int32_t spatialRank, bool blockedAllowed) {
  if (!attrs.has(kLayoutAttr)) return {};
  const auto& value = attrs.all().find(kLayoutAttr)->second;
  const std::string expected = blockedAllowed ? "NCHW, NHWC or NCHW8c" : "NCHW or NHWC";
  if (!std::holds_alternative<std::string>(value)) {
    return "layout must be a string (" + expected + ")";
  }
  const std::string& layout = std::get<std::string>(value);
  if (layout == kChannelsFirst) return {};
  if (layout != kChannelsLast && (layout != kChannelsBlocked || !blockedAllowed)) {
    return "unknown layout '" + layout + "' (expected " + expected + ")";
  }
  if (spatialRank != 2) {
    return "layout " + layout + " needs 2 spatial dimensions, but the window has " +
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

Dims toChannelsBlocked(const Dims& dims) {
  if (dims.nbDims != 4) return dims;
  return Dims{dims[0], dims[1] / kChannelBlock, dims[2], dims[3], kChannelBlock};
}

Dims fromChannelsBlocked(const Dims& dims) {
  if (dims.nbDims != 5 || dims[4] != kChannelBlock) return dims;
  return Dims{dims[0], dims[1] * kChannelBlock, dims[2], dims[3]};
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

void reblockChannels(const std::byte* src, const Dims& nchw, std::size_t esize, bool toBlocked,
                     std::byte* dst) {
  const int64_t channels = nchw[1];
  const int64_t plane = nchw[2] * nchw[3];
  for (int64_t n = 0; n < nchw[0]; ++n) {
    for (int64_t c = 0; c < channels; ++c) {
      const int64_t first = n * channels * plane;
      for (int64_t p = 0; p < plane; ++p) {
        const int64_t flat = first + c * plane + p;
        const int64_t blocked =
            first + ((c / kChannelBlock) * plane + p) * kChannelBlock + c % kChannelBlock;
        const int64_t from = toBlocked ? flat : blocked;
        const int64_t to = toBlocked ? blocked : flat;
        std::memcpy(dst + static_cast<std::size_t>(to) * esize,
                    src + static_cast<std::size_t>(from) * esize, esize);
      }
    }
  }
}

namespace {

bool converts(std::span<const int32_t> converted, std::size_t i) {
  for (int32_t p : converted) {
    if (p >= 0 && static_cast<std::size_t>(p) == i) return true;
  }
  return false;
}

// A tensor of @p layout shown channels-first, or what is wrong with its shape.
std::string shownChannelsFirst(Layout layout, const Dims& dims, Dims& out) {
  if (layout == Layout::kChannelsLast) {
    if (dims.nbDims != 4) return "rank-4 tensors";
    out = toChannelsFirst(dims);
    return {};
  }
  if (dims.nbDims != 5 || dims[4] != kChannelBlock) return "[N, C/8, H, W, 8] tensors";
  out = fromChannelsBlocked(dims);
  return {};
}

Dims inLayout(Layout layout, const Dims& nchw) {
  return layout == Layout::kChannelsLast ? toChannelsLast(nchw) : toChannelsBlocked(nchw);
}

}  // namespace

void inferInLayout(ir::InferContext& ctx, Layout layout, std::span<const int32_t> converted,
                   void (*infer)(ir::InferContext&)) {
  const std::string name = layoutName(layout);
  std::vector<ir::TensorInfo> inputs;
  for (int32_t i = 0; i < ctx.nbInputs(); ++i) {
    ir::TensorInfo info = ctx.input(i);
    if (ctx.hasInput(i) && converts(converted, static_cast<std::size_t>(i))) {
      Dims shown;
      if (auto need = shownChannelsFirst(layout, info.dims, shown); !need.empty()) {
        ctx.fail("layout ", name, " needs ", need, ", but input ", i, " has shape ",
                 toString(info.dims));
      }
      info.dims = shown;
    }
    inputs.push_back(info);
  }
  std::vector<ir::TensorInfo> outputs(static_cast<std::size_t>(ctx.nbOutputs()));
  ir::InferContext inner(ctx.node(), inputs, outputs);
  try {
    infer(inner);
  } catch (const Error& e) {
    fail(e.code(), e.what(), " (layout ", name, ": the shapes are shown as NCHW)");
  }
  for (int32_t i = 0; i < ctx.nbOutputs(); ++i) {
    ir::TensorInfo& out = ctx.output(i);
    out = outputs[static_cast<std::size_t>(i)];
    if (i != 0) continue;
    if (layout == Layout::kChannelsBlocked &&
        (out.dims.nbDims != 4 || out.dims[1] % kChannelBlock != 0)) {
      ctx.fail(
          "layout NCHW8c needs output channels in whole blocks of 8, but the output (shown "
          "as NCHW) has shape ",
          toString(out.dims));
    }
    out.dims = inLayout(layout, out.dims);
  }
}

namespace {

// @p src (@p dims, in @p layout) into @p dst channels-first, or back (@p toFirst false: @p dims
// are channels-first, @p dst in @p layout).
void convertFloats(Layout layout, const float* src, const Dims& dims, bool toFirst, float* dst) {
  if (layout == Layout::kChannelsLast) {
    permute4d(src, dims, toFirst ? kToChannelsFirst : kToChannelsLast, dst);
    return;
  }
  reblockChannels(reinterpret_cast<const std::byte*>(src),
                  toFirst ? fromChannelsBlocked(dims) : dims, sizeof(float), !toFirst,
                  reinterpret_cast<std::byte*>(dst));
}

}  // namespace

void runInLayout(const ir::KernelContext& ctx, Layout layout, std::span<const int32_t> converted,
                 void (*kernel)(const ir::KernelContext&)) {
  std::vector<ir::TensorView> inputs(ctx.inputs.begin(), ctx.inputs.end());
  std::vector<std::vector<float>> buffers;
  buffers.reserve(inputs.size() + 1);
  const int32_t rank = layout == Layout::kChannelsLast ? 4 : 5;
  auto firstDims = [&](const Dims& dims) {
    return layout == Layout::kChannelsLast ? toChannelsFirst(dims) : fromChannelsBlocked(dims);
  };
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    ir::TensorView& view = inputs[i];
    if (!view.present || !converts(converted, i) || view.dims.nbDims != rank) continue;
    std::vector<float>& buffer = buffers.emplace_back(static_cast<std::size_t>(view.count()));
    convertFloats(layout, view.as<float>(), view.dims, true, buffer.data());
    view = {.dtype = view.dtype, .dims = firstDims(view.dims), .data = buffer.data()};
  }
  const ir::TensorView& y = ctx.output(0);
  std::vector<ir::TensorView> outputs(ctx.outputs.begin(), ctx.outputs.end());
  std::vector<float>& result = buffers.emplace_back(static_cast<std::size_t>(y.count()));
  outputs[0] = {.dtype = y.dtype, .dims = firstDims(y.dims), .data = result.data()};
  const ir::KernelContext inner{.node = ctx.node,
                                .inputs = inputs,
                                .outputs = outputs,
                                .workspace = ctx.workspace,
                                .workspaceBytes = ctx.workspaceBytes,
                                .threads = ctx.threads};
  kernel(inner);
  convertFloats(layout, result.data(), outputs[0].dims, false, y.as<float>());
}

}  // namespace kiln::ops
