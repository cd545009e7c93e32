// ONNX Conv, ConvTranspose, BatchNormalization and InstanceNormalization whose weights or
// statistics are graph inputs (computed at run time) rather than initializers.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "onnx_test_util.h"

namespace kiln::test {
namespace {

using onnx_test::attrFloat;
using onnx_test::attrInt;
using onnx_test::attrInts;
using onnx_test::expectParseError;
using onnx_test::ModelBuilder;
using onnx_test::runModel;

// Parses @p model, expecting failure; returns the parser's errors and the logged reasons.
std::string parseFailure(const ModelBuilder& model) {
  NetworkFixture f;
  parsers::OnnxParser parser(f.net(), f.logger);
  const std::string bytes = model.bytes();
  EXPECT_FALSE(parser.parse(onnx_test::asBytes(bytes)));
  return onnx_test::parserErrors(parser) + f.logger.errors();
}

std::vector<int64_t> shapeOf(const Dims& d) {
  return {d.d.begin(), d.d.begin() + d.nbDims};
}

// The same node twice: once with W and B as initializers, once as graph inputs.
void expectSameAsInitializers(const std::string& op, const Dims& xd, const Dims& wd, int64_t bias,
                              void (*attrs)(::onnx::NodeProto&), uint32_t seed) {
  SCOPED_TRACE(op + " " + toString(xd) + " W " + toString(wd));
  const HostTensor x = randomTensor(xd, seed);
  const HostTensor w = randomTensor(wd, seed + 1);
  const HostTensor b = randomTensor(Dims{bias}, seed + 2);

  ModelBuilder constant;
  constant.input("x", shapeOf(xd)).floats("W", shapeOf(wd), w.floats());
  constant.floats("B", {bias}, b.floats());
  attrs(constant.node(op, {"x", "W", "B"}, {"y"}));
  constant.output("y");
  const auto expected = runModel(constant, {x});

  ModelBuilder runTime;
  runTime.input("x", shapeOf(xd)).input("W", shapeOf(wd)).input("B", {bias});
  attrs(runTime.node(op, {"x", "W", "B"}, {"y"}));
  runTime.output("y");
  const auto actual = runModel(runTime, {x, w, b});
  ASSERT_EQ(expected.size(), 1u);
  ASSERT_EQ(actual.size(), 1u);
  EXPECT_EQ(actual[0].dims, expected[0].dims);
  expectClose(actual[0].floats(), expected[0].floats(), 1e-6, 1e-6);
}

TEST(OnnxRunTimeWeights, Conv) {
  expectSameAsInitializers(
      "Conv", Dims{2, 4, 5, 6}, Dims{6, 2, 3, 2}, 6,
      [](::onnx::NodeProto& n) {
        attrInt(n, "group", 2);
        attrInts(n, "pads", {1, 0, 0, 1});
        attrInts(n, "strides", {2, 1});
      },
      1);
  expectSameAsInitializers(
      "Conv", Dims{1, 2, 7}, Dims{3, 2, 3}, 3,
      [](::onnx::NodeProto& n) { attrInts(n, "dilations", {2}); }, 2);
}

TEST(OnnxRunTimeWeights, ConvTranspose) {
  expectSameAsInitializers(
      "ConvTranspose", Dims{1, 2, 3, 3}, Dims{2, 3, 3, 2}, 3,
      [](::onnx::NodeProto& n) {
        attrInts(n, "strides", {2, 3});
        attrInts(n, "pads", {1, 0, 0, 1});
      },
      3);
  // An output_shape beyond the full result: padded cells, the run-time bias added after.
  expectSameAsInitializers(
      "ConvTranspose", Dims{1, 1, 3, 3}, Dims{1, 2, 3, 3}, 2,
      [](::onnx::NodeProto& n) {
        attrInts(n, "strides", {3, 2});
        attrInts(n, "output_shape", {10, 8});
      },
      4);
}

TEST(OnnxRunTimeWeights, ConvTransposeOutputShapeGrowsAtTheEnd) {
  // Full result 1 + 2 = 3 cells; output_shape 4: total padding -1, so, as ONNX's floor division
  // has it, the extra cell is at the end and holds the bias only.
  ModelBuilder m;
  m.input("x", {1, 1, 2}).input("W", {1, 1, 2});
  attrInts(m.node("ConvTranspose", {"x", "W"}, {"y"}), "output_shape", {4});
  m.output("y");
  const auto out = runModel(m, {HostTensor::fromFloats(Dims{1, 1, 2}, std::vector<float>{1, 2}),
                                HostTensor::fromFloats(Dims{1, 1, 2}, std::vector<float>{3, 4})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{3, 10, 8, 0}));
}

TEST(OnnxRunTimeWeights, BatchNormalizationStatisticsAsInputs) {
  const Dims xd{2, 3, 2, 2};
  const HostTensor x = randomTensor(xd, 5);
  const std::vector<float> s{0.5f, 1.5f, -1.f}, b{0.1f, 0.2f, 0.3f}, mean{0.f, 0.2f, -0.1f},
      var{1.f, 0.5f, 2.f};
  ModelBuilder m;
  m.input("x", shapeOf(xd)).input("s", {3}).input("b", {3}).input("mean", {3}).input("var", {3});
  attrFloat(m.node("BatchNormalization", {"x", "s", "b", "mean", "var"}, {"y"}), "epsilon", 1e-3f);
  m.output("y");
  const auto out =
      runModel(m, {x, HostTensor::fromFloats(Dims{3}, s), HostTensor::fromFloats(Dims{3}, b),
                   HostTensor::fromFloats(Dims{3}, mean), HostTensor::fromFloats(Dims{3}, var)});
  ASSERT_EQ(out.size(), 1u);
  const auto xs = x.floats();
  std::vector<float> expected(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const std::size_t c = (i / 4) % 3;
    expected[i] = static_cast<float>((xs[i] - mean[c]) / std::sqrt(var[c] + 1e-3) * s[c] + b[c]);
  }
  expectClose(out[0].floats(), expected, 1e-5, 1e-5);
}

TEST(OnnxRunTimeWeights, BatchNormalizationTrainingMode) {
  const Dims xd{2, 2, 3};
  const HostTensor x = randomTensor(xd, 6);
  ModelBuilder m(15);
  m.input("x", shapeOf(xd));
  m.floats("s", {2}, {1.f, 2.f}).floats("b", {2}, {0.f, 1.f});
  m.floats("mean", {2}, {0.5f, -0.5f}).floats("var", {2}, {1.f, 2.f});
  auto& node = m.node("BatchNormalization", {"x", "s", "b", "mean", "var"},
                      {"y", "running_mean", "running_var"});
  attrInt(node, "training_mode", 1);
  attrFloat(node, "momentum", 0.8f);
  m.output("y").output("running_mean").output("running_var");
  const auto out = runModel(m, {x});
  ASSERT_EQ(out.size(), 3u);
  const auto xs = x.floats();
  std::vector<float> y(xs.size()), rm(2), rv(2);
  const float s[] = {1, 2}, b[] = {0, 1}, m0[] = {0.5f, -0.5f}, v0[] = {1, 2};
  for (int c = 0; c < 2; ++c) {
    double sum = 0, sq = 0;
    for (int n = 0; n < 2; ++n)
      for (int i = 0; i < 3; ++i) sum += xs[(n * 2 + c) * 3 + i];
    const double mu = sum / 6;
    for (int n = 0; n < 2; ++n)
      for (int i = 0; i < 3; ++i) sq += std::pow(xs[(n * 2 + c) * 3 + i] - mu, 2);
    const double var = sq / 6;
    for (int n = 0; n < 2; ++n)
      for (int i = 0; i < 3; ++i) {
        const int k = (n * 2 + c) * 3 + i;
        y[k] = static_cast<float>((xs[k] - mu) / std::sqrt(var + 1e-5) * s[c] + b[c]);
      }
    rm[c] = static_cast<float>(m0[c] * 0.8 + mu * 0.2);
    rv[c] = static_cast<float>(v0[c] * 0.8 + var * 0.2);
  }
  expectClose(out[0].floats(), y, 1e-5, 1e-5, "y");
  expectClose(out[1].floats(), rm, 1e-5, 1e-5, "running_mean");
  expectClose(out[2].floats(), rv, 1e-5, 1e-5, "running_var");
}

TEST(OnnxRunTimeWeights, InstanceNormalizationScaleAsInput) {
  const Dims xd{1, 2, 4};
  const HostTensor x = HostTensor::fromFloats(xd, std::vector<float>{1, 2, 3, 4, 0, 0, 2, 2});
  ModelBuilder m;
  m.input("x", shapeOf(xd)).input("s", {2}).floats("b", {2}, {1.f, -1.f});
  m.node("InstanceNormalization", {"x", "s", "b"}, {"y"});
  m.output("y");
  const auto out = runModel(m, {x, HostTensor::fromFloats(Dims{2}, std::vector<float>{2.f, 3.f})});
  ASSERT_EQ(out.size(), 1u);
  const double sd0 = std::sqrt(1.25 + 1e-5), sd1 = std::sqrt(1.0 + 1e-5);
  std::vector<float> expected{
      static_cast<float>(-1.5 / sd0 * 2 + 1), static_cast<float>(-0.5 / sd0 * 2 + 1),
      static_cast<float>(0.5 / sd0 * 2 + 1),  static_cast<float>(1.5 / sd0 * 2 + 1),
      static_cast<float>(-1 / sd1 * 3 - 1),   static_cast<float>(-1 / sd1 * 3 - 1),
      static_cast<float>(1 / sd1 * 3 - 1),    static_cast<float>(1 / sd1 * 3 - 1)};
  expectClose(out[0].floats(), expected, 1e-5, 1e-5);
}

TEST(OnnxRunTimeWeights, BadShapesAreReported) {
  {
    ModelBuilder m;
    m.input("x", {1, 2, 5, 5}).input("W", {3, 2, 3});
    m.node("Conv", {"x", "W"}, {"y"}, "conv");
    m.output("y");
    expectParseError(m, {"conv",
                         "the kernel W has shape 3x2x3; an input of rank 4 needs a kernel "
                         "of rank 4"});
  }
  {
    ModelBuilder m;
    m.input("x", {1, 2, 5, 5}).input("W", {3, 4, 3, 3});
    m.node("Conv", {"x", "W"}, {"y"}, "conv");
    m.output("y");
    const std::string errors = parseFailure(m);
    EXPECT_NE(errors.find("layer 'conv' (Convolution): kernel weights have shape 3x4x3x3"),
              std::string::npos)
        << errors;
  }
  {
    ModelBuilder m;
    m.input("x", {1, 3, 2}).input("s", {3}).input("b", {3}).input("mean", {4}).input("var", {3});
    m.node("BatchNormalization", {"x", "s", "b", "mean", "var"}, {"y"}, "bn");
    m.output("y");
    expectParseError(m, {"bn",
                         "mean has shape 4; the input has 3 channels, so it needs one value per "
                         "channel (shape 3)"});
  }
}

}  // namespace
}  // namespace kiln::test
