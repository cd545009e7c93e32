// The plan file: round trips are bit-exact, and every kind of bad plan is rejected with a
// one-line message that names the problem — never a crash.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "plan/byte_io.h"
#include "plan/plan_format.h"
#include "plan/plan_io.h"
#include "support/test_util.h"

namespace kiln {
namespace {

using test::CapturingLogger;
using test::HostTensor;

// A small network with weights, so the plan has every section: x -> scale-free activation chain.
struct SmallPlan {
  CapturingLogger logger;
  Builder builder{logger};
  std::vector<std::byte> plan;

  SmallPlan() {
    auto network = builder.createNetwork();
    auto x = network->addInput("x", DataType::kFLOAT, Dims{2, 3, 5});
    auto relu = network->addActivation(x, ActivationType::kLEAKY_RELU);
    relu.setAlpha(0.25f);
    auto tanh = network->addActivation(relu.output(0), ActivationType::kTANH);
    tanh.output(0).setName("y");
    network->markOutput(tanh.output(0));
    auto config = builder.createBuilderConfig();
    // Two layers and an intermediate in the arena, which the tests below corrupt.
    config->setPassEnabled("pointwise-fusion", false);
    plan = builder.buildSerializedNetwork(*network, *config);
  }
};

std::vector<float> runPlan(Logger& logger, std::span<const std::byte> plan, const HostTensor& x) {
  Runtime runtime(logger);
  auto engine = runtime.deserialize(plan);
  if (!engine) return {};
  auto context = engine->createExecutionContext();
  std::vector<float> y(static_cast<std::size_t>(x.count()));
  HostTensor in = x;
  context->setTensorAddress("x", in.bytes.data());
  context->setTensorAddress("y", y.data());
  if (!context->enqueueV3()) return {};
  return y;
}

TEST(PlanFile, RoundTripIsBitExact) {
  SmallPlan p;
  ASSERT_FALSE(p.plan.empty()) << p.logger.errors();
  const HostTensor x = test::randomTensor(Dims{2, 3, 5}, 7);
  const auto first = runPlan(p.logger, p.plan, x);
  ASSERT_EQ(first.size(), 30u);

  Runtime runtime(p.logger);
  auto engine = runtime.deserialize(p.plan);
  ASSERT_TRUE(engine);
  const auto again = engine->serialize();
  EXPECT_EQ(again, p.plan) << "serialize(deserialize(plan)) must reproduce the plan";
  const auto second = runPlan(p.logger, again, x);
  ASSERT_EQ(second.size(), first.size());
  EXPECT_EQ(std::memcmp(first.data(), second.data(), first.size() * sizeof(float)), 0);
  for (std::size_t i = 0; i < first.size(); ++i) {
    const float v = x.as<float>()[i];
    EXPECT_FLOAT_EQ(first[i], std::tanh(v >= 0 ? v : 0.25f * v));
  }
}

// Float32 shape-tensor values (kind 2 in the profiles section, doubles in the value slots)
// survive the round trip exactly.
TEST(PlanFile, FloatShapeTensorValuesRoundTrip) {
  CapturingLogger logger;
  Builder builder(logger);
  auto network = builder.createNetwork();
  auto x = network->addInput("x", DataType::kFLOAT, Dims{1, 3});
  auto scales = network->addInput("scales", DataType::kFLOAT, Dims{2});
  auto resize = network->addResize(x);
  resize.setInput(1, scales);
  resize.output(0).setName("y");
  network->markOutput(resize.output(0));
  auto config = builder.createBuilderConfig();
  OptimizationProfile* profile = builder.createOptimizationProfile();
  const std::array<float, 2> min{1, 0.1f}, opt{1, 1.7f}, max{2, 3.3f};
  profile->setShapeValues("scales", OptProfileSelector::kMIN, min);
  profile->setShapeValues("scales", OptProfileSelector::kOPT, opt);
  profile->setShapeValues("scales", OptProfileSelector::kMAX, max);
  ASSERT_EQ(config->addOptimizationProfile(profile), 0);
  const auto plan = builder.buildSerializedNetwork(*network, *config);
  ASSERT_FALSE(plan.empty()) << logger.errors();
  Runtime runtime(logger);
  auto engine = runtime.deserialize(plan);
  ASSERT_TRUE(engine) << logger.errors();
  EXPECT_EQ(engine->serialize(), plan);
  EXPECT_TRUE(engine->isShapeInferenceIO("scales"));
  auto context = engine->createExecutionContext();
  ASSERT_TRUE(context->setInputTensorAddress("scales", opt.data()));
  EXPECT_EQ(context->tensorShape("y"), (Dims{1, 5}));  // floor(3 * 1.7f)
}

TEST(PlanFile, PlanIsDeterministic) {
  SmallPlan a;
  SmallPlan b;
  EXPECT_EQ(a.plan, b.plan);
}

void expectRejected(std::span<const std::byte> plan, std::string_view expected) {
  CapturingLogger logger;
  Runtime runtime(logger);
  EXPECT_FALSE(runtime.deserialize(plan));
  EXPECT_TRUE(logger.hasError(expected))
      << "expected an error containing '" << expected << "', got:\n"
      << logger.errors();
  const std::string errors = logger.errors();
  EXPECT_EQ(std::count(errors.begin(), errors.end(), '\n'), 1) << "one line: " << errors;
}

TEST(PlanFile, RejectsEmptyAndTruncated) {
  SmallPlan p;
  expectRejected({}, "truncated plan");
  expectRejected(std::span(p.plan).first(10), "truncated plan");
  expectRejected(std::span(p.plan).first(p.plan.size() / 2), "truncated plan");
  expectRejected(std::span(p.plan).first(p.plan.size() - 1), "truncated plan");
}

TEST(PlanFile, RejectsWrongMagic) {
  SmallPlan p;
  auto bad = p.plan;
  bad[0] = std::byte{'X'};
  expectRejected(bad, "wrong magic");
  std::vector<std::byte> text(100, std::byte{'a'});
  expectRejected(text, "wrong magic");
}

TEST(PlanFile, RejectsTrailingBytes) {
  SmallPlan p;
  auto bad = p.plan;
  bad.push_back(std::byte{0});
  expectRejected(bad, "unexpected bytes");
}

TEST(PlanFile, RejectsNewerAndOlderVersions) {
  SmallPlan p;
  auto bad = p.plan;
  const uint32_t newer = plan::kFormatVersion + 1;
  std::memcpy(bad.data() + 8, &newer, 4);
  expectRejected(bad, "newer than this kiln");
  const uint32_t older = 0;
  std::memcpy(bad.data() + 8, &older, 4);
  expectRejected(bad, "older than this kiln");
}

TEST(PlanFile, RejectsFlippedBytesInEverySection) {
  SmallPlan p;
  uint32_t headerLength = 0;
  std::memcpy(&headerLength, p.plan.data() + 12, 4);
  // Header bytes after the fixed part, and bytes in the middle and at the end of the file.
  for (std::size_t at :
       {std::size_t{30}, std::size_t{headerLength - 3}, p.plan.size() / 2, p.plan.size() - 1}) {
    auto bad = p.plan;
    bad[at] ^= std::byte{0x5a};
    expectRejected(bad, "corrupted plan");
  }
}

TEST(PlanFile, EveryByteFlipIsRejected) {
  SmallPlan p;
  for (std::size_t at = 0; at < p.plan.size(); ++at) {
    auto bad = p.plan;
    bad[at] ^= std::byte{0xff};
    CapturingLogger quiet;
    Runtime runtime(quiet);
    EXPECT_FALSE(runtime.deserialize(bad)) << "flipping byte " << at << " went unnoticed";
    EXPECT_EQ(quiet.errorCount(), 1) << "byte " << at;
  }
}

TEST(PlanFile, RejectsOtherTargets) {
  SmallPlan p;
  auto loaded = plan::readPlan(p.plan);

  auto gpu = loaded;
  gpu.target.device = DeviceType::kGPU;
  gpu.target.deviceName = "NVIDIA H100 80GB HBM3";
  gpu.target.computeCapability = 90;
  expectRejected(plan::writePlan(gpu), "targets GPU 'NVIDIA H100 80GB HBM3'");

  auto isa = loaded;
  isa.target.requiredIsa = {"avx9000"};
  expectRejected(plan::writePlan(isa), "lacks avx9000");
}

TEST(PlanFile, RejectsInconsistentGraphEvenWithValidChecksums) {
  SmallPlan p;
  auto loaded = plan::readPlan(p.plan);
  // A shape that does not follow from the layers: a hostile plan with correct checksums.
  auto wrongShape = loaded;
  wrongShape.graph.values[wrongShape.graph.outputs[0]].dims = Dims{2, 3, 500};
  expectRejected(plan::writePlan(wrongShape), "is stored as");

  auto unknownTactic = loaded;
  unknownTactic.tactics[0] = "cpu.imaginary";
  expectRejected(plan::writePlan(unknownTactic), "cpu.imaginary");

  auto badArena = loaded;
  badArena.memory.arenaBytes = 4;
  expectRejected(plan::writePlan(badArena), "does not fit in the arena");
}

}  // namespace
}  // namespace kiln
