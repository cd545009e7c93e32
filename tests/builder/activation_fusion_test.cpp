// activation-fusion: an activation after a convolution, deconvolution, fully-connected layer or
// matrix product becomes its epilogue activation.
#include <gtest/gtest.h>

#include "builder/pass_test_util.h"

namespace kiln::test {
namespace {

TEST(ActivationFusion, ClipFoldsIntoConvolutionAndLeakyReluIntoDeconvolution) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {1, 2, 4, 4});
  const auto w = randomFloats(3 * 2 * 9, 1, -3.f, 3.f);
  auto conv = net->addConvolution(x, 3, Dims{3, 3}, floatWeights(w), Weights{});
  conv.setName("conv");
  auto clip = net->addActivation(conv.output(0), ActivationType::kCLIP);
  clip.setAlpha(0.f);
  clip.setBeta(0.5f);
  clip.setName("relu6");
  const auto dw = randomFloats(3 * 2 * 4, 2);
  auto deconv = net->addDeconvolution(clip.output(0), 2, Dims{2, 2}, floatWeights(dw), Weights{});
  auto leaky = net->addActivation(deconv.output(0), ActivationType::kLEAKY_RELU);
  leaky.setAlpha(0.2f);
  net->markOutput(leaky.output(0));
  const auto run =
      expectSameWithPass(builder, *net, {randomTensor({1, 2, 4, 4}, 5)}, {"activation-fusion"});
  ASSERT_EQ(run.layers, 2);
  EXPECT_EQ(run.fusedFrom[0], (std::vector<std::string>{"conv", "relu6"}));
  EXPECT_EQ(run.count("Activation"), 0);
}

TEST(ActivationFusion, SigmoidFoldsIntoMatrixMultiplyThatIsANetworkOutput) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor a = net->addInput("a", DataType::kFLOAT, {3, 4});
  Tensor b = net->addInput("b", DataType::kFLOAT, {4, 2});
  auto mm = net->addMatrixMultiply(a, MatrixOperation::kNONE, b, MatrixOperation::kNONE);
  auto act = net->addActivation(mm.output(0), ActivationType::kSIGMOID);
  net->markOutput(act.output(0));
  const auto run = expectSameWithPass(
      builder, *net, {randomTensor({3, 4}, 5), randomTensor({4, 2}, 6)}, {"activation-fusion"});
  EXPECT_EQ(run.layers, 1);
}

}  // namespace
}  // namespace kiln::test
