// ResizeLayer with kTF_CROP_AND_RESIZE (ONNX tf_crop_and_resize): the settings, hand-checked
// crops with extrapolation in 1-D and 2-D, and the errors.
#include <gtest/gtest.h>

#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

using CT = ResizeCoordinateTransformation;

TEST(ResizeCrop, SettingsRoundTrip) {
  NetworkFixture f;
  ResizeLayer layer = f.net().addResize(f.net().addInput("x", DataType::kFLOAT, Dims{4}));
  ASSERT_TRUE(layer);
  EXPECT_TRUE(layer.regionOfInterest().empty());
  EXPECT_EQ(layer.extrapolationValue(), 0.f);
  layer.setCoordinateTransformation(CT::kTF_CROP_AND_RESIZE);
  layer.setRegionOfInterest(std::vector<float>{0.25f, 0.75f});
  layer.setExtrapolationValue(-1.f);
  EXPECT_EQ(layer.coordinateTransformation(), CT::kTF_CROP_AND_RESIZE);
  EXPECT_EQ(layer.regionOfInterest(), (std::vector<float>{0.25f, 0.75f}));
  EXPECT_EQ(layer.extrapolationValue(), -1.f);
}

TEST(ResizeCrop, LinearAndNearestCropsExtrapolate) {
  // 1-D, input [0, 10, 20, 30] (length 4, span 3), roi [-0.5, 1]: x_in = -1.5 + y * 4.5 / 3.
  for (const auto mode : {InterpolationMode::kLINEAR, InterpolationMode::kNEAREST}) {
    NetworkFixture f;
    ResizeLayer layer = f.net().addResize(f.net().addInput("x", DataType::kFLOAT, Dims{4}));
    layer.setResizeMode(mode);
    layer.setNearestRounding(ResizeRoundMode::kROUND_PREFER_FLOOR);
    layer.setCoordinateTransformation(CT::kTF_CROP_AND_RESIZE);
    layer.setRegionOfInterest(std::vector<float>{-0.5f, 1.f});
    layer.setExtrapolationValue(7.f);
    layer.setOutputDimensions(Dims{4});
    f.net().markOutput(layer.output(0));
    const auto out = f.run({HostTensor::fromFloats(Dims{4}, std::vector<float>{0, 10, 20, 30})});
    ASSERT_EQ(out.size(), 1u) << f.logger.errors();
    // x_in = -1.5 (outside), 0, 1.5, 3.
    if (mode == InterpolationMode::kLINEAR) {
      EXPECT_EQ(out[0].floats(), (std::vector<float>{7, 0, 15, 30}));
    } else {
      EXPECT_EQ(out[0].floats(), (std::vector<float>{7, 0, 10, 30}));
    }
  }
}

TEST(ResizeCrop, TwoDimensionsAndSingleOutput) {
  // [2, 2] -> [1, 3]: rows take the middle of roi [0, 1] (x_in 0.5), columns roi [0, 2] give
  // x_in 0, 1, 2 (outside).
  NetworkFixture f;
  ResizeLayer layer = f.net().addResize(f.net().addInput("x", DataType::kFLOAT, Dims{2, 2}));
  layer.setResizeMode(InterpolationMode::kLINEAR);
  layer.setCoordinateTransformation(CT::kTF_CROP_AND_RESIZE);
  layer.setRegionOfInterest(std::vector<float>{0, 0, 1, 2});
  layer.setOutputDimensions(Dims{1, 3});
  f.net().markOutput(layer.output(0));
  const auto out = f.run({HostTensor::fromFloats(Dims{2, 2}, std::vector<float>{1, 2, 3, 4})});
  ASSERT_EQ(out.size(), 1u) << f.logger.errors();
  EXPECT_EQ(out[0].floats(), (std::vector<float>{2, 3, 0}));
}

TEST(ResizeCrop, BadSettingsNameTheLayer) {
  NetworkFixture f;
  ResizeLayer layer = f.net().addResize(f.net().addInput("x", DataType::kFLOAT, Dims{2, 2}));
  layer.setCoordinateTransformation(CT::kTF_CROP_AND_RESIZE);
  layer.setScales(std::vector<float>{1, 2});
  expectInvalidLayer(f, layer,
                     "layer 'Resize_0' (Resize): tf_crop_and_resize needs a region of interest of "
                     "4 values (a start and an end per dimension), not 0");

  NetworkFixture g;
  ResizeLayer ints = g.net().addResize(g.net().addInput("x", DataType::kINT32, Dims{2}));
  ints.setCoordinateTransformation(CT::kTF_CROP_AND_RESIZE);
  ints.setRegionOfInterest(std::vector<float>{0, 1});
  ints.setScales(std::vector<float>{2});
  expectInvalidLayer(g, ints, "layer 'Resize_0' (Resize): tf_crop_and_resize needs float32 input");
}

}  // namespace
}  // namespace kiln::test
