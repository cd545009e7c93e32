// MaxPoolIndices: max pooling with dilation and the index of each maximum (ONNX MaxPool with
// dilations or its Indices output). Input [N, C, spatial...] float32 with 1 to 3 spatial
// dimensions; attributes "window" and the window attributes of ops/window_util.h (dilation
// included), plus "column_major" (ONNX storage_order 1).
//
// Output 0: the maxima (windows as Pooling's: padding cells never count, NaN propagates, a
// ROUND_UP window that would start in the right padding is dropped). Output 1: int32, the flat
// index of the first maximum, plane * (spatial volume) + the spatial offset, row-major (or
// column-major: dimension 0 fastest), as ONNX Runtime numbers them. Windows are checked to hold
// at least one input cell; an empty spatial dimension gives empty outputs.
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

void inferMaxPoolIndices(ir::InferContext& ctx) {
  const auto& x = ctx.input(0);
  requireFloat(ctx, 0);
  const WindowParams p = readWindowParams(ctx.attrs(), "window");
  if (auto problem = checkWindowParams(p, "window size"); !problem.empty()) ctx.fail(problem);
  const int32_t rank = p.rank();
  if (x.dims.nbDims != rank + 2) {
    ctx.fail("input has shape ", toString(x.dims), " (rank ", x.dims.nbDims, "); a window with ",
             rank, " spatial dimension", rank == 1 ? "" : "s", " needs an input of rank ", rank + 2,
             " [N, C, spatial...]");
  }
  const bool same = p.mode == PaddingMode::kSAME_UPPER || p.mode == PaddingMode::kSAME_LOWER;
  Dims out = x.dims;
  for (int32_t i = 0; i < rank; ++i) {
    const int64_t extent = x.dims[2 + i];
    const int64_t window = dilatedExtent(p.kernel[i], p.dilation[i]);
    if (!same && (p.prePadding[i] >= window || p.postPadding[i] >= window)) {
      ctx.fail("padding ", p.prePadding[i], " + ", p.postPadding[i], " in spatial dimension ", i,
               " must be smaller than the dilated window (", window, ")");
    }
    if (extent < 0) ctx.fail("input extent ", extent, " in spatial dimension ", i, " is unknown");
    if (extent > kMaxTensorElements) ctx.fail("input extent ", extent, " is too large");
    const int64_t padded = extent + p.prePadding[i] + p.postPadding[i];
    if (!same && extent > 0 && padded < window) {
      ctx.fail("the dilated window (", window, ") is larger than the padded input (", extent,
               " + padding ", p.prePadding[i], " + ", p.postPadding[i], ") in spatial dimension ",
               i);
    }
    out[2 + i] = forwardWindow(extent, p, i, CeilRule::kDropPaddingOnly).out;
  }
  if (volume(x.dims) > std::numeric_limits<int32_t>::max()) {
    ctx.fail("the input has ", volume(x.dims), " elements; int32 indices reach 2^31 - 1");
  }
  ctx.setOutput(0, DataType::kFLOAT, out);
  ctx.setOutput(1, DataType::kINT32, out);
}

void runMaxPoolIndices(const ir::KernelContext& ctx) {
  const auto& x = ctx.input(0);
  const WindowParams p = readWindowParams(ctx.attrs(), "window");
  const Geometry3 g =
      makeGeometry(p, x.dims, ctx.output(0).dims, false, CeilRule::kDropPaddingOnly);
  const bool columnMajor = ctx.attrs().getInt("column_major", 0) != 0;
  const int64_t planes = x.dims[0] * x.dims[1];
  const int64_t inVolume = g.inVolume();
  // Strides of the spatial offset per padded dimension (leading ones have extent 1).
  std::array<int64_t, 3> step{g.in[1] * g.in[2], g.in[2], 1};
  if (columnMajor) step = {1, g.in[0], g.in[0] * g.in[1]};
  const float* xs = x.as<const float>();
  float* ys = ctx.output(0).as<float>();
  int32_t* is = ctx.output(1).as<int32_t>();

  int64_t index = 0;
  for (int64_t plane = 0; plane < planes; ++plane) {
    const float* xp = xs + plane * inVolume;
    for (int64_t o0 = 0; o0 < g.out[0]; ++o0) {
      for (int64_t o1 = 0; o1 < g.out[1]; ++o1) {
        for (int64_t o2 = 0; o2 < g.out[2]; ++o2) {
          const std::array<int64_t, 3> o{o0, o1, o2};
          float best = -std::numeric_limits<float>::infinity();
          int64_t where = -1;
          for (int64_t k0 = 0; k0 < g.kernel[0]; ++k0) {
            const int64_t i0 = o[0] * g.stride[0] - g.pre[0] + k0 * g.dilation[0];
            if (i0 < 0 || i0 >= g.in[0]) continue;
            for (int64_t k1 = 0; k1 < g.kernel[1]; ++k1) {
              const int64_t i1 = o[1] * g.stride[1] - g.pre[1] + k1 * g.dilation[1];
              if (i1 < 0 || i1 >= g.in[1]) continue;
              for (int64_t k2 = 0; k2 < g.kernel[2]; ++k2) {
                const int64_t i2 = o[2] * g.stride[2] - g.pre[2] + k2 * g.dilation[2];
                if (i2 < 0 || i2 >= g.in[2]) continue;
                const float v = xp[(i0 * g.in[1] + i1) * g.in[2] + i2];
                if (where < 0 || v > best || (std::isnan(v) && !std::isnan(best))) {
                  best = v;
                  where = i0 * step[0] + i1 * step[1] + i2 * step[2];
                }
              }
            }
          }
          // Shape inference rules out windows without input cells; stay defined regardless.
          ys[index] = where < 0 ? 0.f : best;
          is[index] = static_cast<int32_t>(where < 0 ? 0 : plane * inVolume + where);
          ++index;
        }
      }
    }
  }
}

}  // namespace

void registerMaxPoolIndicesOps(ir::OpRegistry& registry) {
  registry.add({.name = "MaxPoolIndices",
                .minInputs = 1,
                .maxInputs = 1,
                .nbOutputs = 2,
                .infer = inferMaxPoolIndices,
                .reference = runMaxPoolIndices});
}

}  // namespace kiln::ops
