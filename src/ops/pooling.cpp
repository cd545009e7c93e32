// Pooling over an [N, C, spatial...] float32 input with 1, 2 or 3 spatial dimensions.
//
// Attributes: "type" (PoolingType), "window" (extents), "exclude_padding" (default true),
// "blend_factor" (default 0), the window attributes of ops/window_util.h (no dilation) and, for
// 2-d windows, "layout" (NCHW; NHWC: x and y [N, H, W, C]; NCHW8c: x and y [N, C/8, H, W, 8];
// see ops/window_util.h).
//
// Rules, as TensorRT's (and ONNX's ceil_mode):
// - Max pooling ignores padding cells; NaN inputs propagate.
// - Average pooling divides by the window cells inside the input (exclude_padding) or by the
//   window cells inside the padded input (otherwise; cells beyond the padding, which ROUND_UP
//   windows may reach, never count).
// - kMAX_AVERAGE_BLEND: (1 - blend) * max + blend * average, blend in [0, 1] (TensorRT's
//   formula: blend 0 is max pooling).
// - Every window contains at least one input cell: explicit padding must be smaller than the
//   window, and with ROUND_UP a last window that would start in the right padding is dropped.
//   SAME modes derive padding that is always smaller than the window. An empty spatial
//   dimension gives an empty output.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>

#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "ops/infer_checks.h"
#include "ops/op_families.h"
#include "ops/window_util.h"

namespace kiln::ops {

namespace {

void inferPoolingChannelsFirst(ir::InferContext& ctx) {
  const auto& x = ctx.input(0);
  requireFloat(ctx, 0);
  const auto type = ctx.attrs().getEnum("type", PoolingType::kMAX);
  if (static_cast<int32_t>(type) < 0 || type > PoolingType::kMAX_AVERAGE_BLEND) {
    ctx.fail("unknown pooling type ", static_cast<int64_t>(type));
  }
  const double blend = ctx.attrs().getFloat("blend_factor", 0.0);
  if (!(blend >= 0.0 && blend <= 1.0)) ctx.fail("blend factor ", blend, " is outside [0, 1]");
  const WindowParams p = readWindowParams(ctx.attrs(), "window");
  if (auto problem = checkWindowParams(p, "window size"); !problem.empty()) ctx.fail(problem);
  for (int32_t i = 0; i < p.rank(); ++i) {
    if (p.dilation[i] != 1)
      ctx.fail("pooling has no dilation, but dilation is ", toString(p.dilation));
  }
  const int32_t rank = p.rank();
  if (x.dims.nbDims != rank + 2) {
    ctx.fail("input has shape ", toString(x.dims), " (rank ", x.dims.nbDims, "); a window with ",
             rank, " spatial dimension", rank == 1 ? "" : "s", " needs an input of rank ", rank + 2,
             " [N, C, spatial...]");
  }
  const bool same = p.mode == PaddingMode::kSAME_UPPER || p.mode == PaddingMode::kSAME_LOWER;
  Dims out = x.dims;
  for (int32_t i = 0; i < rank; ++i) {
    const int64_t window = p.kernel[i];
    if (!same && (p.prePadding[i] >= window || p.postPadding[i] >= window)) {
      ctx.fail("padding ", p.prePadding[i], " + ", p.postPadding[i], " in spatial dimension ", i,
               " must be smaller than the window (", window,
               "): a window entirely in the padding has no input cell to pool");
    }
    const int64_t extent = x.dims[2 + i];
    if (extent < 0) continue;  // known only at run time
    if (extent > kMaxTensorElements) ctx.fail("input extent ", extent, " is too large");
    const int64_t padded = extent + p.prePadding[i] + p.postPadding[i];
    if (!same && extent > 0 && padded < window) {
      ctx.fail("the window (", window, ") is larger than the padded input (", extent, " + padding ",
               p.prePadding[i], " + ", p.postPadding[i], ") in spatial dimension ", i);
    }
    out[2 + i] = forwardWindow(extent, p, i, CeilRule::kDropPaddingOnly).out;
  }
  ctx.setOutput(0, DataType::kFLOAT, out);
}

// Cells of [start, start + size) that fall in [lo, hi).
struct Span {
  int64_t begin;
  int64_t end;
  int64_t count() const noexcept { return end > begin ? end - begin : 0; }
};
Span clip(int64_t start, int64_t size, int64_t lo, int64_t hi) {
  return {std::max(start, lo), std::min(start + size, hi)};
}

void runPooling(const ir::KernelContext& ctx) {
  const auto& x = ctx.input(0);
  const auto& y = ctx.output(0);
  const auto type = ctx.attrs().getEnum("type", PoolingType::kMAX);
  const bool excludePadding = ctx.attrs().getInt("exclude_padding", 1) != 0;
  const double blend = ctx.attrs().getFloat("blend_factor", 0.0);
  const WindowParams p = readWindowParams(ctx.attrs(), "window");
  const Geometry3 g = makeGeometry(p, x.dims, y.dims, false, CeilRule::kDropPaddingOnly);
  const int64_t planes = x.dims[0] * x.dims[1];
  const int64_t inVolume = g.inVolume();
  const float* xs = x.as<float>();
  float* ys = y.as<float>();

  int64_t index = 0;
  for (int64_t plane = 0; plane < planes; ++plane) {
    const float* xp = xs + plane * inVolume;
    for (int64_t o0 = 0; o0 < g.out[0]; ++o0) {
      for (int64_t o1 = 0; o1 < g.out[1]; ++o1) {
        for (int64_t o2 = 0; o2 < g.out[2]; ++o2) {
          const std::array<int64_t, 3> start = {o0 * g.stride[0] - g.pre[0],
                                                o1 * g.stride[1] - g.pre[1],
                                                o2 * g.stride[2] - g.pre[2]};
          std::array<Span, 3> inside{};
          int64_t insideCount = 1;
          int64_t paddedCount = 1;
          for (std::size_t d = 0; d < 3; ++d) {
            inside[d] = clip(start[d], g.kernel[d], 0, g.in[d]);
            insideCount *= inside[d].count();
            paddedCount *= clip(start[d], g.kernel[d], -g.pre[d], g.in[d] + g.post[d]).count();
          }
          double sum = 0.0;
          double max = -std::numeric_limits<double>::infinity();
          for (int64_t i0 = inside[0].begin; i0 < inside[0].end; ++i0) {
            for (int64_t i1 = inside[1].begin; i1 < inside[1].end; ++i1) {
              for (int64_t i2 = inside[2].begin; i2 < inside[2].end; ++i2) {
                const double v = xp[(i0 * g.in[1] + i1) * g.in[2] + i2];
                sum += v;
                if (v > max || std::isnan(v)) max = std::isnan(max) ? max : v;
              }
            }
          }
          // Shape inference rules out windows without input cells; stay finite regardless.
          if (insideCount == 0) max = 0.0;
          const int64_t divisor = excludePadding ? insideCount : paddedCount;
          const double average = divisor > 0 ? sum / static_cast<double>(divisor) : 0.0;
          double result = max;
          if (type == PoolingType::kAVERAGE) {
            result = average;
          } else if (type == PoolingType::kMAX_AVERAGE_BLEND) {
            result = (1.0 - blend) * max + blend * average;
          }
          ys[index++] = static_cast<float>(result);
        }
      }
    }
  }
}

constexpr std::array<int32_t, 1> kLayoutInputs{0};

void inferPooling(ir::InferContext& ctx) {
  const int32_t rank = ctx.attrs().has("window") ? ctx.attrs().getDims("window").nbDims : 0;
  if (auto problem = checkLayout(ctx.attrs(), rank, true); !problem.empty()) ctx.fail(problem);
  const Layout layout = layoutOf(ctx.attrs());
  if (layout == Layout::kChannelsFirst) {
    inferPoolingChannelsFirst(ctx);
    return;
  }
  inferInLayout(ctx, layout, kLayoutInputs, inferPoolingChannelsFirst);
}

void runPoolingAnyLayout(const ir::KernelContext& ctx) {
  const Layout layout = layoutOf(ctx.attrs());
  if (layout == Layout::kChannelsFirst) {
    runPooling(ctx);
    return;
  }
  runInLayout(ctx, layout, kLayoutInputs, runPooling);
}

}  // namespace

void registerPoolingOps(ir::OpRegistry& registry) {
  registry.add({.name = "Pooling",
                .minInputs = 1,
                .maxInputs = 1,
                .nbOutputs = 1,
                .infer = inferPooling,
                .reference = runPoolingAnyLayout});
}

}  // namespace kiln::ops
