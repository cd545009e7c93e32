// Dynamic shapes: optimization profiles, setInputShape, shape-tensor inputs, several profiles
// per engine, the memory API (deviceMemorySizeForProfile, user memory, an Allocator).
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <set>

#include "support/test_util.h"

namespace kiln {
namespace {

using test::CapturingLogger;
using test::HostTensor;

constexpr int64_t kChannels = 3;
constexpr int64_t kFeatures = 4;

// x [N, 3, H, W] -> conv 3x3 pad 1 (4 maps) -> relu -> global average pool -> "y" [N, 4, 1, 1].
struct ConvNet {
  std::vector<float> kernel = test::randomFloats(kFeatures * kChannels * 9, 5);
  std::vector<float> bias = test::randomFloats(kFeatures, 6);

  void define(NetworkDefinition& network, const Dims& input) const {
    auto x = network.addInput("x", DataType::kFLOAT, input);
    auto conv = network.addConvolution(x, kFeatures, Dims{3, 3}, test::floatWeights(kernel),
                                       test::floatWeights(bias));
    conv.setPadding(Dims{1, 1});
    auto relu = network.addActivation(conv.output(0), ActivationType::kRELU);
    auto pool = network.addReduce(relu.output(0), ReduceOperation::kAVG, 0b1100, true);
    pool.output(0).setName("y");
    network.markOutput(pool.output(0));
  }
};

// The reference: the same network built for exactly @p dims.
std::vector<float> staticResult(const ConvNet& net, const HostTensor& x) {
  test::NetworkFixture fixture;
  net.define(fixture.net(), x.dims);
  const auto outputs = fixture.run({x});
  return outputs.empty() ? std::vector<float>{} : outputs[0].floats();
}

OptimizationProfile* batchProfile(Builder& builder, int64_t min, int64_t opt, int64_t max,
                                  int64_t size = 8) {
  OptimizationProfile* profile = builder.createOptimizationProfile();
  profile->setDimensions("x", OptProfileSelector::kMIN, Dims{min, kChannels, size, size});
  profile->setDimensions("x", OptProfileSelector::kOPT, Dims{opt, kChannels, size, size});
  profile->setDimensions("x", OptProfileSelector::kMAX, Dims{max, kChannels, size, size});
  return profile;
}

// Builds the network with a dynamic batch and @p profiles, through a plan round trip.
std::unique_ptr<Engine> dynamicEngine(CapturingLogger& logger, const ConvNet& net,
                                      const std::vector<std::array<int64_t, 3>>& profiles,
                                      Runtime& runtime) {
  Builder builder(logger);
  auto network = builder.createNetwork();
  net.define(*network, Dims{-1, kChannels, 8, 8});
  auto config = builder.createBuilderConfig();
  config->setBuilderOptimizationLevel(0);
  for (const auto& [min, opt, max] : profiles) {
    if (config->addOptimizationProfile(batchProfile(builder, min, opt, max)) < 0) return nullptr;
  }
  const auto plan = builder.buildSerializedNetwork(*network, *config);
  if (plan.empty()) return nullptr;
  return runtime.deserialize(plan);
}

std::vector<float> run(ExecutionContext& context, const HostTensor& x) {
  EXPECT_TRUE(context.setInputShape("x", x.dims));
  const Dims yShape = context.tensorShape("y");
  EXPECT_EQ(yShape, (Dims{x.dims[0], kFeatures, 1, 1}));
  std::vector<float> y(static_cast<std::size_t>(std::max<int64_t>(volume(yShape), 0)));
  EXPECT_TRUE(context.setInputTensorAddress("x", x.bytes.data()));
  EXPECT_TRUE(context.setTensorAddress("y", y.data()));
  EXPECT_TRUE(context.enqueueV3());
  return y;
}

TEST(DynamicShapes, OneEngineRunsEveryBatchOfItsProfile) {
  CapturingLogger logger;
  Runtime runtime(logger);
  const ConvNet net;
  auto engine = dynamicEngine(logger, net, {{1, 4, 16}}, runtime);
  ASSERT_TRUE(engine) << logger.errors();
  EXPECT_EQ(engine->nbOptimizationProfiles(), 1);
  EXPECT_EQ(engine->tensorShape("x"), (Dims{-1, kChannels, 8, 8}));
  EXPECT_EQ(engine->tensorShape("y"), (Dims{-1, kFeatures, 1, 1}));
  EXPECT_EQ(engine->profileShape("x", 0, OptProfileSelector::kMAX), (Dims{16, kChannels, 8, 8}));
  auto context = engine->createExecutionContext();
  ASSERT_TRUE(context);
  EXPECT_FALSE(context->allInputDimensionsSpecified());
  for (int64_t batch : {1, 3, 16, 3}) {
    const HostTensor x = test::randomTensor(Dims{batch, kChannels, 8, 8}, 100 + batch);
    test::expectClose(run(*context, x), staticResult(net, x), 1e-5, 1e-4,
                      "batch " + std::to_string(batch));
  }
  EXPECT_TRUE(context->allInputDimensionsSpecified());
  EXPECT_EQ(logger.errorCount(), 0) << logger.errors();
}

TEST(DynamicShapes, AShapeOutsideTheProfileIsNamed) {
  CapturingLogger logger;
  Runtime runtime(logger);
  auto engine = dynamicEngine(logger, ConvNet{}, {{1, 4, 16}}, runtime);
  ASSERT_TRUE(engine) << logger.errors();
  auto context = engine->createExecutionContext();
  EXPECT_FALSE(context->setInputShape("x", Dims{17, kChannels, 8, 8}));
  EXPECT_TRUE(logger.hasError(
      "input 'x': shape 17x3x8x8 is outside optimization profile 0 (min 1x3x8x8, max 16x3x8x8)"))
      << logger.errors();
  EXPECT_FALSE(context->setInputShape("x", Dims{2, kChannels, 9, 8}));
  EXPECT_FALSE(context->setInputShape("x", Dims{2, kChannels, 8}));
  EXPECT_FALSE(context->setInputShape("y", Dims{2, kFeatures, 1, 1}));
  // Running with no shape set says which input lacks one.
  std::vector<float> x(16 * kChannels * 64), y(16 * kFeatures);
  context->setTensorAddress("x", x.data());
  context->setTensorAddress("y", y.data());
  logger.clear();
  EXPECT_FALSE(context->enqueueV3());
  EXPECT_TRUE(logger.hasError("input 'x' has no shape: call setInputShape")) << logger.errors();
}

TEST(DynamicShapes, SecondProfileInTheSameEngine) {
  CapturingLogger logger;
  Runtime runtime(logger);
  const ConvNet net;
  auto engine = dynamicEngine(logger, net, {{1, 4, 16}, {32, 32, 64}}, runtime);
  ASSERT_TRUE(engine) << logger.errors();
  ASSERT_EQ(engine->nbOptimizationProfiles(), 2);
  EXPECT_EQ(engine->profileShape("x", 1, OptProfileSelector::kMIN), (Dims{32, kChannels, 8, 8}));
  EXPECT_GT(engine->deviceMemorySizeForProfile(1), engine->deviceMemorySizeForProfile(0));
  EXPECT_EQ(engine->deviceMemorySize(), engine->deviceMemorySizeForProfile(1));
  auto context = engine->createExecutionContext();
  EXPECT_FALSE(context->setInputShape("x", Dims{40, kChannels, 8, 8}));  // profile 0
  ASSERT_TRUE(context->setOptimizationProfile(1));
  EXPECT_EQ(context->optimizationProfile(), 1);
  EXPECT_FALSE(context->setOptimizationProfile(2));
  const HostTensor x = test::randomTensor(Dims{40, kChannels, 8, 8}, 7);
  test::expectClose(run(*context, x), staticResult(net, x));
  EXPECT_FALSE(context->setInputShape("x", Dims{16, kChannels, 8, 8}));
}

TEST(DynamicShapes, ADynamicInputNeedsAProfile) {
  CapturingLogger logger;
  Builder builder(logger);
  auto network = builder.createNetwork();
  ConvNet{}.define(*network, Dims{-1, kChannels, 8, 8});
  auto config = builder.createBuilderConfig();
  EXPECT_TRUE(builder.buildSerializedNetwork(*network, *config).empty());
  EXPECT_TRUE(
      logger.hasError("input 'x' has shape -1x3x8x8: dimensions of -1 need an "
                      "optimization profile"))
      << logger.errors();

  // A profile must keep the fixed extents and give all three shapes in order.
  logger.clear();
  OptimizationProfile* wrong = batchProfile(builder, 1, 2, 4, 9);
  ASSERT_EQ(config->addOptimizationProfile(wrong), 0);
  EXPECT_TRUE(builder.buildSerializedNetwork(*network, *config).empty());
  EXPECT_TRUE(
      logger.hasError("optimization profile 0, input 'x': min shape 1x3x9x9 does not keep "
                      "the fixed extent 8 of dimension 2"))
      << logger.errors();
  OptimizationProfile* unordered = batchProfile(builder, 4, 2, 8);
  EXPECT_FALSE(unordered->isValid());
  EXPECT_EQ(config->addOptimizationProfile(unordered), -1);
  EXPECT_TRUE(logger.hasError("need min <= opt <= max")) << logger.errors();
  EXPECT_EQ(config->addOptimizationProfile(nullptr), -1);
}

// Reshape whose target shape is a network input: a shape tensor, its values given per profile.
TEST(DynamicShapes, ShapeTensorInputDecidesAReshape) {
  CapturingLogger logger;
  Builder builder(logger);
  auto network = builder.createNetwork();
  auto data = network->addInput("data", DataType::kFLOAT, Dims{2, 3, 4});
  auto shape = network->addInput("shape", DataType::kINT32, Dims{2});
  auto shuffle = network->addShuffle(data);
  shuffle.setInput(1, shape);
  shuffle.output(0).setName("out");
  network->markOutput(shuffle.output(0));
  auto config = builder.createBuilderConfig();
  OptimizationProfile* profile = builder.createOptimizationProfile();
  const std::array<int64_t, 2> min{1, 1}, opt{6, 4}, max{24, 24};
  profile->setShapeValues("shape", OptProfileSelector::kMIN, min);
  profile->setShapeValues("shape", OptProfileSelector::kOPT, opt);
  profile->setShapeValues("shape", OptProfileSelector::kMAX, max);
  ASSERT_EQ(config->addOptimizationProfile(profile), 0);
  const auto plan = builder.buildSerializedNetwork(*network, *config);
  ASSERT_FALSE(plan.empty()) << logger.errors();
  Runtime runtime(logger);
  auto engine = runtime.deserialize(plan);
  ASSERT_TRUE(engine) << logger.errors();
  EXPECT_TRUE(engine->isShapeInferenceIO("shape"));
  EXPECT_FALSE(engine->isShapeInferenceIO("data"));
  EXPECT_EQ(engine->profileTensorValues("shape", 0, OptProfileSelector::kMAX),
            (std::vector<int64_t>{24, 24}));

  auto context = engine->createExecutionContext();
  const auto values = test::randomFloats(24, 3);
  for (const std::array<int32_t, 2>& target :
       {std::array<int32_t, 2>{6, 4}, {12, 2}, {3, 8}, {24, 1}}) {
    ASSERT_TRUE(context->setInputTensorAddress("shape", target.data()));
    EXPECT_EQ(context->tensorShape("out"), (Dims{target[0], target[1]}));
    std::vector<float> out(24);
    context->setInputTensorAddress("data", values.data());
    context->setTensorAddress("out", out.data());
    ASSERT_TRUE(context->enqueueV3()) << logger.errors();
    EXPECT_EQ(out, values);
  }
  // Values outside the profile, or that do not fit the data, are named.
  const std::array<int32_t, 2> tooBig{25, 1};
  context->setInputTensorAddress("shape", tooBig.data());
  EXPECT_FALSE(context->enqueueV3());
  EXPECT_TRUE(
      logger.hasError("shape-tensor input 'shape': values [25,1] are outside "
                      "optimization profile 0 (min [1,1], max [24,24])"))
      << logger.errors();
  const std::array<int32_t, 2> wrongCount{5, 5};
  context->setInputTensorAddress("shape", wrongCount.data());
  EXPECT_FALSE(context->enqueueV3());
  EXPECT_TRUE(logger.hasError("the engine does not run at shape:[5,5]")) << logger.errors();
}

// Resize whose scales are a float32 network input: a float shape tensor (a kiln extension), its
// values given per profile, kept by the plan and read by the context on the host.
TEST(DynamicShapes, FloatShapeTensorInputDecidesAResize) {
  CapturingLogger logger;
  Builder builder(logger);
  auto network = builder.createNetwork();
  auto data = network->addInput("data", DataType::kFLOAT, Dims{1, 2});
  auto scales = network->addInput("scales", DataType::kFLOAT, Dims{2});
  auto resize = network->addResize(data);
  resize.setInput(1, scales);
  resize.output(0).setName("out");
  network->markOutput(resize.output(0));
  EXPECT_TRUE(scales.isShapeTensor());
  auto config = builder.createBuilderConfig();
  OptimizationProfile* profile = builder.createOptimizationProfile();
  const std::array<float, 2> min{1, 1}, opt{1, 2}, max{2, 4};
  profile->setShapeValues("scales", OptProfileSelector::kMIN, min);
  profile->setShapeValues("scales", OptProfileSelector::kOPT, opt);
  profile->setShapeValues("scales", OptProfileSelector::kMAX, max);
  EXPECT_EQ(profile->getFloatShapeValues("scales", OptProfileSelector::kMAX),
            (std::vector<float>{2, 4}));
  EXPECT_TRUE(profile->getShapeValues("scales", OptProfileSelector::kMAX).empty());
  ASSERT_EQ(config->addOptimizationProfile(profile), 0);
  const auto plan = builder.buildSerializedNetwork(*network, *config);
  ASSERT_FALSE(plan.empty()) << logger.errors();
  Runtime runtime(logger);
  auto engine = runtime.deserialize(plan);
  ASSERT_TRUE(engine) << logger.errors();
  EXPECT_TRUE(engine->isShapeInferenceIO("scales"));

  auto context = engine->createExecutionContext();
  const std::array<float, 2> values{3, 5};
  for (const std::array<float, 2>& target :
       {std::array<float, 2>{1, 2}, {2, 1.5f}, {1, 1}, {2, 4}}) {
    ASSERT_TRUE(context->setInputTensorAddress("scales", target.data()));
    const Dims shape = context->tensorShape("out");
    const Dims expected{static_cast<int64_t>(target[0]), static_cast<int64_t>(2 * target[1])};
    EXPECT_EQ(shape, expected);
    std::vector<float> out(static_cast<std::size_t>(volume(expected)));
    context->setInputTensorAddress("data", values.data());
    context->setTensorAddress("out", out.data());
    ASSERT_TRUE(context->enqueueV3()) << logger.errors();
    EXPECT_EQ(out.front(), 3.f);
    EXPECT_EQ(out.back(), 5.f);
  }
  const std::array<float, 2> tooBig{2, 4.5f};
  context->setInputTensorAddress("scales", tooBig.data());
  EXPECT_FALSE(context->enqueueV3());
  EXPECT_TRUE(
      logger.hasError("shape-tensor input 'scales': values [2,4.5] are outside "
                      "optimization profile 0 (min [1,1], max [2,4])"))
      << logger.errors();
}

// Counts what it hands out; every block is 64-byte aligned.
class CountingAllocator final : public Allocator {
 public:
  void* allocate(std::size_t size, std::size_t alignment) noexcept override {
    void* p = std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
    const std::lock_guard lock(mutex_);
    if (p != nullptr) live_.insert(p);
    ++allocations_;
    return p;
  }
  bool deallocate(void* memory) noexcept override {
    const std::lock_guard lock(mutex_);
    if (live_.erase(memory) == 0) return false;
    std::free(memory);
    return true;
  }
  int allocations() const {
    const std::lock_guard lock(mutex_);
    return allocations_;
  }
  std::size_t live() const {
    const std::lock_guard lock(mutex_);
    return live_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::set<void*> live_;
  int allocations_ = 0;
};

TEST(MemoryApi, ContextsTakeMemoryFromTheAllocatorOrTheUser) {
  CapturingLogger logger;
  CountingAllocator allocator;
  Runtime runtime(logger);
  runtime.setAllocator(&allocator);
  const ConvNet net;
  auto engine = dynamicEngine(logger, net, {{1, 2, 4}, {8, 8, 8}}, runtime);
  ASSERT_TRUE(engine) << logger.errors();
  const HostTensor x = test::randomTensor(Dims{3, kChannels, 8, 8}, 9);
  const std::vector<float> expected = staticResult(net, x);
  {
    auto context = engine->createExecutionContext();
    ASSERT_TRUE(context);
    EXPECT_EQ(allocator.allocations(), 1);
    EXPECT_EQ(allocator.live(), 1u);
    test::expectClose(run(*context, x), expected);
  }
  EXPECT_EQ(allocator.live(), 0u);

  // User-managed: no memory until setDeviceMemory, which must be large enough.
  auto context = engine->createExecutionContextWithoutDeviceMemory();
  ASSERT_TRUE(context);
  EXPECT_EQ(allocator.live(), 0u);
  context->setInputShape("x", x.dims);
  std::vector<float> y(3 * kFeatures);
  context->setInputTensorAddress("x", x.bytes.data());
  context->setTensorAddress("y", y.data());
  EXPECT_FALSE(context->enqueueV3());
  EXPECT_TRUE(logger.hasError("setDeviceMemory")) << logger.errors();
  const std::size_t bytes = engine->deviceMemorySizeForProfile(0);
  ASSERT_GT(bytes, 0u);
  void* memory = allocator.allocate(engine->deviceMemorySize(), 64);
  EXPECT_FALSE(context->setDeviceMemoryV2(memory, static_cast<int64_t>(bytes) - 64));
  ASSERT_TRUE(context->setDeviceMemoryV2(memory, static_cast<int64_t>(bytes)));
  ASSERT_TRUE(context->enqueueV3()) << logger.errors();
  test::expectClose(y, expected);
  // Profile 1 needs more than was lent.
  if (engine->deviceMemorySizeForProfile(1) > bytes) {
    EXPECT_FALSE(context->setOptimizationProfile(1));
  }
  ASSERT_TRUE(context->setDeviceMemory(memory));  // the engine's size: every profile fits
  EXPECT_TRUE(context->setOptimizationProfile(1));
  context.reset();
  allocator.deallocate(memory);
  EXPECT_EQ(allocator.live(), 0u);
}

TEST(MemoryApi, StaticEnginesReportOneProfile) {
  CapturingLogger logger;
  test::NetworkFixture fixture;
  ConvNet{}.define(fixture.net(), Dims{2, kChannels, 8, 8});
  auto config = fixture.builder.createBuilderConfig();
  auto engine = fixture.builder.buildEngine(fixture.net(), *config);
  ASSERT_TRUE(engine) << fixture.logger.errors();
  EXPECT_EQ(engine->nbOptimizationProfiles(), 1);
  EXPECT_EQ(engine->deviceMemorySizeForProfile(0), engine->deviceMemorySize());
  EXPECT_EQ(engine->deviceMemorySizeForProfile(1), 0u);
  EXPECT_EQ(engine->profileShape("x", 0, OptProfileSelector::kMIN), (Dims{2, kChannels, 8, 8}));
  auto context = engine->createExecutionContext();
  EXPECT_TRUE(context->allInputDimensionsSpecified());
  EXPECT_TRUE(context->setInputShape("x", Dims{2, kChannels, 8, 8}));
  EXPECT_FALSE(context->setInputShape("x", Dims{3, kChannels, 8, 8}));
}

}  // namespace
}  // namespace kiln
