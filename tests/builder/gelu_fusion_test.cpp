// gelu-fusion: GELU written out in elementary layers (erf and tanh forms) becomes one activation.
#include <gtest/gtest.h>

#include <cmath>

#include "builder/pass_test_util.h"

namespace kiln::test {
namespace {

const std::vector<float> kSqrt2 = {1.41421356f};
const std::vector<float> kOne = {1.f};
const std::vector<float> kHalf = {0.5f};
const std::vector<float> kThree = {3.f};
const std::vector<float> kCubic = {0.044715f};
const std::vector<float> kTanhScale = {0.7978845608f};

Tensor binary(NetworkDefinition& net, Tensor a, Tensor b, ElementWiseOperation op,
              const char* name) {
  auto layer = net.addElementWise(a, b, op);
  layer.setName(name);
  return layer.output(0);
}

TEST(GeluFusion, ErfFormBecomesOneActivation) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {2, 8});
  auto c = [&](const std::vector<float>& v) { return constantTensor(*net, {1, 1}, v); };
  Tensor t = binary(*net, x, c(kSqrt2), ElementWiseOperation::kDIV, "div");
  auto erf = net->addUnary(t, UnaryOperation::kERF);
  erf.setName("erf");
  t = binary(*net, erf.output(0), c(kOne), ElementWiseOperation::kSUM, "add");
  t = binary(*net, x, t, ElementWiseOperation::kPROD, "mul");
  t = binary(*net, t, c(kHalf), ElementWiseOperation::kPROD, "half");
  net->markOutput(t);
  const auto run =
      expectSameWithPass(builder, *net, {randomTensor({2, 8}, 1, -3.f, 3.f)}, {"gelu-fusion"});
  ASSERT_EQ(run.layers, 1);
  EXPECT_EQ(run.ops[0], "Activation");
  EXPECT_EQ(run.fusedFrom[0], (std::vector<std::string>{"div", "erf", "add", "mul", "half"}));
}

TEST(GeluFusion, TanhFormWithHalfFirstBecomesOneActivation) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {3, 5});
  auto c = [&](const std::vector<float>& v) { return constantTensor(*net, {1}, v); };
  Tensor cube = binary(*net, x, c(kThree), ElementWiseOperation::kPOW, "pow");
  Tensor t = binary(*net, c(kCubic), cube, ElementWiseOperation::kPROD, "cubic");
  t = binary(*net, x, t, ElementWiseOperation::kSUM, "inner");
  t = binary(*net, t, c(kTanhScale), ElementWiseOperation::kPROD, "scale");
  auto tanh = net->addActivation(t, ActivationType::kTANH);
  tanh.setName("tanh");
  t = binary(*net, tanh.output(0), c(kOne), ElementWiseOperation::kSUM, "one_plus");
  Tensor h = binary(*net, x, c(kHalf), ElementWiseOperation::kPROD, "half_x");
  t = binary(*net, t, h, ElementWiseOperation::kPROD, "out");
  net->markOutput(t);
  const auto run =
      expectSameWithPass(builder, *net, {randomTensor({3, 5}, 1, -3.f, 3.f)}, {"gelu-fusion"});
  ASSERT_EQ(run.layers, 1);
  EXPECT_EQ(run.ops[0], "Activation");
  EXPECT_EQ(run.fusedFrom[0].size(), 8u);
}

TEST(GeluFusion, LeavesAPatternWhoseIntermediateIsReadElsewhere) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {4});
  auto c = [&](const std::vector<float>& v) { return constantTensor(*net, {1}, v); };
  Tensor t = binary(*net, x, c(kSqrt2), ElementWiseOperation::kDIV, "div");
  auto erf = net->addUnary(t, UnaryOperation::kERF);
  net->markOutput(erf.output(0));
  t = binary(*net, erf.output(0), c(kOne), ElementWiseOperation::kSUM, "add");
  t = binary(*net, x, t, ElementWiseOperation::kPROD, "mul");
  t = binary(*net, t, c(kHalf), ElementWiseOperation::kPROD, "half");
  net->markOutput(t);
  const auto run = expectSameWithPass(builder, *net, {randomTensor({4}, 1)}, {"gelu-fusion"});
  EXPECT_EQ(run.count("Activation"), 0);
}

}  // namespace
}  // namespace kiln::test
