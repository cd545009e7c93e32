// GridSampleLayer through the whole pipeline: the ONNX GridSample examples, every interpolation
// and padding mode with and without aligned corners on odd shapes against a plain
// implementation of the ONNX specification, and the errors.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

using IM = InterpolationMode;

struct Sampling {
  IM mode = IM::kLINEAR;
  SampleMode padding = SampleMode::kFILL;
  bool align = false;
};

GridSampleLayer addSampler(NetworkDefinition& net, Tensor x, Tensor grid, const Sampling& s) {
  auto layer = net.addGridSample(x, grid);
  layer.setInterpolationMode(s.mode);
  layer.setSampleMode(s.padding);
  layer.setAlignCorners(s.align);
  return layer;
}

// ---- The specification, in double: grid values denormalized to pixel coordinates; linear and
// nearest move the coordinate inside first (border: clamp to [0, size - 1]; reflection: mirror
// at the borders -0.5 and size - 0.5, or 0 and size - 1 with aligned corners); every pixel read
// outside the image is 0 (zeros), the nearest edge pixel (border) or the mirrored one
// (reflection).

double reflect(double x, double low, double high) {
  const double span = high - low;
  if (span <= 0) return 0;
  double r = std::fabs(x - low);
  const double flips = std::floor(r / span);
  r -= flips * span;
  return static_cast<int64_t>(flips) % 2 == 0 ? low + r : high - r;
}

double pixel(const std::vector<float>& image, int64_t h, int64_t w, int64_t y, int64_t x,
             const Sampling& s) {
  if (s.padding == SampleMode::kCLAMP) {
    x = std::clamp<int64_t>(x, 0, w - 1);
    y = std::clamp<int64_t>(y, 0, h - 1);
  } else if (s.padding == SampleMode::kREFLECT) {
    const double lx = s.align ? 0 : -0.5;
    const double ly = s.align ? 0 : -0.5;
    x = std::clamp<int64_t>(static_cast<int64_t>(std::floor(
                                reflect(static_cast<double>(x), lx, s.align ? w - 1 : w - 0.5))),
                            0, w - 1);
    y = std::clamp<int64_t>(static_cast<int64_t>(std::floor(
                                reflect(static_cast<double>(y), ly, s.align ? h - 1 : h - 0.5))),
                            0, h - 1);
  }
  if (x < 0 || x >= w || y < 0 || y >= h) return 0;
  return image[static_cast<std::size_t>(y * w + x)];
}

double denormalize(double v, int64_t size, bool align) {
  return align ? (v + 1) / 2 * static_cast<double>(size - 1)
               : ((v + 1) * static_cast<double>(size) - 1) / 2;
}

double inside(double v, int64_t size, const Sampling& s) {
  if (s.padding == SampleMode::kCLAMP) return std::clamp(v, 0.0, static_cast<double>(size - 1));
  if (s.padding == SampleMode::kREFLECT) {
    const double r = s.align ? reflect(v, 0, static_cast<double>(size - 1))
                             : reflect(v, -0.5, static_cast<double>(size) - 0.5);
    return std::clamp(r, 0.0, static_cast<double>(size - 1));
  }
  return v;
}

std::array<double, 4> cubicWeights(double t) {
  const double a = -0.75;
  auto k = [a](double s) {
    s = std::fabs(s);
    if (s <= 1) return (a + 2) * s * s * s - (a + 3) * s * s + 1;
    if (s < 2) return a * s * s * s - 5 * a * s * s + 8 * a * s - 4 * a;
    return 0.0;
  };
  return {k(t + 1), k(t), k(1 - t), k(2 - t)};
}

double sample(const std::vector<float>& image, int64_t h, int64_t w, double gx, double gy,
              const Sampling& s) {
  double x = denormalize(gx, w, s.align);
  double y = denormalize(gy, h, s.align);
  if (s.mode == IM::kCUBIC) {
    const double x0 = std::floor(x);
    const double y0 = std::floor(y);
    const auto wx = cubicWeights(x - x0);
    const auto wy = cubicWeights(y - y0);
    double sum = 0;
    for (int64_t j = 0; j < 4; ++j) {
      for (int64_t i = 0; i < 4; ++i) {
        sum += wx[static_cast<std::size_t>(i)] * wy[static_cast<std::size_t>(j)] *
               pixel(image, h, w, static_cast<int64_t>(y0) - 1 + j,
                     static_cast<int64_t>(x0) - 1 + i, s);
      }
    }
    return sum;
  }
  x = inside(x, w, s);
  y = inside(y, h, s);
  if (s.mode == IM::kNEAREST) {
    return pixel(image, h, w, static_cast<int64_t>(std::nearbyint(y)),
                 static_cast<int64_t>(std::nearbyint(x)), s);
  }
  const double x0 = std::floor(x);
  const double y0 = std::floor(y);
  const double tx = x - x0;
  const double ty = y - y0;
  const auto ix = static_cast<int64_t>(x0);
  const auto iy = static_cast<int64_t>(y0);
  // Out-of-image corners read 0 here in every padding mode (the coordinate is already inside).
  auto at = [&](int64_t yy, int64_t xx) {
    return xx < 0 || xx >= w || yy < 0 || yy >= h ? 0.0
                                                  : image[static_cast<std::size_t>(yy * w + xx)];
  };
  return at(iy, ix) * (1 - tx) * (1 - ty) + at(iy, ix + 1) * tx * (1 - ty) +
         at(iy + 1, ix) * (1 - tx) * ty + at(iy + 1, ix + 1) * tx * ty;
}

std::vector<float> referenceGridSample(const std::vector<float>& x, const Dims& xd,
                                       const std::vector<float>& grid, const Dims& gd,
                                       const Sampling& s) {
  const int64_t n = xd[0], c = xd[1], h = xd[2], w = xd[3], ho = gd[1], wo = gd[2];
  std::vector<float> out;
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t ch = 0; ch < c; ++ch) {
      const std::vector<float> image(x.begin() + (b * c + ch) * h * w,
                                     x.begin() + (b * c + ch + 1) * h * w);
      for (int64_t i = 0; i < ho * wo; ++i) {
        const std::size_t g = static_cast<std::size_t>((b * ho * wo + i) * 2);
        out.push_back(static_cast<float>(sample(image, h, w, grid[g], grid[g + 1], s)));
      }
    }
  }
  return out;
}

std::vector<float> runOne(const std::vector<float>& x, const Dims& xd,
                          const std::vector<float>& grid, const Dims& gd, const Sampling& s) {
  NetworkFixture f;
  auto xt = f.net().addInput("x", DataType::kFLOAT, xd);
  auto gt = f.net().addInput("grid", DataType::kFLOAT, gd);
  auto layer = addSampler(f.net(), xt, gt, s);
  EXPECT_TRUE(layer) << f.logger.errors();
  f.net().markOutput(layer.output(0));
  const auto out = f.run({HostTensor::fromFloats(xd, x), HostTensor::fromFloats(gd, grid)});
  EXPECT_EQ(out.size(), 1u) << f.logger.errors();
  if (out.size() != 1) return {};
  EXPECT_EQ(out[0].dims, (Dims{xd[0], xd[1], gd[1], gd[2]}));
  return out[0].floats();
}

// ---- ONNX examples.

TEST(GridSample, OnnxBilinearExample) {
  std::vector<float> x(16);
  for (int i = 0; i < 16; ++i) x[static_cast<std::size_t>(i)] = static_cast<float>(i);
  const std::array<float, 6> coords = {-1.f, -0.6f, -0.2f, 0.2f, 0.6f, 1.f};
  std::vector<float> grid;
  for (float gy : coords) {
    for (float gx : coords) {
      grid.push_back(gx);
      grid.push_back(gy);
    }
  }
  const std::vector<float> expected = {
      0.0f, 0.15f, 0.55f, 0.95f, 1.35f, 0.75f, 0.6f, 1.5f,  2.3f,  3.1f,  3.9f,  2.1f,
      2.2f, 4.7f,  5.5f,  6.3f,  7.1f,  3.7f,  3.8f, 7.9f,  8.7f,  9.5f,  10.3f, 5.3f,
      5.4f, 11.1f, 11.9f, 12.7f, 13.5f, 6.9f,  3.0f, 6.15f, 6.55f, 6.95f, 7.35f, 3.75f};
  const Dims xd{1, 1, 4, 4};
  const Dims gd{1, 6, 6, 2};
  expectClose(runOne(x, xd, grid, gd, Sampling{}), expected, 1e-5, 1e-5);
  expectClose(referenceGridSample(x, xd, grid, gd, Sampling{}), expected, 1e-5, 1e-5, "reference");
}

TEST(GridSample, OnnxModeAndPaddingExamples) {
  const std::vector<float> x = {0, 1, 2, 3, 4, 5};
  const Dims xd{1, 1, 3, 2};
  const Dims gd{1, 2, 4, 2};
  const std::vector<float> grid = {-1, -1, -0.5f, -0.5f, -0.2f, -0.2f, 0, 0,
                                   0,  0,  -0.2f, -0.2f, 0.5f,  0.5f,  1, 1};
  const std::vector<float> far = {-10, -10, -5,    -5,    -0.2f, -0.2f, 10, 10,
                                  10,  10,  -0.2f, -0.2f, 5,     5,     10, 10};
  struct Example {
    const char* name;
    Sampling s;
    const std::vector<float>* grid;
    std::vector<float> expected;
  };
  const std::vector<Example> examples = {
      {"bilinear", {IM::kLINEAR}, &grid, {0, 0.5f, 1.7f, 2.5f, 2.5f, 1.7f, 4.5f, 1.25f}},
      {"aligncorners_true",
       {IM::kLINEAR, SampleMode::kFILL, true},
       &grid,
       {0, 1.25f, 2, 2.5f, 2.5f, 2, 3.75f, 5}},
      {"nearest", {IM::kNEAREST}, &grid, {0, 0, 2, 2, 2, 2, 5, 0}},
      {"bicubic",
       {IM::kCUBIC},
       &grid,
       {-0.1406f, 0.3828f, 1.7556f, 2.9688f, 2.9688f, 1.7556f, 5.1445f, 1.3906f}},
      {"zeros_padding", {IM::kLINEAR, SampleMode::kFILL}, &far, {0, 0, 1.7f, 0, 0, 1.7f, 0, 0}},
      {"border_padding", {IM::kLINEAR, SampleMode::kCLAMP}, &far, {0, 0, 1.7f, 5, 5, 1.7f, 5, 5}},
      {"reflection_padding",
       {IM::kLINEAR, SampleMode::kREFLECT},
       &far,
       {2.5f, 0, 1.7f, 2.5f, 2.5f, 1.7f, 5, 2.5f}},
  };
  for (const Example& e : examples) {
    SCOPED_TRACE(e.name);
    // The bicubic values are published rounded to four decimals.
    expectClose(runOne(x, xd, *e.grid, gd, e.s), e.expected, 1e-4, 1e-4);
    expectClose(referenceGridSample(x, xd, *e.grid, gd, e.s), e.expected, 1e-4, 1e-4, "reference");
  }
}

TEST(GridSample, AllModesMatchTheSpecificationOnOddShapes) {
  const Dims xd{2, 3, 5, 7};
  const Dims gd{2, 4, 3, 2};
  const auto x = randomTensor(xd, 11, -2.f, 2.f).floats();
  // Beyond [-1, 1] too, to exercise every padding mode.
  const auto grid = randomTensor(gd, 12, -1.6f, 1.6f).floats();
  for (IM mode : {IM::kNEAREST, IM::kLINEAR, IM::kCUBIC}) {
    for (SampleMode padding : {SampleMode::kFILL, SampleMode::kCLAMP, SampleMode::kREFLECT}) {
      for (bool align : {false, true}) {
        const Sampling s{mode, padding, align};
        SCOPED_TRACE("mode " + std::to_string(static_cast<int>(mode)) + " padding " +
                     std::to_string(static_cast<int>(padding)) + " align " + std::to_string(align));
        expectClose(runOne(x, xd, grid, gd, s), referenceGridSample(x, xd, grid, gd, s), 1e-5,
                    1e-5);
      }
    }
  }
}

TEST(GridSample, SettingsAndEmptyShapes) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 0, 3, 3});
  auto grid = f.net().addInput("grid", DataType::kFLOAT, Dims{1, 2, 2, 2});
  auto layer = f.net().addGridSample(x, grid);
  ASSERT_TRUE(layer) << f.logger.errors();
  EXPECT_EQ(layer.type(), LayerType::kGRID_SAMPLE);
  EXPECT_EQ(toString(LayerType::kGRID_SAMPLE), "GridSample");
  EXPECT_EQ(layer.interpolationMode(), IM::kLINEAR);
  EXPECT_FALSE(layer.alignCorners());
  EXPECT_EQ(layer.sampleMode(), SampleMode::kFILL);
  layer.setInterpolationMode(IM::kCUBIC);
  layer.setAlignCorners(true);
  layer.setSampleMode(SampleMode::kREFLECT);
  EXPECT_EQ(layer.interpolationMode(), IM::kCUBIC);
  EXPECT_TRUE(layer.alignCorners());
  EXPECT_EQ(layer.sampleMode(), SampleMode::kREFLECT);
  // An image with no pixels samples zeros.
  auto empty = f.net().addInput("empty", DataType::kFLOAT, Dims{1, 2, 0, 4});
  auto zeros = f.net().addGridSample(empty, grid);
  f.net().markOutput(layer.output(0));
  f.net().markOutput(zeros.output(0));
  const auto g = randomTensor(Dims{1, 2, 2, 2}, 5);
  const auto out = f.run({HostTensor(DataType::kFLOAT, Dims{1, 0, 3, 3}), g,
                          HostTensor(DataType::kFLOAT, Dims{1, 2, 0, 4})});
  ASSERT_EQ(out.size(), 2u) << f.logger.errors();
  EXPECT_EQ(out[0].dims, (Dims{1, 0, 2, 2}));
  EXPECT_EQ(out[1].dims, (Dims{1, 2, 2, 2}));
  expectClose(out[1].floats(), std::vector<float>(8, 0.f));

  GridSampleLayer null;
  null.setAlignCorners(true);
  EXPECT_FALSE(null.alignCorners());
}

TEST(GridSample, BadShapesAndModesNameTheLayer) {
  auto expectInvalid = [](const Dims& xd, const Dims& gd, std::string_view text,
                          const std::function<void(GridSampleLayer&)>& configure = {},
                          DataType type = DataType::kFLOAT) {
    SCOPED_TRACE(text);
    NetworkFixture f;
    auto x = f.net().addInput("x", type, xd);
    auto grid = f.net().addInput("grid", DataType::kFLOAT, gd);
    auto layer = f.net().addGridSample(x, grid);
    ASSERT_TRUE(layer) << f.logger.errors();
    if (configure) configure(layer);
    expectInvalidLayer(f, layer, text);
  };
  expectInvalid(Dims{1, 2, 3}, Dims{1, 2, 2, 2},
                "layer 'GridSample_0' (GridSample): the input must have rank 4 [N, C, H, W], not "
                "shape 1x2x3");
  expectInvalid(Dims{1, 2, 3, 3}, Dims{1, 2, 2, 3},
                "layer 'GridSample_0' (GridSample): the grid must have shape [N, Ho, Wo, 2], not "
                "1x2x2x3");
  expectInvalid(Dims{2, 2, 3, 3}, Dims{1, 2, 2, 2},
                "layer 'GridSample_0' (GridSample): the grid's batch 1 differs from the input's 2");
  expectInvalid(Dims{1, 2, 3, 3}, Dims{1, 2, 2, 2},
                "layer 'GridSample_0' (GridSample): input and grid must be float32, not int32", {},
                DataType::kINT32);
  expectInvalid(
      Dims{1, 2, 3, 3}, Dims{1, 2, 2, 2},
      "layer 'GridSample_0' (GridSample): sample mode 1 is not supported; use kFILL (zeros), "
      "kCLAMP (border) or kREFLECT (reflection)",
      [](GridSampleLayer& l) { l.setSampleMode(SampleMode::kWRAP); });
  expectInvalid(Dims{1, 2, 3, 3}, Dims{1, 2, 2, 2},
                "layer 'GridSample_0' (GridSample): unknown interpolation mode 5",
                [](GridSampleLayer& l) { l.setInterpolationMode(static_cast<IM>(5)); });

  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 2, 2});
  EXPECT_FALSE(f.net().addGridSample(x, Tensor()));
  EXPECT_TRUE(f.logger.hasError("addGridSample: grid is a null tensor")) << f.logger.errors();
}

}  // namespace
}  // namespace kiln::test
