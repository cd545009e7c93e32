// residual-fusion (+ activation-fusion): a skip-connection add, and the activation after it,
// folded into the producing layer's epilogue; the reference kernels honour it.
#include <gtest/gtest.h>

#include "builder/pass_test_util.h"

namespace kiln::test {
namespace {

TEST(ResidualFusion, AddAndReluFoldIntoConvolution) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {1, 3, 4, 5});
  const auto w = randomFloats(3 * 3 * 9, 1), b = randomFloats(3, 2);
  auto conv = net->addConvolution(x, 3, Dims{3, 3}, floatWeights(w), floatWeights(b));
  conv.setPadding(Dims{1, 1});
  conv.setName("conv");
  auto add = net->addElementWise(x, conv.output(0), ElementWiseOperation::kSUM);
  add.setName("add");
  auto relu = net->addActivation(add.output(0), ActivationType::kRELU);
  relu.setName("relu");
  net->markOutput(relu.output(0));
  const auto run = expectSameWithPass(builder, *net, {randomTensor({1, 3, 4, 5}, 5)},
                                      {"residual-fusion", "activation-fusion"});
  ASSERT_EQ(run.layers, 1);
  EXPECT_EQ(run.fusedFrom[0], (std::vector<std::string>{"conv", "add", "relu"}));
}

TEST(ResidualFusion, AddFoldsIntoMatrixMultiplyAndFullyConnected) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor a = net->addInput("a", DataType::kFLOAT, {2, 3, 4});
  Tensor r = net->addInput("r", DataType::kFLOAT, {2, 3, 5});
  const auto bw = randomFloats(4 * 5, 1);
  Tensor b = constantTensor(*net, {4, 5}, bw);
  auto mm = net->addMatrixMultiply(a, MatrixOperation::kNONE, b, MatrixOperation::kNONE);
  auto add = net->addElementWise(mm.output(0), r, ElementWiseOperation::kSUM);
  auto gelu = net->addActivation(add.output(0), ActivationType::kGELU_ERF);
  net->markOutput(gelu.output(0));
  Tensor v = net->addInput("v", DataType::kFLOAT, {3, 6});
  Tensor s = net->addInput("s", DataType::kFLOAT, {3, 2});
  const auto fw = randomFloats(2 * 6, 2);
  auto fc = net->addFullyConnected(v, 2, floatWeights(fw), Weights{});
  auto add2 = net->addElementWise(fc.output(0), s, ElementWiseOperation::kSUM);
  net->markOutput(add2.output(0));
  const auto run = expectSameWithPass(builder, *net,
                                      {randomTensor({2, 3, 4}, 5), randomTensor({2, 3, 5}, 6),
                                       randomTensor({3, 6}, 7), randomTensor({3, 2}, 8)},
                                      {"residual-fusion", "activation-fusion"});
  EXPECT_EQ(run.layers, 2);
  EXPECT_EQ(run.count("ElementWise"), 0);
}

TEST(ResidualFusion, KeepsTheAddWhenTheLayerAlreadyHasAnActivation) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {1, 2, 3, 3});
  const auto w = randomFloats(2 * 2, 1);
  auto conv = net->addConvolution(x, 2, Dims{1, 1}, floatWeights(w), Weights{});
  auto relu = net->addActivation(conv.output(0), ActivationType::kRELU);
  auto add = net->addElementWise(relu.output(0), x, ElementWiseOperation::kSUM);
  net->markOutput(add.output(0));
  const auto run = expectSameWithPass(builder, *net, {randomTensor({1, 2, 3, 3}, 5)},
                                      {"activation-fusion", "residual-fusion"});
  EXPECT_EQ(run.layers, 2);
  EXPECT_EQ(run.count("ElementWise"), 1);
}

}  // namespace
}  // namespace kiln::test
