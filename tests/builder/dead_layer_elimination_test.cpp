// dead-layer-elimination: identities, same-shape reshapes and unread layers disappear; a network
// output stays written by a layer.
#include <gtest/gtest.h>

#include "builder/pass_test_util.h"

namespace kiln::test {
namespace {

const std::vector<std::string> kPass = {"dead-layer-elimination"};

TEST(DeadLayerElimination, RemovesIdentityAndSameShapeReshape) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {2, 3});
  auto id = net->addIdentity(x);
  auto reshape = net->addShuffle(id.output(0));
  reshape.setReshapeDimensions(Dims{2, 3});
  auto relu = net->addActivation(reshape.output(0), ActivationType::kRELU);
  relu.setName("relu");
  auto unused = net->addActivation(x, ActivationType::kTANH);  // read by nothing
  (void)unused;
  net->markOutput(relu.output(0));
  const auto run = expectSameWithPass(builder, *net, {randomTensor({2, 3}, 1)}, kPass);
  ASSERT_EQ(run.layers, 1);
  EXPECT_EQ(run.ops[0], "Activation");
}

TEST(DeadLayerElimination, IdentityThatIsAnOutputHandsItToItsProducer) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {4});
  auto relu = net->addActivation(x, ActivationType::kRELU);
  relu.setName("relu");
  auto id = net->addIdentity(relu.output(0));
  id.setName("dropout");
  id.output(0).setName("y");
  net->markOutput(id.output(0));
  const auto run = expectSameWithPass(builder, *net, {randomTensor({4}, 1)}, kPass);
  ASSERT_EQ(run.layers, 1);
  EXPECT_EQ(run.fusedFrom[0], (std::vector<std::string>{"relu", "dropout"}));
}

TEST(DeadLayerElimination, KeepsAnIdentityBetweenAnInputAndAnOutput) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {4});
  auto id = net->addIdentity(x);
  net->markOutput(id.output(0));
  const auto run = expectSameWithPass(builder, *net, {randomTensor({4}, 1)}, kPass);
  EXPECT_EQ(run.layers, 1);
}

TEST(DeadLayerElimination, KeepsCasts) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {4});
  auto cast = net->addCast(x, DataType::kINT32);
  auto back = net->addCast(cast.output(0), DataType::kFLOAT);
  net->markOutput(back.output(0));
  const auto run = expectSameWithPass(builder, *net, {randomTensor({4}, 1, -5.f, 5.f)}, kPass);
  EXPECT_EQ(run.layers, 2);
}

}  // namespace
}  // namespace kiln::test
