// GridSample: inputs [x [N, C, H, W], grid [N, Ho, Wo, 2]] (float32), attributes "mode"
// (InterpolationMode), "align_corners" and "sample_mode" (SampleMode: kFILL = zeros, kCLAMP =
// border, kREFLECT = reflection). Output [N, C, Ho, Wo].
//
// ONNX GridSample (opset 16) is PyTorch's grid_sample, and its conformance data comes from
// PyTorch; this follows PyTorch's CPU algorithm step by step, in float like it, so that rounding
// (nearest: halves to even) lands where PyTorch's does. Linear and nearest first map the
// coordinate into the input (border: clamp; reflection: reflect, then clamp) and read zeros
// outside; cubic maps each of its 16 taps instead.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "ir/op_registry.h"
#include "kiln/network.h"
#include "ops/interpolation.h"
#include "ops/op_families.h"

namespace kiln::ops {

namespace {

struct SampleParams {
  InterpolationMode mode = InterpolationMode::kLINEAR;
  bool alignCorners = false;
  SampleMode padding = SampleMode::kFILL;
};

SampleParams sampleParams(const ir::Attributes& attrs) {
  return {attrs.getEnum("mode", InterpolationMode::kLINEAR), attrs.getInt("align_corners", 0) != 0,
          attrs.getEnum("sample_mode", SampleMode::kFILL)};
}

// Grid value in [-1, 1] -> pixel coordinate.
float unnormalize(float coord, int64_t size, bool alignCorners) {
  const auto s = static_cast<float>(size);
  return alignCorners ? ((coord + 1) / 2) * (s - 1) : ((coord + 1) * s - 1) / 2;
}

float clipCoordinate(float x, int64_t size) {
  return std::min(static_cast<float>(size - 1), std::max(x, 0.f));
}

// Reflects @p x into [twiceLow / 2, twiceHigh / 2] (bounds doubled to stay integral).
float reflectCoordinate(float x, int64_t twiceLow, int64_t twiceHigh) {
  if (twiceLow == twiceHigh) return 0;
  const float low = static_cast<float>(twiceLow) / 2;
  const float span = static_cast<float>(twiceHigh - twiceLow) / 2;
  x = std::fabs(x - low);
  const float extra = std::fmod(x, span);
  const auto flips = static_cast<int64_t>(std::floor(x / span));
  return flips % 2 == 0 ? extra + low : span - extra + low;
}

// Applies the padding mode to a pixel coordinate.
float padCoordinate(float x, int64_t size, const SampleParams& p) {
  if (p.padding == SampleMode::kCLAMP) return clipCoordinate(x, size);
  if (p.padding == SampleMode::kREFLECT) {
    x = p.alignCorners ? reflectCoordinate(x, 0, 2 * (size - 1))
                       : reflectCoordinate(x, -1, 2 * size - 1);
    return clipCoordinate(x, size);
  }
  return x;
}

// floor(x) as an index, with NaN and huge values sent far outside every input.
int64_t floorIndex(float x) {
  constexpr float kFar = 1 << 30;
  if (!(x > -kFar && x < kFar)) return -(int64_t{1} << 40);
  return static_cast<int64_t>(std::floor(x));
}

void inferGridSample(ir::InferContext& ctx) {
  const auto& x = ctx.input(0);
  const auto& grid = ctx.input(1);
  const SampleParams p = sampleParams(ctx.attrs());
  if (p.mode < InterpolationMode::kNEAREST || p.mode > InterpolationMode::kCUBIC) {
    ctx.fail("unknown interpolation mode ", static_cast<int64_t>(p.mode));
  }
  if (p.padding != SampleMode::kFILL && p.padding != SampleMode::kCLAMP &&
      p.padding != SampleMode::kREFLECT) {
    ctx.fail("sample mode ", static_cast<int64_t>(p.padding),
             " is not supported; use kFILL (zeros), kCLAMP (border) or kREFLECT (reflection)");
  }
  if (x.dtype != DataType::kFLOAT || grid.dtype != DataType::kFLOAT) {
    ctx.fail("input and grid must be float32, not ", toString(x.dtype), " and ",
             toString(grid.dtype));
  }
  if (x.dims.nbDims != 4) {
    ctx.fail("the input must have rank 4 [N, C, H, W], not shape ", toString(x.dims));
  }
  if (grid.dims.nbDims != 4 || grid.dims[3] != 2) {
    ctx.fail("the grid must have shape [N, Ho, Wo, 2], not ", toString(grid.dims));
  }
  if (grid.dims[0] != x.dims[0]) {
    ctx.fail("the grid's batch ", grid.dims[0], " differs from the input's ", x.dims[0], " (input ",
             toString(x.dims), ", grid ", toString(grid.dims), ")");
  }
  ctx.setOutput(0, DataType::kFLOAT, Dims{x.dims[0], x.dims[1], grid.dims[1], grid.dims[2]});
}

void runGridSample(const ir::KernelContext& ctx) {
  const auto& xv = ctx.input(0);
  const auto& gv = ctx.input(1);
  const auto& ov = ctx.output(0);
  const SampleParams p = sampleParams(ctx.attrs());
  const int64_t n = xv.dims[0];
  const int64_t c = xv.dims[1];
  const int64_t h = xv.dims[2];
  const int64_t w = xv.dims[3];
  const int64_t points = gv.dims[1] * gv.dims[2];
  const float* x = xv.as<const float>();
  const float* grid = gv.as<const float>();
  float* out = ov.as<float>();
  if (ov.count() == 0) return;
  if (h == 0 || w == 0) {
    std::fill(out, out + ov.count(), 0.f);  // every location is outside
    return;
  }
  for (int64_t b = 0; b < n; ++b) {
    const float* image = x + b * c * h * w;
    for (int64_t q = 0; q < points; ++q) {
      const float gx = grid[(b * points + q) * 2];
      const float gy = grid[(b * points + q) * 2 + 1];
      float* dst = out + b * c * points + q;
      // Value of channel @p ch at integer pixel (ix, iy); zero outside.
      auto at = [&](int64_t ch, int64_t ix, int64_t iy) -> double {
        if (ix < 0 || ix >= w || iy < 0 || iy >= h) return 0.0;
        return image[(ch * h + iy) * w + ix];
      };
      if (p.mode == InterpolationMode::kCUBIC) {
        const float ix = unnormalize(gx, w, p.alignCorners);
        const float iy = unnormalize(gy, h, p.alignCorners);
        const int64_t x0 = floorIndex(ix);
        const int64_t y0 = floorIndex(iy);
        const auto cx = cubicCoefficients<float>(ix - static_cast<float>(x0), -0.75f);
        const auto cy = cubicCoefficients<float>(iy - static_cast<float>(y0), -0.75f);
        // Each tap's coordinate goes through the padding mode on its own.
        int64_t tx[4];
        int64_t ty[4];
        for (int64_t k = 0; k < 4; ++k) {
          tx[k] = floorIndex(padCoordinate(static_cast<float>(x0 - 1 + k), w, p));
          ty[k] = floorIndex(padCoordinate(static_cast<float>(y0 - 1 + k), h, p));
        }
        for (int64_t ch = 0; ch < c; ++ch) {
          double sum = 0;
          for (int64_t j = 0; j < 4; ++j) {
            double row = 0;
            for (int64_t i = 0; i < 4; ++i) row += cx[i] * at(ch, tx[i], ty[j]);
            sum += cy[j] * row;
          }
          dst[ch * points] = static_cast<float>(sum);
        }
        continue;
      }
      const float ix = padCoordinate(unnormalize(gx, w, p.alignCorners), w, p);
      const float iy = padCoordinate(unnormalize(gy, h, p.alignCorners), h, p);
      if (p.mode == InterpolationMode::kNEAREST) {
        const int64_t nx = floorIndex(std::nearbyint(ix));
        const int64_t ny = floorIndex(std::nearbyint(iy));
        for (int64_t ch = 0; ch < c; ++ch) dst[ch * points] = static_cast<float>(at(ch, nx, ny));
        continue;
      }
      const int64_t x0 = floorIndex(ix);
      const int64_t y0 = floorIndex(iy);
      const float fx0 = static_cast<float>(x0);
      const float fy0 = static_cast<float>(y0);
      const float wx1 = ix - fx0;
      const float wy1 = iy - fy0;
      const float wx0 = (fx0 + 1) - ix;
      const float wy0 = (fy0 + 1) - iy;
      for (int64_t ch = 0; ch < c; ++ch) {
        const double v = at(ch, x0, y0) * (wx0 * wy0) + at(ch, x0 + 1, y0) * (wx1 * wy0) +
                         at(ch, x0, y0 + 1) * (wx0 * wy1) + at(ch, x0 + 1, y0 + 1) * (wx1 * wy1);
        dst[ch * points] = static_cast<float>(v);
      }
    }
  }
}

}  // namespace

void registerGridSampleOps(ir::OpRegistry& registry) {
  registry.add({.name = "GridSample",
                .minInputs = 2,
                .maxInputs = 2,
                .nbOutputs = 1,
                .infer = inferGridSample,
                .reference = runGridSample});
}

}  // namespace kiln::ops
