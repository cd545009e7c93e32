// attention-fusion: softmax(Q K^T * scale + mask) V becomes one Attention node.
#include <gtest/gtest.h>

#include "builder/pass_test_util.h"

namespace kiln::test {
namespace {

TEST(AttentionFusion, ScaledMaskedAttentionBecomesOneNode) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor q = net->addInput("q", DataType::kFLOAT, {2, 3, 5, 4});
  Tensor k = net->addInput("k", DataType::kFLOAT, {2, 3, 7, 4});
  Tensor v = net->addInput("v", DataType::kFLOAT, {2, 3, 7, 6});
  Tensor mask = net->addInput("mask", DataType::kFLOAT, {2, 1, 1, 7});
  auto qk = net->addMatrixMultiply(q, MatrixOperation::kNONE, k, MatrixOperation::kTRANSPOSE);
  qk.setName("qk");
  const std::vector<float> root = {2.f};
  auto scaled = net->addElementWise(qk.output(0), constantTensor(*net, {1, 1, 1, 1}, root),
                                    ElementWiseOperation::kDIV);
  auto masked = net->addElementWise(mask, scaled.output(0), ElementWiseOperation::kSUM);
  auto softmax = net->addSoftMax(masked.output(0));
  softmax.setAxis(3);
  auto pv =
      net->addMatrixMultiply(softmax.output(0), MatrixOperation::kNONE, v, MatrixOperation::kNONE);
  pv.setName("pv");
  net->markOutput(pv.output(0));
  const auto run =
      expectSameWithPass(builder, *net,
                         {randomTensor({2, 3, 5, 4}, 1), randomTensor({2, 3, 7, 4}, 2),
                          randomTensor({2, 3, 7, 6}, 3), randomTensor({2, 1, 1, 7}, 4, -3.f, 0.f)},
                         {"attention-fusion"});
  ASSERT_EQ(run.layers, 1);
  EXPECT_EQ(run.ops[0], "Attention");
  EXPECT_EQ(run.fusedFrom[0].front(), "qk");
  EXPECT_EQ(run.fusedFrom[0].back(), "pv");
}

TEST(AttentionFusion, UnscaledUnmaskedAttentionWithPretransposedKeys) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor q = net->addInput("q", DataType::kFLOAT, {3, 4});
  Tensor kt = net->addInput("kt", DataType::kFLOAT, {4, 6});
  Tensor v = net->addInput("v", DataType::kFLOAT, {6, 2});
  auto qk = net->addMatrixMultiply(q, MatrixOperation::kNONE, kt, MatrixOperation::kNONE);
  auto softmax = net->addSoftMax(qk.output(0));
  softmax.setAxis(-1);
  auto pv =
      net->addMatrixMultiply(softmax.output(0), MatrixOperation::kNONE, v, MatrixOperation::kNONE);
  net->markOutput(pv.output(0));
  const auto run = expectSameWithPass(
      builder, *net, {randomTensor({3, 4}, 1), randomTensor({4, 6}, 2), randomTensor({6, 2}, 3)},
      {"attention-fusion"});
  EXPECT_EQ(run.layers, 1);
}

TEST(AttentionFusion, LeavesSoftmaxOverAnotherAxis) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor q = net->addInput("q", DataType::kFLOAT, {3, 4});
  Tensor kt = net->addInput("kt", DataType::kFLOAT, {4, 3});
  Tensor v = net->addInput("v", DataType::kFLOAT, {3, 2});
  auto qk = net->addMatrixMultiply(q, MatrixOperation::kNONE, kt, MatrixOperation::kNONE);
  auto softmax = net->addSoftMax(qk.output(0));
  softmax.setAxis(0);
  auto pv =
      net->addMatrixMultiply(softmax.output(0), MatrixOperation::kNONE, v, MatrixOperation::kNONE);
  net->markOutput(pv.output(0));
  const auto run = expectSameWithPass(
      builder, *net, {randomTensor({3, 4}, 1), randomTensor({4, 3}, 2), randomTensor({3, 2}, 3)},
      {"attention-fusion"});
  EXPECT_EQ(run.layers, 3);
}

}  // namespace
}  // namespace kiln::test
