// The timing cache: a build fills it, it survives serialization, a rebuild with the warm cache
// times nothing and picks the same tactics; bad bytes are refused; level 0 times nothing.
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "kiln/builder.h"
#include "support/test_util.h"

namespace kiln::test {
namespace {

// Counts verbose tactic timings ("takes") and cache hits.
class TimingLogger final : public Logger {
 public:
  void log(Severity severity, std::string_view message) noexcept override {
    std::lock_guard lock(mutex_);
    if (severity <= Severity::kERROR) ++errors;
    if (message.find(" takes ") != std::string_view::npos) ++timed;
    if (message.find("from the timing cache") != std::string_view::npos) ++hits;
  }
  void clear() {
    timed = 0;
    hits = 0;
    errors = 0;
  }
  int timed = 0;
  int hits = 0;
  int errors = 0;

 private:
  std::mutex mutex_;
};

struct Net {
  std::vector<float> convW = randomFloats(8 * 3 * 3 * 3, 1);
  std::vector<float> convB = randomFloats(8, 2);
  std::vector<float> fcW = randomFloats(10 * 8 * 6 * 6, 3);

  std::unique_ptr<NetworkDefinition> make(Builder& builder) {
    auto net = builder.createNetwork();
    Tensor x = net->addInput("x", DataType::kFLOAT, Dims{1, 3, 8, 8});
    auto conv = net->addConvolution(x, 8, Dims{3, 3}, floatWeights(convW), floatWeights(convB));
    auto relu = net->addActivation(conv.output(0), ActivationType::kRELU);
    auto fc = net->addFullyConnected(relu.output(0), 10, floatWeights(fcW), Weights{});
    net->markOutput(fc.output(0));
    return net;
  }
};

TEST(TimingCache, WarmRebuildTimesNothing) {
  TimingLogger logger;
  Builder builder(logger);
  Net n;
  auto config = builder.createBuilderConfig();
  auto cache = config->createTimingCache({});
  ASSERT_TRUE(cache);
  EXPECT_EQ(cache->size(), 0u);
  ASSERT_TRUE(config->setTimingCache(*cache, false));
  EXPECT_EQ(config->getTimingCache(), cache.get());

  auto net = n.make(builder);
  const auto cold = builder.buildSerializedNetwork(*net, *config);
  ASSERT_FALSE(cold.empty());
  EXPECT_GT(logger.timed, 0);
  EXPECT_GT(cache->size(), 0u);

  const auto bytes = cache->serialize();
  auto config2 = builder.createBuilderConfig();
  auto loaded = config2->createTimingCache(bytes);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->size(), cache->size());
  config2->setTimingCache(*loaded, false);
  logger.clear();
  auto net2 = n.make(builder);
  const auto warm = builder.buildSerializedNetwork(*net2, *config2);
  ASSERT_FALSE(warm.empty());
  EXPECT_EQ(logger.timed, 0);
  EXPECT_GT(logger.hits, 0);
  EXPECT_EQ(warm, cold);  // same tactics, same plan

  // combine() and reset().
  auto other = config2->createTimingCache({});
  ASSERT_TRUE(other->combine(*loaded, false));
  EXPECT_EQ(other->size(), loaded->size());
  ASSERT_TRUE(other->reset());
  EXPECT_EQ(other->size(), 0u);
}

TEST(TimingCache, RefusesBadBytes) {
  TimingLogger logger;
  Builder builder(logger);
  auto config = builder.createBuilderConfig();
  std::vector<std::byte> junk(40, std::byte{7});
  EXPECT_FALSE(config->createTimingCache(junk));
  EXPECT_GT(logger.errors, 0);

  auto cache = config->createTimingCache({});
  auto bytes = cache->serialize();
  bytes[bytes.size() / 2] ^= std::byte{1};
  logger.clear();
  EXPECT_FALSE(config->createTimingCache(bytes));
  EXPECT_GT(logger.errors, 0);
}

TEST(TimingCache, LevelZeroTimesNothing) {
  TimingLogger logger;
  Builder builder(logger);
  Net n;
  auto config = builder.createBuilderConfig();
  config->setBuilderOptimizationLevel(0);
  auto net = n.make(builder);
  EXPECT_FALSE(builder.buildSerializedNetwork(*net, *config).empty());
  EXPECT_EQ(logger.timed, 0);
}

}  // namespace
}  // namespace kiln::test
