// padding-folding: zero padding before a convolution, or an average pooling that counts its
// padding or has none, becomes that layer's padding; before max pooling it stays.
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

// x -> zero Padding (1 each side) -> pooling of @p type (3x3, stride 1), with @p ownPadding of its
// own and exclude_padding @p exclude; the layers of the built engine.
int32_t padThenPool(PoolingType type, int64_t ownPadding, bool exclude) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {1, 3, 6, 5});
  auto pad = net->addPadding(x, Dims{1, 1}, Dims{1, 1});
  auto pool = net->addPooling(pad.output(0), type, Dims{3, 3});
  pool.setPadding(Dims{ownPadding, ownPadding});
  pool.setAverageCountExcludesPadding(exclude);
  net->markOutput(pool.output(0));
  return expectSameWithPass(builder, *net, {randomTensor({1, 3, 6, 5}, 3)}, {"padding-folding"})
      .layers;
}

TEST(PaddingFolding, ZeroPaddingFoldsIntoAveragePoolingThatCountsIt) {
  // Inception's branch pool: Pad, then a 3x3 average pool without padding of its own.
  EXPECT_EQ(padThenPool(PoolingType::kAVERAGE, 0, true), 1);
  // Its own padding counted as well.
  EXPECT_EQ(padThenPool(PoolingType::kAVERAGE, 1, false), 1);
  // Its own padding excluded from the average, the padded zeros not: two layers stay.
  EXPECT_EQ(padThenPool(PoolingType::kAVERAGE, 1, true), 2);
  // Max pooling ignores padding cells, not padded zeros.
  EXPECT_EQ(padThenPool(PoolingType::kMAX, 0, true), 2);
}

}  // namespace
}  // namespace kiln::test
