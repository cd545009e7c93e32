// resnet18 of the reference models (KILN_MODELS_DIR; skipped when unset) on 4 threads x 100
// inferences, each thread on its own context of one engine and its own inputs, every output
// equal to a single-threaded run (issue #7). Label models: minutes under the sanitizers.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "kiln/parsers/onnx.h"
#include "support/test_util.h"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;

constexpr int kThreads = 4;
constexpr int kRuns = 100;
constexpr int kInputsPerThread = 4;  // distinct inputs, cycled, so the reference run stays short

TEST(ConcurrentContextsModels, Resnet18FourThreadsMatchOneThread) {
  const char* dir = std::getenv("KILN_MODELS_DIR");
  if (dir == nullptr || *dir == '\0') GTEST_SKIP() << "KILN_MODELS_DIR is not set";
  const fs::path model = fs::path(dir) / "resnet18.onnx";
  if (!fs::exists(model)) GTEST_SKIP() << model << " is absent";

  CapturingLogger logger;
  std::vector<std::byte> plan;
  {
    Builder builder(logger);
    auto network = builder.createNetwork();
    parsers::OnnxParser parser(*network, logger);
    ASSERT_TRUE(parser.parseFromFile(model)) << logger.errors();
    auto config = builder.createBuilderConfig();
    plan = builder.buildSerializedNetwork(*network, *config);
  }
  ASSERT_FALSE(plan.empty()) << logger.errors();
  Runtime runtime(logger);
  const auto engine = runtime.deserialize(plan);
  ASSERT_TRUE(engine) << logger.errors();
  ASSERT_EQ(engine->nbIOTensors(), 2);
  const auto input = std::string(engine->ioTensorName(0));
  const auto output = std::string(engine->ioTensorName(1));
  const auto inputCount = volume(engine->tensorShape(input));
  const auto outputCount = static_cast<std::size_t>(volume(engine->tensorShape(output)));

  std::vector<std::vector<float>> inputs;
  std::vector<std::vector<float>> expected;
  {
    auto context = engine->createExecutionContext();
    ASSERT_TRUE(context);
    for (int i = 0; i < kThreads * kInputsPerThread; ++i) {
      inputs.push_back(randomFloats(inputCount, static_cast<uint32_t>(100 + i), -2.f, 2.f));
      std::vector<float> y(outputCount);
      void* bindings[] = {inputs.back().data(), y.data()};
      ASSERT_TRUE(context->executeV2(bindings)) << logger.errors();
      expected.push_back(std::move(y));
    }
  }

  std::vector<int> bad(kThreads, 0);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto context = engine->createExecutionContext();
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      std::vector<float> x;
      std::vector<float> y(outputCount);
      for (int r = 0; r < kRuns; ++r) {
        const auto i = static_cast<std::size_t>(t * kInputsPerThread + r % kInputsPerThread);
        x = inputs[i];  // bindings take non-const pointers
        void* bindings[] = {x.data(), y.data()};
        if (!context || !context->executeV2(bindings) ||
            std::memcmp(y.data(), expected[i].data(), outputCount * sizeof(float)) != 0) {
          ++bad[static_cast<std::size_t>(t)];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(bad[static_cast<std::size_t>(t)], 0) << "thread " << t << ": " << logger.errors();
  }
}

}  // namespace
}  // namespace kiln::test
