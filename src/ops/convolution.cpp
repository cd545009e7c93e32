// Convolution and Deconvolution (transposed convolution) over an [N, C, spatial...] float32 input
// with 1, 2 or 3 spatial dimensions.
//
// Inputs: x, the kernel W, an optional bias [K] (input 2), and the residual of a fused epilogue
// (ops/epilogue.h), which the builder's fusion passes add.
//   Convolution:   W is [K, C/groups, kernel...]
//   Deconvolution: W is [C, K/groups, kernel...]
// The kernel is required, but a layer may exist for a while without one (the API lets users set
// it after adding the layer); shape inference then says so.
// Attributes: "num_output" (K), "kernel" (extents), "groups" (default 1), the window
// attributes of ops/window_util.h and, for 2-d convolutions, "layout" (NCHW, or NHWC with x
// [N, H, W, C], W [K, R, S, C/groups], y and residual [N, P, Q, K]; see ops/window_util.h). Output
// extents follow forwardWindow (convolution; with ROUND_UP a last window that starts in the right
// padding is kept and reads zeros) and transposedWindow (deconvolution; padding crops the full
// output, and the two explicit roundings agree).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "ops/epilogue_apply.h"
#include "ops/infer_checks.h"
#include "ops/op_families.h"
#include "ops/window_util.h"

namespace kiln::ops {

namespace {

struct ConvSettings {
  WindowParams window;
  int64_t outputs = 0;
  int64_t groups = 1;
};

// Element count of @p dims for messages; -1 when unknown or beyond 64 bits.
int64_t countForMessage(const Dims& dims) {
  int64_t count = 1;
  for (int32_t i = 0; i < dims.nbDims; ++i) {
    if (dims[i] < 0 || __builtin_mul_overflow(count, dims[i], &count)) return -1;
  }
  return count;
}

// Checks everything the two ops share and returns their settings.
ConvSettings checkConvCommon(const ir::InferContext& ctx, bool transposed) {
  const auto& x = ctx.input(0);
  requireFloat(ctx, 0);
  ConvSettings s;
  s.window = readWindowParams(ctx.attrs(), "kernel");
  if (auto problem = checkWindowParams(s.window, "kernel size"); !problem.empty()) {
    ctx.fail(problem);
  }
  s.outputs = ctx.attrs().getInt("num_output", 0);
  if (s.outputs <= 0) ctx.fail("the number of output maps must be positive, not ", s.outputs);
  s.groups = ctx.attrs().getInt("groups", 1);
  if (s.groups < 1) ctx.fail("the number of groups must be positive, not ", s.groups);

  const int32_t rank = s.window.rank();
  if (x.dims.nbDims != rank + 2) {
    ctx.fail("input has shape ", toString(x.dims), " (rank ", x.dims.nbDims, "); a kernel with ",
             rank, " spatial dimension", rank == 1 ? "" : "s", " needs an input of rank ", rank + 2,
             " [N, C, spatial...]");
  }
  for (int32_t i = 2; i < x.dims.nbDims; ++i) {
    if (x.dims[i] > kMaxTensorElements) ctx.fail("input extent ", x.dims[i], " is too large");
  }
  const int64_t channels = x.dims[1];
  if (channels >= 0 && channels % s.groups != 0) {
    ctx.fail("the input's ", channels, " channels are not divisible by ", s.groups, " groups");
  }
  if (s.outputs % s.groups != 0) {
    ctx.fail("the ", s.outputs, " output maps are not divisible by ", s.groups, " groups");
  }

  if (!ctx.hasInput(1)) {
    ctx.fail("kernel weights are not set (call setKernelWeights, or setInput(1, tensor))");
  }
  const auto& w = ctx.input(1);
  if (w.dtype != DataType::kFLOAT) {
    ctx.fail("kernel weights must be float32 (float16 and bfloat16 weights are converted), not ",
             toString(w.dtype));
  }
  Dims expected;
  expected.nbDims = rank + 2;
  expected[0] = transposed ? channels : s.outputs;
  expected[1] = transposed ? s.outputs / s.groups : (channels < 0 ? -1 : channels / s.groups);
  for (int32_t i = 0; i < rank; ++i) expected[2 + i] = s.window.kernel[i];
  bool matches = w.dims.nbDims == expected.nbDims;
  for (int32_t i = 0; matches && i < expected.nbDims; ++i) {
    matches = expected[i] < 0 || w.dims[i] == expected[i];
  }
  if (!matches) {
    const int64_t needed = countForMessage(expected);
    ctx.fail("kernel weights have shape ", toString(w.dims), " (", countForMessage(w.dims),
             " values); with ", channels, " input channels, ", s.outputs, " output maps and ",
             s.groups, " group", s.groups == 1 ? "" : "s", " the layer needs ", toString(expected),
             needed < 0 ? std::string() : " (" + std::to_string(needed) + " values)");
  }
  if (ctx.hasInput(2)) {
    const auto& b = ctx.input(2);
    if (b.dtype != DataType::kFLOAT) {
      ctx.fail("bias weights must be float32, not ", toString(b.dtype));
    }
    if (volume(b.dims) != s.outputs) {
      ctx.fail("bias weights have ", volume(b.dims), " values (shape ", toString(b.dims),
               "); the layer has ", s.outputs, " output maps");
    }
  }
  return s;
}

void inferConvolutionChannelsFirst(ir::InferContext& ctx) {
  const ConvSettings s = checkConvCommon(ctx, false);
  const Dims& in = ctx.input(0).dims;
  Dims out = in;
  out[1] = s.outputs;
  const bool same =
      s.window.mode == PaddingMode::kSAME_UPPER || s.window.mode == PaddingMode::kSAME_LOWER;
  for (int32_t i = 0; i < s.window.rank(); ++i) {
    const int64_t extent = in[2 + i];
    if (extent < 0) continue;  // known only at run time
    const int64_t padded = extent + s.window.prePadding[i] + s.window.postPadding[i];
    const int64_t kernel = dilatedExtent(s.window.kernel[i], s.window.dilation[i]);
    if (!same && padded < kernel) {
      ctx.fail("the kernel spans ", kernel, " cells (kernel ", s.window.kernel[i], ", dilation ",
               s.window.dilation[i], ") in spatial dimension ", i,
               ", more than the padded input's ", padded, " (input ", extent, " + padding ",
               s.window.prePadding[i], " + ", s.window.postPadding[i], ")");
    }
    out[2 + i] = forwardWindow(extent, s.window, i, CeilRule::kPlainCeil).out;
  }
  checkEpilogue(ctx, 3, out);
  ctx.setOutput(0, DataType::kFLOAT, out);
}

void inferDeconvolution(ir::InferContext& ctx) {
  if (ctx.attrs().has(kLayoutAttr) && ctx.attrs().getString(kLayoutAttr) != kChannelsFirst) {
    ctx.fail("deconvolution supports only layout NCHW");
  }
  const ConvSettings s = checkConvCommon(ctx, true);
  const Dims& in = ctx.input(0).dims;
  Dims out = in;
  out[1] = s.outputs;
  for (int32_t i = 0; i < s.window.rank(); ++i) {
    const int64_t extent = in[2 + i];
    if (extent < 0) continue;  // known only at run time
    if (transposedTooLarge(extent, s.window, i)) {
      ctx.fail("the output extent in spatial dimension ", i, " (input ", extent, ", stride ",
               s.window.stride[i], ") would exceed 2^40");
    }
    const WindowExtent w = transposedWindow(extent, s.window, i);
    if (extent > 0 && w.out < 1) {
      ctx.fail("padding ", w.pre, " + ", w.post, " crops the whole output (",
               w.out + w.pre + w.post, " cells) in spatial dimension ", i);
    }
    out[2 + i] = w.out;
  }
  checkEpilogue(ctx, 3, out);
  ctx.setOutput(0, DataType::kFLOAT, out);
}

// Both kernels, which differ only in how an output cell finds its input cells and in the
// kernel layout. Convolution: every output cell is a dot product over its window (cells in the
// padding are zero and skipped); W is [K, C/groups, kernel...]. Deconvolution, as a gather:
// output cell o receives input cell i through kernel tap t when o + pre == i * stride + t *
// dilation; W is [C, K/groups, kernel...].
template <bool kTransposed>
void runConvolutionLike(const ir::KernelContext& ctx) {
  const auto& x = ctx.input(0);
  const auto& y = ctx.output(0);
  const WindowParams p = readWindowParams(ctx.attrs(), "kernel");
  const Geometry3 g = makeGeometry(p, x.dims, y.dims, kTransposed, CeilRule::kPlainCeil);
  const int64_t batch = x.dims[0];
  const int64_t channels = x.dims[1];
  const int64_t outputs = y.dims[1];
  const int64_t groups = ctx.attrs().getInt("groups", 1);
  const int64_t channelsPerGroup = channels / groups;
  const int64_t outputsPerGroup = outputs / groups;
  const int64_t kernelVolume = g.kernelVolume();
  const int64_t inVolume = g.inVolume();
  const float* xs = x.as<float>();
  const float* ws = ctx.input(1).as<float>();
  const float* bias = ctx.hasInput(2) ? ctx.input(2).as<float>() : nullptr;
  float* ys = y.as<float>();

  // Input position that output position @p o reads through tap @p t in dimension @p d, or -1.
  auto source = [&](std::size_t d, int64_t o, int64_t t) -> int64_t {
    if constexpr (kTransposed) {
      const int64_t shifted = o + g.pre[d] - t * g.dilation[d];
      if (shifted < 0 || shifted % g.stride[d] != 0) return -1;
      const int64_t i = shifted / g.stride[d];
      return i < g.in[d] ? i : -1;
    } else {
      const int64_t i = o * g.stride[d] - g.pre[d] + t * g.dilation[d];
      return i < 0 || i >= g.in[d] ? -1 : i;
    }
  };

  int64_t index = 0;
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t k = 0; k < outputs; ++k) {
      const int64_t firstChannel = (k / outputsPerGroup) * channelsPerGroup;
      for (int64_t o0 = 0; o0 < g.out[0]; ++o0) {
        for (int64_t o1 = 0; o1 < g.out[1]; ++o1) {
          for (int64_t o2 = 0; o2 < g.out[2]; ++o2) {
            double acc = bias != nullptr ? bias[k] : 0.0;
            for (int64_t c = 0; c < channelsPerGroup; ++c) {
              const int64_t channel = firstChannel + c;
              const float* xc = xs + (n * channels + channel) * inVolume;
              const int64_t kernelIndex = kTransposed
                                              ? channel * outputsPerGroup + k % outputsPerGroup
                                              : k * channelsPerGroup + c;
              const float* wc = ws + kernelIndex * kernelVolume;
              for (int64_t k0 = 0; k0 < g.kernel[0]; ++k0) {
                const int64_t i0 = source(0, o0, k0);
                if (i0 < 0) continue;
                for (int64_t k1 = 0; k1 < g.kernel[1]; ++k1) {
                  const int64_t i1 = source(1, o1, k1);
                  if (i1 < 0) continue;
                  for (int64_t k2 = 0; k2 < g.kernel[2]; ++k2) {
                    const int64_t i2 = source(2, o2, k2);
                    if (i2 < 0) continue;
                    acc += static_cast<double>(xc[(i0 * g.in[1] + i1) * g.in[2] + i2]) *
                           wc[(k0 * g.kernel[1] + k1) * g.kernel[2] + k2];
                  }
                }
              }
            }
            ys[index++] = static_cast<float>(acc);
          }
        }
      }
    }
  }
  applyEpilogue(ctx);
}

// The inputs a convolution holds in its layout: x and the residual, and for channels-last the
// kernel (KRSC); the bias is [K] in every layout, and blocked convolutions keep KCRS kernels. A
// blocked convolution may read an NCHW x (rank 4: a region's entry read in place, the blocks
// made as it is read) and still write blocks.
std::vector<int32_t> layoutInputs(const ir::Attributes& attrs, Layout layout, int32_t xRank) {
  std::vector<int32_t> inputs;
  if (layout != Layout::kChannelsBlocked || xRank != 4) inputs.push_back(0);
  if (layout == Layout::kChannelsLast) inputs.push_back(1);
  if (attrs.has("epilogue.residual")) {
    inputs.push_back(static_cast<int32_t>(attrs.getInt("epilogue.residual")));
  }
  return inputs;
}

void inferConvolution(ir::InferContext& ctx) {
  const int32_t rank = ctx.attrs().has("kernel") ? ctx.attrs().getDims("kernel").nbDims : 0;
  if (auto problem = checkLayout(ctx.attrs(), rank, true); !problem.empty()) ctx.fail(problem);
  const Layout layout = layoutOf(ctx.attrs());
  if (layout == Layout::kChannelsFirst) {
    inferConvolutionChannelsFirst(ctx);
    return;
  }
  const int32_t xRank = ctx.nbInputs() > 0 ? ctx.input(0).dims.nbDims : 0;
  inferInLayout(ctx, layout, layoutInputs(ctx.attrs(), layout, xRank),
                inferConvolutionChannelsFirst);
}

void runConvolution(const ir::KernelContext& ctx) {
  const Layout layout = layoutOf(ctx.attrs());
  if (layout == Layout::kChannelsFirst) {
    runConvolutionLike<false>(ctx);
    return;
  }
  runInLayout(ctx, layout, layoutInputs(ctx.attrs(), layout, ctx.input(0).dims.nbDims),
              runConvolutionLike<false>);
}

}  // namespace

void registerConvolutionOps(ir::OpRegistry& registry) {
  // minInputs is 1 so that a missing kernel is reported by the rule, with advice. Input 3 is
  // the fused epilogue's residual (ops/epilogue.h).
  registry.add({.name = "Convolution",
                .minInputs = 1,
                .maxInputs = 4,
                .nbOutputs = 1,
                .infer = inferConvolution,
                .reference = runConvolution});
  registry.add({.name = "Deconvolution",
                .minInputs = 1,
                .maxInputs = 4,
                .nbOutputs = 1,
                .infer = inferDeconvolution,
                .reference = runConvolutionLike<true>});
}

}  // namespace kiln::ops
