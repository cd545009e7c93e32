// layernorm-fusion: the mean/variance pattern of exported LayerNorms becomes one LayerNorm node.
#include <gtest/gtest.h>

#include "builder/pass_test_util.h"

namespace kiln::test {
namespace {

Tensor binary(NetworkDefinition& net, Tensor a, Tensor b, ElementWiseOperation op) {
  return net.addElementWise(a, b, op).output(0);
}

// LayerNorm over the last @p axes dims of @p x, as ONNX exports it (d^2 by Pow when @p pow).
Tensor decomposedLayerNorm(NetworkDefinition& net, Tensor x, uint32_t mask, bool pow,
                           const std::vector<float>& gamma, const Dims& gammaDims,
                           const std::vector<float>& beta, const Dims& betaDims) {
  static const std::vector<float> two = {2.f}, eps = {1e-5f};
  const int32_t rank = x.dimensions().nbDims;
  Dims one;
  for (int32_t i = 0; i < rank; ++i) one[one.nbDims++] = 1;
  Tensor mean = net.addReduce(x, ReduceOperation::kAVG, mask, true).output(0);
  Tensor d = binary(net, x, mean, ElementWiseOperation::kSUB);
  Tensor sq = pow ? binary(net, d, constantTensor(net, one, two), ElementWiseOperation::kPOW)
                  : binary(net, d, d, ElementWiseOperation::kPROD);
  Tensor var = net.addReduce(sq, ReduceOperation::kAVG, mask, true).output(0);
  Tensor sd =
      net.addUnary(binary(net, var, constantTensor(net, one, eps), ElementWiseOperation::kSUM),
                   UnaryOperation::kSQRT)
          .output(0);
  Tensor y = binary(net, d, sd, ElementWiseOperation::kDIV);
  if (!gamma.empty()) {
    y = binary(net, y, constantTensor(net, gammaDims, gamma), ElementWiseOperation::kPROD);
  }
  if (!beta.empty()) {
    y = binary(net, constantTensor(net, betaDims, beta), y, ElementWiseOperation::kSUM);
  }
  return y;
}

TEST(LayerNormFusion, ExportedPatternBecomesOneNode) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {2, 3, 16});
  const auto gamma = randomFloats(16, 1), beta = randomFloats(16, 2);
  net->markOutput(decomposedLayerNorm(*net, x, 1u << 2, true, gamma, {16}, beta, {1, 1, 16}));
  const auto run = expectSameWithPass(builder, *net, {randomTensor({2, 3, 16}, 3, -2.f, 4.f)},
                                      {"layernorm-fusion"});
  ASSERT_EQ(run.layers, 1);
  EXPECT_EQ(run.ops[0], "LayerNorm");
  EXPECT_EQ(run.fusedFrom[0].size(), 9u);
}

TEST(LayerNormFusion, TwoAxesWithoutAffineAndWithBroadcastGamma) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {2, 3, 4, 5});
  net->markOutput(decomposedLayerNorm(*net, x, (1u << 2) | (1u << 3), false, {}, {}, {}, {}));
  const auto gamma = randomFloats(4, 1);
  net->markOutput(decomposedLayerNorm(*net, x, (1u << 2) | (1u << 3), true, gamma, {4, 1}, {}, {}));
  const auto run =
      expectSameWithPass(builder, *net, {randomTensor({2, 3, 4, 5}, 3)}, {"layernorm-fusion"});
  EXPECT_EQ(run.layers, 2);
  EXPECT_EQ(run.count("LayerNorm"), 2);
}

// Folding gamma in would broadcast it out to 2048 x 4096 floats (32 MiB), more than a pass may
// make: the LayerNorm is fused without it, and the multiplication stays a layer of its own (the
// ONNX fuzzer found the unbounded expansion).
TEST(LayerNormFusion, LeavesAffineConstantsTooLargeToExpand) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {1, 2048, 4096});
  const auto gamma = randomFloats(4096, 1);
  net->markOutput(decomposedLayerNorm(*net, x, (1u << 1) | (1u << 2), true, gamma, {4096}, {}, {}));
  auto config = builder.createBuilderConfig();
  config->setBuilderOptimizationLevel(0);
  const auto plan = builder.buildSerializedNetwork(*net, *config);
  ASSERT_FALSE(plan.empty()) << logger.errors();
  Runtime runtime(logger);
  const auto engine = runtime.deserialize(plan);
  ASSERT_NE(engine, nullptr) << logger.errors();
  const std::string layers = engine->engineInformation(LayerInformationFormat::kJSON);
  EXPECT_NE(layers.find("\"kind\":\"LayerNorm\""), std::string::npos) << layers;
  EXPECT_NE(layers.find("\"kind\":\"ElementWise\""), std::string::npos) << layers;
}

TEST(LayerNormFusion, LeavesAMeanOverLeadingAxes) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {4, 6});
  net->markOutput(decomposedLayerNorm(*net, x, 1u << 0, true, {}, {}, {}, {}));
  const auto run =
      expectSameWithPass(builder, *net, {randomTensor({4, 6}, 3)}, {"layernorm-fusion"});
  EXPECT_EQ(run.count("LayerNorm"), 0);
}

}  // namespace
}  // namespace kiln::test
