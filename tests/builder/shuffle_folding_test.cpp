// shuffle-folding: consecutive shuffles merge; transposes that cancel vanish.
#include <gtest/gtest.h>

#include "builder/pass_test_util.h"

namespace kiln::test {
namespace {

const std::vector<std::string> kPasses = {"shuffle-folding", "dead-layer-elimination"};

TEST(ShuffleFolding, CancellingTransposesVanish) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {2, 3, 4});
  auto a = net->addShuffle(x);
  const int32_t p[] = {2, 0, 1};
  a.setFirstTranspose(p);
  auto b = net->addShuffle(a.output(0));
  const int32_t q[] = {1, 2, 0};
  b.setFirstTranspose(q);
  auto relu = net->addActivation(b.output(0), ActivationType::kRELU);
  net->markOutput(relu.output(0));
  const auto run = expectSameWithPass(builder, *net, {randomTensor({2, 3, 4}, 1)}, kPasses);
  ASSERT_EQ(run.layers, 1);
  EXPECT_EQ(run.ops[0], "Activation");
}

TEST(ShuffleFolding, ReshapeTransposeChainsMergeIntoOne) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {2, 3, 4});
  auto a = net->addShuffle(x);
  a.setReshapeDimensions(Dims{6, 4});
  auto b = net->addShuffle(a.output(0));
  const int32_t p[] = {1, 0};
  b.setFirstTranspose(p);
  auto c = net->addShuffle(b.output(0));
  const int32_t q[] = {1, 0};
  c.setFirstTranspose(q);
  c.setReshapeDimensions(Dims{3, 2, 4});
  auto d = net->addShuffle(c.output(0));
  d.setReshapeDimensions(Dims{0, 8});
  net->markOutput(d.output(0));
  const auto run = expectSameWithPass(builder, *net, {randomTensor({2, 3, 4}, 1)}, kPasses);
  EXPECT_EQ(run.layers, 1);
  EXPECT_EQ(run.fusedFrom[0].size(), 4u);
}

}  // namespace
}  // namespace kiln::test
