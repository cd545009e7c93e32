// GPU engines end to end (label `gpu`; every test skips without a GPU): built for the GPU,
// run on device memory, compared with the same network's CPU engine; the host fallback for
// ops without a CUDA kernel; dynamic shapes; per-layer profiling; and the errors a GPU plan
// gives where it cannot run.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <utility>
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
                              const std::vector<HostTensor>& inputs,
                              const std::vector<BuilderFlag>& flags = {}) {
  auto config = builder.createBuilderConfig();
  config->setDeviceType(device);
  for (BuilderFlag flag : flags) config->setFlag(flag);
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

// Host layers run in stream callbacks, after the engine has enqueued the layers behind them:
// each must find its own call there (they once all ran the last host layer's kernel, which
// turned BERT's attention mask into "everything masked").
TEST(GpuEngine, SeveralHostLayersEachRunTheirOwnKernel) {
  SKIP_WITHOUT_GPU();
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{3, 40});
  auto largest = f.net().addTopK(x, TopKOperation::kMAX, 5, 1u << 1);
  auto doubled = f.net().addElementWise(x, x, ElementWiseOperation::kSUM);
  auto smallest = f.net().addTopK(doubled.output(0), TopKOperation::kMIN, 3, 1u << 1);
  f.net().markOutput(largest.output(0));
  f.net().markOutput(smallest.output(0));
  f.net().markOutput(smallest.output(1));
  expectSameOnBothDevices(f, {randomTensor(Dims{3, 40}, 10)});
}

// Attention masks of transformer exports: comparisons, bool AND / OR / XOR and Select, all
// broadcasting, run on the GPU's own kernels (cuda.logical, cuda.select), not on the host.
TEST(GpuEngine, MaskOpsBroadcastOnTheDevice) {
  SKIP_WITHOUT_GPU();
  for (const bool fp16 : {false, true}) {
    NetworkFixture f;
    auto rows = f.net().addInput("rows", DataType::kFLOAT, Dims{2, 1, 9, 1});
    auto cols = f.net().addInput("cols", DataType::kFLOAT, Dims{2, 1, 1, 7});
    const std::vector<float> zero{0.f};
    const std::vector<float> low{-30000.f};
    auto zeroC = f.net().addConstant(Dims{1, 1, 1, 1}, floatWeights(zero));
    auto lowC = f.net().addConstant(Dims{1, 1, 1, 1}, floatWeights(low));
    auto a = f.net().addElementWise(rows, zeroC.output(0), ElementWiseOperation::kGREATER);
    auto b = f.net().addElementWise(cols, zeroC.output(0), ElementWiseOperation::kLESS);
    auto both = f.net().addElementWise(a.output(0), b.output(0), ElementWiseOperation::kAND);
    auto either = f.net().addElementWise(a.output(0), b.output(0), ElementWiseOperation::kOR);
    auto one = f.net().addElementWise(a.output(0), b.output(0), ElementWiseOperation::kXOR);
    auto masked = f.net().addSelect(both.output(0), cols, lowC.output(0));
    f.net().markOutput(both.output(0));
    f.net().markOutput(either.output(0));
    f.net().markOutput(one.output(0));
    f.net().markOutput(masked.output(0));
    const std::vector<HostTensor> inputs{randomTensor(Dims{2, 1, 9, 1}, 31),
                                         randomTensor(Dims{2, 1, 1, 7}, 32)};
    const auto cpu = runOn(DeviceType::kCPU, f.builder, f.net(), inputs);
    const auto gpu =
        runOn(DeviceType::kGPU, f.builder, f.net(), inputs,
              fp16 ? std::vector<BuilderFlag>{BuilderFlag::kFP16} : std::vector<BuilderFlag>{});
    ASSERT_EQ(cpu.size(), 4u) << f.logger.errors();
    ASSERT_EQ(gpu.size(), 4u) << f.logger.errors();
    for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(gpu[i].bytes, cpu[i].bytes) << "output " << i;
    expectClose(gpu[3].floats(), cpu[3].floats(), fp16 ? 1e-2 : 0.0, fp16 ? 1e-3 : 0.0, "select");
    EXPECT_FALSE(f.logger.hasMessage(Severity::kWARNING, "run on the host"))
        << "every mask op should have a CUDA kernel";
  }
}

// x -> 1x1 convolution to 5 channels (weights @p w) -> tanh; the dynamic-shape tests' network.
void buildConvTanh(NetworkFixture& f, const Dims& dims, const std::vector<float>& w) {
  auto x = f.net().addInput("x", DataType::kFLOAT, dims);
  auto conv = f.net().addConvolution(x, 5, Dims{1, 1}, floatWeights(w), Weights{});
  f.net().markOutput(f.net().addActivation(conv.output(0), ActivationType::kTANH).output(0));
}

// Runs @p context (input shape set) on @p in through device memory; returns the @p outCount
// floats of its one output (empty, with a recorded failure, when the run fails).
std::vector<float> executeOnGpu(ExecutionContext& context, const HostTensor& in,
                                std::size_t outCount, const CapturingLogger& logger) {
  const backends::DeviceRuntime& gpu = *backends::deviceRuntime(DeviceType::kGPU);
  const std::size_t outBytes = outCount * sizeof(float);
  backends::DeviceBuffer dx(gpu, in.bytes.size());
  backends::DeviceBuffer dy(gpu, outBytes);
  gpu.copyAsync(dx.data(), in.bytes.data(), in.bytes.size(), backends::CopyKind::kHostToDevice,
                nullptr);
  void* bindings[] = {dx.data(), dy.data()};
  if (!context.executeV2(bindings)) {
    ADD_FAILURE() << logger.errors();
    return {};
  }
  std::vector<float> y(outCount);
  gpu.copyAsync(y.data(), dy.data(), outBytes, backends::CopyKind::kDeviceToHost, nullptr);
  gpu.synchronize(nullptr);
  return y;
}

TEST(GpuEngine, DynamicBatchRunsEveryShapeOfItsProfile) {
  SKIP_WITHOUT_GPU();
  NetworkFixture f;
  const auto w = randomFloats(5 * 4, 3);
  buildConvTanh(f, Dims{-1, 4, 6, 6}, w);
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
  for (int64_t batch : {1, 3, 8}) {
    const Dims dims{batch, 4, 6, 6};
    ASSERT_TRUE(context->setInputShape("x", dims));
    const HostTensor in = randomTensor(dims, static_cast<uint32_t>(batch));
    const auto y = executeOnGpu(*context, in, static_cast<std::size_t>(batch) * 5 * 36, f.logger);
    ASSERT_FALSE(y.empty());
    // Against the CPU engine of the same network at this batch.
    NetworkFixture g;
    buildConvTanh(g, dims, w);
    const auto expected = runOn(DeviceType::kCPU, g.builder, g.net(), {in});
    ASSERT_EQ(expected.size(), 1u);
    expectClose(y, expected[0].floats(), 1e-4, 1e-3, "batch " + std::to_string(batch));
  }
}

// conv -> relu -> pool -> flatten -> FC -> layer-norm-like arithmetic -> softmax, and a TopK
// (no CUDA kernel: FP32 on the host) in the middle, so casts join FP32 and reduced layers.
void buildMixedNet(NetworkFixture& f, const std::vector<float>& w, const std::vector<float>& fc) {
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{4, 3, 12, 12});
  auto conv = f.net().addConvolution(x, 8, Dims{3, 3}, floatWeights(w), Weights{});
  conv.setPadding(Dims{1, 1});
  auto relu = f.net().addActivation(conv.output(0), ActivationType::kRELU);
  auto pool = f.net().addPooling(relu.output(0), PoolingType::kAVERAGE, Dims{2, 2});
  pool.setStride(Dims{2, 2});
  auto flat = f.net().addShuffle(pool.output(0));
  flat.setReshapeDimensions(Dims{4, 8 * 6 * 6});
  auto dense = f.net().addFullyConnected(flat.output(0), 16, floatWeights(fc), Weights{});
  auto topk = f.net().addTopK(dense.output(0), TopKOperation::kMAX, 4, 1u << 1);
  auto sum = f.net().addReduce(topk.output(0), ReduceOperation::kSUM, 1u << 1, true);
  auto shifted = f.net().addElementWise(dense.output(0), sum.output(0), ElementWiseOperation::kSUB);
  f.net().markOutput(f.net().addSoftMax(shifted.output(0)).output(0));
  f.net().markOutput(dense.output(0));
}

TEST(GpuEngine, ReducedPrecisionMatchesFp32) {
  SKIP_WITHOUT_GPU();
  const auto w = randomFloats(8 * 3 * 3 * 3, 11);
  const auto fc = randomFloats(16 * 8 * 6 * 6, 12, -0.1f, 0.1f);
  const std::vector<HostTensor> inputs{randomTensor(Dims{4, 3, 12, 12}, 13)};
  NetworkFixture f;
  buildMixedNet(f, w, fc);
  const auto exact = runOn(DeviceType::kGPU, f.builder, f.net(), inputs);
  ASSERT_EQ(exact.size(), 2u) << f.logger.errors();
  for (const auto& [flag, tolerance] :
       {std::pair{BuilderFlag::kFP16, 1e-2}, std::pair{BuilderFlag::kBF16, 3e-2}}) {
    NetworkFixture g;
    buildMixedNet(g, w, fc);
    const auto reduced = runOn(DeviceType::kGPU, g.builder, g.net(), inputs, {flag});
    ASSERT_EQ(reduced.size(), 2u) << g.logger.errors();
    for (std::size_t i = 0; i < 2; ++i) {
      // The engine's inputs and outputs keep their FP32 types.
      ASSERT_EQ(reduced[i].dtype, DataType::kFLOAT);
      const double error = relativeError(reduced[i].floats(), exact[i].floats());
      EXPECT_LE(error, tolerance) << "output " << i << " with flag " << static_cast<int>(flag);
    }
    EXPECT_TRUE(g.logger.hasMessage(Severity::kINFO, "layers run in FP16/BF16"));
  }
}

TEST(GpuEngine, ReducedPrecisionLayersShowInThePlan) {
  SKIP_WITHOUT_GPU();
  NetworkFixture f;
  const auto w = randomFloats(8 * 3 * 3 * 3, 11);
  const auto fc = randomFloats(16 * 8 * 6 * 6, 12, -0.1f, 0.1f);
  buildMixedNet(f, w, fc);
  auto config = f.builder.createBuilderConfig();
  config->setDeviceType(DeviceType::kGPU);
  config->setFlag(BuilderFlag::kFP16);
  const auto plan = plan::readPlan(f.builder.buildSerializedNetwork(f.net(), *config));
  int32_t half = 0;
  for (const auto& node : plan.graph.nodes) {
    if (node.attrs.has("math.precision")) ++half;
    if (node.op == "TopK") {
      EXPECT_FALSE(node.attrs.has("math.precision"));
    }
  }
  EXPECT_GE(half, 4);
  for (ir::ValueId v : plan.graph.inputs) {
    EXPECT_EQ(plan.graph.value(v).dtype, DataType::kFLOAT);
  }
  for (ir::ValueId v : plan.graph.outputs) {
    EXPECT_EQ(plan.graph.value(v).dtype, DataType::kFLOAT);
  }
}

// A single ElementWise whose first operand is a broadcast constant (ONNX exports often write
// Add(bias, x)) must take FP16 like the rest (BERT's Q/K/V bias adds once stayed FP32 between
// two casts). Between two SoftMax layers no fusion pass takes the Add.
TEST(GpuEngine, ReducedPrecisionTakesABroadcastConstantFirstOperand) {
  SKIP_WITHOUT_GPU();
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 8, 16});
  const auto b = randomFloats(16, 22);
  auto bias = f.net().addConstant(Dims{16}, floatWeights(b));
  auto first = f.net().addSoftMax(x);
  auto add = f.net().addElementWise(bias.output(0), first.output(0), ElementWiseOperation::kSUM);
  add.setName("bias_first");
  f.net().markOutput(f.net().addSoftMax(add.output(0)).output(0));
  auto config = f.builder.createBuilderConfig();
  config->setDeviceType(DeviceType::kGPU);
  config->setFlag(BuilderFlag::kFP16);
  const auto plan = plan::readPlan(f.builder.buildSerializedNetwork(f.net(), *config));
  bool found = false;
  for (const auto& node : plan.graph.nodes) {
    if (node.name != "bias_first") continue;
    found = true;
    EXPECT_EQ(node.op, "ElementWise");
    EXPECT_TRUE(node.attrs.has("math.precision")) << "the bias add stayed FP32";
  }
  EXPECT_TRUE(found) << f.logger.errors();
}

TEST(GpuEngine, ReducedPrecisionWithDynamicBatch) {
  SKIP_WITHOUT_GPU();
  const auto w = randomFloats(5 * 4, 3);
  NetworkFixture f;
  buildConvTanh(f, Dims{-1, 4, 6, 6}, w);
  auto profile = f.builder.createOptimizationProfile();
  profile->setDimensions("x", OptProfileSelector::kMIN, Dims{1, 4, 6, 6});
  profile->setDimensions("x", OptProfileSelector::kOPT, Dims{4, 4, 6, 6});
  profile->setDimensions("x", OptProfileSelector::kMAX, Dims{8, 4, 6, 6});
  auto profile2 = f.builder.createOptimizationProfile();
  profile2->setDimensions("x", OptProfileSelector::kMIN, Dims{9, 4, 6, 6});
  profile2->setDimensions("x", OptProfileSelector::kOPT, Dims{12, 4, 6, 6});
  profile2->setDimensions("x", OptProfileSelector::kMAX, Dims{16, 4, 6, 6});
  auto config = f.builder.createBuilderConfig();
  config->setDeviceType(DeviceType::kGPU);
  config->setFlag(BuilderFlag::kFP16);
  config->addOptimizationProfile(profile);
  config->addOptimizationProfile(profile2);
  const auto plan = f.builder.buildSerializedNetwork(f.net(), *config);
  ASSERT_FALSE(plan.empty()) << f.logger.errors();
  Runtime runtime(f.logger);
  auto engine = runtime.deserialize(plan);
  ASSERT_TRUE(engine);
  for (int32_t p = 0; p < 2; ++p) {
    auto context = engine->createExecutionContext();
    ASSERT_TRUE(context->setOptimizationProfile(p));
    for (int64_t batch : p == 0 ? std::vector<int64_t>{1, 8} : std::vector<int64_t>{9, 16}) {
      const Dims dims{batch, 4, 6, 6};
      ASSERT_TRUE(context->setInputShape("x", dims));
      const HostTensor in = randomTensor(dims, static_cast<uint32_t>(batch));
      const auto y = executeOnGpu(*context, in, static_cast<std::size_t>(batch) * 5 * 36, f.logger);
      ASSERT_FALSE(y.empty());
      NetworkFixture g;
      buildConvTanh(g, dims, w);
      const auto expected = runOn(DeviceType::kCPU, g.builder, g.net(), {in});
      ASSERT_EQ(expected.size(), 1u);
      EXPECT_LE(relativeError(y, expected[0].floats()), 1e-2) << "batch " << batch;
    }
  }
}

TEST(GpuEngine, DataDependentShapesAreRefusedNamingTheLayer) {
  SKIP_WITHOUT_GPU();
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3});
  auto nz = f.net().addNonZero(x);
  nz.setName("find");
  f.net().markOutput(nz.output(0));
  auto config = f.builder.createBuilderConfig();
  config->setDeviceType(DeviceType::kGPU);
  EXPECT_TRUE(f.builder.buildSerializedNetwork(f.net(), *config).empty());
  EXPECT_TRUE(f.logger.hasError("layer 'find' (NonZero)")) << f.logger.errors();
  EXPECT_TRUE(f.logger.hasError("--device=cpu")) << f.logger.errors();
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
