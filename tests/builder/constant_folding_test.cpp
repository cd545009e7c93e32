// constant-folding: layers whose inputs are all constants run at build time.
#include <gtest/gtest.h>

#include "builder/pass_test_util.h"

namespace kiln::test {
namespace {

TEST(ConstantFolding, FoldsAConstantSubgraph) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {2, 3});
  const auto values = randomFloats(6, 1);
  Tensor c = constantTensor(*net, {2, 3}, values);
  auto e = net->addUnary(c, UnaryOperation::kEXP);
  auto t = net->addShuffle(e.output(0));
  const int32_t perm[] = {1, 0};
  t.setFirstTranspose(perm);
  auto t2 = net->addShuffle(t.output(0));
  t2.setFirstTranspose(perm);
  auto add = net->addElementWise(x, t2.output(0), ElementWiseOperation::kSUM);
  add.setName("add");
  net->markOutput(add.output(0));
  const auto run =
      expectSameWithPass(builder, *net, {randomTensor({2, 3}, 2)}, {"constant-folding"});
  ASSERT_EQ(run.layers, 1);
  EXPECT_EQ(run.ops[0], "ElementWise");
}

TEST(ConstantFolding, KeepsAConstantLayerThatIsANetworkOutput) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {3});
  const std::vector<float> values = {1.f, 2.f, 3.f};
  Tensor c = constantTensor(*net, {3}, values);
  auto neg = net->addUnary(c, UnaryOperation::kNEG);
  net->markOutput(neg.output(0));
  auto relu = net->addActivation(x, ActivationType::kRELU);
  net->markOutput(relu.output(0));
  const auto run = expectSameWithPass(builder, *net, {randomTensor({3}, 2)}, {"constant-folding"});
  EXPECT_EQ(run.layers, 2);
  EXPECT_EQ(run.outputs[0].floats(), (std::vector<float>{-1.f, -2.f, -3.f}));
}

}  // namespace
}  // namespace kiln::test
