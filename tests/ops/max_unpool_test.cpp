// MaxUnpoolLayer (ONNX MaxUnpool): values scattered to flat indices, the output size from the
// window settings or given whole, the inverse of max pooling with indices, and the errors.
#include <gtest/gtest.h>

#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

TEST(MaxUnpool, ScattersToFlatIndices) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 2, 2});
  Tensor i = f.net().addInput("i", DataType::kINT32, Dims{1, 1, 2, 2});
  MaxUnpoolLayer layer = f.net().addMaxUnpool(x, i, Dims{2, 2});
  ASSERT_TRUE(layer);
  EXPECT_EQ(layer.type(), LayerType::kMAX_UNPOOL);
  EXPECT_EQ(layer.stride(), (Dims{2, 2}));
  f.net().markOutput(layer.output(0));
  const std::vector<float> values{1, 2, 3, 4};
  const std::vector<int32_t> indices{5, 7, 13, 15};
  const auto out = f.run({HostTensor::fromFloats(Dims{1, 1, 2, 2}, values),
                          HostTensor::fromInts(Dims{1, 1, 2, 2}, indices)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{1, 1, 4, 4}));
  EXPECT_EQ(out[0].floats(), (std::vector<float>{0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4}));
}

TEST(MaxUnpool, InvertsMaxPoolingWithIndices) {
  NetworkFixture f;
  const Dims dims{2, 3, 5, 7};
  Tensor x = f.net().addInput("x", DataType::kFLOAT, dims);
  MaxPoolingIndicesLayer pool = f.net().addMaxPoolingWithIndices(x, Dims{2, 3});
  pool.setStride(Dims{2, 3});
  MaxUnpoolLayer unpool = f.net().addMaxUnpool(pool.output(0), pool.output(1), Dims{2, 3});
  unpool.setStride(Dims{2, 3});
  unpool.setOutputDimensions(dims);
  f.net().markOutput(unpool.output(0));
  f.net().markOutput(pool.output(0));
  const HostTensor in = randomTensor(dims, 3);
  const auto out = f.run({in});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].dims, dims);
  // Every pooled maximum is back in its place; everything else is 0.
  const auto restored = out[0].floats();
  const auto source = in.floats();
  int kept = 0;
  for (std::size_t k = 0; k < restored.size(); ++k) {
    if (restored[k] != 0.f) {
      EXPECT_EQ(restored[k], source[k]) << k;
      ++kept;
    }
  }
  EXPECT_EQ(kept, out[1].count());
}

TEST(MaxUnpool, PaddingAndStride) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 2, 3});
  Tensor i = f.net().addInput("i", DataType::kINT32, Dims{1, 2, 3});
  MaxUnpoolLayer layer = f.net().addMaxUnpool(x, i, Dims{3});
  layer.setStride(Dims{2});
  layer.setPrePadding(Dims{1});
  layer.setPostPadding(Dims{0});
  f.net().markOutput(layer.output(0));
  // (3 - 1) * 2 + 3 - 1 = 6 per channel.
  const auto out =
      f.run({HostTensor::fromFloats(Dims{1, 2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6}),
             HostTensor::fromInts(Dims{1, 2, 3}, std::vector<int32_t>{0, 2, 5, 6, 9, 11})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{1, 2, 6}));
  EXPECT_EQ(out[0].floats(), (std::vector<float>{1, 0, 2, 0, 0, 3, 4, 0, 0, 5, 0, 6}));
}

TEST(MaxUnpool, IndexOutsideTheOutputFailsTheInference) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 1, 1});
  Tensor i = f.net().addInput("i", DataType::kINT32, Dims{1, 1, 1, 1});
  MaxUnpoolLayer layer = f.net().addMaxUnpool(x, i, Dims{2, 2});
  f.net().markOutput(layer.output(0));
  auto config = f.builder.createBuilderConfig();
  const auto plan = f.builder.buildSerializedNetwork(f.net(), *config);
  ASSERT_FALSE(plan.empty());
  Runtime runtime(f.logger);
  auto engine = runtime.deserialize(plan);
  ASSERT_TRUE(engine);
  auto context = engine->createExecutionContext();
  float value = 1;
  int32_t index = 4;
  std::vector<float> y(4);
  context->setTensorAddress("x", &value);
  context->setTensorAddress("i", &index);
  context->setTensorAddress(layer.output(0).name(), y.data());
  EXPECT_FALSE(context->enqueueV3());
  EXPECT_TRUE(f.logger.hasError("index 4 at position 0 is outside")) << f.logger.errors();
}

TEST(MaxUnpool, RefusesBadShapes) {
  {
    NetworkFixture f;
    Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 2, 2});
    Tensor i = f.net().addInput("i", DataType::kINT32, Dims{1, 1, 2, 3});
    expectInvalidLayer(f, f.net().addMaxUnpool(x, i, Dims{2, 2}), "need the input's");
  }
  {
    NetworkFixture f;
    Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 2, 2});
    Tensor i = f.net().addInput("i", DataType::kFLOAT, Dims{1, 1, 2, 2});
    expectInvalidLayer(f, f.net().addMaxUnpool(x, i, Dims{2, 2}), "must be int32");
  }
  {
    NetworkFixture f;
    Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 2, 2});
    Tensor i = f.net().addInput("i", DataType::kINT32, Dims{1, 1, 2, 2});
    expectInvalidLayer(f, f.net().addMaxUnpool(x, i, Dims{2}), "one spatial dimension per");
  }
  {
    NetworkFixture f;
    Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 2, 2});
    Tensor i = f.net().addInput("i", DataType::kINT32, Dims{1, 1, 2, 2});
    MaxUnpoolLayer layer = f.net().addMaxUnpool(x, i, Dims{2, 2});
    layer.setOutputDimensions(Dims{1, 2, 4, 4});
    expectInvalidLayer(f, layer, "its N and C");
  }
}

}  // namespace
}  // namespace kiln::test
