// scale-lowering: a Scale no convolution absorbs becomes an element-wise multiply and add, which
// pointwise-fusion chains with the activation after it; a power other than 1 keeps the Scale.
#include <gtest/gtest.h>

#include <vector>

#include "builder/pass_test_util.h"

namespace kiln::test {
namespace {

const std::vector<std::string> kPasses = {"scale-lowering", "pointwise-fusion"};

struct Coefficients {
  std::vector<float> shift;
  std::vector<float> scale;
  std::vector<float> power;
};

// concat(a, b) [2, 6, 5, 7] (nothing to fold the Scale into) -> Scale (@p mode, axis 1) -> ReLU.
PassRun scaleAfterConcat(ScaleMode mode, const Coefficients& c) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor a = net->addInput("a", DataType::kFLOAT, {2, 2, 5, 7});
  Tensor b = net->addInput("b", DataType::kFLOAT, {2, 4, 5, 7});
  const Tensor parts[] = {a, b};
  auto concat = net->addConcatenation(parts);
  auto scale = net->addScale(concat.output(0), mode, floatWeights(c.shift), floatWeights(c.scale),
                             floatWeights(c.power));
  auto relu = net->addActivation(scale.output(0), ActivationType::kRELU);
  net->markOutput(relu.output(0));
  return expectSameWithPass(
      builder, *net, {randomTensor({2, 2, 5, 7}, 1), randomTensor({2, 4, 5, 7}, 2)}, kPasses);
}

TEST(ScaleLowering, PerChannelScaleAndShiftChainWithTheActivation) {
  const PassRun run = scaleAfterConcat(
      ScaleMode::kCHANNEL, {randomFloats(6, 3, -1.f, 1.f), randomFloats(6, 4, 0.5f, 2.f), {}});
  EXPECT_EQ(run.count("Scale"), 0);
  EXPECT_EQ(run.count("PointwiseChain"), 1);
  EXPECT_EQ(run.layers, 2);  // the concatenation and the chain
}

TEST(ScaleLowering, ScaleOnlyShiftOnlyUniformAndElementwise) {
  const std::vector<float> ones(6, 1.f);  // a power of 1 is no power
  for (const auto& [mode, c] : std::vector<std::pair<ScaleMode, Coefficients>>{
           {ScaleMode::kCHANNEL, {{}, randomFloats(6, 5, 0.5f, 2.f), ones}},
           {ScaleMode::kCHANNEL, {randomFloats(6, 6, -1.f, 1.f), {}, {}}},
           {ScaleMode::kUNIFORM, {{0.25f}, {1.5f}, {}}},
           {ScaleMode::kELEMENTWISE,
            {randomFloats(6 * 5 * 7, 7, -1.f, 1.f), randomFloats(6 * 5 * 7, 8, 0.5f, 2.f), {}}}}) {
    SCOPED_TRACE(static_cast<int>(mode));
    const PassRun run = scaleAfterConcat(mode, c);
    EXPECT_EQ(run.count("Scale"), 0);
    EXPECT_EQ(run.count("PointwiseChain"), 1);
  }
}

TEST(ScaleLowering, PowerOtherThanOneStaysAScale) {
  const PassRun run = scaleAfterConcat(
      ScaleMode::kCHANNEL,
      {randomFloats(6, 9, 1.f, 2.f), randomFloats(6, 10, 0.5f, 2.f), std::vector<float>(6, 2.f)});
  EXPECT_EQ(run.count("Scale"), 1);
}

}  // namespace
}  // namespace kiln::test
