// Convolution: hand-computed cases, random cases against a naive implementation (explicitly
// zero-padded input, then a plain sliding dot product), and bad configurations.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "ops/window_test_util.h"
#include "support/test_util.h"

namespace kiln::test {
namespace {

// The naive convolution; fills @p outDims.
std::vector<float> naiveConvolution(const ConvCase& c, const std::vector<float>& x,
                                    const std::vector<float>& w, const std::vector<float>& b,
                                    Dims& outDims) {
  const int32_t rank = c.kernel.nbDims;
  const int64_t batch = c.input[0];
  const int64_t channels = c.input[1];
  const int64_t cg = channels / c.groups;
  const int64_t kg = c.outputs / c.groups;
  std::vector<int64_t> in, out, kernel, stride, dil, pre, padded;
  for (int32_t i = 0; i < rank; ++i) {
    const int64_t n = c.input[2 + i];
    const int64_t s = at(c.stride, i, 1);
    const int64_t d = at(c.dilation, i, 1);
    const int64_t eff = d * (c.kernel[i] - 1) + 1;
    int64_t p0 = at(c.pre, i, 0);
    int64_t p1 = at(c.post, i, 0);
    int64_t o = 0;
    if (c.mode == PaddingMode::kSAME_UPPER || c.mode == PaddingMode::kSAME_LOWER) {
      o = (n + s - 1) / s;
      const int64_t total = std::max<int64_t>((o - 1) * s + eff - n, 0);
      p0 = c.mode == PaddingMode::kSAME_UPPER ? total / 2 : (total + 1) / 2;
      p1 = total - p0;
    } else {
      const int64_t span = n + p0 + p1 - eff;
      o = (c.mode == PaddingMode::kEXPLICIT_ROUND_UP ? (span + s - 1) / s : span / s) + 1;
    }
    in.push_back(n);
    out.push_back(o);
    kernel.push_back(c.kernel[i]);
    stride.push_back(s);
    dil.push_back(d);
    pre.push_back(p0);
    // Room for every window, even ROUND_UP ones reaching past the padding.
    padded.push_back(std::max(n + p0 + p1, (o - 1) * s + eff));
  }
  // Zero-padded copy of the input.
  std::vector<float> xp(static_cast<std::size_t>(batch * channels * product(padded)), 0.f);
  for (int64_t nc = 0; nc < batch * channels; ++nc) {
    forEachIndex(in, [&](const std::vector<int64_t>& i) {
      std::vector<int64_t> p(i);
      for (int32_t d = 0; d < rank; ++d) p[d] += pre[d];
      xp[static_cast<std::size_t>(nc * product(padded) + flatIndex(p, padded))] =
          x[static_cast<std::size_t>(nc * product(in) + flatIndex(i, in))];
    });
  }
  outDims = c.input;
  outDims[1] = c.outputs;
  for (int32_t i = 0; i < rank; ++i) outDims[2 + i] = out[i];
  std::vector<float> y;
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t k = 0; k < c.outputs; ++k) {
      const int64_t group = k / kg;
      forEachIndex(out, [&](const std::vector<int64_t>& o) {
        double acc = c.bias ? b[static_cast<std::size_t>(k)] : 0.0;
        for (int64_t ci = 0; ci < cg; ++ci) {
          const int64_t channel = group * cg + ci;
          forEachIndex(kernel, [&](const std::vector<int64_t>& t) {
            std::vector<int64_t> p(o);
            for (int32_t d = 0; d < rank; ++d) p[d] = o[d] * stride[d] + t[d] * dil[d];
            const double xv = xp[static_cast<std::size_t>(
                (n * channels + channel) * product(padded) + flatIndex(p, padded))];
            const double wv =
                w[static_cast<std::size_t>((k * cg + ci) * product(kernel) + flatIndex(t, kernel))];
            acc += xv * wv;
          });
        }
        y.push_back(static_cast<float>(acc));
      });
    }
  }
  return y;
}

void runConvCase(const ConvCase& c, uint32_t seed) {
  SCOPED_TRACE("input " + toString(c.input) + ", kernel " + toString(c.kernel));
  NetworkFixture f;
  const HostTensor x = randomTensor(c.input, seed);
  int64_t count = c.outputs * (c.input[1] / c.groups);
  for (int32_t i = 0; i < c.kernel.nbDims; ++i) count *= c.kernel[i];
  const auto w = randomFloats(count, seed + 1);
  const auto b = randomFloats(c.outputs, seed + 2);

  auto input = f.net().addInput("x", DataType::kFLOAT, c.input);
  auto conv = f.net().addConvolution(input, c.outputs, c.kernel, floatWeights(w),
                                     c.bias ? floatWeights(b) : Weights{});
  ASSERT_TRUE(conv) << f.logger.errors();
  applyConvCase(conv, c);
  ASSERT_TRUE(f.net().markOutput(conv.output(0)));

  Dims expectedDims;
  const auto expected = naiveConvolution(c, x.floats(), w, b, expectedDims);
  expectRunMatches(f, conv.output(0), x, expected, expectedDims, 1e-5, 1e-5);
}

TEST(Convolution, HandComputed2x2KernelOn3x3Input) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 3, 3});
  const std::vector<float> kernel = {1, 2, 3, 4};
  const std::vector<float> bias = {0.5f};
  auto conv = f.net().addConvolution(x, 1, Dims{2, 2}, floatWeights(kernel), floatWeights(bias));
  ASSERT_TRUE(conv) << f.logger.errors();
  f.net().markOutput(conv.output(0));
  const std::vector<float> in = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const auto out = f.run({HostTensor::fromFloats(Dims{1, 1, 3, 3}, in)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(toString(out[0].dims), "1x1x2x2");
  // 1*1 + 2*2 + 4*3 + 5*4 = 37, and so on.
  expectClose(out[0].floats(), std::vector<float>{37.5f, 47.5f, 67.5f, 77.5f});
}

TEST(Convolution, HandComputedPaddingAndStride) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 3, 3});
  const std::vector<float> kernel = {1, 1, 1, 1};
  auto conv = f.net().addConvolution(x, 1, Dims{2, 2}, floatWeights(kernel), Weights{});
  ASSERT_TRUE(conv);
  conv.setPadding(Dims{1, 1});
  conv.setStride(Dims{2, 2});
  f.net().markOutput(conv.output(0));
  const std::vector<float> in = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const auto out = f.run({HostTensor::fromFloats(Dims{1, 1, 3, 3}, in)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(toString(out[0].dims), "1x1x2x2");
  // Windows start at -1 and 1: {1}, {2+3}, {4+7}, {5+6+8+9}.
  expectClose(out[0].floats(), std::vector<float>{1, 5, 11, 28});
}

TEST(Convolution, RandomStrideDilationAsymmetricPadding) {
  runConvCase({.input = Dims{2, 3, 7, 5}, .outputs = 4, .kernel = Dims{3, 2}, .stride = Dims{2, 1}},
              1);
  runConvCase({.input = Dims{2, 3, 7, 5},
               .outputs = 2,
               .kernel = Dims{3, 2},
               .stride = Dims{2, 1},
               .dilation = Dims{2, 2},
               .pre = Dims{1, 0},
               .post = Dims{2, 1}},
              2);
  runConvCase({.input = Dims{1, 2, 6, 7},
               .outputs = 3,
               .kernel = Dims{2, 1},
               .stride = Dims{3, 2}},  // stride larger than the kernel
              3);
  runConvCase({.input = Dims{2, 5, 4, 3}, .outputs = 3, .kernel = Dims{1, 1}}, 4);  // 1x1
  runConvCase({.input = Dims{1, 1, 5, 5}, .outputs = 1, .kernel = Dims{5, 5}}, 5);  // whole input
}

TEST(Convolution, RandomGroups) {
  runConvCase({.input = Dims{2, 4, 5, 6},
               .outputs = 6,
               .kernel = Dims{3, 3},
               .pre = Dims{1, 1},
               .post = Dims{1, 1},
               .groups = 2},
              10);
  // Depthwise, with dilation and stride.
  runConvCase({.input = Dims{1, 3, 7, 5},
               .outputs = 3,
               .kernel = Dims{3, 2},
               .stride = Dims{2, 1},
               .dilation = Dims{2, 1},
               .groups = 3},
              11);
  // Depthwise with a channel multiplier, no bias.
  runConvCase(
      {.input = Dims{2, 2, 4, 4}, .outputs = 6, .kernel = Dims{2, 3}, .groups = 2, .bias = false},
      12);
}

TEST(Convolution, RandomPaddingModes) {
  for (PaddingMode mode : {PaddingMode::kEXPLICIT_ROUND_DOWN, PaddingMode::kEXPLICIT_ROUND_UP,
                           PaddingMode::kSAME_UPPER, PaddingMode::kSAME_LOWER}) {
    SCOPED_TRACE(static_cast<int>(mode));
    runConvCase({.input = Dims{2, 3, 7, 5},
                 .outputs = 2,
                 .kernel = Dims{2, 3},
                 .stride = Dims{2, 2},
                 .pre = Dims{1, 0},
                 .post = Dims{0, 1},
                 .mode = mode},
                20);
    runConvCase({.input = Dims{1, 2, 8, 6},
                 .outputs = 3,
                 .kernel = Dims{3, 2},
                 .stride = Dims{3, 1},
                 .dilation = Dims{1, 2},
                 .mode = mode},
                21);
  }
}

TEST(Convolution, RoundUpKeepsWindowStartingInPadding) {
  // in 5, kernel 1, stride 3: ceil(4 / 3) + 1 = 3 windows, the last one reads only zeros.
  runConvCase({.input = Dims{1, 1, 5},
               .outputs = 1,
               .kernel = Dims{1},
               .stride = Dims{3},
               .mode = PaddingMode::kEXPLICIT_ROUND_UP},
              25);
}

TEST(Convolution, Random1d) {
  runConvCase({.input = Dims{2, 3, 9},
               .outputs = 4,
               .kernel = Dims{3},
               .stride = Dims{2},
               .dilation = Dims{2},
               .pre = Dims{1},
               .post = Dims{2}},
              30);
  runConvCase({.input = Dims{1, 4, 11},
               .outputs = 2,
               .kernel = Dims{4},
               .stride = Dims{3},
               .mode = PaddingMode::kSAME_LOWER,
               .groups = 2},
              31);
}

TEST(Convolution, Random3d) {
  runConvCase({.input = Dims{1, 2, 4, 5, 3},
               .outputs = 4,
               .kernel = Dims{2, 3, 2},
               .stride = Dims{1, 2, 1},
               .pre = Dims{1, 0, 1},
               .post = Dims{0, 1, 1},
               .groups = 2},
              40);
  runConvCase({.input = Dims{2, 1, 3, 4, 5},
               .outputs = 2,
               .kernel = Dims{2, 2, 2},
               .dilation = Dims{2, 1, 2},
               .mode = PaddingMode::kSAME_UPPER},
              41);
}

TEST(Convolution, EmptyBatch) {
  runConvCase({.input = Dims{0, 3, 5, 5}, .outputs = 2, .kernel = Dims{3, 3}}, 50);
}

TEST(Convolution, KernelSetAfterAddAndReplaced) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 3, 3});
  auto conv = f.net().addConvolution(x, 1, Dims{2, 2}, Weights{}, Weights{});
  ASSERT_TRUE(conv) << f.logger.errors();
  const std::vector<float> kernel = {1, 2, 3, 4};
  const std::vector<float> bias = {1.f};
  conv.setKernelWeights(floatWeights(kernel));
  conv.setBiasWeights(floatWeights(bias));
  f.net().markOutput(conv.output(0));
  const std::vector<float> in = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  auto out = f.run({HostTensor::fromFloats(Dims{1, 1, 3, 3}, in)});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), std::vector<float>{38, 48, 68, 78});

  conv.setBiasWeights(Weights{});  // removes the bias
  out = f.run({HostTensor::fromFloats(Dims{1, 1, 3, 3}, in)});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), std::vector<float>{37, 47, 67, 77});
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

TEST(Convolution, KernelFromNetworkInput) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 3, 3});
  auto w = f.net().addInput("w", DataType::kFLOAT, Dims{1, 1, 2, 2});
  auto conv = f.net().addConvolution(x, 1, Dims{2, 2}, Weights{}, Weights{});
  ASSERT_TRUE(conv);
  conv.setInput(1, w);
  f.net().markOutput(conv.output(0));
  const std::vector<float> in = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::vector<float> kernel = {1, 2, 3, 4};
  const auto out = f.run({HostTensor::fromFloats(Dims{1, 1, 3, 3}, in),
                          HostTensor::fromFloats(Dims{1, 1, 2, 2}, kernel)});
  ASSERT_EQ(out.size(), 1u) << f.logger.errors();
  expectClose(out[0].floats(), std::vector<float>{37, 47, 67, 77});
}

TEST(Convolution, LayersAfterGroupedConvolution) {
  // The grouped layer waits for setNbGroups; the layers after it must see its real shape.
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 4, 6, 6});
  const std::vector<float> w1(4 * 2 * 9, 0.5f);  // [4, 2, 3, 3]: two groups
  auto conv1 = f.net().addConvolution(x, 4, Dims{3, 3}, floatWeights(w1), Weights{});
  ASSERT_TRUE(conv1) << f.logger.errors();
  conv1.setNbGroups(2);
  const std::vector<float> w2(2 * 4 * 4, 0.25f);
  auto conv2 = f.net().addConvolution(conv1.output(0), 2, Dims{2, 2}, floatWeights(w2), Weights{});
  ASSERT_TRUE(conv2) << f.logger.errors();
  auto pool = f.net().addPooling(conv2.output(0), PoolingType::kAVERAGE, Dims{3, 3});
  ASSERT_TRUE(pool) << f.logger.errors();
  EXPECT_EQ(toString(pool.output(0).dimensions()), "1x2x1x1");
  f.net().markOutput(pool.output(0));
  const std::vector<float> ones(4 * 36, 1.f);
  const auto out = f.run({HostTensor::fromFloats(Dims{1, 4, 6, 6}, ones)});
  ASSERT_EQ(out.size(), 1u) << f.logger.errors();
  // conv1: 2 channels * 9 taps * 0.5 = 9; conv2: 4 channels * 4 taps * 9 * 0.25 = 36.
  expectClose(out[0].floats(), std::vector<float>{36, 36});
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

TEST(Convolution, GroupedWeightsWaitForGroupsAndPadding) {
  // Weights for two groups and a kernel larger than the input: the group count and padding
  // set afterwards make the layer valid, as in TensorRT.
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 4, 3, 3});
  const std::vector<float> w(2 * 2 * 16, 0.f);  // [2, 2, 4, 4]
  auto conv = f.net().addConvolution(x, 2, Dims{4, 4}, floatWeights(w), Weights{});
  ASSERT_TRUE(conv) << f.logger.errors();
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
  conv.setNbGroups(2);
  expectInvalidLayer(f, conv, "layer 'Convolution_0' (Convolution): the kernel spans 4 cells");
  f.logger.clear();
  conv.setPadding(Dims{1, 1});
  EXPECT_EQ(toString(conv.output(0).dimensions()), "1x2x2x2");
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

TEST(Convolution, WeightsThatFitNoGroupCountAreRefusedAtAdd) {
  // [3, 2, 2, 2] on 4 input channels implies 2 groups, which do not divide the 3 output maps.
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 4, 3, 3});
  const std::vector<float> w(3 * 2 * 4, 0.f);
  EXPECT_FALSE(f.net().addConvolution(x, 3, Dims{2, 2}, floatWeights(w), Weights{}));
  EXPECT_TRUE(
      f.logger.hasError("layer 'Convolution_0' (Convolution): the 3 output maps are not "
                        "divisible by 2 groups"))
      << f.logger.errors();
  EXPECT_EQ(f.net().nbLayers(), 0);
}

TEST(Convolution, PaddingSetAfterAddMakesLargeKernelFit) {
  // The TensorRT order: a 3x3 kernel on a 2x2 input, then setPadding(1).
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 2, 2});
  const std::vector<float> kernel = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::vector<float> bias = {0.5f};
  auto conv = f.net().addConvolution(x, 1, Dims{3, 3}, floatWeights(kernel), floatWeights(bias));
  ASSERT_TRUE(conv) << f.logger.errors();
  conv.setPadding(Dims{1, 1});
  EXPECT_EQ(toString(conv.output(0).dimensions()), "1x1x2x2");
  f.net().markOutput(conv.output(0));
  const std::vector<float> in = {1, 2, 3, 4};
  const auto out = f.run({HostTensor::fromFloats(Dims{1, 1, 2, 2}, in)});
  ASSERT_EQ(out.size(), 1u) << f.logger.errors();
  EXPECT_EQ(toString(out[0].dims), "1x1x2x2");
  // Top left: the input sits under kernel taps 5, 6, 8, 9: 1*5 + 2*6 + 3*8 + 4*9 = 77.
  expectClose(out[0].floats(), std::vector<float>{77.5f, 67.5f, 47.5f, 37.5f});
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

TEST(Convolution, SettersAndDefaults) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 2, 8, 8});
  const std::vector<float> kernel(4 * 2 * 9, 0.1f);
  auto conv = f.net().addConvolution(x, 4, Dims{3, 3}, floatWeights(kernel), Weights{});
  ASSERT_TRUE(conv);
  EXPECT_EQ(conv.nbOutputMaps(), 4);
  EXPECT_EQ(toString(conv.kernelSize()), "3x3");
  EXPECT_EQ(toString(conv.stride()), "1x1");
  EXPECT_EQ(toString(conv.dilation()), "1x1");
  EXPECT_EQ(toString(conv.prePadding()), "0x0");
  EXPECT_EQ(toString(conv.postPadding()), "0x0");
  EXPECT_EQ(conv.paddingMode(), PaddingMode::kEXPLICIT_ROUND_DOWN);
  EXPECT_EQ(conv.nbGroups(), 1);
  EXPECT_EQ(toString(conv.output(0).dimensions()), "1x4x6x6");

  conv.setPadding(Dims{1, 2});
  EXPECT_EQ(toString(conv.prePadding()), "1x2");
  EXPECT_EQ(toString(conv.postPadding()), "1x2");
  conv.setStride(Dims{2, 3});
  conv.setDilation(Dims{2, 1});
  conv.setPaddingMode(PaddingMode::kSAME_LOWER);
  EXPECT_EQ(toString(conv.stride()), "2x3");
  EXPECT_EQ(toString(conv.dilation()), "2x1");
  EXPECT_EQ(conv.paddingMode(), PaddingMode::kSAME_LOWER);
  EXPECT_EQ(toString(conv.output(0).dimensions()), "1x4x4x3");
  EXPECT_EQ(conv.type(), LayerType::kCONVOLUTION);
  EXPECT_TRUE(Layer(conv).as<ConvolutionLayer>());
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();

  // Invalid settings are refused, named, and leave the layer as it was.
  conv.setStride(Dims{0, 1});
  EXPECT_TRUE(f.logger.hasError("layer 'Convolution_0' (Convolution): stride"));
  conv.setStride(Dims{2, 2, 2});
  EXPECT_TRUE(f.logger.hasError("stride has rank 3"));
  conv.setPrePadding(Dims{-1, 0});
  conv.setDilation(Dims{1});
  conv.setNbGroups(0);
  conv.setPaddingMode(static_cast<PaddingMode>(9));
  EXPECT_EQ(f.logger.errorCount(), 6) << f.logger.errors();
  EXPECT_EQ(toString(conv.stride()), "2x3");
  EXPECT_EQ(toString(conv.prePadding()), "1x2");
  EXPECT_EQ(conv.nbGroups(), 1);
  EXPECT_EQ(conv.paddingMode(), PaddingMode::kSAME_LOWER);

  // A null handle does nothing and returns defaults.
  ConvolutionLayer none;
  none.setStride(Dims{2, 2});
  none.setKernelWeights(floatWeights(kernel));
  EXPECT_EQ(none.nbOutputMaps(), 0);
  EXPECT_EQ(none.stride().nbDims, 0);
}

TEST(Convolution, AddRejectsBadArguments) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 2, 5, 5});
  const std::vector<float> w(3 * 2 * 9, 0.f);
  const std::vector<float> b(3, 0.f);
  // Each failure is logged once, names the layer it would have been, and adds nothing.
  auto add = [&](Tensor in, int64_t k, const Dims& kernel, Weights kw, Weights bw) {
    f.logger.clear();
    auto layer = f.net().addConvolution(in, k, kernel, kw, bw);
    EXPECT_FALSE(layer);
    EXPECT_EQ(f.logger.errorCount(), 1) << f.logger.errors();
    if (in) {
      EXPECT_TRUE(f.logger.hasError("addConvolution: layer 'Convolution_0' (Convolution): "))
          << f.logger.errors();
    }
    return f.logger.errors();
  };
  const auto npos = std::string::npos;
  EXPECT_NE(add(Tensor(), 3, Dims{3, 3}, floatWeights(w), Weights{}).find("null tensor"), npos);
  EXPECT_NE(add(x, 0, Dims{3, 3}, floatWeights(w), Weights{}).find("output maps must be positive"),
            npos);
  EXPECT_NE(add(x, 3, Dims{}, floatWeights(w), Weights{}).find("1, 2 or 3"), npos);
  EXPECT_NE(add(x, 3, Dims{1, 2, 3, 4}, floatWeights(w), Weights{}).find("1, 2 or 3"), npos);
  EXPECT_NE(add(x, 3, Dims{3, 0}, floatWeights(w), Weights{}).find("kernel size 3x0"), npos);
  EXPECT_NE(
      add(x, 3, Dims{3, 3}, Weights{DataType::kFLOAT, nullptr, 54}, Weights{}).find("no values"),
      npos);
  EXPECT_NE(add(x, 3, Dims{3, 3}, floatWeights(w), Weights{DataType::kFLOAT, b.data(), 2})
                .find("bias weights have 2 values"),
            npos);
  EXPECT_NE(add(x, 3, Dims{3}, floatWeights(w), Weights{}).find("needs an input of rank 3"), npos);
  // 53 values: not a multiple of K * 3 * 3 = 27.
  EXPECT_NE(add(x, 3, Dims{3, 3}, Weights{DataType::kFLOAT, w.data(), 53}, Weights{})
                .find("needs a multiple of 27"),
            npos);
  // 27 values would fit [3, 1, 3, 3] (two groups); 81 = [3, 3, 3, 3] fits no group count for
  // two input channels.
  const std::vector<float> big(3 * 2 * 49, 0.f);
  EXPECT_NE(add(x, 3, Dims{3, 3}, Weights{DataType::kFLOAT, big.data(), 81}, Weights{})
                .find("no number of groups fits"),
            npos);
  EXPECT_EQ(f.net().nbLayers(), 0);
}

TEST(Convolution, LayersAfterOneWaitingForPadding) {
  // conv2 is added while conv1's shapes are still invalid; both work once conv1 is padded.
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 2, 2});
  const std::vector<float> k1 = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  auto conv1 = f.net().addConvolution(x, 1, Dims{3, 3}, floatWeights(k1), Weights{});
  ASSERT_TRUE(conv1) << f.logger.errors();
  const std::vector<float> k2 = {1, 1, 1, 1};
  auto conv2 = f.net().addConvolution(conv1.output(0), 1, Dims{2, 2}, floatWeights(k2), Weights{});
  ASSERT_TRUE(conv2) << f.logger.errors();
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
  conv1.setPadding(Dims{1, 1});
  EXPECT_EQ(toString(conv2.output(0).dimensions()), "1x1x1x1");
  f.net().markOutput(conv2.output(0));
  const std::vector<float> in = {1, 2, 3, 4};
  const auto out = f.run({HostTensor::fromFloats(Dims{1, 1, 2, 2}, in)});
  ASSERT_EQ(out.size(), 1u) << f.logger.errors();
  expectClose(out[0].floats(), std::vector<float>{77 + 67 + 47 + 37});
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

TEST(Convolution, AnotherInvalidLayerDoesNotAffectTheAddCall) {
  // The add-time checks still see this layer's input shape while an unrelated layer is invalid.
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 4, 2, 2});
  const std::vector<float> big(4 * 4 * 9, 0.f);
  auto waiting = f.net().addConvolution(x, 4, Dims{3, 3}, floatWeights(big), Weights{});
  ASSERT_TRUE(waiting) << f.logger.errors();
  const std::vector<float> w(3 * 2 * 4, 0.f);  // [3, 2, 2, 2]: 2 groups, for 3 output maps
  EXPECT_FALSE(f.net().addConvolution(x, 3, Dims{2, 2}, floatWeights(w), Weights{}));
  EXPECT_TRUE(f.logger.hasError("the 3 output maps are not divisible by 2 groups"))
      << f.logger.errors();
  f.logger.clear();
  const std::vector<float> fits(3 * 4 * 4, 0.f);  // [3, 4, 2, 2]
  auto good = f.net().addConvolution(x, 3, Dims{2, 2}, floatWeights(fits), Weights{});
  EXPECT_TRUE(good) << f.logger.errors();
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
  EXPECT_FALSE(f.net().addConvolution(x, 3, Dims{2}, floatWeights(fits), Weights{}));
  EXPECT_TRUE(f.logger.hasError("needs an input of rank 3")) << f.logger.errors();
}

TEST(Convolution, KernelLargerThanInputIsAShapeProblem) {
  // Not refused at add time (setPadding may follow), but invalid until it is fixed.
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 2, 5, 5});
  const std::vector<float> w(3 * 2 * 49, 0.f);
  auto conv = f.net().addConvolution(x, 3, Dims{7, 7}, floatWeights(w), Weights{});
  expectInvalidLayer(f, conv, "layer 'Convolution_0' (Convolution): the kernel spans 7 cells");
  if (conv) {
    f.net().markOutput(conv.output(0));
    auto config = f.builder.createBuilderConfig();
    EXPECT_TRUE(f.builder.buildSerializedNetwork(f.net(), *config).empty());
  }
}

TEST(Convolution, KernelLargerThanPaddedInput) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 4, 4});
  const std::vector<float> w(25, 1.f);
  auto conv = f.net().addConvolution(x, 1, Dims{5, 5}, floatWeights(w), Weights{});
  expectInvalidLayer(f, conv,
                     "layer 'Convolution_0' (Convolution): the kernel spans 5 cells (kernel 5, "
                     "dilation 1) in spatial dimension 0, more than the padded input's 4");
  // Padding makes it fit.
  conv.setPadding(Dims{1, 1});
  EXPECT_EQ(toString(conv.output(0).dimensions()), "1x1x2x2");

  // Dilation makes another kernel too large (caught at build).
  f.logger.clear();
  const std::vector<float> w9(9, 1.f);
  conv = f.net().addConvolution(x, 1, Dims{3, 3}, floatWeights(w9), Weights{});
  ASSERT_TRUE(conv) << f.logger.errors();
  conv.setName("big");
  conv.setDilation(Dims{3, 1});
  f.net().markOutput(conv.output(0));
  auto config = f.builder.createBuilderConfig();
  EXPECT_TRUE(f.builder.buildSerializedNetwork(f.net(), *config).empty());
  EXPECT_TRUE(f.logger.hasError("layer 'big' (Convolution): the kernel spans 7 cells"))
      << f.logger.errors();
}

TEST(Convolution, BadConfigurationsFailTheBuild) {
  const std::vector<float> w(2 * 3 * 4, 1.f);
  {
    // Channels not divisible by the groups.
    NetworkFixture f;
    auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 3, 4, 4});
    auto conv = f.net().addConvolution(x, 2, Dims{2, 2}, floatWeights(w), Weights{});
    ASSERT_TRUE(conv);
    conv.setNbGroups(2);
    f.net().markOutput(conv.output(0));
    auto config = f.builder.createBuilderConfig();
    EXPECT_TRUE(f.builder.buildSerializedNetwork(f.net(), *config).empty());
    EXPECT_TRUE(
        f.logger.hasError("layer 'Convolution_0' (Convolution): the input's 3 channels "
                          "are not divisible by 2 groups"))
        << f.logger.errors();
  }
  {
    // Grouped weights, but the groups are never set.
    NetworkFixture f;
    auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 6, 4, 4});
    auto conv = f.net().addConvolution(x, 2, Dims{2, 2}, floatWeights(w), Weights{});
    ASSERT_TRUE(conv) << f.logger.errors();
    f.net().markOutput(conv.output(0));
    auto config = f.builder.createBuilderConfig();
    EXPECT_TRUE(f.builder.buildSerializedNetwork(f.net(), *config).empty());
    EXPECT_TRUE(
        f.logger.hasError("layer 'Convolution_0' (Convolution): kernel weights have "
                          "shape 2x3x2x2 (24 values)"))
        << f.logger.errors();
  }
  {
    // Kernel never set.
    NetworkFixture f;
    auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 3, 4, 4});
    auto conv = f.net().addConvolution(x, 2, Dims{2, 2}, Weights{}, Weights{});
    ASSERT_TRUE(conv);
    f.net().markOutput(conv.output(0));
    auto config = f.builder.createBuilderConfig();
    EXPECT_TRUE(f.builder.buildSerializedNetwork(f.net(), *config).empty());
    EXPECT_TRUE(f.logger.hasError("kernel weights are not set")) << f.logger.errors();
  }
  {
    // Bad kernel replacement: refused, the old kernel stays.
    NetworkFixture f;
    auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 3, 4, 4});
    auto conv = f.net().addConvolution(x, 2, Dims{2, 2}, floatWeights(w), Weights{});
    ASSERT_TRUE(conv);
    conv.setKernelWeights(Weights{DataType::kFLOAT, w.data(), 7});
    EXPECT_TRUE(f.logger.hasError("ConvolutionLayer::setKernelWeights: layer 'Convolution_0'"))
        << f.logger.errors();
    conv.setBiasWeights(Weights{DataType::kFLOAT, w.data(), 3});
    EXPECT_TRUE(f.logger.hasError("bias weights have 3 values; the layer has 2 output maps"));
    EXPECT_EQ(toString(conv.output(0).dimensions()), "1x2x3x3");
  }
  {
    // Integer input.
    NetworkFixture f;
    auto x = f.net().addInput("x", DataType::kINT32, Dims{1, 3, 4, 4});
    auto conv = f.net().addConvolution(x, 2, Dims{2, 2}, floatWeights(w), Weights{});
    expectInvalidLayer(f, conv,
                       "layer 'Convolution_0' (Convolution): input must be float32, not int32 "
                       "(convert it with addCast)");
  }
}

}  // namespace
}  // namespace kiln::test
