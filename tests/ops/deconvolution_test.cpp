// Deconvolution (transposed convolution): hand-computed cases, random cases against a naive
// scatter implementation (every input cell adds its kernel-weighted copy into the output), and
// bad configurations.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "ops/window_test_util.h"
#include "support/test_util.h"

namespace kiln::test {
namespace {

// Python's floor division, as the ONNX reference implementation splits SAME padding.
int64_t floorDiv2(int64_t a) {
  return a >= 0 ? a / 2 : -((-a + 1) / 2);
}

std::vector<float> naiveDeconvolution(const ConvCase& c, const std::vector<float>& x,
                                      const std::vector<float>& w, const std::vector<float>& b,
                                      Dims& outDims) {
  const int32_t rank = c.kernel.nbDims;
  const int64_t batch = c.input[0];
  const int64_t channels = c.input[1];
  const int64_t cg = channels / c.groups;
  const int64_t kg = c.outputs / c.groups;
  std::vector<int64_t> in, out, kernel, stride, dil, pre;
  for (int32_t i = 0; i < rank; ++i) {
    const int64_t n = c.input[2 + i];
    const int64_t s = at(c.stride, i, 1);
    const int64_t d = at(c.dilation, i, 1);
    const int64_t full = (n - 1) * s + d * (c.kernel[i] - 1) + 1;
    int64_t p0 = at(c.pre, i, 0);
    int64_t o = full - p0 - at(c.post, i, 0);
    if (c.mode == PaddingMode::kSAME_UPPER || c.mode == PaddingMode::kSAME_LOWER) {
      o = n * s;
      const int64_t total = full - o;
      p0 = c.mode == PaddingMode::kSAME_UPPER ? floorDiv2(total) : total - floorDiv2(total);
    }
    in.push_back(n);
    out.push_back(o);
    kernel.push_back(c.kernel[i]);
    stride.push_back(s);
    dil.push_back(d);
    pre.push_back(p0);
  }
  outDims = c.input;
  outDims[1] = c.outputs;
  for (int32_t i = 0; i < rank; ++i) outDims[2 + i] = out[i];
  const int64_t outVolume = product(out);
  std::vector<double> acc(static_cast<std::size_t>(batch * c.outputs * outVolume), 0.0);
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t ch = 0; ch < channels; ++ch) {
      const int64_t group = ch / cg;
      forEachIndex(in, [&](const std::vector<int64_t>& i) {
        const double xv =
            x[static_cast<std::size_t>((n * channels + ch) * product(in) + flatIndex(i, in))];
        for (int64_t kk = 0; kk < kg; ++kk) {
          const int64_t k = group * kg + kk;
          forEachIndex(kernel, [&](const std::vector<int64_t>& t) {
            std::vector<int64_t> o(i);
            for (int32_t d = 0; d < rank; ++d) {
              o[d] = i[d] * stride[d] + t[d] * dil[d] - pre[d];
              if (o[d] < 0 || o[d] >= out[d]) return;
            }
            const double wv = w[static_cast<std::size_t>((ch * kg + kk) * product(kernel) +
                                                         flatIndex(t, kernel))];
            acc[static_cast<std::size_t>((n * c.outputs + k) * outVolume + flatIndex(o, out))] +=
                xv * wv;
          });
        }
      });
    }
  }
  std::vector<float> y(acc.size());
  for (std::size_t i = 0; i < acc.size(); ++i) {
    const auto k = static_cast<std::size_t>((static_cast<int64_t>(i) / outVolume) % c.outputs);
    y[i] = static_cast<float>(acc[i] + (c.bias ? b[k] : 0.0));
  }
  return y;
}

void runDeconvCase(const ConvCase& c, uint32_t seed) {
  SCOPED_TRACE("input " + toString(c.input) + ", kernel " + toString(c.kernel) + ", mode " +
               std::to_string(static_cast<int>(c.mode)));
  NetworkFixture f;
  const HostTensor x = randomTensor(c.input, seed);
  int64_t count = c.input[1] * (c.outputs / c.groups);
  for (int32_t i = 0; i < c.kernel.nbDims; ++i) count *= c.kernel[i];
  const auto w = randomFloats(count, seed + 1);
  const auto b = randomFloats(c.outputs, seed + 2);

  auto input = f.net().addInput("x", DataType::kFLOAT, c.input);
  auto deconv = f.net().addDeconvolution(input, c.outputs, c.kernel, floatWeights(w),
                                         c.bias ? floatWeights(b) : Weights{});
  ASSERT_TRUE(deconv) << f.logger.errors();
  applyConvCase(deconv, c);
  ASSERT_TRUE(f.net().markOutput(deconv.output(0)));

  Dims expectedDims;
  const auto expected = naiveDeconvolution(c, x.floats(), w, b, expectedDims);
  expectRunMatches(f, deconv.output(0), x, expected, expectedDims, 1e-5, 1e-5);
}

TEST(Deconvolution, InputShapeNeededForTheKernelLayout) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 2, 2});
  const std::vector<float> k9(9, 1.f);
  auto waiting = f.net().addConvolution(x, 1, Dims{3, 3}, floatWeights(k9), Weights{});
  ASSERT_TRUE(waiting) << f.logger.errors();
  waiting.setName("waiting");
  const std::vector<float> kernel = {1, 1, 1, 1};
  // Another layer's problem does not hide this layer's input channel count.
  auto deconv = f.net().addDeconvolution(x, 1, Dims{2, 2}, floatWeights(kernel), Weights{});
  ASSERT_TRUE(deconv) << f.logger.errors();
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
  // On the output of the invalid layer the layout [C, K/groups, kernel...] cannot be known.
  EXPECT_FALSE(
      f.net().addDeconvolution(waiting.output(0), 1, Dims{2, 2}, floatWeights(kernel), Weights{}));
  EXPECT_TRUE(
      f.logger.hasError("layer 'Deconvolution_2' (Deconvolution): input "
                        "'Convolution_0_output' has no valid shape yet"))
      << f.logger.errors();
  EXPECT_TRUE(f.logger.hasError("layer 'waiting' (Convolution): the kernel spans 3 cells"))
      << f.logger.errors();
  // Without weights it is kept; the kernel is set once the input's shape is valid.
  f.logger.clear();
  auto later = f.net().addDeconvolution(waiting.output(0), 1, Dims{2, 2}, Weights{}, Weights{});
  ASSERT_TRUE(later) << f.logger.errors();
  later.setKernelWeights(floatWeights(kernel));
  EXPECT_TRUE(
      f.logger.hasError("DeconvolutionLayer::setKernelWeights: layer 'Deconvolution_2' "
                        "(Deconvolution): input 'Convolution_0_output' has no valid shape yet"))
      << f.logger.errors();
  f.logger.clear();
  waiting.setPadding(Dims{1, 1});
  later.setKernelWeights(floatWeights(kernel));
  EXPECT_EQ(toString(later.output(0).dimensions()), "1x1x3x3");
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

TEST(Deconvolution, HandComputedStride2ReplicatesBlocks) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 2, 2});
  const std::vector<float> kernel = {1, 1, 1, 1};
  auto deconv = f.net().addDeconvolution(x, 1, Dims{2, 2}, floatWeights(kernel), Weights{});
  ASSERT_TRUE(deconv) << f.logger.errors();
  deconv.setStride(Dims{2, 2});
  f.net().markOutput(deconv.output(0));
  const std::vector<float> in = {1, 2, 3, 4};
  const auto out = f.run({HostTensor::fromFloats(Dims{1, 1, 2, 2}, in)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(toString(out[0].dims), "1x1x4x4");
  expectClose(out[0].floats(), std::vector<float>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
}

TEST(Deconvolution, HandComputedStride1OverlapsAndPaddingCrops) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 2, 2});
  const std::vector<float> kernel = {1, 1, 1, 1};
  const std::vector<float> bias = {10};
  auto deconv = f.net().addDeconvolution(x, 1, Dims{2, 2}, floatWeights(kernel), Weights{});
  ASSERT_TRUE(deconv);
  f.net().markOutput(deconv.output(0));
  const std::vector<float> in = {1, 2, 3, 4};
  auto out = f.run({HostTensor::fromFloats(Dims{1, 1, 2, 2}, in)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(toString(out[0].dims), "1x1x3x3");
  expectClose(out[0].floats(), std::vector<float>{1, 3, 2, 4, 10, 6, 3, 7, 4});

  // Pre-padding crops the first row and column of the full output.
  deconv.setPrePadding(Dims{1, 1});
  deconv.setBiasWeights(floatWeights(bias));
  out = f.run({HostTensor::fromFloats(Dims{1, 1, 2, 2}, in)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(toString(out[0].dims), "1x1x2x2");
  expectClose(out[0].floats(), std::vector<float>{20, 16, 17, 14});
}

TEST(Deconvolution, RandomStrideDilationPadding) {
  runDeconvCase({.input = Dims{2, 3, 4, 5},
                 .outputs = 2,
                 .kernel = Dims{3, 3},
                 .stride = Dims{2, 2},
                 .pre = Dims{1, 1},
                 .post = Dims{1, 1}},
                1);
  runDeconvCase({.input = Dims{1, 2, 3, 4},
                 .outputs = 3,
                 .kernel = Dims{3, 2},
                 .stride = Dims{2, 3},
                 .dilation = Dims{2, 1},
                 .pre = Dims{1, 0},
                 .post = Dims{0, 2}},
                2);
  runDeconvCase({.input = Dims{2, 2, 3, 3},
                 .outputs = 2,
                 .kernel = Dims{2, 1},
                 .stride = Dims{3, 2}},  // stride larger than the kernel: gaps of bias
                3);
  runDeconvCase({.input = Dims{1, 4, 3, 2}, .outputs = 5, .kernel = Dims{1, 1}}, 4);
}

TEST(Deconvolution, RandomGroups) {
  runDeconvCase({.input = Dims{2, 4, 3, 4},
                 .outputs = 6,
                 .kernel = Dims{3, 2},
                 .stride = Dims{2, 1},
                 .groups = 2},
                10);
  runDeconvCase({.input = Dims{1, 3, 4, 4},
                 .outputs = 3,
                 .kernel = Dims{3, 3},
                 .stride = Dims{2, 2},
                 .pre = Dims{1, 0},
                 .post = Dims{0, 1},
                 .groups = 3,
                 .bias = false},
                11);
}

TEST(Deconvolution, RandomPaddingModes) {
  for (PaddingMode mode : {PaddingMode::kEXPLICIT_ROUND_DOWN, PaddingMode::kEXPLICIT_ROUND_UP,
                           PaddingMode::kSAME_UPPER, PaddingMode::kSAME_LOWER}) {
    // Odd total SAME padding: (n - 1) * 2 + 3 - 2n = 1.
    runDeconvCase({.input = Dims{2, 2, 4, 3},
                   .outputs = 3,
                   .kernel = Dims{3, 3},
                   .stride = Dims{2, 2},
                   .pre = Dims{1, 0},
                   .post = Dims{0, 1},
                   .mode = mode},
                  20);
    // Negative total SAME padding (stride 3 > kernel 2): the output extends past the full one.
    runDeconvCase({.input = Dims{1, 2, 3, 2},
                   .outputs = 2,
                   .kernel = Dims{2, 4},
                   .stride = Dims{3, 1},
                   .dilation = Dims{1, 2},
                   .mode = mode},
                  21);
  }
}

TEST(Deconvolution, Random1dAnd3d) {
  runDeconvCase({.input = Dims{2, 3, 5},
                 .outputs = 2,
                 .kernel = Dims{4},
                 .stride = Dims{3},
                 .dilation = Dims{2},
                 .pre = Dims{2},
                 .post = Dims{1}},
                30);
  runDeconvCase({.input = Dims{1, 4, 6},
                 .outputs = 2,
                 .kernel = Dims{3},
                 .stride = Dims{2},
                 .mode = PaddingMode::kSAME_LOWER,
                 .groups = 2},
                31);
  runDeconvCase({.input = Dims{1, 2, 2, 3, 2},
                 .outputs = 4,
                 .kernel = Dims{2, 3, 2},
                 .stride = Dims{2, 1, 3},
                 .pre = Dims{0, 1, 1},
                 .post = Dims{1, 1, 0},
                 .groups = 2},
                40);
  runDeconvCase({.input = Dims{2, 1, 2, 2, 3},
                 .outputs = 2,
                 .kernel = Dims{3, 2, 2},
                 .stride = Dims{2, 2, 1},
                 .mode = PaddingMode::kSAME_UPPER},
                41);
}

TEST(Deconvolution, SettersAndDefaults) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 2, 4, 4});
  const std::vector<float> kernel(2 * 3 * 9, 0.1f);
  auto deconv = f.net().addDeconvolution(x, 3, Dims{3, 3}, floatWeights(kernel), Weights{});
  ASSERT_TRUE(deconv) << f.logger.errors();
  EXPECT_EQ(deconv.nbOutputMaps(), 3);
  EXPECT_EQ(toString(deconv.kernelSize()), "3x3");
  EXPECT_EQ(toString(deconv.stride()), "1x1");
  EXPECT_EQ(toString(deconv.dilation()), "1x1");
  EXPECT_EQ(toString(deconv.prePadding()), "0x0");
  EXPECT_EQ(deconv.nbGroups(), 1);
  EXPECT_EQ(toString(deconv.output(0).dimensions()), "1x3x6x6");
  deconv.setStride(Dims{2, 2});
  deconv.setPadding(Dims{1, 0});
  EXPECT_EQ(toString(deconv.postPadding()), "1x0");
  EXPECT_EQ(toString(deconv.output(0).dimensions()), "1x3x7x9");
  deconv.setPaddingMode(PaddingMode::kSAME_UPPER);
  EXPECT_EQ(deconv.paddingMode(), PaddingMode::kSAME_UPPER);
  EXPECT_EQ(toString(deconv.output(0).dimensions()), "1x3x8x8");
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();

  deconv.setDilation(Dims{0, 1});
  EXPECT_TRUE(f.logger.hasError("layer 'Deconvolution_0' (Deconvolution): dilation"))
      << f.logger.errors();
  EXPECT_EQ(toString(deconv.dilation()), "1x1");
}

TEST(Deconvolution, BadConfigurations) {
  const std::vector<float> w(2 * 3 * 4, 1.f);
  {
    NetworkFixture f;
    auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 2, 3, 3});
    // Full output 4x4; padding 2 + 2 crops all of it.
    auto deconv = f.net().addDeconvolution(x, 3, Dims{2, 2}, floatWeights(w), Weights{});
    ASSERT_TRUE(deconv) << f.logger.errors();
    deconv.setPadding(Dims{2, 2});
    f.net().markOutput(deconv.output(0));
    auto config = f.builder.createBuilderConfig();
    EXPECT_TRUE(f.builder.buildSerializedNetwork(f.net(), *config).empty());
    EXPECT_TRUE(
        f.logger.hasError("layer 'Deconvolution_0' (Deconvolution): padding 2 + 2 crops "
                          "the whole output (4 cells)"))
        << f.logger.errors();
  }
  {
    NetworkFixture f;
    auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 2, 3, 3});
    const std::vector<float> b(2, 0.f);
    EXPECT_FALSE(f.net().addDeconvolution(x, 3, Dims{2, 2}, floatWeights(w), floatWeights(b)));
    EXPECT_TRUE(
        f.logger.hasError("layer 'Deconvolution_0' (Deconvolution): bias weights have 2 "
                          "values; the layer has 3 output maps"))
        << f.logger.errors();
    // 23 values: not a multiple of C * 2 * 2 = 8.
    EXPECT_FALSE(f.net().addDeconvolution(x, 3, Dims{2, 2}, Weights{DataType::kFLOAT, w.data(), 23},
                                          Weights{}));
    EXPECT_TRUE(f.logger.hasError("[C, K/groups, kernel...] with C = 2")) << f.logger.errors();
    // 16 values = [2, 2, 2, 2]: 3 output maps are not a multiple of 2.
    EXPECT_FALSE(f.net().addDeconvolution(x, 3, Dims{2, 2}, Weights{DataType::kFLOAT, w.data(), 16},
                                          Weights{}));
    EXPECT_TRUE(f.logger.hasError("no number of groups fits")) << f.logger.errors();
    EXPECT_FALSE(f.net().addDeconvolution(x, 3, Dims{2, 2, 2}, floatWeights(w), Weights{}));
    EXPECT_TRUE(f.logger.hasError("needs an input of rank 5")) << f.logger.errors();
    EXPECT_EQ(f.net().nbLayers(), 0);
  }
  {
    // Weights for three groups, which do not divide the two input channels: refused at add.
    NetworkFixture f;
    auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 2, 3, 3});
    const std::vector<float> w3(2 * 1 * 4, 1.f);  // [2, 1, 2, 2]: K/groups = 1
    EXPECT_FALSE(f.net().addDeconvolution(x, 3, Dims{2, 2}, floatWeights(w3), Weights{}));
    EXPECT_TRUE(
        f.logger.hasError("layer 'Deconvolution_0' (Deconvolution): the input's 2 "
                          "channels are not divisible by 3 groups"))
        << f.logger.errors();
  }
  {
    NetworkFixture f;
    auto x = f.net().addInput("x", DataType::kHALF, Dims{1, 2, 3, 3});
    expectInvalidLayer(f, f.net().addDeconvolution(x, 3, Dims{2, 2}, floatWeights(w), Weights{}),
                       "layer 'Deconvolution_0' (Deconvolution): input must be float32, not "
                       "float16 (convert it with addCast)");
  }
}

}  // namespace
}  // namespace kiln::test
