// Channels-last (layout NHWC) Convolution and Pooling on the fast tactics: the CPU tactics leave
// them to the reference (they are NCHW kernels), the CUDA tactics (cuDNN with NHWC descriptors,
// the 1x1 convolution as one cuBLASLt GEMM, the pooling kernel) take them and, where a GPU is
// present, match the reference in FP32, FP16 and BF16.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "backends/device.h"
#include "gpu_tactic_support.h"
#include "kiln/kiln.h"
#include "ops/window_util.h"
#include "runtime/engine_impl.h"
#include "tactic_check.h"

namespace kiln::test {
namespace {

struct NhwcConv {
  int64_t n, h, w, c, k;
  int64_t kernel;
  int64_t stride = 1;
  int64_t pre = 0;
  int64_t post = 0;
  int64_t groups = 1;
};

ir::Attributes attrsOf(const NhwcConv& c) {
  ir::Attributes a;
  a.set("num_output", c.k);
  a.set("kernel", shape({c.kernel, c.kernel}));
  a.set("stride", shape({c.stride, c.stride}));
  a.set("pre_padding", shape({c.pre, c.pre}));
  a.set("post_padding", shape({c.post, c.post}));
  a.set("groups", c.groups);
  a.set(ops::kLayoutAttr, std::string("NHWC"));
  return a;
}

std::vector<CheckInput> inputsOf(const NhwcConv& c, uint32_t seed, bool bias) {
  std::vector<CheckInput> in = {
      randomInput(shape({c.n, c.h, c.w, c.c}), seed),
      randomInput(shape({c.k, c.kernel, c.kernel, c.c / c.groups}), seed + 1, true)};
  if (bias) in.push_back(randomInput(shape({c.k}), seed + 2, true));
  return in;
}

TEST(ChannelsLastTactics, Convolution) {
  const NhwcConv cases[] = {
      {2, 7, 9, 8, 16, 3, 1, 1, 1},       // ResNet's 3x3
      {1, 9, 8, 16, 8, 3, 2, 1, 1},       // stride 2
      {1, 6, 7, 8, 8, 3, 1, 1, 0},        // asymmetric padding: the shifted copy
      {2, 5, 5, 16, 24, 1},               // 1x1: one GEMM
      {1, 5, 6, 16, 8, 3, 1, 1, 1, 2},    // groups
      {2, 6, 7, 16, 16, 3, 1, 1, 1, 16},  // depthwise, as the layout pass makes it
  };
  uint32_t seed = 1;
  for (const NhwcConv& c : cases) {
    for (const bool bias : {false, true}) {
      SCOPED_TRACE("C " + std::to_string(c.c) + " K " + std::to_string(c.k) + " kernel " +
                   std::to_string(c.kernel) + (bias ? " bias" : ""));
      const auto attrs = attrsOf(c);
      const auto in = inputsOf(c, seed += 3, bias);
      const auto r = checkWithGpu("Convolution", "cuda.conv.cudnn", attrs, in);
      EXPECT_EQ(r.tactics, 0) << "CPU tactics are NCHW only";
      if (c.kernel == 1) expectGpuSupport("Convolution", "cuda.conv1x1.cublaslt", attrs, in);
    }
  }
}

TEST(ChannelsLastTactics, ConvolutionEpilogue) {
  for (const int64_t kernel : {int64_t{1}, int64_t{3}}) {
    const NhwcConv c{2, 5, 6, 8, 16, kernel, 1, kernel / 2, kernel / 2};
    ir::Attributes attrs = attrsOf(c);
    for (const ActivationType act : {ActivationType::kRELU, ActivationType::kSIGMOID}) {
      attrs.set("epilogue.activation", act);
      attrs.set("epilogue.residual", int64_t{3});
      auto in = inputsOf(c, 40 + static_cast<uint32_t>(kernel), true);
      in.push_back(randomInput(shape({c.n, c.h, c.w, c.k}), 50));
      const auto r = checkWithGpu(
          "Convolution", kernel == 1 ? "cuda.conv1x1.cublaslt" : "cuda.conv.cudnn", attrs, in);
      EXPECT_EQ(r.tactics, 0);
    }
  }
}

TEST(ChannelsLastTactics, Pooling) {
  struct Case {
    Dims x, window, stride, pre, post;
  };
  // C a multiple of 8 (16-bit max pooling then takes eight channels per thread) and not.
  const Case cases[] = {
      {shape({2, 9, 7, 8}), shape({3, 3}), shape({2, 2}), shape({1, 1}), shape({1, 1})},
      {shape({1, 13, 13, 24}), shape({3, 3}), shape({2, 2}), shape({0, 0}), shape({0, 0})},
      {shape({3, 5, 6, 16}), shape({2, 2}), shape({1, 1}), shape({0, 1}), shape({1, 0})},
      {shape({2, 6, 5, 12}), shape({3, 3}), shape({2, 2}), shape({1, 1}), shape({1, 1})},
  };
  uint32_t seed = 7;
  for (const Case& c : cases) {
    for (const PoolingType type : {PoolingType::kMAX, PoolingType::kAVERAGE}) {
      ir::Attributes a;
      a.set("type", type);
      a.set("window", c.window);
      a.set("stride", c.stride);
      a.set("pre_padding", c.pre);
      a.set("post_padding", c.post);
      a.set(ops::kLayoutAttr, std::string("NHWC"));
      const auto r = checkWithGpu("Pooling", "cuda.pooling", a, {randomInput(c.x, seed++)});
      EXPECT_EQ(r.tactics, 0) << "CPU tactics are NCHW only";
    }
  }
}

// Builds @p network for @p device (with @p flags), runs it on @p input; returns output 0 and, in
// @p plan, the engine's layers.
HostTensor buildAndRunOn(DeviceType device, Builder& builder, NetworkDefinition& network,
                         const HostTensor& input, const std::vector<BuilderFlag>& flags,
                         ir::Graph& plan) {
  auto config = builder.createBuilderConfig();
  config->setDeviceType(device);
  for (BuilderFlag flag : flags) config->setFlag(flag);
  const auto serialized = builder.buildSerializedNetwork(network, *config);
  EXPECT_FALSE(serialized.empty());
  Runtime runtime(builder.logger());
  auto engine = runtime.deserialize(serialized);
  if (!engine) {
    ADD_FAILURE() << "build or deserialize failed";
    return HostTensor(DataType::kFLOAT, Dims{});
  }
  plan = engine->impl().plan().graph;
  auto context = engine->createExecutionContext();
  const backends::DeviceRuntime& dev = *backends::deviceRuntime(device);
  const auto name = network.output(0).name();
  HostTensor output(engine->tensorDataType(name), engine->tensorShape(name));
  backends::DeviceBuffer x(dev, input.bytes.size());
  backends::DeviceBuffer y(dev, output.bytes.size());
  dev.copyAsync(x.data(), input.bytes.data(), input.bytes.size(), backends::CopyKind::kHostToDevice,
                nullptr);
  context->setTensorAddress(network.input(0).name(), x.data());
  context->setTensorAddress(name, y.data());
  EXPECT_TRUE(context->enqueueV3(nullptr));
  dev.copyAsync(output.bytes.data(), y.data(), output.bytes.size(),
                backends::CopyKind::kDeviceToHost, nullptr);
  dev.synchronize(nullptr);
  return output;
}

// Runs @p network on the CPU (FP32) and on the GPU (FP16) and expects the same output; returns
// the GPU engine's layers.
ir::Graph expectFp16GpuMatchesCpu(Builder& builder, NetworkDefinition& network,
                                  const HostTensor& input, const CapturingLogger& logger) {
  ir::Graph cpuPlan;
  ir::Graph gpuPlan;
  const HostTensor expected = buildAndRunOn(DeviceType::kCPU, builder, network, input, {}, cpuPlan);
  const HostTensor actual =
      buildAndRunOn(DeviceType::kGPU, builder, network, input, {BuilderFlag::kFP16}, gpuPlan);
  EXPECT_EQ(actual.dims, expected.dims) << logger.errors();
  if (actual.dims == expected.dims) {
    EXPECT_LT(relativeError(actual.floats(), expected.floats()), 1e-2);
  }
  return gpuPlan;
}

int32_t channelsLastConvolutions(const ir::Graph& plan) {
  int32_t nhwc = 0;
  for (const auto& node : plan.nodes) {
    if (node.op == "Convolution" && ops::channelsLast(node.attrs)) ++nhwc;
  }
  return nhwc;
}

// The whole path on the GPU: an FP16 build moves the residual block to NHWC (the layout pass),
// cuDNN / cuBLASLt / the pooling kernel run it, and the output matches the FP32 CPU engine.
TEST(ChannelsLastEngine, Fp16ResidualBlockRunsNhwcOnTheGpu) {
  if (!backends::gpuPresent()) GTEST_SKIP() << "no CUDA GPU here";
  CapturingLogger logger;
  Builder builder(logger);
  auto network = builder.createNetwork();
  const Dims dims = shape({4, 16, 14, 14});
  Tensor x = network->addInput("x", DataType::kFLOAT, dims);
  const std::vector<float> w1 = randomFloats(32 * 16 * 9, 1, -0.2f, 0.2f);
  const std::vector<float> b1 = randomFloats(32, 2);
  const std::vector<float> w2 = randomFloats(16 * 32 * 9, 3, -0.2f, 0.2f);
  const std::vector<float> b2 = randomFloats(16, 4);
  const std::vector<float> w3 = randomFloats(16 * 16, 5, -0.3f, 0.3f);
  auto conv1 = network->addConvolution(x, 32, shape({3, 3}), floatWeights(w1), floatWeights(b1));
  conv1.setPadding(shape({1, 1}));
  auto relu1 = network->addActivation(conv1.output(0), ActivationType::kRELU);
  auto conv2 = network->addConvolution(relu1.output(0), 16, shape({3, 3}), floatWeights(w2),
                                       floatWeights(b2));
  conv2.setPadding(shape({1, 1}));
  auto add = network->addElementWise(conv2.output(0), x, ElementWiseOperation::kSUM);
  auto relu2 = network->addActivation(add.output(0), ActivationType::kRELU);
  auto conv3 = network->addConvolution(relu2.output(0), 16, shape({1, 1}), floatWeights(w3),
                                       Weights{DataType::kFLOAT, nullptr, 0});
  auto pool = network->addPooling(conv3.output(0), PoolingType::kMAX, shape({2, 2}));
  pool.setStride(shape({2, 2}));
  pool.output(0).setName("y");
  network->markOutput(pool.output(0));
  const ir::Graph gpuPlan =
      expectFp16GpuMatchesCpu(builder, *network, randomTensor(dims, 7), logger);
  EXPECT_EQ(channelsLastConvolutions(gpuPlan), 3) << "the FP16 convolutions run NHWC";
}

// An image's 3 channels: the FP16 build pads them to 8 on the way into NHWC (PadToChannelsLast)
// and the stem-like 7x7 stride-2 convolution runs on tensor cores, matching the FP32 CPU engine.
TEST(ChannelsLastEngine, ThreeChannelStemIsPaddedOnTheGpu) {
  if (!backends::gpuPresent()) GTEST_SKIP() << "no CUDA GPU here";
  CapturingLogger logger;
  Builder builder(logger);
  auto network = builder.createNetwork();
  const Dims dims = shape({2, 3, 32, 32});
  Tensor x = network->addInput("x", DataType::kFLOAT, dims);
  const std::vector<float> w1 = randomFloats(16 * 3 * 49, 1, -0.2f, 0.2f);
  const std::vector<float> b1 = randomFloats(16, 2);
  const std::vector<float> w2 = randomFloats(16 * 16 * 9, 3, -0.2f, 0.2f);
  auto stem = network->addConvolution(x, 16, shape({7, 7}), floatWeights(w1), floatWeights(b1));
  stem.setStride(shape({2, 2}));
  stem.setPadding(shape({3, 3}));
  auto relu = network->addActivation(stem.output(0), ActivationType::kRELU);
  auto conv = network->addConvolution(relu.output(0), 16, shape({3, 3}), floatWeights(w2),
                                      Weights{DataType::kFLOAT, nullptr, 0});
  conv.setPadding(shape({1, 1}));
  conv.output(0).setName("y");
  network->markOutput(conv.output(0));
  const ir::Graph gpuPlan =
      expectFp16GpuMatchesCpu(builder, *network, randomTensor(dims, 7), logger);
  int32_t padded = 0;
  for (const auto& node : gpuPlan.nodes) padded += node.op == "PadToChannelsLast" ? 1 : 0;
  EXPECT_EQ(padded, 1);
  EXPECT_EQ(channelsLastConvolutions(gpuPlan), 2);
}

}  // namespace
}  // namespace kiln::test
