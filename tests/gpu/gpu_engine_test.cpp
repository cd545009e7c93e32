// GPU engines end to end (label `gpu`; every test skips without a GPU): built for the GPU,
// run on device memory, compared with the same network's CPU engine; the host fallback for
// ops without a CUDA kernel; dynamic shapes; per-layer profiling; and the errors a GPU plan
// gives where it cannot run.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "backends/device.h"
#include "plan/plan_io.h"
#include "support/test_util.h"

namespace kiln::test {
namespace {

#define SKIP_WITHOUT_GPU() \
  if (!backends::gpuPresent()) GTEST_SKIP() << "no CUDA GPU here"

// Builds @p network for @p device and runs it once on @p inputs (host tensors; staged through
// device memory for GPU engines by buildAndRun's logic, written out here to pick the device).
std::vector<HostTensor> runOn(DeviceType device, Builder& builder, NetworkDefinition& network,
                              const std::vector<HostTensor>& inputs) {
  auto config = builder.createBuilderConfig();
  config->setDeviceType(device);
  const auto plan = builder.buildSerializedNetwork(network, *config);
  if (plan.empty()) {
    ADD_FAILURE() << "build failed";
    return {};
  }
  Runtime runtime(builder.logger());
  auto engine = runtime.deserialize(plan);
  if (!engine) {
    ADD_FAILURE() << "deserialize failed";
    return {};
  }
  EXPECT_EQ(engine->deviceType(), device);
  auto context = engine->createExecutionContext();
  const backends::DeviceRuntime& dev = *backends::deviceRuntime(device);
  std::vector<backends::DeviceBuffer> buffers;
  for (int32_t i = 0; i < network.nbInputs(); ++i) {
    const auto& in = inputs[static_cast<std::size_t>(i)];
    buffers.emplace_back(dev, std::max<std::size_t>(in.bytes.size(), 1));
    dev.copyAsync(buffers.back().data(), in.bytes.data(), in.bytes.size(),
                  backends::CopyKind::kHostToDevice, nullptr);
    context->setTensorAddress(network.input(i).name(), buffers.back().data());
  }
  std::vector<HostTensor> outputs;
  std::vector<void*> addresses;
  for (int32_t i = 0; i < network.nbOutputs(); ++i) {
    const auto name = network.output(i).name();
    outputs.emplace_back(engine->tensorDataType(name), engine->tensorShape(name));
    buffers.emplace_back(dev, std::max<std::size_t>(outputs.back().bytes.size(), 1));
    addresses.push_back(buffers.back().data());
    context->setTensorAddress(name, addresses.back());
  }
  if (!context->enqueueV3(nullptr)) {
    ADD_FAILURE() << "inference failed";
    return {};
  }
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    dev.copyAsync(outputs[i].bytes.data(), addresses[i], outputs[i].bytes.size(),
                  backends::CopyKind::kDeviceToHost, nullptr);
  }
  dev.synchronize(nullptr);
  return outputs;
}

void expectSameOnBothDevices(NetworkFixture& f, const std::vector<HostTensor>& inputs,
                             double atol = 1e-4, double rtol = 1e-3) {
  const auto cpu = runOn(DeviceType::kCPU, f.builder, f.net(), inputs);
  const auto gpu = runOn(DeviceType::kGPU, f.builder, f.net(), inputs);
  ASSERT_EQ(cpu.size(), gpu.size()) << f.logger.errors();
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    ASSERT_EQ(cpu[i].dims, gpu[i].dims);
    if (cpu[i].dtype == DataType::kFLOAT) {
      expectClose(gpu[i].floats(), cpu[i].floats(), atol, rtol, "output " + std::to_string(i));
    } else {
      EXPECT_EQ(gpu[i].bytes, cpu[i].bytes) << "output " << i;
    }
  }
}

TEST(GpuEngine, IsTheDefaultWhereAGpuIsPresent) {
  SKIP_WITHOUT_GPU();
  NetworkFixture f;
  EXPECT_EQ(f.builder.createBuilderConfig()->deviceType(), DeviceType::kGPU);
}

TEST(GpuEngine, SmallConvNetMatchesTheCpuEngine) {
  SKIP_WITHOUT_GPU();
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3, 17, 15});
  const auto w = randomFloats(8 * 3 * 3 * 3, 5);
  const auto b = randomFloats(8, 6);
  auto conv = f.net().addConvolution(x, 8, Dims{3, 3}, floatWeights(w), floatWeights(b));
  conv.setPadding(Dims{1, 1});
  auto relu = f.net().addActivation(conv.output(0), ActivationType::kRELU);
  auto pool = f.net().addPooling(relu.output(0), PoolingType::kMAX, Dims{2, 2});
  pool.setStride(Dims{2, 2});
  auto sum = f.net().addElementWise(pool.output(0), pool.output(0), ElementWiseOperation::kSUM);
  f.net().markOutput(f.net().addSoftMax(sum.output(0)).output(0));
  expectSameOnBothDevices(f, {randomTensor(Dims{2, 3, 17, 15}, 7)});
}

TEST(GpuEngine, OpsWithoutACudaKernelRunOnTheHost) {
  SKIP_WITHOUT_GPU();
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{3, 40});
  // TopK has no CUDA kernel: the builder says so, and the engine still runs it.
  auto topk = f.net().addTopK(x, TopKOperation::kMAX, 5, 1u << 1);
  auto relu = f.net().addActivation(topk.output(0), ActivationType::kRELU);
  f.net().markOutput(relu.output(0));
  f.net().markOutput(topk.output(1));
  expectSameOnBothDevices(f, {randomTensor(Dims{3, 40}, 9)});
  EXPECT_TRUE(f.logger.hasMessage(Severity::kWARNING, "TopK (1)"))
      << "the builder should name the layers left to the host";
}

TEST(GpuEngine, DynamicBatchRunsEveryShapeOfItsProfile) {
  SKIP_WITHOUT_GPU();
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{-1, 4, 6, 6});
  const auto w = randomFloats(5 * 4, 3);
  auto conv = f.net().addConvolution(x, 5, Dims{1, 1}, floatWeights(w), Weights{});
  f.net().markOutput(f.net().addActivation(conv.output(0), ActivationType::kTANH).output(0));
  auto profile = f.builder.createOptimizationProfile();
  profile->setDimensions("x", OptProfileSelector::kMIN, Dims{1, 4, 6, 6});
  profile->setDimensions("x", OptProfileSelector::kOPT, Dims{4, 4, 6, 6});
  profile->setDimensions("x", OptProfileSelector::kMAX, Dims{8, 4, 6, 6});
  auto config = f.builder.createBuilderConfig();
  config->setDeviceType(DeviceType::kGPU);
  config->addOptimizationProfile(profile);
  const auto plan = f.builder.buildSerializedNetwork(f.net(), *config);
  ASSERT_FALSE(plan.empty()) << f.logger.errors();
  Runtime runtime(f.logger);
  auto engine = runtime.deserialize(plan);
  ASSERT_TRUE(engine);
  auto context = engine->createExecutionContext();
  const backends::DeviceRuntime& gpu = *backends::deviceRuntime(DeviceType::kGPU);
  for (int64_t batch : {1, 3, 8}) {
    const Dims dims{batch, 4, 6, 6};
    ASSERT_TRUE(context->setInputShape("x", dims));
    const HostTensor in = randomTensor(dims, static_cast<uint32_t>(batch));
    const std::size_t outBytes = static_cast<std::size_t>(batch) * 5 * 36 * sizeof(float);
    backends::DeviceBuffer dx(gpu, in.bytes.size());
    backends::DeviceBuffer dy(gpu, outBytes);
    gpu.copyAsync(dx.data(), in.bytes.data(), in.bytes.size(), backends::CopyKind::kHostToDevice,
                  nullptr);
    void* bindings[] = {dx.data(), dy.data()};
    ASSERT_TRUE(context->executeV2(bindings)) << f.logger.errors();
    std::vector<float> y(outBytes / sizeof(float));
    gpu.copyAsync(y.data(), dy.data(), outBytes, backends::CopyKind::kDeviceToHost, nullptr);
    gpu.synchronize(nullptr);
    // Against the CPU engine of the same network at this batch.
    NetworkFixture g;
    auto gx = g.net().addInput("x", DataType::kFLOAT, dims);
    auto gconv = g.net().addConvolution(gx, 5, Dims{1, 1}, floatWeights(w), Weights{});
    g.net().markOutput(g.net().addActivation(gconv.output(0), ActivationType::kTANH).output(0));
    const auto expected = runOn(DeviceType::kCPU, g.builder, g.net(), {in});
    ASSERT_EQ(expected.size(), 1u);
    expectClose(y, expected[0].floats(), 1e-4, 1e-3, "batch " + std::to_string(batch));
  }
}

class CountingProfiler final : public Profiler {
 public:
  void reportLayerTime(std::string_view /*layer*/, float ms) noexcept override {
    ++reports;
    total += ms;
  }
  int reports = 0;
  double total = 0;
};

TEST(GpuEngine, ProfilerTimesEveryLayerOnTheDevice) {
  SKIP_WITHOUT_GPU();
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{64, 64});
  auto a = f.net().addActivation(x, ActivationType::kSIGMOID);
  auto b = f.net().addTopK(a.output(0), TopKOperation::kMAX, 3, 1u << 1);
  f.net().markOutput(b.output(0));
  auto config = f.builder.createBuilderConfig();
  const auto plan = f.builder.buildSerializedNetwork(f.net(), *config);
  Runtime runtime(f.logger);
  auto engine = runtime.deserialize(plan);
  ASSERT_TRUE(engine);
  auto context = engine->createExecutionContext();
  const backends::DeviceRuntime& gpu = *backends::deviceRuntime(DeviceType::kGPU);
  backends::DeviceBuffer dx(gpu, 64 * 64 * 4), dy(gpu, 64 * 3 * 4);
  CountingProfiler profiler;
  context->setProfiler(&profiler);
  void* bindings[] = {dx.data(), dy.data()};
  ASSERT_TRUE(context->executeV2(bindings)) << f.logger.errors();
  EXPECT_EQ(profiler.reports, engine->nbLayers());
  EXPECT_GT(profiler.total, 0.0);
}

TEST(GpuEngine, PlanForAnotherGpuIsRefusedNamingBoth) {
  SKIP_WITHOUT_GPU();
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{4});
  f.net().markOutput(f.net().addActivation(x, ActivationType::kRELU).output(0));
  auto config = f.builder.createBuilderConfig();
  config->setDeviceType(DeviceType::kGPU);
  auto plan = plan::readPlan(f.builder.buildSerializedNetwork(f.net(), *config));
  const std::string here = plan.target.deviceName;
  plan.target.deviceName = "NVIDIA Imaginary 9000";
  plan.target.computeCapability = 123;
  CapturingLogger logger;
  Runtime runtime(logger);
  EXPECT_FALSE(runtime.deserialize(plan::writePlan(plan)));
  EXPECT_TRUE(logger.hasError("NVIDIA Imaginary 9000")) << logger.errors();
  EXPECT_TRUE(logger.hasError(here)) << logger.errors();
}

}  // namespace
}  // namespace kiln::test
