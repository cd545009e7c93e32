// ModelLimits on plans: each cap refuses a plan over it, naming the cap, before anything is
// allocated from the sizes the plan gives; a plan within every cap loads.
#include <gtest/gtest.h>

#include "support/test_util.h"

namespace kiln {
namespace {

using test::CapturingLogger;

// x [4, 64] -> relu -> tanh -> y: two layers, 1 KiB tensors (pointwise fusion, which would
// make them one, is off).
std::vector<std::byte> smallPlan(CapturingLogger& logger) {
  Builder builder(logger);
  auto network = builder.createNetwork();
  auto x = network->addInput("x", DataType::kFLOAT, Dims{4, 64});
  auto relu = network->addActivation(x, ActivationType::kRELU);
  auto tanh = network->addActivation(relu.output(0), ActivationType::kTANH);
  tanh.output(0).setName("y");
  network->markOutput(tanh.output(0));
  auto config = builder.createBuilderConfig();
  config->setPassEnabled("pointwise-fusion", false);
  return builder.buildSerializedNetwork(*network, *config);
}

bool loads(const std::vector<std::byte>& plan, const ModelLimits& limits, CapturingLogger& logger) {
  Runtime runtime(logger);
  runtime.setModelLimits(limits);
  EXPECT_EQ(runtime.modelLimits().maxTensorBytes, limits.maxTensorBytes);
  return runtime.deserialize(plan) != nullptr;
}

TEST(PlanLimits, DefaultsAndExactCapsAdmitThePlan) {
  CapturingLogger logger;
  const auto plan = smallPlan(logger);
  ASSERT_FALSE(plan.empty()) << logger.errors();
  EXPECT_TRUE(loads(plan, {}, logger)) << logger.errors();
  ModelLimits exact;
  exact.maxModelBytes = plan.size();
  exact.maxTensorBytes = 4 * 64 * 4;
  exact.maxLayers = 2;
  EXPECT_TRUE(loads(plan, exact, logger)) << logger.errors();
}

TEST(PlanLimits, ModelBytes) {
  CapturingLogger logger;
  const auto plan = smallPlan(logger);
  ModelLimits limits;
  limits.maxModelBytes = plan.size() - 1;
  EXPECT_FALSE(loads(plan, limits, logger));
  EXPECT_TRUE(logger.hasError("more than the limit of " + std::to_string(plan.size() - 1) +
                              " (ModelLimits::maxModelBytes)"))
      << logger.errors();
}

TEST(PlanLimits, TensorBytesNameTheTensor) {
  CapturingLogger logger;
  const auto plan = smallPlan(logger);
  ModelLimits limits;
  limits.maxTensorBytes = 1023;
  EXPECT_FALSE(loads(plan, limits, logger));
  EXPECT_TRUE(
      logger.hasError("tensor 'x' (float32 4x64) needs 1024 bytes, more than the limit of "
                      "1023 (ModelLimits::maxTensorBytes)"))
      << logger.errors();
}

TEST(PlanLimits, Layers) {
  CapturingLogger logger;
  const auto plan = smallPlan(logger);
  ModelLimits limits;
  limits.maxLayers = 1;
  EXPECT_FALSE(loads(plan, limits, logger));
  EXPECT_TRUE(logger.hasError("the plan has 2 layers, more than the limit of 1"))
      << logger.errors();
}

}  // namespace
}  // namespace kiln
