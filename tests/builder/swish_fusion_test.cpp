// swish-fusion: x * sigmoid(x), x * hard_sigmoid(x) (slope 1/6, offset 0.5), either operand
// order, and x * clip(x + 3, 0, 6) / 6 become one SiLU or hard-swish activation, which
// activation-fusion folds into the convolution before it; a gate read elsewhere, another hard
// sigmoid or another clip, stays.
#include <gtest/gtest.h>

#include <vector>

#include "builder/pass_test_util.h"

namespace kiln::test {
namespace {

const std::vector<std::string> kPasses = {"swish-fusion", "activation-fusion"};

// x (1x3x9x9) -> conv (3 -> 8, 3x3): what each case gates.
struct ConvNetwork {
  CapturingLogger logger;
  Builder builder{logger};
  std::unique_ptr<NetworkDefinition> net = builder.createNetwork();
  std::vector<float> w = randomFloats(8 * 3 * 9, 1, -1.f, 1.f);
  Tensor y;  //!< the convolution's output

  ConvNetwork() {
    auto conv = net->addConvolution(net->addInput("x", DataType::kFLOAT, {1, 3, 9, 9}), 8,
                                    Dims{3, 3}, floatWeights(w), Weights{});
    conv.setName("conv");
    y = conv.output(0);
  }
  //! Builds with and without the passes on x in [-@p range, @p range).
  PassRun run(float range) {
    return expectSameWithPass(builder, *net, {randomTensor({1, 3, 9, 9}, 2, -range, range)},
                              kPasses);
  }
};

// conv -> gate (a sigmoid, or a hard sigmoid of slope @p slope and offset 0.5) -> mul (the gate
// first when @p sigmoidFirst); with @p sigmoidAlsoOut the gate is a network output too.
PassRun convSilu(bool sigmoidFirst, bool sigmoidAlsoOut, float slope = 0.f) {
  ConvNetwork c;
  auto& net = c.net;
  const Tensor conv = c.y;
  auto sigmoid = net->addActivation(
      conv, slope == 0.f ? ActivationType::kSIGMOID : ActivationType::kHARD_SIGMOID);
  if (slope != 0.f) {
    sigmoid.setAlpha(slope);
    sigmoid.setBeta(0.5f);
  }
  sigmoid.setName("sigmoid");
  auto mul = sigmoidFirst
                 ? net->addElementWise(sigmoid.output(0), conv, ElementWiseOperation::kPROD)
                 : net->addElementWise(conv, sigmoid.output(0), ElementWiseOperation::kPROD);
  mul.setName("mul");
  net->markOutput(mul.output(0));
  if (sigmoidAlsoOut) net->markOutput(sigmoid.output(0));
  return c.run(3.f);
}

TEST(SwishFusion, SigmoidTimesItsInputFoldsIntoTheConvolution) {
  for (const bool sigmoidFirst : {false, true}) {
    const PassRun run = convSilu(sigmoidFirst, false);
    ASSERT_EQ(run.layers, 1);
    EXPECT_EQ(run.ops[0], "Convolution");
    EXPECT_EQ(run.fusedFrom[0], (std::vector<std::string>{"conv", "sigmoid", "mul"}));
  }
}

TEST(SwishFusion, HardSigmoidTimesItsInputFoldsIntoTheConvolution) {
  const PassRun run = convSilu(true, false, 1.f / 6.f);
  ASSERT_EQ(run.layers, 1);
  EXPECT_EQ(run.ops[0], "Convolution");
  // Another slope is no hard-swish: the convolution, the gate and the product stay.
  EXPECT_EQ(convSilu(true, false, 0.2f).layers, 3);
}

TEST(SwishFusion, SigmoidReadElsewhereStays) {
  const PassRun run = convSilu(false, true);
  EXPECT_EQ(run.count("ElementWise"), 1);
}

TEST(SwishFusion, OtherProductsStay) {
  // sigmoid(x) * y: not SiLU.
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {2, 5});
  Tensor y = net->addInput("y", DataType::kFLOAT, {2, 5});
  auto sigmoid = net->addActivation(x, ActivationType::kSIGMOID);
  auto mul = net->addElementWise(sigmoid.output(0), y, ElementWiseOperation::kPROD);
  net->markOutput(mul.output(0));
  const PassRun run = expectSameWithPass(
      builder, *net, {randomTensor({2, 5}, 3), randomTensor({2, 5}, 4)}, kPasses);
  EXPECT_EQ(run.layers, 2);
}

// conv -> add 3 -> clip [0, @p high] -> mul by the conv's output -> divide by 6 (or, with
// @p reciprocal, multiply by 1/6): PaddlePaddle's hard-swish.
PassRun convClippedSwish(float high, bool reciprocal) {
  ConvNetwork c;
  auto& net = c.net;
  const Tensor conv = c.y;
  // Weights view their values until the build.
  const std::vector<float> three{3.f}, six{6.f}, sixth{1.f / 6.f};
  auto scalar = [&](const std::vector<float>& value) {
    return net->addConstant(Dims{1, 1, 1, 1}, floatWeights(value)).output(0);
  };
  auto add = net->addElementWise(conv, scalar(three), ElementWiseOperation::kSUM);
  add.setName("add");
  auto clip = net->addActivation(add.output(0), ActivationType::kCLIP);
  clip.setAlpha(0.f);
  clip.setBeta(high);
  clip.setName("clip");
  auto mul = net->addElementWise(conv, clip.output(0), ElementWiseOperation::kPROD);
  mul.setName("mul");
  auto scale = reciprocal
                   ? net->addElementWise(mul.output(0), scalar(sixth), ElementWiseOperation::kPROD)
                   : net->addElementWise(mul.output(0), scalar(six), ElementWiseOperation::kDIV);
  scale.setName("scale");
  net->markOutput(scale.output(0));
  return c.run(5.f);
}

TEST(SwishFusion, ClippedHardSwishFoldsIntoTheConvolution) {
  for (const bool reciprocal : {false, true}) {
    const PassRun run = convClippedSwish(6.f, reciprocal);
    ASSERT_EQ(run.layers, 1);
    EXPECT_EQ(run.ops[0], "Convolution");
    EXPECT_EQ(run.fusedFrom[0], (std::vector<std::string>{"conv", "add", "clip", "mul", "scale"}));
  }
  // Clipped at 5 it is another function: nothing fuses but the pointwise steps as they are.
  EXPECT_GT(convClippedSwish(5.f, false).layers, 1);
}

}  // namespace
}  // namespace kiln::test
