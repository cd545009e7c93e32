// The runtime API: IO introspection, bindings, executeV2/enqueueV3, misuse, concurrent contexts.
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "support/test_util.h"

namespace kiln {
namespace {

using test::CapturingLogger;

// x -> sigmoid -> "y"; x -> relu -> "z".
std::unique_ptr<Engine> twoOutputEngine(CapturingLogger& logger) {
  Builder builder(logger);
  auto network = builder.createNetwork();
  auto x = network->addInput("x", DataType::kFLOAT, Dims{2, 5});
  auto sig = network->addActivation(x, ActivationType::kSIGMOID);
  auto relu = network->addActivation(x, ActivationType::kRELU);
  sig.output(0).setName("y");
  relu.output(0).setName("z");
  network->markOutput(sig.output(0));
  network->markOutput(relu.output(0));
  auto config = builder.createBuilderConfig();
  const auto plan = builder.buildSerializedNetwork(*network, *config);
  Runtime runtime(logger);
  return runtime.deserialize(plan);
}

TEST(Runtime, EngineDescribesItsIO) {
  CapturingLogger logger;
  auto engine = twoOutputEngine(logger);
  ASSERT_TRUE(engine) << logger.errors();
  ASSERT_EQ(engine->nbIOTensors(), 3);
  EXPECT_EQ(engine->ioTensorName(0), "x");
  EXPECT_EQ(engine->ioTensorName(1), "y");
  EXPECT_EQ(engine->ioTensorName(2), "z");
  EXPECT_EQ(engine->ioTensorName(3), "");
  EXPECT_EQ(engine->tensorIOMode("x"), TensorIOMode::kINPUT);
  EXPECT_EQ(engine->tensorIOMode("y"), TensorIOMode::kOUTPUT);
  EXPECT_EQ(engine->tensorIOMode("nope"), TensorIOMode::kNONE);
  EXPECT_EQ(engine->tensorShape("z"), (Dims{2, 5}));
  EXPECT_EQ(engine->tensorShape("nope").nbDims, -1);
  EXPECT_EQ(engine->tensorDataType("y"), DataType::kFLOAT);
  EXPECT_EQ(engine->deviceType(), DeviceType::kCPU);
  EXPECT_EQ(engine->nbLayers(), 2);
}

TEST(Runtime, ExecuteV2AndEnqueueV3AgreeWithMath) {
  CapturingLogger logger;
  auto engine = twoOutputEngine(logger);
  ASSERT_TRUE(engine);
  auto context = engine->createExecutionContext();
  ASSERT_TRUE(context);
  auto x = test::randomFloats(10, 11, -3.f, 3.f);
  std::vector<float> y(10), z(10);
  void* bindings[] = {x.data(), y.data(), z.data()};
  ASSERT_TRUE(context->executeV2(bindings)) << logger.errors();
  for (std::size_t i = 0; i < 10; ++i) {
    EXPECT_NEAR(y[i], 1.0 / (1.0 + std::exp(-x[i])), 1e-6);
    EXPECT_EQ(z[i], std::max(x[i], 0.f));
  }
  std::vector<float> y2(10), z2(10);
  ASSERT_TRUE(context->setInputTensorAddress("x", x.data()));
  ASSERT_TRUE(context->setTensorAddress("y", y2.data()));
  ASSERT_TRUE(context->setTensorAddress("z", z2.data()));
  EXPECT_EQ(context->tensorAddress("y"), y2.data());
  ASSERT_TRUE(context->enqueueV3());
  EXPECT_EQ(y, y2);
  EXPECT_EQ(z, z2);
  EXPECT_EQ(&context->engine(), engine.get());
}

TEST(Runtime, MisuseIsReportedNotFatal) {
  CapturingLogger logger;
  auto engine = twoOutputEngine(logger);
  ASSERT_TRUE(engine);
  auto context = engine->createExecutionContext();
  std::vector<float> buffer(10);
  EXPECT_FALSE(context->setTensorAddress("nope", buffer.data()));
  EXPECT_TRUE(logger.hasError("no input or output named 'nope'"));
  EXPECT_FALSE(context->setTensorAddress("x", nullptr));
  EXPECT_TRUE(logger.hasError("null address for 'x'"));
  EXPECT_FALSE(context->setInputTensorAddress("y", buffer.data()));
  EXPECT_TRUE(logger.hasError("'y' is an output"));
  EXPECT_FALSE(context->enqueueV3());
  EXPECT_TRUE(logger.hasError("no address is set for input 'x'"));
  void* tooFew[] = {buffer.data()};
  EXPECT_FALSE(context->executeV2(tooFew));
  EXPECT_TRUE(logger.hasError("got 1 bindings"));
}

TEST(Runtime, ContextsOnManyThreadsShareOneEngine) {
  CapturingLogger logger;
  auto engine = twoOutputEngine(logger);
  ASSERT_TRUE(engine);
  constexpr int kThreads = 4;
  constexpr int kRuns = 50;
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto context = engine->createExecutionContext();
      for (int r = 0; r < kRuns; ++r) {
        auto x = test::randomFloats(10, static_cast<uint32_t>(t * 1000 + r));
        std::vector<float> y(10), z(10);
        void* bindings[] = {x.data(), y.data(), z.data()};
        if (!context->executeV2(bindings)) {
          ++failures[static_cast<std::size_t>(t)];
          continue;
        }
        for (std::size_t i = 0; i < 10; ++i) {
          if (z[i] != std::max(x[i], 0.f)) ++failures[static_cast<std::size_t>(t)];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[static_cast<std::size_t>(t)], 0);
}

TEST(Runtime, GarbageIsRejectedWithOneLine) {
  CapturingLogger logger;
  Runtime runtime(logger);
  std::vector<std::byte> garbage(1000, std::byte{0x42});
  EXPECT_FALSE(runtime.deserialize(garbage));
  EXPECT_EQ(logger.errorCount(), 1);
  EXPECT_TRUE(logger.hasError("cannot load plan: not a kiln plan"));
}

}  // namespace
}  // namespace kiln
