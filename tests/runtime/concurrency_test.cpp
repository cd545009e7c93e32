// Many contexts of one engine on many threads (issue #7): 4 threads x 100 inferences of a small
// convolutional network, each on its own context and inputs, every output equal to a
// single-threaded run; and one context used from two threads at once is refused, not raced.
// Also run under ThreadSanitizer (make test-tsan).
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

constexpr int kThreads = 4;
constexpr int kRuns = 100;
constexpr Dims kInputDims{1, 3, 20, 20};

// A small network of the reference models' kinds of layer: convolutions (GEMM kernels with
// per-thread scratch), a residual add, ReLU and x * sigmoid(x) (pointwise: fused or in place),
// max pooling, a fully connected layer and a softmax.
std::vector<std::byte> smallConvNetPlan(CapturingLogger& logger) {
  Builder builder(logger);
  auto network = builder.createNetwork();
  const std::vector<float> w1 = randomFloats(8 * 3 * 3 * 3, 1, -0.5f, 0.5f);
  const std::vector<float> b1 = randomFloats(8, 2);
  const std::vector<float> w2 = randomFloats(8 * 8 * 3 * 3, 3, -0.3f, 0.3f);
  const std::vector<float> b2 = randomFloats(8, 4);
  const std::vector<float> w3 = randomFloats(10 * 8 * 10 * 10, 5, -0.1f, 0.1f);
  const std::vector<float> b3 = randomFloats(10, 6);

  const Tensor x = network->addInput("x", DataType::kFLOAT, kInputDims);
  auto conv1 = network->addConvolution(x, 8, Dims{3, 3}, floatWeights(w1), floatWeights(b1));
  conv1.setPadding(Dims{1, 1});
  const Tensor relu1 = network->addActivation(conv1.output(0), ActivationType::kRELU).output(0);
  auto conv2 = network->addConvolution(relu1, 8, Dims{3, 3}, floatWeights(w2), floatWeights(b2));
  conv2.setPadding(Dims{1, 1});
  const Tensor sum =
      network->addElementWise(conv2.output(0), relu1, ElementWiseOperation::kSUM).output(0);
  const Tensor swish =
      network
          ->addElementWise(sum, network->addActivation(sum, ActivationType::kSIGMOID).output(0),
                           ElementWiseOperation::kPROD)
          .output(0);
  auto pool = network->addPooling(swish, PoolingType::kMAX, Dims{2, 2});
  pool.setStride(Dims{2, 2});
  const Tensor fc =
      network->addFullyConnected(pool.output(0), 10, floatWeights(w3), floatWeights(b3)).output(0);
  auto softmax = network->addSoftMax(fc);
  softmax.output(0).setName("y");
  network->markOutput(softmax.output(0));
  auto config = builder.createBuilderConfig();
  return builder.buildSerializedNetwork(*network, *config);
}

std::vector<float> inputFor(int thread, int run) {
  return randomFloats(volume(kInputDims), static_cast<uint32_t>(1000 * thread + run), -2.f, 2.f);
}

// Runs @p context on @p x; the output, or empty on failure.
std::vector<float> infer(ExecutionContext& context, std::vector<float>& x, std::size_t outputs) {
  std::vector<float> y(outputs);
  void* bindings[] = {x.data(), y.data()};
  if (!context.executeV2(bindings)) return {};
  return y;
}

class ConcurrentContexts : public ::testing::TestWithParam<int32_t> {};

TEST_P(ConcurrentContexts, FourThreadsMatchOneThread) {
  CapturingLogger logger;
  const auto plan = smallConvNetPlan(logger);
  ASSERT_FALSE(plan.empty()) << logger.errors();
  Runtime runtime(logger);
  runtime.setNbThreads(GetParam());
  const auto engine = runtime.deserialize(plan);
  ASSERT_TRUE(engine) << logger.errors();
  const auto outputs = static_cast<std::size_t>(volume(engine->tensorShape("y")));

  std::vector<std::vector<float>> expected(kThreads * kRuns);
  {
    auto context = engine->createExecutionContext();
    ASSERT_TRUE(context);
    for (int t = 0; t < kThreads; ++t) {
      for (int r = 0; r < kRuns; ++r) {
        std::vector<float> x = inputFor(t, r);
        expected[static_cast<std::size_t>(t * kRuns + r)] = infer(*context, x, outputs);
        ASSERT_EQ(expected[static_cast<std::size_t>(t * kRuns + r)].size(), outputs)
            << logger.errors();
      }
    }
  }

  std::vector<int> failed(kThreads, 0);
  std::vector<int> wrong(kThreads, 0);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto context = engine->createExecutionContext();
      // Start together, so that the inferences overlap as much as they can.
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      for (int r = 0; r < kRuns; ++r) {
        std::vector<float> x = inputFor(t, r);
        const std::vector<float> y = context ? infer(*context, x, outputs) : std::vector<float>{};
        const auto& want = expected[static_cast<std::size_t>(t * kRuns + r)];
        if (y.size() != outputs) {
          ++failed[static_cast<std::size_t>(t)];
        } else if (std::memcmp(y.data(), want.data(), outputs * sizeof(float)) != 0) {
          ++wrong[static_cast<std::size_t>(t)];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(failed[static_cast<std::size_t>(t)], 0) << "thread " << t << ": " << logger.errors();
    EXPECT_EQ(wrong[static_cast<std::size_t>(t)], 0)
        << "thread " << t << " got outputs that differ from the single-threaded run";
  }
}

// One kernel thread (every kernel inline on its caller) and three (parallel regions of the
// contexts taking turns on the shared pool).
INSTANTIATE_TEST_SUITE_P(Threads, ConcurrentContexts, ::testing::Values(1, 3),
                         [](const auto& info) { return "pool" + std::to_string(info.param); });

// Calls enqueueV3 on the context from a second thread while the first is inside an inference
// (after its first layer, from the profiler callback).
class SecondCaller final : public Profiler {
 public:
  explicit SecondCaller(ExecutionContext& context) : context_(context) {}
  void reportLayerTime(std::string_view, float) noexcept override {
    if (called_) return;
    called_ = true;
    // The first inference is still running here: its running flag is set.
    secondResult_ = std::async(std::launch::async, [this] { return context_.enqueueV3(); }).get();
  }
  bool called() const { return called_; }
  bool secondResult() const { return secondResult_; }

 private:
  ExecutionContext& context_;
  bool called_ = false;
  bool secondResult_ = true;
};

TEST(ConcurrentContexts, OneContextOnTwoThreadsIsRefused) {
  CapturingLogger logger;
  const auto plan = smallConvNetPlan(logger);
  ASSERT_FALSE(plan.empty()) << logger.errors();
  Runtime runtime(logger);
  ErrorRecorder recorder;
  runtime.setErrorRecorder(&recorder);
  const auto engine = runtime.deserialize(plan);
  ASSERT_TRUE(engine) << logger.errors();
  auto context = engine->createExecutionContext();
  ASSERT_TRUE(context);
  const auto outputs = static_cast<std::size_t>(volume(engine->tensorShape("y")));
  std::vector<float> x = inputFor(0, 0);
  std::vector<float> y(outputs);
  ASSERT_TRUE(context->setTensorAddress("x", x.data()));
  ASSERT_TRUE(context->setTensorAddress("y", y.data()));

  SecondCaller second(*context);
  context->setProfiler(&second);
  EXPECT_TRUE(context->enqueueV3()) << logger.errors();
  context->setProfiler(nullptr);
  ASSERT_TRUE(second.called());
  EXPECT_FALSE(second.secondResult());
  ASSERT_EQ(recorder.nbErrors(), 1) << logger.errors();
  EXPECT_EQ(recorder.error(0).code, ErrorCode::kINVALID_STATE);
  EXPECT_NE(recorder.error(0).description.find("already running on another thread"),
            std::string::npos)
      << recorder.error(0).description;

  // The refused call left the context usable, with the first inference's result intact.
  std::vector<float> again = inputFor(0, 0);
  EXPECT_EQ(infer(*context, again, outputs), y) << logger.errors();
}

}  // namespace
}  // namespace kiln::test
