// padding-folding: zero padding before a convolution becomes the convolution's padding.
#include <gtest/gtest.h>

#include "builder/pass_test_util.h"

namespace kiln::test {
namespace {

TEST(PaddingFolding, ZeroPaddingFoldsIntoConvolution) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {1, 2, 5, 4});
  auto pad = net->addPadding(x, Dims{1, 0}, Dims{2, 1});
  pad.setName("pad");
  const auto w = randomFloats(3 * 2 * 9, 1);
  auto conv = net->addConvolution(pad.output(0), 3, Dims{3, 3}, floatWeights(w), Weights{});
  conv.setPadding(Dims{1, 1});
  conv.setStride(Dims{2, 1});
  conv.setName("conv");
  net->markOutput(conv.output(0));
  const auto run =
      expectSameWithPass(builder, *net, {randomTensor({1, 2, 5, 4}, 2)}, {"padding-folding"});
  ASSERT_EQ(run.layers, 1);
  EXPECT_EQ(run.fusedFrom[0], (std::vector<std::string>{"pad", "conv"}));
}

TEST(PaddingFolding, KeepsNonZeroAndChannelPadding) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {1, 2, 3, 3});
  auto pad = net->addPadding(x, Dims{1, 1}, Dims{1, 1});
  pad.setValue(1.f);
  const auto w = randomFloats(2 * 2 * 9, 1);
  auto conv = net->addConvolution(pad.output(0), 2, Dims{3, 3}, floatWeights(w), Weights{});
  auto pad2 = net->addPadding(conv.output(0), Dims{1, 0, 0}, Dims{0, 0, 0});
  const auto w2 = randomFloats(2 * 3, 2);
  auto conv2 = net->addConvolution(pad2.output(0), 2, Dims{1, 1}, floatWeights(w2), Weights{});
  net->markOutput(conv2.output(0));
  const auto run =
      expectSameWithPass(builder, *net, {randomTensor({1, 2, 3, 3}, 2)}, {"padding-folding"});
  EXPECT_EQ(run.layers, 4);
}

}  // namespace
}  // namespace kiln::test
