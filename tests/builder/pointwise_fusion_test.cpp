// pointwise-fusion: chains of pointwise layers become one PointwiseChain node.
#include <gtest/gtest.h>

#include "builder/pass_test_util.h"

namespace kiln::test {
namespace {

TEST(PointwiseFusion, ChainWithBroadcastOperandsBecomesOneNode) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {2, 3, 4});
  Tensor y = net->addInput("y", DataType::kFLOAT, {2, 3, 4});
  const auto bias = randomFloats(4, 1);
  auto a = net->addElementWise(constantTensor(*net, {4}, bias), x, ElementWiseOperation::kSUB);
  a.setName("sub");
  auto b = net->addUnary(a.output(0), UnaryOperation::kABS);
  b.setName("abs");
  auto c = net->addActivation(b.output(0), ActivationType::kSIGMOID);
  c.setName("sigmoid");
  auto d = net->addElementWise(y, c.output(0), ElementWiseOperation::kDIV);
  d.setName("div");
  net->markOutput(d.output(0));
  const auto run =
      expectSameWithPass(builder, *net, {randomTensor({2, 3, 4}, 2), randomTensor({2, 3, 4}, 3)},
                         {"pointwise-fusion"});
  ASSERT_EQ(run.layers, 1);
  EXPECT_EQ(run.ops[0], "PointwiseChain");
  EXPECT_EQ(run.fusedFrom[0], (std::vector<std::string>{"sub", "abs", "sigmoid", "div"}));
}

TEST(PointwiseFusion, StopsWhereAValueIsReadTwiceOrABroadcastWidens) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {3});
  Tensor w = net->addInput("w", DataType::kFLOAT, {2, 3});
  auto a = net->addActivation(x, ActivationType::kRELU);
  auto b = net->addUnary(a.output(0), UnaryOperation::kEXP);
  auto c = net->addElementWise(b.output(0), w, ElementWiseOperation::kPROD);  // widens
  auto d = net->addUnary(c.output(0), UnaryOperation::kNEG);
  net->markOutput(d.output(0));
  net->markOutput(a.output(0));
  const auto run = expectSameWithPass(
      builder, *net, {randomTensor({3}, 2), randomTensor({2, 3}, 3)}, {"pointwise-fusion"});
  EXPECT_EQ(run.layers, 3);
}

}  // namespace
}  // namespace kiln::test
