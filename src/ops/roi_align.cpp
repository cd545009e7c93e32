// RoiAlign (ONNX RoiAlign, opset 10 and 16): x [N, C, H, W] float32, rois [R, 4] float32
// (x1, y1, x2, y2 in input coordinates before "spatial_scale"), batch indices [R] (int32 or
// int64) -> [R, C, output_height, output_width].
//
// Each region is split into output_height x output_width bins; each bin averages (mode kAVERAGE)
// or takes the largest of (mode kMAX) grid_h x grid_w bilinear samples at the centers of a
// regular sub-grid (grid = sampling_ratio, or ceil(region extent / output extent) when it is 0).
// "aligned" (ONNX half_pixel) shifts the region by -0.5; without it (output_half_pixel) regions
// are at least 1x1. Samples beyond one cell outside the input contribute 0; others clamp to the
// edge. kMAX takes, per sample, the largest of the four weighted corner values, as ONNX Runtime
// (and the ONNX reference) do. A batch index outside [0, N) fails the execution.
#include <algorithm>
#include <cmath>
#include <limits>

#include "ir/op_registry.h"
#include "kiln/network.h"
#include "ops/infer_checks.h"
#include "ops/op_families.h"

namespace kiln::ops {

namespace {

void inferRoiAlign(ir::InferContext& ctx) {
  requireFloat(ctx, 0);
  const Dims& x = ctx.input(0).dims;
  if (x.nbDims != 4) ctx.fail("the input has shape ", toString(x), "; it needs [N, C, H, W]");
  requireFloat(ctx, 1, "the regions (rois)");
  const Dims& rois = ctx.input(1).dims;
  if (rois.nbDims != 2 || rois[1] != 4) {
    ctx.fail("the regions have shape ", toString(rois), "; they need [R, 4] (x1, y1, x2, y2)");
  }
  const auto& batch = ctx.input(2);
  if (batch.dtype != DataType::kINT32 && batch.dtype != DataType::kINT64) {
    ctx.fail("the batch indices must be int32 or int64, not ", toString(batch.dtype));
  }
  if (batch.dims.nbDims != 1 || batch.dims[0] != rois[0]) {
    ctx.fail("the batch indices have shape ", toString(batch.dims), "; ", rois[0],
             " regions need shape ", rois[0]);
  }
  const auto mode = ctx.attrs().getEnum("mode", RoiAlignMode::kAVERAGE);
  if (mode != RoiAlignMode::kAVERAGE && mode != RoiAlignMode::kMAX) {
    ctx.fail("unknown mode ", static_cast<int64_t>(mode));
  }
  const int64_t height = ctx.attrs().getInt("output_height", 1);
  const int64_t width = ctx.attrs().getInt("output_width", 1);
  if (height < 1 || width < 1 || height > (int64_t{1} << 20) || width > (int64_t{1} << 20)) {
    ctx.fail("the output size ", height, "x", width, " must be positive (and at most 2^20)");
  }
  const int64_t sampling = ctx.attrs().getInt("sampling_ratio", 0);
  if (sampling < 0 || sampling > 1024) {
    ctx.fail("the sampling ratio ", sampling, " is outside [0, 1024] (0: adaptive)");
  }
  const double scale = ctx.attrs().getFloat("spatial_scale", 1.0);
  if (!std::isfinite(scale)) ctx.fail("the spatial scale must be finite, not ", scale);
  ctx.setOutput(0, DataType::kFLOAT, Dims{rois[0], x[1], height, width});
}

struct Sample {
  int64_t pos[4] = {0, 0, 0, 0};
  float w[4] = {0, 0, 0, 0};
};

Sample bilinear(double y, double x, int64_t h, int64_t w) {
  Sample s;
  if (y < -1.0 || y > static_cast<double>(h) || x < -1.0 || x > static_cast<double>(w)) return s;
  y = std::max(y, 0.0);
  x = std::max(x, 0.0);
  auto yLow = static_cast<int64_t>(y);
  auto xLow = static_cast<int64_t>(x);
  int64_t yHigh = yLow + 1;
  int64_t xHigh = xLow + 1;
  if (yLow >= h - 1) {
    yHigh = yLow = h - 1;
    y = static_cast<double>(yLow);
  }
  if (xLow >= w - 1) {
    xHigh = xLow = w - 1;
    x = static_cast<double>(xLow);
  }
  const double ly = y - static_cast<double>(yLow), lx = x - static_cast<double>(xLow);
  const double hy = 1.0 - ly, hx = 1.0 - lx;
  s.pos[0] = yLow * w + xLow;
  s.pos[1] = yLow * w + xHigh;
  s.pos[2] = yHigh * w + xLow;
  s.pos[3] = yHigh * w + xHigh;
  s.w[0] = static_cast<float>(hy * hx);
  s.w[1] = static_cast<float>(hy * lx);
  s.w[2] = static_cast<float>(ly * hx);
  s.w[3] = static_cast<float>(ly * lx);
  return s;
}

void runRoiAlign(const ir::KernelContext& ctx) {
  const auto& x = ctx.input(0);
  const int64_t n = x.dims[0], channels = x.dims[1], h = x.dims[2], w = x.dims[3];
  const int64_t regions = ctx.input(1).dims[0];
  const auto& batch = ctx.input(2);
  const auto mode = ctx.attrs().getEnum("mode", RoiAlignMode::kAVERAGE);
  const int64_t outH = ctx.attrs().getInt("output_height", 1);
  const int64_t outW = ctx.attrs().getInt("output_width", 1);
  const int64_t sampling = ctx.attrs().getInt("sampling_ratio", 0);
  const double scale = ctx.attrs().getFloat("spatial_scale", 1.0);
  const bool aligned = ctx.attrs().getInt("aligned", 1) != 0;
  const float* xs = x.as<const float>();
  const float* rois = ctx.input(1).as<const float>();
  float* y = ctx.output(0).as<float>();
  const double offset = aligned ? 0.5 : 0.0;

  for (int64_t r = 0; r < regions; ++r) {
    const int64_t b = batch.dtype == DataType::kINT32 ? batch.as<const int32_t>()[r]
                                                      : batch.as<const int64_t>()[r];
    if (b < 0 || b >= n) {
      fail(ErrorCode::kFAILED_EXECUTION, "batch index ", b, " (region ", r, ") is outside [0, ", n,
           ")");
    }
    const float* roi = rois + r * 4;
    const double startW = roi[0] * scale - offset, startH = roi[1] * scale - offset;
    double roiW = roi[2] * scale - offset - startW;
    double roiH = roi[3] * scale - offset - startH;
    if (!aligned) {
      roiW = std::max(roiW, 1.0);
      roiH = std::max(roiH, 1.0);
    }
    const double binH = roiH / static_cast<double>(outH), binW = roiW / static_cast<double>(outW);
    // A non-finite or huge region gets a grid of at most 1024 samples per side.
    const auto grid = [&](double extent, int64_t out) -> int64_t {
      if (sampling > 0) return sampling;
      const double g = std::ceil(extent / static_cast<double>(out));
      return std::isfinite(g) ? std::clamp<int64_t>(static_cast<int64_t>(std::max(g, 0.0)), 0, 1024)
                              : 0;
    };
    const int64_t gridH = grid(roiH, outH), gridW = grid(roiW, outW);
    const double count = static_cast<double>(std::max<int64_t>(gridH * gridW, 1));
    for (int64_t c = 0; c < channels; ++c) {
      const float* plane = xs + (b * channels + c) * h * w;
      for (int64_t ph = 0; ph < outH; ++ph) {
        for (int64_t pw = 0; pw < outW; ++pw) {
          double acc = 0.0;
          float best = 0.f;
          bool first = true;
          for (int64_t iy = 0; iy < gridH; ++iy) {
            const double sy = startH + static_cast<double>(ph) * binH +
                              (static_cast<double>(iy) + 0.5) * binH / static_cast<double>(gridH);
            for (int64_t ix = 0; ix < gridW; ++ix) {
              const double sx = startW + static_cast<double>(pw) * binW +
                                (static_cast<double>(ix) + 0.5) * binW / static_cast<double>(gridW);
              const Sample s = bilinear(sy, sx, h, w);
              if (mode == RoiAlignMode::kAVERAGE) {
                for (int k = 0; k < 4; ++k) acc += static_cast<double>(s.w[k]) * plane[s.pos[k]];
              } else {
                float v = s.w[0] * plane[s.pos[0]];
                for (int k = 1; k < 4; ++k) v = std::max(v, s.w[k] * plane[s.pos[k]]);
                best = first ? v : std::max(best, v);
                first = false;
              }
            }
          }
          y[((r * channels + c) * outH + ph) * outW + pw] =
              mode == RoiAlignMode::kAVERAGE ? static_cast<float>(acc / count) : best;
        }
      }
    }
  }
}

}  // namespace

void registerRoiAlignOps(ir::OpRegistry& registry) {
  registry.add({.name = "RoiAlign",
                .minInputs = 3,
                .maxInputs = 3,
                .nbOutputs = 1,
                .infer = inferRoiAlign,
                .reference = runRoiAlign});
}

}  // namespace kiln::ops
