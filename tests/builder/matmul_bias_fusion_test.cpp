// matmul-bias: a Linear layer's bias add (MatMul with constant weights, then Add of a constant
// that varies along the last dimension only) folded into the MatrixMultiply's epilogue, and the
// GELU / residual after it folding in too; outputs equal to the unfused network's.
#include <gtest/gtest.h>

#include "builder/pass_test_util.h"

namespace kiln::test {
namespace {

const std::vector<float> kSqrt2 = {1.41421356f};
const std::vector<float> kOne = {1.f};
const std::vector<float> kHalf = {0.5f};

struct Linear {
  Tensor product;
  Tensor out;
};

// x [2, 3, 8] times a constant [8, 5], plus @p bias (of @p biasDims) on the side @p biasFirst.
Linear linear(NetworkDefinition& net, Tensor x, const std::vector<float>& w,
              const std::vector<float>& bias, const Dims& biasDims, bool biasFirst) {
  Tensor wt = constantTensor(net, {8, 5}, w);
  auto mm = net.addMatrixMultiply(x, MatrixOperation::kNONE, wt, MatrixOperation::kNONE);
  mm.setName("mm");
  Tensor b = constantTensor(net, biasDims, bias);
  auto add = biasFirst ? net.addElementWise(b, mm.output(0), ElementWiseOperation::kSUM)
                       : net.addElementWise(mm.output(0), b, ElementWiseOperation::kSUM);
  add.setName("add");
  return {mm.output(0), add.output(0)};
}

const std::vector<float> kW = randomFloats(8 * 5, 1);
const std::vector<float> kBias = randomFloats(5, 2);

TEST(MatMulBiasFusion, BiasAddEitherOrderFoldsIn) {
  const Dims biasShapes[] = {Dims{5}, Dims{1, 5}, Dims{1, 1, 5}};
  for (const bool biasFirst : {true, false}) {
    for (const Dims& dims : biasShapes) {
      CapturingLogger logger;
      Builder builder(logger);
      auto net = builder.createNetwork();
      Tensor x = net->addInput("x", DataType::kFLOAT, {2, 3, 8});
      net->markOutput(linear(*net, x, kW, kBias, dims, biasFirst).out);
      const auto run =
          expectSameWithPass(builder, *net, {randomTensor({2, 3, 8}, 5)}, {"matmul-bias"});
      ASSERT_EQ(run.layers, 1) << toString(dims) << (biasFirst ? " bias first" : " bias second");
      EXPECT_EQ(run.ops[0], "MatrixMultiply");
      EXPECT_EQ(run.fusedFrom[0], (std::vector<std::string>{"mm", "add"}));
    }
  }
}

TEST(MatMulBiasFusion, ScalarConstantIsABiasToo) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {2, 3, 8});
  const std::vector<float> scalar = {0.75f};
  net->markOutput(linear(*net, x, kW, scalar, Dims{1}, false).out);
  const auto run = expectSameWithPass(builder, *net, {randomTensor({2, 3, 8}, 5)}, {"matmul-bias"});
  EXPECT_EQ(run.layers, 1);
}

TEST(MatMulBiasFusion, SharedProductIsNotFused) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {2, 3, 8});
  const Linear l = linear(*net, x, kW, kBias, Dims{5}, false);
  net->markOutput(l.out);
  auto relu = net->addActivation(l.product, ActivationType::kRELU);
  net->markOutput(relu.output(0));
  const auto run = expectSameWithPass(builder, *net, {randomTensor({2, 3, 8}, 5)}, {"matmul-bias"});
  EXPECT_EQ(run.count("ElementWise"), 1);
}

TEST(MatMulBiasFusion, AddThatIsNotALastDimBroadcastIsNotFused) {
  // A constant of the output's whole shape, one varying along M, and one that widens the output.
  const std::vector<float> full = randomFloats(2 * 3 * 5, 3);
  const std::vector<float> perRow = randomFloats(3, 4);
  const std::vector<float> wider = randomFloats(4 * 5, 6);
  const struct {
    const std::vector<float>* values;
    Dims dims;
  } cases[] = {{&full, Dims{2, 3, 5}}, {&perRow, Dims{3, 1}}, {&wider, Dims{4, 1, 1, 5}}};
  for (const auto& c : cases) {
    CapturingLogger logger;
    Builder builder(logger);
    auto net = builder.createNetwork();
    Tensor x = net->addInput("x", DataType::kFLOAT, {2, 3, 8});
    net->markOutput(linear(*net, x, kW, *c.values, c.dims, false).out);
    const auto run =
        expectSameWithPass(builder, *net, {randomTensor({2, 3, 8}, 5)}, {"matmul-bias"});
    EXPECT_EQ(run.count("ElementWise"), 1) << toString(c.dims);
  }
}

TEST(MatMulBiasFusion, ProductOfTwoActivationsIsNotFused) {
  // Q·K^T then a constant add: left for attention-fusion.
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor q = net->addInput("q", DataType::kFLOAT, {2, 4, 8});
  Tensor k = net->addInput("k", DataType::kFLOAT, {2, 8, 5});
  auto mm = net->addMatrixMultiply(q, MatrixOperation::kNONE, k, MatrixOperation::kNONE);
  auto add = net->addElementWise(mm.output(0), constantTensor(*net, {5}, kBias),
                                 ElementWiseOperation::kSUM);
  net->markOutput(add.output(0));
  const auto run = expectSameWithPass(
      builder, *net, {randomTensor({2, 4, 8}, 5), randomTensor({2, 8, 5}, 6)}, {"matmul-bias"});
  EXPECT_EQ(run.count("ElementWise"), 1);
}

TEST(MatMulBiasFusion, ErfGeluAfterTheBiasFoldsInWithAllPasses) {
  // BERT's intermediate layer: x·W + b, then GELU written out with erf.
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {2, 3, 8});
  const Tensor h = linear(*net, x, kW, kBias, Dims{5}, true).out;
  auto c = [&](const std::vector<float>& v) { return constantTensor(*net, {1}, v); };
  Tensor t = net->addElementWise(h, c(kSqrt2), ElementWiseOperation::kDIV).output(0);
  t = net->addUnary(t, UnaryOperation::kERF).output(0);
  t = net->addElementWise(t, c(kOne), ElementWiseOperation::kSUM).output(0);
  t = net->addElementWise(h, t, ElementWiseOperation::kPROD).output(0);
  t = net->addElementWise(t, c(kHalf), ElementWiseOperation::kPROD).output(0);
  net->markOutput(t);
  const auto run =
      expectSameWithPass(builder, *net, {randomTensor({2, 3, 8}, 5, -2.f, 2.f)}, kAllPasses);
  ASSERT_EQ(run.layers, 1);
  EXPECT_EQ(run.ops[0], "MatrixMultiply");
}

TEST(MatMulBiasFusion, BiasThenResidualThenActivation) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {2, 3, 8});
  Tensor r = net->addInput("r", DataType::kFLOAT, {2, 3, 5});
  const Tensor h = linear(*net, x, kW, kBias, Dims{1, 5}, false).out;
  auto add = net->addElementWise(r, h, ElementWiseOperation::kSUM);
  add.setName("residual");
  auto relu = net->addActivation(add.output(0), ActivationType::kRELU);
  relu.setName("relu");
  net->markOutput(relu.output(0));
  const auto run =
      expectSameWithPass(builder, *net, {randomTensor({2, 3, 8}, 5), randomTensor({2, 3, 5}, 6)},
                         {"matmul-bias", "residual-fusion", "activation-fusion"});
  ASSERT_EQ(run.layers, 1);
  EXPECT_EQ(run.fusedFrom[0], (std::vector<std::string>{"mm", "add", "residual", "relu"}));
}

TEST(MatMulBiasFusion, BiasAfterTheResidualAddFoldsInToo) {
  // x·W + r + b: residual-fusion takes the first add, matmul-bias the second (next round).
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {2, 3, 8});
  Tensor r = net->addInput("r", DataType::kFLOAT, {2, 3, 5});
  auto mm = net->addMatrixMultiply(x, MatrixOperation::kNONE, constantTensor(*net, {8, 5}, kW),
                                   MatrixOperation::kNONE);
  auto add = net->addElementWise(mm.output(0), r, ElementWiseOperation::kSUM);
  auto bias = net->addElementWise(constantTensor(*net, {5}, kBias), add.output(0),
                                  ElementWiseOperation::kSUM);
  net->markOutput(bias.output(0));
  const auto run =
      expectSameWithPass(builder, *net, {randomTensor({2, 3, 8}, 5), randomTensor({2, 3, 5}, 6)},
                         {"matmul-bias", "residual-fusion"});
  EXPECT_EQ(run.layers, 1);
}

}  // namespace
}  // namespace kiln::test
