// conv-scale-fusion: BatchNorm/Scale and per-channel multiply/add folded into the weights of a
// convolution, deconvolution or fully-connected layer.
#include <gtest/gtest.h>

#include "builder/pass_test_util.h"

namespace kiln::test {
namespace {

const std::vector<std::string> kPass = {"conv-scale-fusion"};

TEST(ConvScaleFusion, ScaleFoldsIntoConvolution) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {2, 4, 5, 6});
  const auto w = randomFloats(6 * 2 * 3 * 3, 1), b = randomFloats(6, 2);
  auto conv = net->addConvolution(x, 6, Dims{3, 3}, floatWeights(w), floatWeights(b));
  conv.setNbGroups(2);
  conv.setPadding(Dims{1, 1});
  conv.setName("conv");
  const auto shift = randomFloats(6, 3), scale = randomFloats(6, 4, 0.5f, 2.f);
  auto bn = net->addScale(conv.output(0), ScaleMode::kCHANNEL, floatWeights(shift),
                          floatWeights(scale), Weights{});
  bn.setName("bn");
  net->markOutput(bn.output(0));
  const auto run = expectSameWithPass(builder, *net, {randomTensor({2, 4, 5, 6}, 5)}, kPass);
  ASSERT_EQ(run.layers, 1);
  EXPECT_EQ(run.ops[0], "Convolution");
  EXPECT_EQ(run.fusedFrom[0], (std::vector<std::string>{"conv", "bn"}));
}

TEST(ConvScaleFusion, BiasAddAndUniformScaleFoldIntoConvolutionWithoutBias) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {1, 3, 4, 4});
  const auto w = randomFloats(5 * 3, 1);
  auto conv = net->addConvolution(x, 5, Dims{1, 1}, floatWeights(w), Weights{});
  const auto bias = randomFloats(5, 2);
  Tensor b = constantTensor(*net, {1, 5, 1, 1}, bias);
  auto add = net->addElementWise(conv.output(0), b, ElementWiseOperation::kSUM);
  const std::vector<float> two = {2.f};
  Tensor c = constantTensor(*net, {1, 1, 1, 1}, two);
  auto div = net->addElementWise(add.output(0), c, ElementWiseOperation::kDIV);
  net->markOutput(div.output(0));
  const auto run = expectSameWithPass(builder, *net, {randomTensor({1, 3, 4, 4}, 5)}, kPass);
  EXPECT_EQ(run.layers, 1);
}

TEST(ConvScaleFusion, ScaleFoldsIntoDeconvolutionAndFullyConnected) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {1, 4, 3, 3});
  const auto w = randomFloats(4 * 3 * 2 * 2, 1);
  auto deconv = net->addDeconvolution(x, 6, Dims{2, 2}, floatWeights(w), Weights{});
  deconv.setNbGroups(2);
  const auto shift = randomFloats(6, 3), scale = randomFloats(6, 4);
  auto s1 = net->addScale(deconv.output(0), ScaleMode::kCHANNEL, floatWeights(shift),
                          floatWeights(scale), Weights{});
  const auto fw = randomFloats(7 * 6 * 4 * 4, 6), fb = randomFloats(7, 7);
  auto fc = net->addFullyConnected(s1.output(0), 7, floatWeights(fw), floatWeights(fb));
  const auto shift2 = randomFloats(7, 8), scale2 = randomFloats(7, 9);
  auto s2 = net->addScale(fc.output(0), ScaleMode::kCHANNEL, floatWeights(shift2),
                          floatWeights(scale2), Weights{});
  net->markOutput(s2.output(0));
  const auto run = expectSameWithPass(builder, *net, {randomTensor({1, 4, 3, 3}, 5)}, kPass);
  EXPECT_EQ(run.layers, 2);
  EXPECT_EQ(run.count("Scale"), 0);
}

TEST(ConvScaleFusion, LeavesScaleAloneWhenTheConvolutionOutputIsReadTwice) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {1, 2, 3, 3});
  const auto w = randomFloats(2 * 2, 1);
  auto conv = net->addConvolution(x, 2, Dims{1, 1}, floatWeights(w), Weights{});
  const auto scale = randomFloats(2, 4);
  auto s =
      net->addScale(conv.output(0), ScaleMode::kCHANNEL, Weights{}, floatWeights(scale), Weights{});
  net->markOutput(s.output(0));
  net->markOutput(conv.output(0));
  const auto run = expectSameWithPass(builder, *net, {randomTensor({1, 2, 3, 3}, 5)}, kPass);
  EXPECT_EQ(run.layers, 2);
}

}  // namespace
}  // namespace kiln::test
