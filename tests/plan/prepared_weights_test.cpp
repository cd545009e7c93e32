// Prepared weights in the plan: a static CPU plan keeps the packed weights its kernels prepare
// and leaves out the constants they absorbed; the engine loaded from it packs nothing and
// computes what the same network computes with its weights given at run time. A plan whose
// prepared weights do not fit its kernels is refused, naming the layer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "plan/plan_io.h"
#include "support/test_util.h"

namespace kiln {
namespace {

using test::CapturingLogger;
using test::HostTensor;

constexpr int64_t kChannels = 8;
constexpr int64_t kOutputs = 16;
constexpr int64_t kSide = 6;
constexpr int64_t kRows = 3;
constexpr int64_t kDepth = 24;
constexpr int64_t kColumns = 10;

// A 3x3 convolution + ReLU, a 1x1 convolution, and a product with a constant matrix that an
// addition reads too (so it must stay in the plan). With @p runtimeWeights the convolutions'
// kernels are network inputs instead: nothing to prepare, the reference for the other.
struct Network {
  std::vector<float> w3 = test::randomFloats(kOutputs * kChannels * 9, 1);
  std::vector<float> b3 = test::randomFloats(kOutputs, 2);
  std::vector<float> w1 = test::randomFloats(kChannels * kOutputs, 3);
  std::vector<float> b1 = test::randomFloats(kChannels, 4);
  std::vector<float> m = test::randomFloats(kDepth * kColumns, 5);

  std::vector<std::byte> build(CapturingLogger& logger, bool runtimeWeights) const {
    Builder builder(logger);
    auto net = builder.createNetwork();
    auto x = net->addInput("x", DataType::kFLOAT, Dims{1, kChannels, kSide, kSide});
    auto conv3 = net->addConvolution(x, kOutputs, Dims{3, 3}, test::floatWeights(w3),
                                     test::floatWeights(b3));
    conv3.setPadding(Dims{1, 1});
    auto relu = net->addActivation(conv3.output(0), ActivationType::kRELU);
    auto conv1 = net->addConvolution(relu.output(0), kChannels, Dims{1, 1}, test::floatWeights(w1),
                                     test::floatWeights(b1));
    if (runtimeWeights) {
      conv3.setInput(1, net->addInput("w3", DataType::kFLOAT, Dims{kOutputs, kChannels, 3, 3}));
      conv1.setInput(1, net->addInput("w1", DataType::kFLOAT, Dims{kChannels, kOutputs, 1, 1}));
    }
    conv1.output(0).setName("y");
    net->markOutput(conv1.output(0));
    auto a = net->addInput("a", DataType::kFLOAT, Dims{kRows, kDepth});
    auto shared = net->addConstant(Dims{kDepth, kColumns}, test::floatWeights(m));
    auto product =
        net->addMatrixMultiply(a, MatrixOperation::kNONE, shared.output(0), MatrixOperation::kNONE);
    product.output(0).setName("p");
    net->markOutput(product.output(0));
    auto z = net->addInput("z", DataType::kFLOAT, Dims{kDepth, kColumns});
    auto sum = net->addElementWise(z, shared.output(0), ElementWiseOperation::kSUM);
    sum.output(0).setName("s");
    net->markOutput(sum.output(0));
    auto config = builder.createBuilderConfig();
    return builder.buildSerializedNetwork(*net, *config);
  }
};

struct Outputs {
  std::vector<float> y, p, s;
};

Outputs run(CapturingLogger& logger, std::span<const std::byte> plan, const Network& network) {
  Runtime runtime(logger);
  auto engine = runtime.deserialize(plan);
  if (!engine) return {};
  auto context = engine->createExecutionContext();
  HostTensor x = test::randomTensor(Dims{1, kChannels, kSide, kSide}, 11);
  HostTensor a = test::randomTensor(Dims{kRows, kDepth}, 12);
  HostTensor z = test::randomTensor(Dims{kDepth, kColumns}, 13);
  std::vector<float> w3 = network.w3, w1 = network.w1;
  Outputs out{std::vector<float>(kChannels * kSide * kSide), std::vector<float>(kRows * kColumns),
              std::vector<float>(kDepth * kColumns)};
  context->setTensorAddress("x", x.bytes.data());
  context->setTensorAddress("a", a.bytes.data());
  context->setTensorAddress("z", z.bytes.data());
  for (int32_t i = 0; i < engine->nbIOTensors(); ++i) {
    const std::string_view name = engine->ioTensorName(i);
    if (name == "w3") context->setTensorAddress("w3", w3.data());
    if (name == "w1") context->setTensorAddress("w1", w1.data());
  }
  context->setTensorAddress("y", out.y.data());
  context->setTensorAddress("p", out.p.data());
  context->setTensorAddress("s", out.s.data());
  if (!context->enqueueV3()) return {};
  return out;
}

TEST(PreparedWeights, PlanStoresThemAndLeavesAbsorbedConstantsOut) {
  CapturingLogger logger;
  const Network network;
  const auto bytes = network.build(logger, false);
  ASSERT_FALSE(bytes.empty()) << logger.errors();
  const plan::EnginePlan plan = plan::readPlan(bytes);
  ASSERT_EQ(plan.prepared.size(), plan.graph.nodes.size());
  std::size_t buffers = 0;
  for (const auto& node : plan.prepared) buffers += node.size();
  EXPECT_GT(buffers, 0u);

  int absorbed = 0;
  for (const auto& value : plan.graph.values) {
    if (!value.absorbed) continue;
    ++absorbed;
    EXPECT_TRUE(value.isConstant());
    EXPECT_TRUE(value.constant->empty()) << value.name << " keeps its bytes";
  }
  EXPECT_GT(absorbed, 0) << "no constant was absorbed";
  // The matrix the addition reads stays whole, whatever the product's kernel did with it.
  bool sharedKept = false;
  for (const auto& value : plan.graph.values) {
    sharedKept = sharedKept || (value.isConstant() && !value.absorbed &&
                                value.constant->size() == network.m.size() * sizeof(float));
  }
  EXPECT_TRUE(sharedKept);
}

TEST(PreparedWeights, LoadedEngineComputesWhatRuntimeWeightsDo) {
  CapturingLogger logger;
  const Network network;
  const auto prepared = network.build(logger, false);
  const auto reference = network.build(logger, true);
  ASSERT_FALSE(prepared.empty() || reference.empty()) << logger.errors();
  const Outputs got = run(logger, prepared, network);
  const Outputs want = run(logger, reference, network);
  ASSERT_FALSE(got.y.empty() || want.y.empty()) << logger.errors();
  test::expectClose(got.y, want.y, 1e-5, 1e-5, "y");
  test::expectClose(got.p, want.p, 1e-5, 1e-5, "p");
  test::expectClose(got.s, want.s, 0, 0, "s");
}

TEST(PreparedWeights, RoundTripIsBitExact) {
  CapturingLogger logger;
  const Network network;
  const auto bytes = network.build(logger, false);
  Runtime runtime(logger);
  auto engine = runtime.deserialize(bytes);
  ASSERT_TRUE(engine) << logger.errors();
  EXPECT_EQ(engine->serialize(), bytes);
}

void expectRejected(const plan::EnginePlan& plan, std::string_view expected) {
  CapturingLogger logger;
  Runtime runtime(logger);
  EXPECT_FALSE(runtime.deserialize(plan::writePlan(plan)));
  EXPECT_TRUE(logger.hasError(expected))
      << "expected an error containing '" << expected << "', got:\n"
      << logger.errors();
}

// A layer with prepared weights and an absorbed input: the hostile edits below aim at it.
std::size_t absorbingLayer(const plan::EnginePlan& plan) {
  for (std::size_t n = 0; n < plan.graph.nodes.size(); ++n) {
    const auto& inputs = plan.graph.nodes[n].inputs;
    const bool absorbs = std::any_of(inputs.begin(), inputs.end(), [&](ir::ValueId v) {
      return v != ir::kNoValue && plan.graph.value(v).absorbed;
    });
    if (absorbs && !plan.prepared[n].empty()) return n;
  }
  return plan.graph.nodes.size();
}

TEST(PreparedWeights, RejectsPreparedWeightsThatDoNotFit) {
  CapturingLogger logger;
  const Network network;
  const plan::EnginePlan plan = plan::readPlan(network.build(logger, false));
  const std::size_t n = absorbingLayer(plan);
  ASSERT_LT(n, plan.graph.nodes.size());
  const std::string layer = plan.graph.nodes[n].name;

  auto missing = plan;
  missing.prepared[n].clear();
  expectRejected(missing, "left out of the plan, but the plan stores no prepared weights");

  auto shorter = plan;
  const auto& first = *plan.prepared[n][0];
  auto cut = std::make_shared<AlignedBuffer>(first.size() - sizeof(float));
  std::memcpy(cut->data(), first.data(), cut->size());
  shorter.prepared[n][0] = cut;
  expectRejected(shorter, "layer '" + layer + "': prepared weight buffer #0 holds");

  auto extra = plan;
  extra.prepared[n].push_back(plan.prepared[n][0]);
  expectRejected(extra, "uses fewer");

  auto reference = plan;
  reference.tactics[n] = "cpu.reference";
  reference.prepared[n].clear();
  expectRejected(reference, "layer '" + layer + "'");

  auto none = plan;
  none.prepared.clear();
  expectRejected(none, "is left out, but the plan stores no prepared weights");
}

// Dynamic engines re-specialize their kernels at other shapes: they keep their weights whole.
TEST(PreparedWeights, DynamicEnginesStoreNone) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  auto x = net->addInput("x", DataType::kFLOAT, Dims{-1, kDepth});
  const std::vector<float> w = test::randomFloats(kDepth * kColumns, 9);
  auto constant = net->addConstant(Dims{kDepth, kColumns}, test::floatWeights(w));
  auto product =
      net->addMatrixMultiply(x, MatrixOperation::kNONE, constant.output(0), MatrixOperation::kNONE);
  product.output(0).setName("y");
  net->markOutput(product.output(0));
  auto config = builder.createBuilderConfig();
  auto* profile = builder.createOptimizationProfile();
  profile->setDimensions("x", OptProfileSelector::kMIN, Dims{1, kDepth});
  profile->setDimensions("x", OptProfileSelector::kOPT, Dims{4, kDepth});
  profile->setDimensions("x", OptProfileSelector::kMAX, Dims{8, kDepth});
  ASSERT_EQ(config->addOptimizationProfile(profile), 0);
  const auto bytes = builder.buildSerializedNetwork(*net, *config);
  ASSERT_FALSE(bytes.empty()) << logger.errors();
  const plan::EnginePlan plan = plan::readPlan(bytes);
  EXPECT_TRUE(plan.prepared.empty());
  for (const auto& value : plan.graph.values) EXPECT_FALSE(value.absorbed) << value.name;

  // A dynamic plan that leaves a constant out is refused before anything reads its bytes.
  auto hostile = plan;
  for (auto& value : hostile.graph.values) {
    if (!value.isConstant()) continue;
    value.absorbed = true;
    value.constant = std::make_shared<const std::vector<std::byte>>();
  }
  expectRejected(hostile, "is left out, but the plan stores no prepared weights");
}

}  // namespace
}  // namespace kiln
