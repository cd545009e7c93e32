// DropoutLayer (ONNX Dropout with a run-time training mode): the input passes through with an
// all-true mask unless the run asks to drop values, which fails the inference.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

struct Outcome {
  bool ok = false;
  std::vector<float> y;
  std::vector<uint8_t> mask;
  std::string errors;
};

Outcome runDropout(float ratio, bool training) {
  NetworkFixture f;
  const Dims dims{3, 5};
  Tensor x = f.net().addInput("x", DataType::kFLOAT, dims);
  Tensor r = f.net().addInput("r", DataType::kFLOAT, Dims{});
  Tensor t = f.net().addInput("t", DataType::kBOOL, Dims{});
  DropoutLayer layer = f.net().addDropout(x, r, t);
  EXPECT_TRUE(layer);
  EXPECT_EQ(layer.type(), LayerType::kDROPOUT);
  layer.output(0).setName("y");
  layer.output(1).setName("mask");
  f.net().markOutput(layer.output(0));
  f.net().markOutput(layer.output(1));
  auto config = f.builder.createBuilderConfig();
  const auto plan = f.builder.buildSerializedNetwork(f.net(), *config);
  EXPECT_FALSE(plan.empty());
  Runtime runtime(f.logger);
  auto engine = runtime.deserialize(plan);
  if (!engine) return {};
  auto context = engine->createExecutionContext();
  HostTensor in = randomTensor(dims, 9);
  uint8_t mode = training ? 1 : 0;
  Outcome out;
  out.y.resize(15);
  out.mask.resize(15, 7);
  context->setTensorAddress("x", in.bytes.data());
  context->setTensorAddress("r", &ratio);
  context->setTensorAddress("t", &mode);
  context->setTensorAddress("y", out.y.data());
  context->setTensorAddress("mask", out.mask.data());
  out.ok = context->enqueueV3();
  out.errors = f.logger.errors();
  if (out.ok) {
    EXPECT_EQ(out.y, in.floats());
  }
  return out;
}

TEST(Dropout, PassesThroughWhenNothingIsDropped) {
  for (auto [ratio, training] : {std::pair{0.5f, false}, std::pair{0.f, true}}) {
    const Outcome out = runDropout(ratio, training);
    EXPECT_TRUE(out.ok) << out.errors;
    EXPECT_EQ(out.mask, std::vector<uint8_t>(15, 1));
  }
}

TEST(Dropout, RandomDropsFailTheInference) {
  const Outcome out = runDropout(0.25f, true);
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.errors.find("drops values at random"), std::string::npos) << out.errors;
}

TEST(Dropout, RefusesBadRatioAndMode) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{2});
  Tensor r = f.net().addInput("r", DataType::kFLOAT, Dims{2});
  Tensor t = f.net().addInput("t", DataType::kBOOL, Dims{});
  expectInvalidLayer(f, f.net().addDropout(x, r, t), "one float32 value");
  NetworkFixture g;
  Tensor x2 = g.net().addInput("x", DataType::kFLOAT, Dims{2});
  Tensor r2 = g.net().addInput("r", DataType::kFLOAT, Dims{});
  Tensor t2 = g.net().addInput("t", DataType::kINT32, Dims{});
  expectInvalidLayer(g, g.net().addDropout(x2, r2, t2), "one bool value");
}

}  // namespace
}  // namespace kiln::test
