// ONNX resampling importers: Resize (opsets 10 to 19), Upsample (7, 9) and GridSample (16, 20):
// every attribute reaching the layer, hand-checked results, and the errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "onnx_test_util.h"

namespace kiln::test {
namespace {

using onnx_test::attrFloat;
using onnx_test::attrInt;
using onnx_test::attrInts;
using onnx_test::attrString;
using onnx_test::expectParseError;
using onnx_test::ModelBuilder;
using onnx_test::runModel;

// Parses @p m into @p f's network and returns its one layer of type L (null when none).
template <typename L>
L parseAndFind(NetworkFixture& f, const ModelBuilder& m) {
  parsers::OnnxParser parser(f.net(), f.logger);
  const std::string bytes = m.bytes();
  EXPECT_TRUE(parser.parse(onnx_test::asBytes(bytes))) << onnx_test::parserErrors(parser);
  for (int32_t i = 0; i < f.net().nbLayers(); ++i) {
    if (L layer = f.net().layer(i).as<L>()) return layer;
  }
  ADD_FAILURE() << "no layer of the expected type";
  return L();
}

void attrFloatList(::onnx::NodeProto& node, const std::string& name,
                   const std::vector<float>& values) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::FLOATS);
  for (float v : values) a->add_floats(v);
}

void addFloats(ModelBuilder& m, const std::string& name, const std::vector<float>& values) {
  m.floats(name, {static_cast<int64_t>(values.size())}, values);
}

TEST(OnnxResize, AttributesReachTheLayer) {
  ModelBuilder m(13);
  m.input("x", {1, 1, 4, 4}).output("y");
  addFloats(m, "scales", {1, 1, 0.5f, 2});
  auto& node = m.node("Resize", {"x", "", "scales"}, {"y"});
  attrString(node, "mode", "cubic");
  attrString(node, "coordinate_transformation_mode", "align_corners");
  attrFloat(node, "cubic_coeff_a", -0.5f);
  attrInt(node, "exclude_outside", 1);
  NetworkFixture f;
  const ResizeLayer layer = parseAndFind<ResizeLayer>(f, m);
  ASSERT_TRUE(layer);
  EXPECT_EQ(layer.resizeMode(), InterpolationMode::kCUBIC);
  EXPECT_EQ(layer.coordinateTransformation(), ResizeCoordinateTransformation::kALIGN_CORNERS);
  EXPECT_EQ(layer.cubicCoeff(), -0.5f);
  EXPECT_TRUE(layer.excludeOutside());
  EXPECT_EQ(layer.scales(), (std::vector<float>{1, 1, 0.5f, 2}));
  EXPECT_EQ(layer.output(0).dimensions(), (Dims{1, 1, 2, 8}));
}

TEST(OnnxResize, DefaultsAreHalfPixelAndRoundPreferFloor) {
  ModelBuilder m(11);
  m.input("x", {1, 2}).output("y");
  addFloats(m, "roi", {});
  addFloats(m, "scales", {});
  m.vector("sizes", {1, 5});
  m.node("Resize", {"x", "roi", "scales", "sizes"}, {"y"});
  NetworkFixture f;
  const ResizeLayer layer = parseAndFind<ResizeLayer>(f, m);
  ASSERT_TRUE(layer);
  EXPECT_EQ(layer.resizeMode(), InterpolationMode::kNEAREST);
  EXPECT_EQ(layer.coordinateTransformation(), ResizeCoordinateTransformation::kHALF_PIXEL);
  EXPECT_EQ(layer.nearestRounding(), ResizeRoundMode::kROUND_PREFER_FLOOR);
  EXPECT_EQ(layer.outputDimensions(), (Dims{1, 5}));
}

TEST(OnnxResize, LinearHalfPixelAndNearestModes) {
  ModelBuilder m(13);
  m.input("x", {1, 2}).output("linear").output("ceil").output("asym");
  addFloats(m, "scales", {1, 2});
  attrString(m.node("Resize", {"x", "", "scales"}, {"linear"}), "mode", "linear");
  auto& ceil = m.node("Resize", {"x", "", "scales"}, {"ceil"});
  attrString(ceil, "nearest_mode", "ceil");
  auto& asym = m.node("Resize", {"x", "", "scales"}, {"asym"});
  attrString(asym, "coordinate_transformation_mode", "asymmetric");
  attrString(asym, "nearest_mode", "floor");
  const auto out = runModel(m, {HostTensor::fromFloats({1, 2}, std::vector<float>{1, 2})});
  ASSERT_EQ(out.size(), 3u);
  // half_pixel: x_in = (x + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25 (clamped at the edges).
  EXPECT_EQ(out[0].floats(), (std::vector<float>{1, 1.25f, 1.75f, 2}));
  EXPECT_EQ(out[1].floats(), (std::vector<float>{1, 2, 2, 2}));
  EXPECT_EQ(out[2].floats(), (std::vector<float>{1, 1, 2, 2}));
}

TEST(OnnxResize, AxesAndKeepAspectRatio) {
  ModelBuilder m(18);
  m.input("x", {1, 1, 2, 4}).output("y").output("z");
  m.vector("sizes", {4, 4});
  auto& stretch = m.node("Resize", {"x", "", "", "sizes"}, {"y"});
  attrInts(stretch, "axes", {2, -1});
  auto& smaller = m.node("Resize", {"x", "", "", "sizes"}, {"z"});
  attrInts(smaller, "axes", {2, 3});
  attrString(smaller, "keep_aspect_ratio_policy", "not_larger");
  NetworkFixture f;
  parsers::OnnxParser parser(f.net(), f.logger);
  const std::string bytes = m.bytes();
  ASSERT_TRUE(parser.parse(onnx_test::asBytes(bytes))) << onnx_test::parserErrors(parser);
  EXPECT_EQ(f.net().output(0).dimensions(), (Dims{1, 1, 4, 4}));
  // not_larger: scale min(4 / 2, 4 / 4) = 1.
  EXPECT_EQ(f.net().output(1).dimensions(), (Dims{1, 1, 2, 4}));
}

TEST(OnnxResize, TfCropAndResizeExtrapolates) {
  ModelBuilder m(13);
  m.input("x", {1, 3}).output("y");
  addFloats(m, "roi", {0, 0, 1, 1.5f});
  m.vector("sizes", {1, 4});
  auto& node = m.node("Resize", {"x", "roi", "", "sizes"}, {"y"});
  attrString(node, "mode", "linear");
  attrString(node, "coordinate_transformation_mode", "tf_crop_and_resize");
  attrFloat(node, "extrapolation_value", 10.f);
  // x_in = x * 1.5 * 2 / 3 = 0, 1, 2, 3 (outside).
  const auto out = runModel(m, {HostTensor::fromFloats({1, 3}, std::vector<float>{1, 2, 3})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{1, 2, 3, 10}));
}

TEST(OnnxResize, CropAndResizeTakesARunTimeRegion) {
  // The region of interest is a network input, read when the engine runs; the sizes (known) and
  // scales (a constant here) fix the output shape.
  for (const bool sizes : {true, false}) {
    ModelBuilder m(13);
    m.input("x", {1, 3}).input("roi", {4}).output("y");
    if (sizes) {
      m.vector("sizes", {1, 4});
    } else {
      addFloats(m, "scales", {1, 4.f / 3});
    }
    auto& node = m.node("Resize", {"x", "roi", sizes ? "" : "scales", sizes ? "sizes" : ""}, {"y"});
    attrString(node, "mode", "linear");
    attrString(node, "coordinate_transformation_mode", "tf_crop_and_resize");
    attrFloat(node, "extrapolation_value", 10.f);
    const auto out = runModel(m, {HostTensor::fromFloats({1, 3}, std::vector<float>{1, 2, 3}),
                                  HostTensor::fromFloats({4}, std::vector<float>{0, 0, 1, 1.5f})});
    ASSERT_EQ(out.size(), 1u) << sizes;
    EXPECT_EQ(out[0].floats(), (std::vector<float>{1, 2, 3, 10})) << sizes;
  }
}

TEST(OnnxResize, Opset10AndUpsampleAreAsymmetricFloor) {
  ModelBuilder m(9);
  m.input("x", {1, 3}).output("y");
  addFloats(m, "scales", {1, 2});
  m.node("Upsample", {"x", "scales"}, {"y"});
  const HostTensor x = HostTensor::fromFloats({1, 3}, std::vector<float>{1, 2, 3});
  auto out = runModel(m, {x});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{1, 1, 2, 2, 3, 3}));

  ModelBuilder seven(7);
  seven.input("x", {1, 3}).output("y");
  auto& node = seven.node("Upsample", {"x"}, {"y"});
  attrString(node, "mode", "linear");
  attrFloatList(node, "scales", {1, 2});
  out = runModel(seven, {x});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{1, 1.5f, 2, 2.5f, 3, 3}));

  ModelBuilder ten(10);
  ten.input("x", {1, 3}).output("y");
  addFloats(ten, "scales", {1, 2});
  ten.node("Resize", {"x", "scales"}, {"y"});
  out = runModel(ten, {x});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{1, 1, 2, 2, 3, 3}));
}

TEST(OnnxResize, BadInputsAreReported) {
  // Scales computed at run time would make the output shape dynamic (a network input is a
  // shape tensor instead: onnx_shape_inputs_test).
  ModelBuilder runtime(13);
  runtime.input("x", {1, 2}).input("s", {2}).output("y");
  runtime.node("Abs", {"s"}, {"scales"});
  runtime.node("Resize", {"x", "", "scales"}, {"y"}, "resize");
  expectParseError(runtime, {"node 'resize' (Resize, opset 13)",
                             "scales (input 2 'scales') must be known when the network is built"});

  ModelBuilder mode(13);
  mode.input("x", {1, 2}).output("y");
  addFloats(mode, "scales", {1, 2});
  attrString(mode.node("Resize", {"x", "", "scales"}, {"y"}, "resize"), "mode", "area");
  expectParseError(
      mode, {"node 'resize' (Resize, opset 13)", "mode 'area' is not nearest, linear or cubic"});

  ModelBuilder count(13);
  count.input("x", {1, 2}).output("y");
  addFloats(count, "scales", {2});
  count.node("Resize", {"x", "", "scales"}, {"y"}, "resize");
  expectParseError(count, {"scales has shape 1; it needs one value per resized axis (2)"});

  ModelBuilder antialias(18);
  antialias.input("x", {1, 4}).output("y");
  addFloats(antialias, "scales", {1, 0.5f});
  auto& node = antialias.node("Resize", {"x", "", "scales"}, {"y"}, "resize");
  attrString(node, "mode", "linear");
  attrInt(node, "antialias", 1);
  expectParseError(antialias,
                   {"node 'resize' (Resize, opset 18)",
                    "antialias 1 (a widened filter when downsampling) is not supported"});
}

TEST(OnnxGridSample, ModesReachTheLayerAndRun) {
  ModelBuilder m(16);
  m.input("x", {1, 1, 2, 2}).input("grid", {1, 1, 2, 2}).output("y");
  auto& node = m.node("GridSample", {"x", "grid"}, {"y"});
  attrString(node, "mode", "nearest");
  attrString(node, "padding_mode", "border");
  attrInt(node, "align_corners", 1);
  NetworkFixture f;
  const GridSampleLayer layer = parseAndFind<GridSampleLayer>(f, m);
  ASSERT_TRUE(layer);
  EXPECT_EQ(layer.interpolationMode(), InterpolationMode::kNEAREST);
  EXPECT_EQ(layer.sampleMode(), SampleMode::kCLAMP);
  EXPECT_TRUE(layer.alignCorners());

  // align_corners: (-1, -1) is the top-left pixel, (1, 1) the bottom-right; border clamps (3, 3).
  const auto out =
      runModel(m, {HostTensor::fromFloats({1, 1, 2, 2}, std::vector<float>{1, 2, 3, 4}),
                   HostTensor::fromFloats({1, 1, 2, 2}, std::vector<float>{-1, -1, 3, 3})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{1, 4}));

  ModelBuilder twenty(20);
  twenty.input("x", {1, 1, 2, 2}).input("grid", {1, 1, 2, 2}).output("y");
  attrString(twenty.node("GridSample", {"x", "grid"}, {"y"}), "mode", "cubic");
  NetworkFixture g;
  const GridSampleLayer cubic = parseAndFind<GridSampleLayer>(g, twenty);
  ASSERT_TRUE(cubic);
  EXPECT_EQ(cubic.interpolationMode(), InterpolationMode::kCUBIC);
  EXPECT_EQ(cubic.sampleMode(), SampleMode::kFILL);
}

TEST(OnnxGridSample, VolumesAndBadPaddingAreReported) {
  ModelBuilder volume(20);
  volume.input("x", {1, 1, 2, 2, 2}).input("grid", {1, 1, 1, 1, 3}).output("y");
  volume.node("GridSample", {"x", "grid"}, {"y"}, "gs");
  expectParseError(volume, {"node 'gs' (GridSample, opset 20)",
                            "kiln samples 2-D images [N, C, H, W]; the input has rank 5"});

  ModelBuilder padding(16);
  padding.input("x", {1, 1, 2, 2}).input("grid", {1, 1, 1, 2}).output("y");
  attrString(padding.node("GridSample", {"x", "grid"}, {"y"}, "gs"), "padding_mode", "wrap");
  expectParseError(padding, {"padding_mode 'wrap' is not zeros, border or reflection"});
}

}  // namespace
}  // namespace kiln::test
