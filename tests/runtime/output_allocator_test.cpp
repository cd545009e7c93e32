// OutputAllocator and data-dependent output shapes (TensorRT's IOutputAllocator): what the
// allocator is asked for and told, ExecutionContext::tensorShape before and after a run, and
// the errors for an output with neither allocator nor address.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

struct Call {
  std::string name;
  void* current = nullptr;
  uint64_t size = 0;
  uint64_t alignment = 0;
};

class RecordingAllocator : public OutputAllocator {
 public:
  void* reallocateOutputAsync(std::string_view name, void* current, uint64_t size,
                              uint64_t alignment, void*) noexcept override {
    calls.push_back({std::string(name), current, size, alignment});
    if (fail) return nullptr;
    if (memory.size() < size) memory.assign(size, std::byte{0});
    return memory.data();
  }
  void notifyShape(std::string_view name, const Dims& dims) noexcept override {
    shapes.emplace_back(std::string(name), dims);
  }

  bool fail = false;
  std::vector<std::byte> memory;
  std::vector<Call> calls;
  std::vector<std::pair<std::string, Dims>> shapes;
};

Dims dims2(int64_t a, int64_t b) {
  Dims d;
  d.nbDims = 2;
  d[0] = a;
  d[1] = b;
  return d;
}

// x [2, 3] float -> NonZero "y" (int32 [2, <=6]) and Identity "z" ([2, 3]).
struct Engine2 {
  NetworkFixture f;
  std::unique_ptr<Runtime> runtime;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<ExecutionContext> context;
  std::vector<float> x = std::vector<float>(6, 0.0f);
  std::vector<float> z = std::vector<float>(6, 0.0f);

  Engine2() {
    Tensor in = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3});
    Tensor y = f.net().addNonZero(in).output(0);
    y.setName("y");
    f.net().markOutput(y);
    Tensor copy = f.net().addIdentity(in).output(0);
    copy.setName("z");
    f.net().markOutput(copy);
    auto config = f.builder.createBuilderConfig();
    const auto plan = f.builder.buildSerializedNetwork(f.net(), *config);
    EXPECT_FALSE(plan.empty()) << f.logger.errors();
    runtime = std::make_unique<Runtime>(f.logger);
    engine = runtime->deserialize(plan);
    EXPECT_TRUE(engine);
    context = engine->createExecutionContext();
    context->setInputTensorAddress("x", x.data());
  }
};

TEST(OutputAllocator, GetsTheRealSizeAndShape) {
  Engine2 e;
  EXPECT_EQ(e.engine->tensorShape("y"), dims2(2, -1));
  EXPECT_EQ(e.context->tensorShape("y"), dims2(2, -1));
  RecordingAllocator allocator;
  ASSERT_TRUE(e.context->setOutputAllocator("y", &allocator));
  EXPECT_EQ(e.context->outputAllocator("y"), &allocator);
  EXPECT_EQ(e.context->outputAllocator("z"), nullptr);
  e.context->setTensorAddress("z", e.z.data());
  e.x = {0, 5, 0, 1, 0, 2};  // (0,1), (1,0), (1,2)
  ASSERT_TRUE(e.context->enqueueV3()) << e.f.logger.errors();
  ASSERT_EQ(allocator.calls.size(), 1u);
  EXPECT_EQ(allocator.calls[0].name, "y");
  EXPECT_EQ(allocator.calls[0].current, nullptr);
  EXPECT_EQ(allocator.calls[0].size, 6 * sizeof(int32_t));
  EXPECT_GE(allocator.calls[0].alignment, 4u);
  ASSERT_EQ(allocator.shapes.size(), 1u);
  EXPECT_EQ(allocator.shapes[0].second, dims2(2, 3));
  std::vector<int32_t> y(6);
  std::memcpy(y.data(), allocator.memory.data(), 6 * sizeof(int32_t));
  EXPECT_EQ(y, (std::vector<int32_t>{0, 1, 1, 1, 0, 2}));
  EXPECT_EQ(e.context->tensorShape("y"), dims2(2, 3));
  EXPECT_EQ(e.z, e.x);

  // Again with other data: the allocator gets its memory back as the current one.
  e.x = {1, 0, 0, 0, 0, 0};
  ASSERT_TRUE(e.context->enqueueV3()) << e.f.logger.errors();
  ASSERT_EQ(allocator.calls.size(), 2u);
  EXPECT_EQ(allocator.calls[1].current, allocator.memory.data());
  EXPECT_EQ(allocator.calls[1].size, 2 * sizeof(int32_t));
  EXPECT_EQ(e.context->tensorShape("y"), dims2(2, 1));
}

TEST(OutputAllocator, EmptyResultAsksForAtLeastOneByte) {
  Engine2 e;
  RecordingAllocator allocator;
  e.context->setOutputAllocator("y", &allocator);
  e.context->setTensorAddress("z", e.z.data());
  ASSERT_TRUE(e.context->enqueueV3()) << e.f.logger.errors();
  ASSERT_EQ(allocator.calls.size(), 1u);
  EXPECT_EQ(allocator.calls[0].size, 1u);
  EXPECT_EQ(allocator.shapes[0].second, dims2(2, 0));
}

TEST(OutputAllocator, OutputOfKnownShapeIsAllocatedBeforeTheRun) {
  Engine2 e;
  RecordingAllocator forY;
  RecordingAllocator forZ;
  e.context->setOutputAllocator("y", &forY);
  e.context->setOutputAllocator("z", &forZ);
  e.x = {1, 2, 3, 4, 5, 6};
  ASSERT_TRUE(e.context->enqueueV3()) << e.f.logger.errors();
  ASSERT_EQ(forZ.calls.size(), 1u);
  EXPECT_EQ(forZ.calls[0].size, 6 * sizeof(float));
  ASSERT_EQ(forZ.shapes.size(), 1u);
  EXPECT_EQ(forZ.shapes[0].second, dims2(2, 3));
  std::vector<float> z(6);
  std::memcpy(z.data(), forZ.memory.data(), sizeof(float) * 6);
  EXPECT_EQ(z, e.x);
}

TEST(OutputAllocator, AnAddressWithRoomForTheBoundWorksWithoutAllocator) {
  Engine2 e;
  std::vector<int32_t> y(12, -7);  // the bound: [2, 6]
  e.context->setTensorAddress("y", y.data());
  e.context->setTensorAddress("z", e.z.data());
  e.x = {0, 0, 0, 0, 9, 0};
  ASSERT_TRUE(e.context->enqueueV3()) << e.f.logger.errors();
  EXPECT_EQ(e.context->tensorShape("y"), dims2(2, 1));
  EXPECT_EQ(y[0], 1);  // written compactly at the real shape
  EXPECT_EQ(y[1], 1);
}

TEST(OutputAllocator, NoAllocatorAndNoAddressFailsNamingTheOutput) {
  Engine2 e;
  e.context->setTensorAddress("z", e.z.data());
  EXPECT_FALSE(e.context->enqueueV3());
  EXPECT_TRUE(e.f.logger.hasError("output 'y' has a data-dependent shape")) << e.f.logger.errors();
  EXPECT_TRUE(e.f.logger.hasError("setOutputAllocator")) << e.f.logger.errors();
}

TEST(OutputAllocator, NullMemoryFailsNamingTheOutput) {
  Engine2 e;
  RecordingAllocator allocator;
  allocator.fail = true;
  e.context->setOutputAllocator("y", &allocator);
  e.context->setTensorAddress("z", e.z.data());
  e.x = {1, 1, 1, 1, 1, 1};
  EXPECT_FALSE(e.context->enqueueV3());
  EXPECT_TRUE(e.f.logger.hasError("OutputAllocator of output 'y' returned no memory"))
      << e.f.logger.errors();
}

TEST(OutputAllocator, DynamicInputShapes) {
  NetworkFixture f;
  Tensor in = f.net().addInput("x", DataType::kFLOAT, Dims{-1});
  Tensor y = f.net().addNonZero(in).output(0);
  y.setName("y");
  f.net().markOutput(y);
  auto config = f.builder.createBuilderConfig();
  OptimizationProfile* profile = f.builder.createOptimizationProfile();
  profile->setDimensions("x", OptProfileSelector::kMIN, Dims{1});
  profile->setDimensions("x", OptProfileSelector::kOPT, Dims{3});
  profile->setDimensions("x", OptProfileSelector::kMAX, Dims{8});
  config->addOptimizationProfile(profile);
  const auto plan = f.builder.buildSerializedNetwork(f.net(), *config);
  ASSERT_FALSE(plan.empty()) << f.logger.errors();
  Runtime runtime(f.logger);
  auto engine = runtime.deserialize(plan);
  ASSERT_TRUE(engine);
  EXPECT_EQ(engine->tensorShape("y"), dims2(1, -1));
  auto context = engine->createExecutionContext();
  RecordingAllocator allocator;
  context->setOutputAllocator("y", &allocator);
  std::vector<float> x{0, 3, 0, 0, 5, 6, 0};
  context->setInputTensorAddress("x", x.data());
  for (int64_t n : {7, 2}) {
    ASSERT_TRUE(context->setInputShape("x", Dims{n}));
    EXPECT_EQ(context->tensorShape("y"), dims2(1, -1));
    ASSERT_TRUE(context->enqueueV3()) << f.logger.errors();
    const Dims expected = dims2(1, n == 7 ? 3 : 1);
    EXPECT_EQ(context->tensorShape("y"), expected);
    EXPECT_EQ(allocator.shapes.back().second, expected);
  }
  int32_t last = -1;
  std::memcpy(&last, allocator.memory.data(), sizeof(last));
  EXPECT_EQ(last, 1);
}

TEST(OutputAllocator, RefusesInputsAndUnknownNames) {
  Engine2 e;
  RecordingAllocator allocator;
  EXPECT_FALSE(e.context->setOutputAllocator("x", &allocator));
  EXPECT_FALSE(e.context->setOutputAllocator("nope", &allocator));
  EXPECT_EQ(e.f.logger.errorCount(), 2);
  EXPECT_TRUE(e.context->setOutputAllocator("y", nullptr));
}

}  // namespace
}  // namespace kiln::test
