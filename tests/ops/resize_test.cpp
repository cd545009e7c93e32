// ResizeLayer through the whole pipeline: the ONNX Resize examples, every mode, rounding and
// coordinate transformation on odd shapes against a transcription of ONNX's reference algorithm,
// the ways to give the output shape, and the errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

using CT = ResizeCoordinateTransformation;
using IM = InterpolationMode;
using RM = ResizeRoundMode;

struct Settings {
  IM mode = IM::kNEAREST;
  CT transform = CT::kHALF_PIXEL;
  RM rounding = RM::kROUND_PREFER_FLOOR;
  float cubicA = -0.75f;
  bool exclude = false;
};

void apply(ResizeLayer& layer, const Settings& s) {
  layer.setResizeMode(s.mode);
  layer.setCoordinateTransformation(s.transform);
  layer.setNearestRounding(s.rounding);
  layer.setCubicCoeff(s.cubicA);
  layer.setExcludeOutside(s.exclude);
}

// ---- ONNX's reference algorithm (onnx/backend/test/case/node/resize.py), written out: each
// dimension interpolated in turn over the edge-padded data, neighbours chosen as the n nearest
// indices (ties to the smaller), weights from the fractional part in (0, 1].

std::vector<double> coefficients(const Settings& s, double ratio) {
  switch (s.mode) {
    case IM::kNEAREST: {
      if (ratio == 1.0) return {0, 1};
      switch (s.rounding) {
        case RM::kROUND_PREFER_FLOOR:
          return {ratio <= 0.5 ? 1.0 : 0.0, ratio > 0.5 ? 1.0 : 0.0};
        case RM::kROUND_PREFER_CEIL:
          return {ratio < 0.5 ? 1.0 : 0.0, ratio >= 0.5 ? 1.0 : 0.0};
        case RM::kFLOOR:
          return {1, 0};
        case RM::kCEIL:
          return {0, 1};
      }
      return {};
    }
    case IM::kLINEAR:
      return {1 - ratio, ratio};
    case IM::kCUBIC: {
      const double a = s.cubicA;
      const double r = ratio;
      return {((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a,
              ((a + 2) * r - (a + 3)) * r * r + 1,
              ((a + 2) * (1 - r) - (a + 3)) * (1 - r) * (1 - r) + 1,
              ((a * ((1 - r) + 1) - 5 * a) * ((1 - r) + 1) + 8 * a) * ((1 - r) + 1) - 4 * a};
    }
  }
  return {};
}

double interpolate1d(const std::vector<double>& data, double scale, int64_t outLength, int64_t x,
                     const Settings& s) {
  const auto inWidth = static_cast<double>(data.size());
  const double outWidth = scale * inWidth;
  const auto xd = static_cast<double>(x);
  double xo = 0;
  switch (s.transform) {
    case CT::kALIGN_CORNERS:
      xo = outWidth == 1 ? 0 : xd * (inWidth - 1) / (outWidth - 1);
      break;
    case CT::kASYMMETRIC:
      xo = xd / scale;
      break;
    case CT::kHALF_PIXEL:
      xo = (xd + 0.5) / scale - 0.5;
      break;
    case CT::kPYTORCH_HALF_PIXEL:
      xo = outLength == 1 ? 0 : (xd + 0.5) / scale - 0.5;
      break;
    case CT::kTF_HALF_PIXEL_FOR_NN:
      xo = (xd + 0.5) / scale;
      break;
    case CT::kHALF_PIXEL_SYMMETRIC: {
      const double adjustment = static_cast<double>(outLength) / outWidth;
      xo = inWidth / 2 * (1 - adjustment) + (xd + 0.5) / scale - 0.5;
      break;
    }
    case CT::kTF_CROP_AND_RESIZE:
      ADD_FAILURE() << "this 1-d model has no region of interest: tf_crop_and_resize is tested "
                       "elsewhere";
      break;
  }
  const double ratio = xo == std::floor(xo) ? 1.0 : xo - std::floor(xo);
  std::vector<double> c = coefficients(s, ratio);
  const auto n = static_cast<int64_t>(c.size());
  const int64_t pad = (n + 1) / 2;
  std::vector<double> padded;
  for (int64_t i = -pad; i < static_cast<int64_t>(data.size()) + pad; ++i) {
    padded.push_back(
        data[static_cast<std::size_t>(std::clamp<int64_t>(i, 0, std::ssize(data) - 1))]);
  }
  const double xp = xo + static_cast<double>(pad);
  std::vector<int64_t> order(padded.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return std::fabs(xp - static_cast<double>(a)) < std::fabs(xp - static_cast<double>(b));
  });
  order.resize(static_cast<std::size_t>(n));
  std::sort(order.begin(), order.end());
  if (s.exclude && s.mode != IM::kNEAREST) {
    double sum = 0;
    for (int64_t k = 0; k < n; ++k) {
      const int64_t i = order[static_cast<std::size_t>(k)] - pad;
      if (i < 0 || i >= std::ssize(data)) c[static_cast<std::size_t>(k)] = 0;
      sum += c[static_cast<std::size_t>(k)];
    }
    for (auto& v : c) v /= sum;
  }
  double result = 0;
  for (int64_t k = 0; k < n; ++k) {
    result += c[static_cast<std::size_t>(k)] *
              padded[static_cast<std::size_t>(order[static_cast<std::size_t>(k)])];
  }
  return result;
}

// Element @p out of the resize of @p data (shape @p in) from dimension @p d on; @p offset is the
// start of the sub-array in @p data.
double interpolateNd(const std::vector<float>& data, const Dims& in, const Dims& outDims,
                     const std::vector<double>& scales, const std::vector<int64_t>& out,
                     const Settings& s, int32_t d, int64_t offset) {
  int64_t stride = 1;
  for (int32_t k = d + 1; k < in.nbDims; ++k) stride *= in[k];
  std::vector<double> line;
  for (int64_t i = 0; i < in[d]; ++i) {
    line.push_back(
        d + 1 == in.nbDims
            ? static_cast<double>(data[static_cast<std::size_t>(offset + i)])
            : interpolateNd(data, in, outDims, scales, out, s, d + 1, offset + i * stride));
  }
  return interpolate1d(line, scales[static_cast<std::size_t>(d)], outDims[d],
                       out[static_cast<std::size_t>(d)], s);
}

std::vector<float> referenceResize(const std::vector<float>& data, const Dims& in,
                                   const Dims& outDims, const std::vector<double>& scales,
                                   const Settings& s) {
  std::vector<float> result;
  std::vector<int64_t> index(static_cast<std::size_t>(outDims.nbDims), 0);
  for (int64_t i = 0; i < volume(outDims); ++i) {
    int64_t rest = i;
    for (int32_t d = outDims.nbDims - 1; d >= 0; --d) {
      index[static_cast<std::size_t>(d)] = rest % outDims[d];
      rest /= outDims[d];
    }
    result.push_back(static_cast<float>(interpolateNd(data, in, outDims, scales, index, s, 0, 0)));
  }
  return result;
}

// ---- ONNX examples (inputs and outputs from the ONNX operator documentation).

const std::vector<float> k1to8 = {1, 2, 3, 4, 5, 6, 7, 8};
const std::vector<float> k1to16 = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

struct Example {
  const char* name;
  Dims in;
  const std::vector<float>* data;
  std::vector<float> scales;  // empty: sizes
  Dims sizes;
  Settings settings;
  Dims out;
  std::vector<float> expected;
};

std::vector<Example> onnxExamples() {
  return {
      {"downsample_scales_nearest",
       Dims{1, 1, 2, 4},
       &k1to8,
       {1, 1, 0.6f, 0.6f},
       Dims{},
       Settings{},
       Dims{1, 1, 1, 2},
       {1, 3}},
      {"downsample_scales_linear",
       Dims{1, 1, 2, 4},
       &k1to8,
       {1, 1, 0.6f, 0.6f},
       Dims{},
       Settings{IM::kLINEAR},
       Dims{1, 1, 1, 2},
       {2.6666665f, 4.3333330f}},
      {"downsample_scales_linear_align_corners",
       Dims{1, 1, 2, 4},
       &k1to8,
       {1, 1, 0.6f, 0.6f},
       Dims{},
       Settings{IM::kLINEAR, CT::kALIGN_CORNERS},
       Dims{1, 1, 1, 2},
       {1, 3.142857f}},
      {"downsample_scales_cubic",
       Dims{1, 1, 4, 4},
       &k1to16,
       {1, 1, 0.8f, 0.8f},
       Dims{},
       Settings{IM::kCUBIC},
       Dims{1, 1, 3, 3},
       {1.47119141f, 2.78125f, 4.08251953f, 6.71142578f, 8.02148438f, 9.32275391f, 11.9165039f,
        13.2265625f, 14.5278320f}},
      {"downsample_scales_cubic_A_n0p5_exclude_outside",
       Dims{1, 1, 4, 4},
       &k1to16,
       {1, 1, 0.8f, 0.8f},
       Dims{},
       Settings{IM::kCUBIC, CT::kHALF_PIXEL, RM::kROUND_PREFER_FLOOR, -0.5f, true},
       Dims{1, 1, 3, 3},
       {1.36812675f, 2.66950130f, 4.01333666f, 6.57362509f, 7.875f, 9.21883488f, 11.9489660f,
        13.2503414f, 14.5941763f}},
      {"downsample_scales_cubic_align_corners",
       Dims{1, 1, 4, 4},
       &k1to16,
       {1, 1, 0.8f, 0.8f},
       Dims{},
       Settings{IM::kCUBIC, CT::kALIGN_CORNERS},
       Dims{1, 1, 3, 3},
       {1, 2.39519167f, 3.79038310f, 6.58076620f, 7.97595787f, 9.37114906f, 12.1615324f,
        13.5567236f, 14.9519157f}},
      {"downsample_sizes_nearest",
       Dims{1, 1, 2, 4},
       &k1to8,
       {},
       Dims{1, 1, 1, 3},
       Settings{},
       Dims{1, 1, 1, 3},
       {1, 2, 4}},
      {"downsample_sizes_cubic",
       Dims{1, 1, 4, 4},
       &k1to16,
       {},
       Dims{1, 1, 3, 3},
       Settings{IM::kCUBIC},
       Dims{1, 1, 3, 3},
       {1.63078701f, 3.00462961f, 4.37847233f, 7.12615728f, 8.5f, 9.87384224f, 12.6215277f,
        13.9953699f, 15.3692131f}},
      {"downsample_sizes_linear_pytorch_half_pixel",
       Dims{1, 1, 4, 4},
       &k1to16,
       {},
       Dims{1, 1, 3, 1},
       Settings{IM::kLINEAR, CT::kPYTORCH_HALF_PIXEL},
       Dims{1, 1, 3, 1},
       {1.66666663f, 7, 12.3333330f}},
      {"downsample_sizes_nearest_tf_half_pixel_for_nn",
       Dims{1, 1, 4, 4},
       &k1to16,
       {},
       Dims{1, 1, 3, 2},
       Settings{IM::kNEAREST, CT::kTF_HALF_PIXEL_FOR_NN},
       Dims{1, 1, 3, 2},
       {6, 8, 10, 12, 14, 16}},
      {"upsample_scales_nearest",
       Dims{1, 1, 2, 2},
       &k1to8,
       {1, 1, 2, 3},
       Dims{},
       Settings{},
       Dims{1, 1, 4, 6},
       {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4}},
      {"upsample_scales_linear",
       Dims{1, 1, 2, 2},
       &k1to8,
       {1, 1, 2, 2},
       Dims{},
       Settings{IM::kLINEAR},
       Dims{1, 1, 4, 4},
       {1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f,
        4}},
      {"upsample_scales_linear_align_corners",
       Dims{1, 1, 2, 2},
       &k1to8,
       {1, 1, 2, 2},
       Dims{},
       Settings{IM::kLINEAR, CT::kALIGN_CORNERS},
       Dims{1, 1, 4, 4},
       {1, 4 / 3.f, 5 / 3.f, 2, 5 / 3.f, 2, 7 / 3.f, 8 / 3.f, 7 / 3.f, 8 / 3.f, 3, 10 / 3.f, 3,
        10 / 3.f, 11 / 3.f, 4}},
      {"upsample_sizes_nearest_ceil_half_pixel (first row)",
       Dims{1, 1, 1, 4},
       &k1to16,
       {},
       Dims{1, 1, 1, 8},
       Settings{IM::kNEAREST, CT::kHALF_PIXEL, RM::kCEIL},
       Dims{1, 1, 1, 8},
       {1, 2, 2, 3, 3, 4, 4, 4}},
      {"upsample_sizes_nearest_floor_align_corners (first row)",
       Dims{1, 1, 1, 4},
       &k1to16,
       {},
       Dims{1, 1, 1, 8},
       Settings{IM::kNEAREST, CT::kALIGN_CORNERS, RM::kFLOOR},
       Dims{1, 1, 1, 8},
       {1, 1, 1, 2, 2, 3, 3, 4}},
      {"upsample_sizes_nearest_round_prefer_ceil_asymmetric (first row)",
       Dims{1, 1, 1, 4},
       &k1to16,
       {},
       Dims{1, 1, 1, 8},
       Settings{IM::kNEAREST, CT::kASYMMETRIC, RM::kROUND_PREFER_CEIL},
       Dims{1, 1, 1, 8},
       {1, 2, 2, 3, 3, 4, 4, 4}},
  };
}

TEST(Resize, OnnxExamples) {
  for (const Example& e : onnxExamples()) {
    SCOPED_TRACE(e.name);
    NetworkFixture f;
    auto x = f.net().addInput("x", DataType::kFLOAT, e.in);
    auto layer = f.net().addResize(x);
    ASSERT_TRUE(layer) << f.logger.errors();
    apply(layer, e.settings);
    if (e.scales.empty()) {
      layer.setOutputDimensions(e.sizes);
    } else {
      layer.setScales(e.scales);
    }
    f.net().markOutput(layer.output(0));
    const std::vector<float> data(e.data->begin(), e.data->begin() + volume(e.in));
    const auto out = f.run({HostTensor::fromFloats(e.in, data)});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].dims, e.out);
    expectClose(out[0].floats(), e.expected, 1e-5, 1e-5);
    // The transcribed reference agrees with the documented values too.
    std::vector<double> scales;
    for (int32_t d = 0; d < e.in.nbDims; ++d) {
      scales.push_back(e.scales.empty()
                           ? static_cast<double>(e.sizes[d]) / static_cast<double>(e.in[d])
                           : static_cast<double>(e.scales[static_cast<std::size_t>(d)]));
    }
    expectClose(referenceResize(data, e.in, e.out, scales, e.settings), e.expected, 1e-5, 1e-5,
                "reference");
  }
}

// Every mode x rounding x transformation, by scales and by sizes, on odd shapes where every
// dimension (batch and channels too) is resized.
TEST(Resize, AllModesMatchTheOnnxReferenceOnOddShapes) {
  const std::vector<Settings> modes = {
      {IM::kNEAREST, CT::kHALF_PIXEL, RM::kROUND_PREFER_FLOOR},
      {IM::kNEAREST, CT::kHALF_PIXEL, RM::kROUND_PREFER_CEIL},
      {IM::kNEAREST, CT::kHALF_PIXEL, RM::kFLOOR},
      {IM::kNEAREST, CT::kHALF_PIXEL, RM::kCEIL},
      {IM::kLINEAR},
      {IM::kLINEAR, CT::kHALF_PIXEL, RM::kFLOOR, -0.75f, true},
      {IM::kCUBIC},
      {IM::kCUBIC, CT::kHALF_PIXEL, RM::kFLOOR, -0.5f, true},
  };
  const std::array transforms = {CT::kALIGN_CORNERS,        CT::kASYMMETRIC,
                                 CT::kHALF_PIXEL,           CT::kPYTORCH_HALF_PIXEL,
                                 CT::kTF_HALF_PIXEL_FOR_NN, CT::kHALF_PIXEL_SYMMETRIC};
  const Dims in{2, 3, 5, 4};
  const std::vector<float> scaleSet = {1.5f, 0.7f, 1.8f, 2.5f};
  const Dims sizeSet{3, 1, 2, 7};
  const auto input = randomTensor(in, 7, -2.f, 2.f);
  const auto data = input.floats();
  for (const Settings& base : modes) {
    NetworkFixture f;
    auto x = f.net().addInput("x", DataType::kFLOAT, in);
    struct Case {
      Settings s;
      bool bySizes;
    };
    std::vector<Case> cases;
    for (CT t : transforms) {
      for (bool bySizes : {false, true}) {
        Settings s = base;
        s.transform = t;
        auto layer = f.net().addResize(x);
        apply(layer, s);
        if (bySizes) {
          layer.setOutputDimensions(sizeSet);
        } else {
          layer.setScales(scaleSet);
        }
        f.net().markOutput(layer.output(0));
        cases.push_back({s, bySizes});
      }
    }
    const auto out = f.run({input});
    ASSERT_EQ(out.size(), cases.size()) << f.logger.errors();
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const Case& c = cases[i];
      SCOPED_TRACE("mode " + std::to_string(static_cast<int>(c.s.mode)) + " rounding " +
                   std::to_string(static_cast<int>(c.s.rounding)) + " exclude " +
                   std::to_string(c.s.exclude) + " transform " +
                   std::to_string(static_cast<int>(c.s.transform)) +
                   (c.bySizes ? " by sizes" : " by scales"));
      Dims outDims = in;
      std::vector<double> scales;
      for (int32_t d = 0; d < in.nbDims; ++d) {
        const double s = c.bySizes ? static_cast<double>(sizeSet[d]) / static_cast<double>(in[d])
                                   : static_cast<double>(scaleSet[static_cast<std::size_t>(d)]);
        outDims[d] = c.bySizes ? sizeSet[d]
                               : static_cast<int64_t>(std::floor(static_cast<double>(in[d]) * s));
        scales.push_back(s);
      }
      ASSERT_EQ(out[i].dims, outDims);
      expectClose(out[i].floats(), referenceResize(data, in, outDims, scales, c.s), 1e-5, 1e-5);
    }
  }
}

TEST(Resize, NearestCopiesIntegerAndBoolData) {
  NetworkFixture f;
  auto xi = f.net().addInput("xi", DataType::kINT32, Dims{2, 3});
  auto xb = f.net().addInput("xb", DataType::kBOOL, Dims{3});
  auto ri = f.net().addResize(xi);
  ri.setScales(std::vector<float>{1.f, 2.f});  // kNEAREST, kASYMMETRIC, kFLOOR: repeats
  auto rb = f.net().addResize(xb);
  rb.setOutputDimensions(Dims{5});
  rb.setCoordinateTransformation(CT::kALIGN_CORNERS);
  rb.setNearestRounding(RM::kROUND_PREFER_CEIL);
  f.net().markOutput(ri.output(0));
  f.net().markOutput(rb.output(0));
  const auto out = f.run({HostTensor::fromInts(Dims{2, 3}, std::vector<int32_t>{1, 2, 3, 4, 5, 6}),
                          HostTensor::fromBools(Dims{3}, std::array<bool, 3>{true, false, true})});
  ASSERT_EQ(out.size(), 2u) << f.logger.errors();
  EXPECT_EQ(out[0].dtype, DataType::kINT32);
  EXPECT_EQ(out[0].dims, (Dims{2, 6}));
  const std::vector<int32_t> expected = {1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6};
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), out[0].as<int32_t>().begin()));
  // align corners: x_in = x * 2 / 4 = 0, .5, 1, 1.5, 2 -> rounded up at halves: 0 1 1 2 2.
  EXPECT_EQ(out[1].dims, (Dims{5}));
  const std::vector<uint8_t> bools = {1, 0, 0, 1, 1};
  for (std::size_t i = 0; i < bools.size(); ++i) {
    EXPECT_EQ(static_cast<uint8_t>(out[1].as<std::byte>()[i]), bools[i]) << i;
  }
}

TEST(Resize, ShapeFromAConstantInput) {
  NetworkFixture f;
  const Dims in{1, 2, 3};
  auto x = f.net().addInput("x", DataType::kFLOAT, in);
  const std::array<float, 3> scales{1.f, 1.f, 2.f};
  const std::array<int32_t, 3> sizes32{1, 2, 5};
  const std::array<int64_t, 3> sizes64{2, 4, 3};
  auto byScales = f.net().addResize(x);
  byScales.setInput(
      1, f.net().addConstant(Dims{3}, Weights{DataType::kFLOAT, scales.data(), 3}).output(0));
  auto bySizes32 = f.net().addResize(x);
  bySizes32.setInput(
      1, f.net().addConstant(Dims{3}, Weights{DataType::kINT32, sizes32.data(), 3}).output(0));
  // The input wins over scales set before.
  auto bySizes64 = f.net().addResize(x);
  bySizes64.setScales(std::vector<float>{3.f, 3.f, 3.f});
  bySizes64.setInput(
      1, f.net().addConstant(Dims{3}, Weights{DataType::kINT64, sizes64.data(), 3}).output(0));
  for (auto* l : {&byScales, &bySizes32, &bySizes64}) {
    l->setResizeMode(IM::kLINEAR);
    l->setCoordinateTransformation(CT::kHALF_PIXEL);
    f.net().markOutput(l->output(0));
  }
  EXPECT_EQ(byScales.output(0).dimensions(), (Dims{1, 2, 6}));
  EXPECT_EQ(bySizes32.output(0).dimensions(), (Dims{1, 2, 5}));
  EXPECT_EQ(bySizes64.output(0).dimensions(), (Dims{2, 4, 3}));
  const auto input = randomTensor(in, 3);
  const auto out = f.run({input});
  ASSERT_EQ(out.size(), 3u) << f.logger.errors();
  const Settings s{IM::kLINEAR, CT::kHALF_PIXEL};
  expectClose(out[0].floats(), referenceResize(input.floats(), in, Dims{1, 2, 6}, {1, 1, 2}, s));
  expectClose(out[1].floats(),
              referenceResize(input.floats(), in, Dims{1, 2, 5}, {1, 1, 5.0 / 3}, s));
  expectClose(out[2].floats(), referenceResize(input.floats(), in, Dims{2, 4, 3}, {2, 2, 1}, s));
}

TEST(Resize, SettingsDefaultsAndExclusiveShapeSettings) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 4});
  auto layer = f.net().addResize(x);
  ASSERT_TRUE(layer) << f.logger.errors();
  EXPECT_EQ(layer.type(), LayerType::kRESIZE);
  EXPECT_EQ(toString(LayerType::kRESIZE), "Resize");
  EXPECT_EQ(layer.resizeMode(), IM::kNEAREST);
  EXPECT_EQ(layer.coordinateTransformation(), CT::kASYMMETRIC);
  EXPECT_EQ(layer.selectorForSinglePixel(), ResizeSelector::kFORMULA);
  EXPECT_EQ(layer.nearestRounding(), RM::kFLOOR);
  EXPECT_FLOAT_EQ(layer.cubicCoeff(), -0.75f);
  EXPECT_FALSE(layer.excludeOutside());
  EXPECT_EQ(layer.outputDimensions().nbDims, -1);
  EXPECT_TRUE(layer.scales().empty());
  layer.setScales(std::vector<float>{1.f, 0.5f});
  EXPECT_EQ(layer.scales(), (std::vector<float>{1.f, 0.5f}));
  EXPECT_EQ(layer.output(0).dimensions(), (Dims{2, 2}));
  layer.setOutputDimensions(Dims{3, 3});
  EXPECT_TRUE(layer.scales().empty());
  EXPECT_EQ(layer.outputDimensions(), (Dims{3, 3}));
  EXPECT_EQ(layer.output(0).dimensions(), (Dims{3, 3}));
  layer.setScales(std::vector<float>{2.f, 1.f});
  EXPECT_EQ(layer.outputDimensions().nbDims, -1);
  EXPECT_EQ(layer.output(0).dimensions(), (Dims{4, 4}));
  layer.setResizeMode(IM::kCUBIC);
  layer.setCoordinateTransformation(CT::kTF_HALF_PIXEL_FOR_NN);
  layer.setSelectorForSinglePixel(ResizeSelector::kUPPER);
  layer.setNearestRounding(RM::kHALF_UP);
  layer.setCubicCoeff(-0.5f);
  layer.setExcludeOutside(true);
  EXPECT_EQ(layer.resizeMode(), IM::kCUBIC);
  EXPECT_EQ(layer.coordinateTransformation(), CT::kTF_HALF_PIXEL_FOR_NN);
  EXPECT_EQ(layer.selectorForSinglePixel(), ResizeSelector::kUPPER);
  EXPECT_EQ(layer.nearestRounding(), RM::kROUND_PREFER_CEIL);
  EXPECT_FLOAT_EQ(layer.cubicCoeff(), -0.5f);
  EXPECT_TRUE(layer.excludeOutside());
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();

  ResizeLayer null;
  null.setScales(std::vector<float>{1.f});
  EXPECT_TRUE(null.scales().empty());
  EXPECT_EQ(null.resizeMode(), IM::kNEAREST);
}

TEST(Resize, SelectorUpperReadsCoordinateZeroForSinglePixelOutputs) {
  // kHALF_PIXEL + kUPPER is pytorch_half_pixel: an output of length 1 reads input 0.
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 4});
  auto formula = f.net().addResize(x);
  auto upper = f.net().addResize(x);
  for (auto* l : {&formula, &upper}) {
    l->setResizeMode(IM::kLINEAR);
    l->setCoordinateTransformation(CT::kHALF_PIXEL);
    l->setOutputDimensions(Dims{1, 1});
    f.net().markOutput(l->output(0));
  }
  upper.setSelectorForSinglePixel(ResizeSelector::kUPPER);
  const auto out = f.run({HostTensor::fromFloats(Dims{1, 4}, std::vector<float>{1, 2, 3, 4})});
  ASSERT_EQ(out.size(), 2u) << f.logger.errors();
  expectClose(out[0].floats(), std::vector<float>{2.5f});  // x_in = 0.5 * 4 - 0.5 = 1.5
  expectClose(out[1].floats(), std::vector<float>{1});
}

TEST(Resize, EmptyDimensionsAndScalars) {
  NetworkFixture f;
  auto e = f.net().addInput("e", DataType::kFLOAT, Dims{2, 0, 3});
  auto s = f.net().addInput("s", DataType::kFLOAT, Dims{});
  auto re = f.net().addResize(e);
  re.setResizeMode(IM::kCUBIC);
  re.setScales(std::vector<float>{1.f, 2.f, 2.f});
  auto shrink = f.net().addResize(e);
  shrink.setOutputDimensions(Dims{2, 0, 0});
  auto rs = f.net().addResize(s);
  rs.setScales(std::span<const float>{});
  for (auto* l : {&re, &shrink, &rs}) f.net().markOutput(l->output(0));
  const auto out = f.run({HostTensor(DataType::kFLOAT, Dims{2, 0, 3}),
                          HostTensor::fromFloats(Dims{}, std::vector<float>{4.5f})});
  ASSERT_EQ(out.size(), 3u) << f.logger.errors();
  EXPECT_EQ(out[0].dims, (Dims{2, 0, 6}));
  EXPECT_EQ(out[1].dims, (Dims{2, 0, 0}));
  EXPECT_EQ(out[2].dims, Dims{});
  expectClose(out[2].floats(), std::vector<float>{4.5f});
}

TEST(Resize, BadSettingsNameTheLayer) {
  auto expectInvalid = [](const std::function<void(NetworkFixture&, ResizeLayer&)>& configure,
                          std::string_view text, DataType type = DataType::kFLOAT) {
    SCOPED_TRACE(text);
    NetworkFixture f;
    auto x = f.net().addInput("x", type, Dims{1, 2, 3});
    auto layer = f.net().addResize(x);
    ASSERT_TRUE(layer) << f.logger.errors();
    configure(f, layer);
    expectInvalidLayer(f, layer, text);
  };
  expectInvalid([](NetworkFixture&, ResizeLayer&) {},
                "layer 'Resize_0' (Resize): neither output dimensions nor scales are set");
  expectInvalid(
      [](NetworkFixture&, ResizeLayer& l) {
        l.setScales(std::vector<float>{1, 2});
      },
      "layer 'Resize_0' (Resize): 2 scales given but the input 1x2x3 has rank 3");
  expectInvalid(
      [](NetworkFixture&, ResizeLayer& l) {
        l.setScales(std::vector<float>{1, -2, 1});
      },
      "layer 'Resize_0' (Resize): the scale of dimension 1 is -2; scales must be positive");
  expectInvalid(
      [](NetworkFixture&, ResizeLayer& l) {
        l.setOutputDimensions(Dims{2, 2});
      },
      "layer 'Resize_0' (Resize): the output dimensions 2x2 have rank 2 but the "
      "input 1x2x3 has rank 3");
  expectInvalid(
      [](NetworkFixture&, ResizeLayer& l) {
        l.setOutputDimensions(Dims{1, -1, 3});
      },
      "layer 'Resize_0' (Resize): output dimension 1 is -1");
  expectInvalid(
      [](NetworkFixture&, ResizeLayer& l) {
        l.setScales(std::vector<float>{1, 1, 2});
        l.setResizeMode(IM::kLINEAR);
      },
      "layer 'Resize_0' (Resize): linear resize needs float32 input, not int32", DataType::kINT32);
  {
    // Scales computed at run time cannot fix the output shape: the build refuses them.
    NetworkFixture f;
    auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 2, 3});
    auto layer = f.net().addResize(x);
    auto scales = f.net().addInput("s", DataType::kFLOAT, Dims{3});
    layer.setInput(1, f.net().addUnary(scales, UnaryOperation::kABS).output(0));
    f.net().markOutput(layer.output(0));
    auto config = f.builder.createBuilderConfig();
    EXPECT_TRUE(f.builder.buildSerializedNetwork(f.net(), *config).empty());
    EXPECT_TRUE(f.logger.hasError("input 1 ('") &&
                f.logger.hasError("') decides the output shape, so it must be a constant"))
        << f.logger.errors();
  }
  // Scales or output dimensions from a network input are a shape tensor (values from an
  // optimization profile; tests/parsers/onnx_shape_inputs_test.cpp), not an invalid setting.
  expectInvalid(
      [](NetworkFixture& f, ResizeLayer& l) {
        const std::array<float, 2> v{1, 1};
        l.setInput(1,
                   f.net().addConstant(Dims{2}, Weights{DataType::kFLOAT, v.data(), 2}).output(0));
      },
      "layer 'Resize_0' (Resize): input 1 (scales or output dimensions) must be a vector of 3 "
      "values");
  expectInvalid(
      [](NetworkFixture& f, ResizeLayer& l) {
        const std::array<bool, 3> v{true, true, true};
        l.setInput(1,
                   f.net().addConstant(Dims{3}, Weights{DataType::kBOOL, v.data(), 3}).output(0));
      },
      "input 1 must hold float32 scales or int32/int64 output dimensions, not bool");
  expectInvalid(
      [](NetworkFixture&, ResizeLayer& l) {
        l.setScales(std::vector<float>{1, 1, 1});
        l.setResizeMode(static_cast<IM>(7));
      },
      "layer 'Resize_0' (Resize): unknown resize mode 7");
  expectInvalid(
      [](NetworkFixture&, ResizeLayer& l) {
        l.setScales(std::vector<float>{1, 1, 1});
        l.setCoordinateTransformation(static_cast<CT>(40));
      },
      "layer 'Resize_0' (Resize): unknown coordinate transformation 40");
  expectInvalid(
      [](NetworkFixture&, ResizeLayer& l) {
        l.setScales(std::vector<float>{1, 1, 1});
        l.setNearestRounding(static_cast<RM>(9));
      },
      "layer 'Resize_0' (Resize): unknown nearest rounding 9");
  {
    NetworkFixture f;
    auto e = f.net().addInput("e", DataType::kFLOAT, Dims{0, 2});
    auto layer = f.net().addResize(e);
    layer.setOutputDimensions(Dims{3, 2});
    expectInvalidLayer(f, layer,
                       "layer 'Resize_0' (Resize): dimension 0 of the input is empty and cannot "
                       "be resized to 3");
  }

  // An invalid layer fails the build, naming it; argument errors are refused at once.
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{2});
  auto layer = f.net().addResize(x);
  layer.setName("up");
  f.net().markOutput(layer.output(0));
  auto config = f.builder.createBuilderConfig();
  EXPECT_TRUE(f.builder.buildSerializedNetwork(f.net(), *config).empty());
  EXPECT_TRUE(f.logger.hasError("layer 'up' (Resize): neither output dimensions nor scales"))
      << f.logger.errors();
  f.logger.clear();
  Dims tooManyDims;
  tooManyDims.nbDims = 9;
  layer.setOutputDimensions(tooManyDims);
  EXPECT_TRUE(f.logger.hasError("ResizeLayer::setOutputDimensions: rank 9 is outside [0, 8]"))
      << f.logger.errors();
  EXPECT_FALSE(f.net().addResize(Tensor()));
  EXPECT_TRUE(f.logger.hasError("addResize: input is a null tensor")) << f.logger.errors();
}

}  // namespace
}  // namespace kiln::test
