// Misuse of the network and builder API: every mistake is a logged error naming what is wrong,
// a null handle or a failed build — never a crash or an exception.
#include <gtest/gtest.h>

#include "support/test_util.h"

namespace kiln {
namespace {

using test::NetworkFixture;

TEST(NetworkApi, InputsAreNamedAndShaped) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 3, 4});
  ASSERT_TRUE(x);
  EXPECT_EQ(x.name(), "x");
  EXPECT_EQ(x.dimensions(), (Dims{1, 3, 4}));
  EXPECT_EQ(x.type(), DataType::kFLOAT);
  EXPECT_TRUE(x.isNetworkInput());
  EXPECT_FALSE(x.isNetworkOutput());
  EXPECT_EQ(f.net().tensor("x"), x);
  EXPECT_FALSE(f.net().tensor("nope"));
  EXPECT_EQ(f.logger.errorCount(), 0);
}

TEST(NetworkApi, DuplicateInputNameIsAnError) {
  NetworkFixture f;
  ASSERT_TRUE(f.net().addInput("x", DataType::kFLOAT, Dims{2}));
  EXPECT_FALSE(f.net().addInput("x", DataType::kFLOAT, Dims{2}));
  EXPECT_TRUE(f.logger.hasError("already has an input named 'x'"));
}

TEST(NetworkApi, BadInputDeclarationsAreErrors) {
  NetworkFixture f;
  EXPECT_FALSE(f.net().addInput("", DataType::kFLOAT, Dims{2}));
  EXPECT_TRUE(f.logger.hasError("needs a name"));
  EXPECT_FALSE(f.net().addInput("a", static_cast<DataType>(42), Dims{2}));
  EXPECT_TRUE(f.logger.hasError("unknown data type 42"));
  EXPECT_FALSE(f.net().addInput("b", DataType::kFLOAT, Dims{2, -5}));
  EXPECT_TRUE(f.logger.hasError("extent -5"));
  Dims tooMany;
  tooMany.nbDims = 9;
  EXPECT_FALSE(f.net().addInput("c", DataType::kFLOAT, tooMany));
  EXPECT_TRUE(f.logger.hasError("rank 9"));
}

TEST(NetworkApi, NullTensorsAreRejected) {
  NetworkFixture f;
  EXPECT_FALSE(f.net().addActivation(Tensor(), ActivationType::kRELU));
  EXPECT_TRUE(f.logger.hasError("addActivation: input is a null tensor"));
  EXPECT_FALSE(f.net().markOutput(Tensor()));
  EXPECT_TRUE(f.logger.hasError("markOutput"));
}

TEST(NetworkApi, TensorsOfAnotherNetworkAreRejected) {
  NetworkFixture a;
  NetworkFixture b;
  auto x = b.net().addInput("x", DataType::kFLOAT, Dims{4});
  EXPECT_FALSE(a.net().addActivation(x, ActivationType::kRELU));
  EXPECT_TRUE(a.logger.hasError("belongs to another network"));
}

TEST(NetworkApi, CallsOnNullHandlesDoNothing) {
  Tensor t;
  EXPECT_EQ(t.name(), "");
  EXPECT_EQ(t.dimensions().nbDims, -1);
  t.setName("x");
  Layer l;
  EXPECT_EQ(l.nbOutputs(), 0);
  EXPECT_FALSE(l.output(0));
  ActivationLayer a;
  a.setAlpha(1.f);
  EXPECT_FALSE(a.output(0));
}

TEST(NetworkApi, LayerAccessorsReportBadIndices) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{4});
  auto relu = f.net().addActivation(x, ActivationType::kRELU);
  ASSERT_TRUE(relu);
  EXPECT_EQ(relu.type(), LayerType::kACTIVATION);
  EXPECT_TRUE(relu.as<ActivationLayer>());
  EXPECT_FALSE(relu.as<ConvolutionLayer>());
  EXPECT_FALSE(relu.output(3));
  EXPECT_TRUE(f.logger.hasError("has no output 3"));
  EXPECT_FALSE(relu.input(-1));
  EXPECT_TRUE(f.logger.hasError("has no input -1"));
  EXPECT_EQ(f.net().nbLayers(), 1);
  EXPECT_EQ(f.net().layer(0), relu);
  EXPECT_FALSE(f.net().layer(1));
}

TEST(NetworkApi, BuildWithoutOutputsFails) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{4});
  f.net().addActivation(x, ActivationType::kRELU);
  auto config = f.builder.createBuilderConfig();
  EXPECT_TRUE(f.builder.buildSerializedNetwork(f.net(), *config).empty());
  EXPECT_TRUE(f.logger.hasError("no outputs"));
  EXPECT_FALSE(f.builder.buildEngine(f.net(), *config));
}

TEST(NetworkApi, InputMarkedAsOutputFails) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{4});
  f.net().markOutput(x);
  auto config = f.builder.createBuilderConfig();
  EXPECT_TRUE(f.builder.buildSerializedNetwork(f.net(), *config).empty());
  EXPECT_TRUE(f.logger.hasError("both a network input and an output"));
}

TEST(NetworkApi, DynamicShapesWithoutProfileFail) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{-1, 4});
  f.net().markOutput(f.net().addActivation(x, ActivationType::kRELU).output(0));
  auto config = f.builder.createBuilderConfig();
  EXPECT_TRUE(f.builder.buildSerializedNetwork(f.net(), *config).empty());
  EXPECT_TRUE(f.logger.hasError("input 'x' has shape -1x4"));
}

TEST(NetworkApi, DuplicateOutputNamesFail) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{4});
  auto a = f.net().addActivation(x, ActivationType::kRELU);
  auto b = f.net().addActivation(x, ActivationType::kTANH);
  a.output(0).setName("y");
  b.output(0).setName("y");
  f.net().markOutput(a.output(0));
  f.net().markOutput(b.output(0));
  auto config = f.builder.createBuilderConfig();
  EXPECT_TRUE(f.builder.buildSerializedNetwork(f.net(), *config).empty());
  EXPECT_TRUE(f.logger.hasError("'y' is used by two"));
}

TEST(NetworkApi, CyclesMadeWithSetInputFailTheBuild) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{4});
  auto a = f.net().addActivation(x, ActivationType::kRELU);
  auto b = f.net().addActivation(a.output(0), ActivationType::kTANH);
  a.setInput(0, b.output(0));
  f.net().markOutput(b.output(0));
  auto config = f.builder.createBuilderConfig();
  EXPECT_TRUE(f.builder.buildSerializedNetwork(f.net(), *config).empty());
  EXPECT_TRUE(f.logger.hasError("cycle"));
}

TEST(NetworkApi, FloatOpsRejectIntegerInputsWithAHint) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kINT32, Dims{4});
  test::expectInvalidLayer(f, f.net().addActivation(x, ActivationType::kRELU), "addCast");
}

TEST(NetworkApi, UnusedLayersArePrunedAndOutputsWork) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{3});
  auto relu = f.net().addActivation(x, ActivationType::kRELU);
  f.net().addActivation(x, ActivationType::kSIGMOID);  // not needed by any output
  relu.output(0).setName("y");
  f.net().markOutput(relu.output(0));
  const float values[] = {-1.f, 0.5f, 2.f};
  auto out = f.run({test::HostTensor::fromFloats(Dims{3}, values)});
  ASSERT_EQ(out.size(), 1u);
  const float expected[] = {0.f, 0.5f, 2.f};
  test::expectClose(out[0].as<float>(), expected);
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

TEST(NetworkApi, ErrorRecorderReceivesErrors) {
  test::CapturingLogger logger;
  Builder builder(logger);
  ErrorRecorder recorder;
  builder.setErrorRecorder(&recorder);
  auto network = builder.createNetwork();
  auto config = builder.createBuilderConfig();
  EXPECT_TRUE(builder.buildSerializedNetwork(*network, *config).empty());
  ASSERT_GE(recorder.nbErrors(), 1);
  EXPECT_EQ(recorder.error(0).code, ErrorCode::kINVALID_ARGUMENT);
  EXPECT_NE(recorder.error(0).description.find("no outputs"), std::string::npos);
}

TEST(BuilderConfigApi, SettingsRoundTrip) {
  test::CapturingLogger logger;
  Builder builder(logger);
  auto config = builder.createBuilderConfig();
  EXPECT_FALSE(config->getFlag(BuilderFlag::kFP16));
  config->setFlag(BuilderFlag::kFP16);
  EXPECT_TRUE(config->getFlag(BuilderFlag::kFP16));
  config->clearFlag(BuilderFlag::kFP16);
  EXPECT_FALSE(config->getFlag(BuilderFlag::kFP16));
  config->setMemoryPoolLimit(MemoryPoolType::kWORKSPACE, 1 << 20);
  EXPECT_EQ(config->memoryPoolLimit(MemoryPoolType::kWORKSPACE), 1u << 20);
  config->setBuilderOptimizationLevel(9);
  EXPECT_EQ(config->builderOptimizationLevel(), 5);
  EXPECT_EQ(config->deviceType(), DeviceType::kCPU);
}

// Without a GPU (the test environment hides it), or in a build without CUDA.
TEST(BuilderConfigApi, GpuTargetIsAnErrorWithoutAGpu) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{4});
  f.net().markOutput(f.net().addActivation(x, ActivationType::kRELU).output(0));
  auto config = f.builder.createBuilderConfig();
  config->setDeviceType(DeviceType::kGPU);
  EXPECT_TRUE(f.builder.buildSerializedNetwork(f.net(), *config).empty());
  EXPECT_TRUE(f.logger.hasError("no GPU backend") || f.logger.hasError("no CUDA GPU 0"));
}

}  // namespace
}  // namespace kiln
