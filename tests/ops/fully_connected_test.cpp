// FullyConnected through the public API and the whole pipeline (build, plan round trip, run).
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <vector>

#include "core/half.h"
#include "support/test_util.h"

namespace kiln::test {
namespace {

// y[r, k] = sum_f x[r, f] * w[k, f] + bias[k], where r runs over the leading dims and f over
// the flattened trailing ones.
std::vector<float> naiveFullyConnected(const std::vector<float>& x, int64_t rows, int64_t flat,
                                       const std::vector<float>& w, const std::vector<float>& bias,
                                       int64_t k) {
  std::vector<float> y(static_cast<std::size_t>(rows * k));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t o = 0; o < k; ++o) {
      double acc = bias.empty() ? 0.0 : bias[static_cast<std::size_t>(o)];
      for (int64_t f = 0; f < flat; ++f) {
        acc += static_cast<double>(x[static_cast<std::size_t>(r * flat + f)]) *
               w[static_cast<std::size_t>(o * flat + f)];
      }
      y[static_cast<std::size_t>(r * k + o)] = static_cast<float>(acc);
    }
  }
  return y;
}

TEST(FullyConnected, HandComputedRank2) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3});
  const std::vector<float> w = {1, 0, -1, 0.5f, 0.5f, 0.5f};
  const std::vector<float> b = {10, -1};
  auto fc = f.net().addFullyConnected(x, 2, floatWeights(w), floatWeights(b));
  ASSERT_TRUE(fc) << f.logger.errors();
  EXPECT_EQ(fc.nbOutputChannels(), 2);
  EXPECT_EQ(fc.type(), LayerType::kFULLY_CONNECTED);
  EXPECT_TRUE(Layer(fc).as<FullyConnectedLayer>());
  EXPECT_EQ(fc.output(0).dimensions(), (Dims{2, 2}));
  f.net().markOutput(fc.output(0));

  const std::vector<float> in = {1, 2, 3, 4, 5, 6};
  const auto out = f.run({HostTensor::fromFloats(Dims{2, 3}, in)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{2, 2}));
  const std::vector<float> expected = {8, 2, 8, 6.5f};
  expectClose(out[0].floats(), expected);
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

struct FcCase {
  Dims input;
  int64_t k;
  Dims output;
  int32_t keptRank;  // leading dims not flattened
  bool bias;
};

void PrintTo(const FcCase& c, std::ostream* os) {
  *os << toString(c.input) << " k=" << c.k << (c.bias ? " with bias" : " no bias");
}

class FullyConnectedShapes : public ::testing::TestWithParam<FcCase> {};

TEST_P(FullyConnectedShapes, MatchesNaive) {
  const FcCase& c = GetParam();
  int64_t rows = 1;
  for (int32_t i = 0; i < c.keptRank; ++i) rows *= c.input[i];
  int64_t flat = 1;
  for (int32_t i = c.keptRank; i < c.input.nbDims; ++i) flat *= c.input[i];

  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, c.input);
  const auto w = randomFloats(c.k * flat, 11);
  const auto b = c.bias ? randomFloats(c.k, 12) : std::vector<float>{};
  auto fc = f.net().addFullyConnected(x, c.k, floatWeights(w), floatWeights(b));
  ASSERT_TRUE(fc) << f.logger.errors();
  EXPECT_EQ(fc.output(0).dimensions(), c.output);
  f.net().markOutput(fc.output(0));

  const auto in = randomTensor(c.input, 13);
  const auto out = f.run({in});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, c.output);
  expectClose(out[0].floats(), naiveFullyConnected(in.floats(), rows, flat, w, b, c.k));
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, FullyConnectedShapes,
    ::testing::Values(FcCase{Dims{3, 5, 2, 3}, 7, Dims{3, 7, 1, 1}, 1, true},
                      FcCase{Dims{3, 5, 2, 3}, 7, Dims{3, 7, 1, 1}, 1, false},
                      FcCase{Dims{5, 2, 3}, 4, Dims{4, 1, 1}, 0, true},
                      FcCase{Dims{2, 3, 1, 4, 5}, 3, Dims{2, 3, 3, 1, 1}, 2, true},
                      FcCase{Dims{1, 1}, 1, Dims{1, 1}, 1, true},
                      FcCase{Dims{4, 17}, 9, Dims{4, 9}, 1, true},
                      FcCase{Dims{1, 1, 1, 1}, 5, Dims{1, 5, 1, 1}, 1, false}));

TEST(FullyConnected, ZeroRowsGiveEmptyOutput) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{0, 4});
  const auto w = randomFloats(3 * 4, 1);
  auto fc = f.net().addFullyConnected(x, 3, floatWeights(w), Weights{});
  ASSERT_TRUE(fc) << f.logger.errors();
  f.net().markOutput(fc.output(0));
  const auto out = f.run({HostTensor(DataType::kFLOAT, Dims{0, 4})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{0, 3}));
  EXPECT_EQ(out[0].count(), 0);
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

TEST(FullyConnected, EmptyFlattenedInputGivesBias) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 0, 3, 3});
  const std::vector<float> b = {1.5f, -2.f, 3.f};
  auto fc = f.net().addFullyConnected(x, 3, Weights{DataType::kFLOAT, nullptr, 0}, floatWeights(b));
  ASSERT_TRUE(fc) << f.logger.errors();
  f.net().markOutput(fc.output(0));
  const auto out = f.run({HostTensor(DataType::kFLOAT, Dims{2, 0, 3, 3})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{2, 3, 1, 1}));
  expectClose(out[0].floats(), std::vector<float>{1.5f, -2.f, 3.f, 1.5f, -2.f, 3.f});
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

TEST(FullyConnected, HalfWeightsAreConverted) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 2});
  const std::vector<uint16_t> w = {floatToHalf(0.5f), floatToHalf(-2.f)};
  auto fc = f.net().addFullyConnected(x, 1, Weights{DataType::kHALF, w.data(), 2}, Weights{});
  ASSERT_TRUE(fc) << f.logger.errors();
  f.net().markOutput(fc.output(0));
  const std::vector<float> in = {4, 1};
  const auto out = f.run({HostTensor::fromFloats(Dims{1, 2}, in)});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), std::vector<float>{0.f});
}

TEST(FullyConnected, ReplacedWeightsAreUsed) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 2});
  const std::vector<float> w0 = {1, 1};
  auto fc = f.net().addFullyConnected(x, 1, floatWeights(w0), Weights{});
  ASSERT_TRUE(fc) << f.logger.errors();
  const std::vector<float> w1 = {2, -1};
  const std::vector<float> b1 = {0.25f};
  fc.setKernelWeights(floatWeights(w1));
  fc.setBiasWeights(floatWeights(b1));
  f.net().markOutput(fc.output(0));
  const std::vector<float> in = {3, 5};
  auto out = f.run({HostTensor::fromFloats(Dims{1, 2}, in)});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), std::vector<float>{1.25f});

  fc.setBiasWeights(Weights{});  // removes the bias
  EXPECT_EQ(fc.nbInputs(), 2);
  out = f.run({HostTensor::fromFloats(Dims{1, 2}, in)});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), std::vector<float>{1.f});
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

// ---------------------------------------------------------------------------------------------
// Bad configurations: a logged error naming the layer, and no crash. Bad arguments are refused
// at once (null handle); problems with the input's shape or type, which new input settings could
// still fix, make the layer invalid (see expectInvalidLayer).

TEST(FullyConnected, RejectsRankBelowTwo) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{6});
  const auto w = randomFloats(12, 1);
  expectInvalidLayer(f, f.net().addFullyConnected(x, 2, floatWeights(w), Weights{}), "rank >= 2");
  EXPECT_TRUE(f.logger.hasError("layer 'FullyConnected_0' (FullyConnected)")) << f.logger.errors();
}

TEST(FullyConnected, RejectsKernelCountMismatch) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{3, 5, 2, 3});
  const auto w = randomFloats(7 * 30 - 1, 1);
  expectInvalidLayer(f, f.net().addFullyConnected(x, 7, floatWeights(w), Weights{}),
                     "kernel weights have 209 values");
  EXPECT_TRUE(f.logger.hasError("layer 'FullyConnected_0'")) << f.logger.errors();
  EXPECT_TRUE(f.logger.hasError("210")) << f.logger.errors();
}

TEST(FullyConnected, RejectsBadOutputCountAndBias) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3});
  const auto w = randomFloats(6, 1);
  EXPECT_FALSE(f.net().addFullyConnected(x, 0, floatWeights(w), Weights{}));
  EXPECT_TRUE(f.logger.hasError("must be positive")) << f.logger.errors();
  f.logger.clear();
  EXPECT_FALSE(f.net().addFullyConnected(x, -3, floatWeights(w), Weights{}));
  EXPECT_TRUE(f.logger.hasError("FullyConnected_0")) << f.logger.errors();
  f.logger.clear();

  const auto b = randomFloats(3, 2);
  EXPECT_FALSE(f.net().addFullyConnected(x, 2, floatWeights(w), floatWeights(b)));
  EXPECT_TRUE(f.logger.hasError("bias has 3 values")) << f.logger.errors();
  EXPECT_TRUE(f.logger.hasError("FullyConnected_0")) << f.logger.errors();
  f.logger.clear();

  EXPECT_FALSE(f.net().addFullyConnected(x, 2, Weights{DataType::kFLOAT, nullptr, 6}, Weights{}));
  EXPECT_TRUE(f.logger.hasError("no values")) << f.logger.errors();
  EXPECT_TRUE(f.logger.hasError("FullyConnected_0")) << f.logger.errors();
  f.logger.clear();

  EXPECT_FALSE(
      f.net().addFullyConnected(x, 2, floatWeights(w), Weights{DataType::kFLOAT, nullptr, 2}));
  EXPECT_TRUE(f.logger.hasError("bias has count 2 but no values")) << f.logger.errors();
  EXPECT_EQ(f.net().nbLayers(), 0);
}

TEST(FullyConnected, RejectsNullForeignAndNonFloatInputs) {
  NetworkFixture f;
  NetworkFixture other;
  const auto w = randomFloats(6, 1);
  EXPECT_FALSE(f.net().addFullyConnected(Tensor(), 2, floatWeights(w), Weights{}));
  EXPECT_TRUE(f.logger.hasError("null")) << f.logger.errors();
  f.logger.clear();

  auto foreign = other.net().addInput("x", DataType::kFLOAT, Dims{2, 3});
  EXPECT_FALSE(f.net().addFullyConnected(foreign, 2, floatWeights(w), Weights{}));
  EXPECT_TRUE(f.logger.hasError("another network")) << f.logger.errors();
  f.logger.clear();

  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3});
  const std::vector<int32_t> wi(6, 1);
  EXPECT_FALSE(f.net().addFullyConnected(x, 2, Weights{DataType::kINT32, wi.data(), 6}, Weights{}));
  EXPECT_TRUE(
      f.logger.hasError("layer 'FullyConnected_0' (FullyConnected): kernel weights must "
                        "be float (float32/float16/bfloat16), not int32"))
      << f.logger.errors();
  f.logger.clear();
  EXPECT_FALSE(
      f.net().addFullyConnected(x, 2, floatWeights(w), Weights{DataType::kINT32, wi.data(), 2}));
  EXPECT_TRUE(f.logger.hasError("bias weights must be float")) << f.logger.errors();
  EXPECT_EQ(f.net().nbLayers(), 0);
  f.logger.clear();

  // The input's type may still change (Tensor::setType), so the layer is kept, but invalid.
  NetworkFixture g;
  auto xi = g.net().addInput("xi", DataType::kINT32, Dims{2, 3});
  expectInvalidLayer(g, g.net().addFullyConnected(xi, 2, floatWeights(w), Weights{}),
                     "input must be float32, not int32");
  EXPECT_TRUE(g.logger.hasError("layer 'FullyConnected_0' (FullyConnected)")) << g.logger.errors();
  EXPECT_TRUE(g.logger.hasError("addCast")) << g.logger.errors();
}

TEST(FullyConnected, BadReplacementWeightsFailTheBuildNamingTheLayer) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3});
  const auto w = randomFloats(6, 1);
  auto fc = f.net().addFullyConnected(x, 2, floatWeights(w), Weights{});
  ASSERT_TRUE(fc);
  fc.setName("fc1");

  // A bias of the wrong size is refused at once and leaves the layer as it was.
  const auto b = randomFloats(5, 2);
  fc.setBiasWeights(floatWeights(b));
  EXPECT_TRUE(f.logger.hasError("layer 'fc1'")) << f.logger.errors();
  EXPECT_EQ(fc.nbInputs(), 2);
  f.logger.clear();

  // The kernel count depends on the input shape, so it is checked by shape inference.
  const auto w5 = randomFloats(5, 3);
  fc.setKernelWeights(floatWeights(w5));
  f.net().markOutput(fc.output(0));
  auto config = f.builder.createBuilderConfig();
  EXPECT_TRUE(f.builder.buildSerializedNetwork(f.net(), *config).empty());
  EXPECT_TRUE(f.logger.hasError("layer 'fc1' (FullyConnected): kernel weights have 5 values"))
      << f.logger.errors();
}

TEST(FullyConnected, NonFloatReplacementWeightsAreRefusedAtOnce) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3});
  const auto w = randomFloats(6, 1);
  auto fc = f.net().addFullyConnected(x, 2, floatWeights(w), Weights{});
  ASSERT_TRUE(fc);
  fc.setName("fc1");
  const std::vector<int32_t> wi(6, 1);
  fc.setKernelWeights(Weights{DataType::kINT32, wi.data(), 6});
  EXPECT_TRUE(f.logger.hasError("layer 'fc1' (FullyConnected): kernel weights must be float"))
      << f.logger.errors();
  fc.setBiasWeights(Weights{DataType::kINT32, wi.data(), 2});
  EXPECT_TRUE(f.logger.hasError("layer 'fc1' (FullyConnected): bias weights must be float"))
      << f.logger.errors();
  EXPECT_EQ(fc.nbInputs(), 2);
  f.logger.clear();

  // The layer kept its float kernel and still builds.
  const auto xt = randomTensor(Dims{2, 3}, 2);
  f.net().markOutput(fc.output(0));
  const auto out = f.run({xt});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), naiveFullyConnected(xt.floats(), 2, 3, w, {}, 2));
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

TEST(FullyConnected, NullLayerHandleIsHarmless) {
  FullyConnectedLayer fc;
  EXPECT_FALSE(fc);
  EXPECT_EQ(fc.nbOutputChannels(), 0);
  const std::vector<float> w = {1};
  fc.setKernelWeights(floatWeights(w));
  fc.setBiasWeights(floatWeights(w));
}

}  // namespace
}  // namespace kiln::test
