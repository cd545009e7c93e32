// RoiAlign (kiln's own layer: ONNX RoiAlign) through the public API and the whole pipeline,
// against hand-computed samples, and its errors.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

struct Net {
  NetworkFixture f;
  RoiAlignLayer layer;
  Net(const Dims& x, int64_t regions) {
    Tensor in = f.net().addInput("x", DataType::kFLOAT, x);
    Tensor rois = f.net().addInput("rois", DataType::kFLOAT, Dims{regions, 4});
    Tensor batch = f.net().addInput("batch", DataType::kINT32, Dims{regions});
    layer = f.net().addRoiAlign(in, rois, batch);
  }
};

// x[i, j] = 10 i + j on a 4x4 plane: bilinear samples are exact (the plane is linear).
std::vector<float> linearPlane() {
  std::vector<float> v(16);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) v[static_cast<std::size_t>(i * 4 + j)] = 10.f * i + j;
  return v;
}

TEST(RoiAlign, AverageOfALinearPlane) {
  Net n(Dims{1, 1, 4, 4}, 2);
  ASSERT_TRUE(n.layer) << n.f.logger.errors();
  n.layer.setOutputSize(2, 2);
  n.layer.setSamplingRatio(2);
  EXPECT_EQ(n.layer.outputHeight(), 2);
  EXPECT_EQ(n.layer.outputWidth(), 2);
  EXPECT_TRUE(n.layer.aligned());
  n.f.net().markOutput(n.layer.output(0));
  // Region (x1, y1, x2, y2) = (0.5, 0.5, 2.5, 2.5), aligned: shifted to [0, 2] x [0, 2]; bins of
  // 1 cell, 2x2 samples at 0.25 and 0.75 within each bin: means at 0.5 and 1.5.
  const std::vector<float> rois{0.5f, 0.5f, 2.5f, 2.5f, 1.5f, 0.5f, 3.5f, 2.5f};
  const auto out = n.f.run({HostTensor::fromFloats(Dims{1, 1, 4, 4}, linearPlane()),
                            HostTensor::fromFloats(Dims{2, 4}, rois),
                            HostTensor::fromInts(Dims{2}, std::vector{0, 0})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{2, 1, 2, 2}));
  expectClose(out[0].floats(),
              std::vector<float>{5.5f, 6.5f, 15.5f, 16.5f, 6.5f, 7.5f, 16.5f, 17.5f}, 1e-5, 1e-5);
}

TEST(RoiAlign, MaxModeAndOutputHalfPixel) {
  Net n(Dims{1, 1, 4, 4}, 1);
  n.layer.setMode(RoiAlignMode::kMAX);
  n.layer.setAligned(false);
  n.layer.setSamplingRatio(1);
  n.layer.setSpatialScale(0.5f);
  n.f.net().markOutput(n.layer.output(0));
  // Region scaled by 0.5: [1, 3] x [1, 3]; 1x1 output, one sample at (2, 2): corners with
  // weight 1 at (2, 2) only: 22.
  const auto out = n.f.run({HostTensor::fromFloats(Dims{1, 1, 4, 4}, linearPlane()),
                            HostTensor::fromFloats(Dims{1, 4}, std::vector<float>{2, 2, 6, 6}),
                            HostTensor::fromInts(Dims{1}, std::vector{0})});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), std::vector<float>{22.f}, 1e-5, 1e-5);
}

TEST(RoiAlign, BadInputs) {
  {
    Net n(Dims{1, 1, 4}, 1);
    n.layer.setName("roi");
    expectInvalidLayer(n.f, n.layer,
                       "layer 'roi' (RoiAlign): the input has shape 1x1x4; it needs [N, C, H, W]");
  }
  {
    NetworkFixture f;
    Tensor in = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 4, 4});
    Tensor rois = f.net().addInput("rois", DataType::kFLOAT, Dims{2, 3});
    Tensor batch = f.net().addInput("batch", DataType::kINT32, Dims{2});
    expectInvalidLayer(f, f.net().addRoiAlign(in, rois, batch),
                       "the regions have shape 2x3; they need [R, 4] (x1, y1, x2, y2)");
  }
  {
    Net n(Dims{1, 1, 4, 4}, 1);
    n.layer.setOutputSize(0, 2);
    expectInvalidLayer(n.f, n.layer, "the output size 0x2 must be positive");
  }
}

TEST(RoiAlign, BatchIndexOutOfRangeFailsExecution) {
  Net n(Dims{1, 1, 2, 2}, 1);
  n.layer.setName("roi");
  n.f.net().markOutput(n.layer.output(0));
  auto config = n.f.builder.createBuilderConfig();
  const auto plan = n.f.builder.buildSerializedNetwork(n.f.net(), *config);
  ASSERT_FALSE(plan.empty()) << n.f.logger.errors();
  Runtime runtime(n.f.logger);
  auto engine = runtime.deserialize(plan);
  ASSERT_TRUE(engine);
  auto context = engine->createExecutionContext();
  std::vector<float> xs(4, 1.f), rois{0, 0, 1, 1}, y(1);
  std::vector<int32_t> batch{1};
  ASSERT_TRUE(context->setTensorAddress("x", xs.data()));
  ASSERT_TRUE(context->setTensorAddress("rois", rois.data()));
  ASSERT_TRUE(context->setTensorAddress("batch", batch.data()));
  ASSERT_TRUE(context->setTensorAddress(n.layer.output(0).name(), y.data()));
  EXPECT_FALSE(context->enqueueV3());
  EXPECT_TRUE(
      n.f.logger.hasError("layer 'roi' (RoiAlign): batch index 1 (region 0) is outside "
                          "[0, 1)"))
      << n.f.logger.errors();
}

}  // namespace
}  // namespace kiln::test
