// Scale through the public API and the whole pipeline (build, plan round trip, run).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <ostream>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

// (x * scale + shift) ^ power per element, with the coefficient picked from the element's
// coordinates: none (uniform), the channel coordinate, or the coordinates from the channel
// axis on (elementwise). Empty coefficient vectors are absent.
std::vector<float> naiveScale(const std::vector<float>& x, const Dims& dims, ScaleMode mode,
                              int32_t axis, const std::vector<float>& shift,
                              const std::vector<float>& scale, const std::vector<float>& power) {
  std::vector<float> y(x.size());
  std::vector<int64_t> coords(static_cast<std::size_t>(dims.nbDims));
  for (std::size_t flat = 0; flat < x.size(); ++flat) {
    auto rest = static_cast<int64_t>(flat);
    for (int32_t i = dims.nbDims - 1; i >= 0; --i) {
      coords[static_cast<std::size_t>(i)] = rest % dims[i];
      rest /= dims[i];
    }
    int64_t c = 0;
    if (mode == ScaleMode::kCHANNEL) {
      c = coords[static_cast<std::size_t>(axis)];
    } else if (mode == ScaleMode::kELEMENTWISE) {
      for (int32_t i = axis; i < dims.nbDims; ++i)
        c = c * dims[i] + coords[static_cast<std::size_t>(i)];
    }
    const auto at = static_cast<std::size_t>(c);
    const double s = scale.empty() ? 1.0 : scale[at];
    const double b = shift.empty() ? 0.0 : shift[at];
    const double p = power.empty() ? 1.0 : power[at];
    y[flat] = static_cast<float>(std::pow(x[flat] * s + b, p));
  }
  return y;
}

TEST(Scale, HandComputedUniform) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 2});
  const std::vector<float> shift = {1}, scale = {2}, power = {2};
  auto layer = f.net().addScale(x, ScaleMode::kUNIFORM, floatWeights(shift), floatWeights(scale),
                                floatWeights(power));
  ASSERT_TRUE(layer) << f.logger.errors();
  EXPECT_EQ(layer.type(), LayerType::kSCALE);
  EXPECT_EQ(layer.mode(), ScaleMode::kUNIFORM);
  EXPECT_EQ(layer.channelAxis(), 1);
  f.net().markOutput(layer.output(0));
  const std::vector<float> in = {0, 1, -1, 0.5f};
  const auto out = f.run({HostTensor::fromFloats(Dims{2, 2}, in)});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), std::vector<float>{1, 9, 1, 4});
}

TEST(Scale, HandComputedChannelShiftOnly) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 3, 2});
  const std::vector<float> shift = {10, 20, 30};
  auto layer = f.net().addScale(x, ScaleMode::kCHANNEL, floatWeights(shift), Weights{}, Weights{});
  ASSERT_TRUE(layer) << f.logger.errors();
  f.net().markOutput(layer.output(0));
  const std::vector<float> in = {1, 2, 3, 4, 5, 6};
  const auto out = f.run({HostTensor::fromFloats(Dims{1, 3, 2}, in)});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), std::vector<float>{11, 12, 23, 24, 35, 36});
}

struct ScaleCase {
  Dims dims;
  ScaleMode mode;
  int32_t axis;  // -100: use addScale (default axis 1)
  int64_t count;
  bool shift, scale, power;
};

void PrintTo(const ScaleCase& c, std::ostream* os) {
  *os << toString(c.dims) << " mode " << static_cast<int>(c.mode) << " axis " << c.axis
      << (c.shift ? " shift" : "") << (c.scale ? " scale" : "") << (c.power ? " power" : "");
}

class ScaleShapes : public ::testing::TestWithParam<ScaleCase> {};

TEST_P(ScaleShapes, MatchesNaive) {
  const ScaleCase& c = GetParam();
  const bool nd = c.axis != -100;
  const int32_t axis = nd ? c.axis : 1;
  // Positive bases keep non-integer powers real.
  const auto shift = c.shift ? randomFloats(c.count, 41, 0.5f, 1.5f) : std::vector<float>{};
  const auto scale = c.scale ? randomFloats(c.count, 42, 0.5f, 2.f) : std::vector<float>{};
  const auto power = c.power ? randomFloats(c.count, 43, 0.5f, 2.5f) : std::vector<float>{};

  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, c.dims);
  auto layer = nd ? f.net().addScaleNd(x, c.mode, floatWeights(shift), floatWeights(scale),
                                       floatWeights(power), c.axis)
                  : f.net().addScale(x, c.mode, floatWeights(shift), floatWeights(scale),
                                     floatWeights(power));
  ASSERT_TRUE(layer) << f.logger.errors();
  EXPECT_EQ(layer.mode(), c.mode);
  EXPECT_EQ(layer.channelAxis(), axis);
  EXPECT_EQ(layer.output(0).dimensions(), c.dims);
  f.net().markOutput(layer.output(0));

  const auto in = randomTensor(c.dims, 44, 0.f, 2.f);
  const auto out = f.run({in});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, c.dims);
  const int32_t normalized = axis < 0 ? axis + c.dims.nbDims : axis;
  expectClose(out[0].floats(),
              naiveScale(in.floats(), c.dims, c.mode, normalized, shift, scale, power));
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

constexpr auto U = ScaleMode::kUNIFORM;
constexpr auto C = ScaleMode::kCHANNEL;
constexpr auto E = ScaleMode::kELEMENTWISE;

INSTANTIATE_TEST_SUITE_P(
    Shapes, ScaleShapes,
    ::testing::Values(ScaleCase{Dims{2, 3, 4, 5}, U, -100, 1, true, true, true},
                      ScaleCase{Dims{7}, U, -100, 1, false, true,
                                false},  // rank 1: the axis is unused
                      ScaleCase{Dims{2, 3, 4, 5}, C, -100, 3, true, true, true},
                      ScaleCase{Dims{2, 3, 4, 5}, C, -100, 3, false, false, true},
                      ScaleCase{Dims{2, 3, 4, 5}, E, -100, 60, true, true, true},
                      ScaleCase{Dims{2, 3, 4, 5}, E, -100, 60, true, false, false},
                      ScaleCase{Dims{2, 3, 4, 5}, C, 2, 4, true, true, true},
                      ScaleCase{Dims{2, 3, 4, 5}, E, 2, 20, true, true, true},
                      ScaleCase{Dims{2, 3, 4, 5}, C, 0, 2, true, true, false},
                      ScaleCase{Dims{2, 3, 4, 5}, C, 3, 5, false, true, true},
                      ScaleCase{Dims{2, 3, 4, 5}, E, 3, 5, true, true, true},
                      ScaleCase{Dims{2, 3, 4, 5}, C, -1, 5, true, true, false},
                      ScaleCase{Dims{3, 1, 7}, C, -100, 1, true, true, true},
                      ScaleCase{Dims{5, 3}, C, 1, 3, true, true, true},
                      ScaleCase{Dims{2, 0, 3}, C, 2, 3, true, true, true},
                      ScaleCase{Dims{2, 3, 4}, U, -100, 1, false, false, false}));

// A network with input x [2, 3, 4, 5], for one bad layer. Each bad layer gets a network of its
// own, so that the errors logged there are its alone.
struct OneInput : NetworkFixture {
  Tensor x = net().addInput("x", DataType::kFLOAT, Dims{2, 3, 4, 5});
};

TEST(Scale, RejectsCountMismatchesNamingTheLayer) {
  // The counts needed depend on the input's shape (and setters may still replace the weights),
  // so mismatches are reported when the layer's shapes are needed.
  const auto two = randomFloats(2, 1);
  const auto three = randomFloats(3, 1);
  {
    OneInput n;
    expectInvalidLayer(
        n, n.net().addScale(n.x, U, floatWeights(two), Weights{}, Weights{}),
        "layer 'Scale_0' (Scale): shift weights have 2 values; kUNIFORM needs exactly 1");
  }
  {
    OneInput n;
    expectInvalidLayer(n, n.net().addScale(n.x, C, Weights{}, floatWeights(two), Weights{}),
                       "layer 'Scale_0' (Scale): scale weights have 2 values; kCHANNEL");
    EXPECT_TRUE(n.logger.hasError("needs 3")) << n.logger.errors();
  }
  {
    OneInput n;
    expectInvalidLayer(n, n.net().addScaleNd(n.x, C, Weights{}, Weights{}, floatWeights(three), 2),
                       "layer 'Scale_0' (Scale): power weights have 3 values");
    EXPECT_TRUE(n.logger.hasError("needs 4")) << n.logger.errors();
  }
  {
    OneInput n;
    expectInvalidLayer(n, n.net().addScale(n.x, E, floatWeights(three), Weights{}, Weights{}),
                       "layer 'Scale_0' (Scale): shift weights have 3 values; kELEMENTWISE");
    EXPECT_TRUE(n.logger.hasError("needs 60")) << n.logger.errors();
  }
}

TEST(Scale, RejectsBadAxesModesTypesAndWeights) {
  // Axes and input types that do not suit the input: setChannelAxis or new input shapes or
  // types could still fix them, so they are reported when the layer's shapes are needed.
  const auto three = randomFloats(3, 1);
  {
    NetworkFixture n;
    auto x = n.net().addInput("x", DataType::kFLOAT, Dims{2, 3});
    expectInvalidLayer(n, n.net().addScaleNd(x, C, floatWeights(three), Weights{}, Weights{}, 2),
                       "layer 'Scale_0' (Scale): channel axis 2 is out of range");
  }
  {
    NetworkFixture n;
    auto xi = n.net().addInput("xi", DataType::kINT32, Dims{2, 3});
    expectInvalidLayer(n, n.net().addScale(xi, U, Weights{}, Weights{}, Weights{}),
                       "layer 'Scale_0' (Scale): input must be float32, not int32");
    EXPECT_TRUE(n.logger.hasError("addCast")) << n.logger.errors();
  }

  // Bad arguments are refused at once.
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3});
  EXPECT_FALSE(f.net().addScale(x, static_cast<ScaleMode>(5), Weights{}, Weights{}, Weights{}));
  EXPECT_TRUE(f.logger.hasError("layer 'Scale_0' (Scale): mode 5 is not a ScaleMode"))
      << f.logger.errors();
  f.logger.clear();
  EXPECT_FALSE(f.net().addScale(x, static_cast<ScaleMode>(-1), Weights{}, Weights{}, Weights{}));
  EXPECT_TRUE(f.logger.hasError("mode -1 is not a ScaleMode")) << f.logger.errors();
  f.logger.clear();

  EXPECT_FALSE(f.net().addScale(x, C, Weights{DataType::kFLOAT, nullptr, 3}, Weights{}, Weights{}));
  EXPECT_TRUE(f.logger.hasError("layer 'Scale_0' (Scale): shift has count 3 but no values"))
      << f.logger.errors();
  f.logger.clear();

  const std::vector<int32_t> ints = {1, 2, 3};
  EXPECT_FALSE(
      f.net().addScale(x, C, Weights{}, Weights{DataType::kINT32, ints.data(), 3}, Weights{}));
  EXPECT_TRUE(f.logger.hasError("layer 'Scale_0' (Scale): scale weights must be float"))
      << f.logger.errors();
  f.logger.clear();

  EXPECT_FALSE(f.net().addScale(Tensor(), U, Weights{}, Weights{}, Weights{}));
  EXPECT_TRUE(f.logger.hasError("null")) << f.logger.errors();
  f.logger.clear();

  NetworkFixture other;
  auto foreign = other.net().addInput("x", DataType::kFLOAT, Dims{2, 3});
  EXPECT_FALSE(f.net().addScaleNd(foreign, U, Weights{}, Weights{}, Weights{}, 0));
  EXPECT_TRUE(f.logger.hasError("another network")) << f.logger.errors();
  EXPECT_EQ(f.net().nbLayers(), 0);

  // Replacement weights that are not float are refused at once too.
  auto layer = f.net().addScale(x, C, Weights{}, Weights{}, Weights{});
  ASSERT_TRUE(layer) << f.logger.errors();
  layer.setPower(Weights{DataType::kINT32, ints.data(), 3});
  EXPECT_TRUE(f.logger.hasError("layer 'Scale_0' (Scale): power weights must be float"))
      << f.logger.errors();
  EXPECT_FALSE(layer.input(3));  // still no power
}

TEST(Scale, SettersReplaceCoefficientsAndBadOnesFailTheBuild) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 2, 3});
  const std::vector<float> one = {3};
  auto layer = f.net().addScale(x, U, Weights{}, floatWeights(one), Weights{});
  ASSERT_TRUE(layer) << f.logger.errors();
  layer.setName("sc");

  // A channel axis and three shift values: the mode stays kUNIFORM though.
  layer.setChannelAxis(2);
  EXPECT_EQ(layer.channelAxis(), 2);
  const std::vector<float> shift = {1, 2, 3};
  const std::vector<float> power = {1, 2, 1};
  layer.setShift(floatWeights(shift));
  layer.setPower(floatWeights(power));
  layer.setScale(Weights{});
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
  // Three shift values are two too many for kUNIFORM, and the build says so by name.
  f.net().markOutput(layer.output(0));
  auto config = f.builder.createBuilderConfig();
  EXPECT_TRUE(f.builder.buildSerializedNetwork(f.net(), *config).empty());
  EXPECT_TRUE(f.logger.hasError("layer 'sc' (Scale): shift weights have 3 values"))
      << f.logger.errors();
  f.logger.clear();

  // A replacement that is not even valid weights is refused at once.
  layer.setShift(Weights{DataType::kFLOAT, nullptr, 1});
  EXPECT_TRUE(f.logger.hasError("layer 'sc' (Scale): shift has count 1 but no values"))
      << f.logger.errors();
  f.logger.clear();

  const std::vector<float> uniformShift = {1};
  const std::vector<float> uniformPower = {2};
  layer.setShift(floatWeights(uniformShift));
  layer.setPower(floatWeights(uniformPower));
  const std::vector<float> in = {0, 1, 2, 3, 4, 5};
  const auto out = f.run({HostTensor::fromFloats(Dims{1, 2, 3}, in)});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), std::vector<float>{1, 4, 9, 16, 25, 36});
}

TEST(Scale, NullLayerHandleIsHarmless) {
  ScaleLayer layer;
  EXPECT_FALSE(layer);
  layer.setChannelAxis(0);
  layer.setShift(Weights{});
  EXPECT_EQ(layer.mode(), ScaleMode::kUNIFORM);
  EXPECT_EQ(layer.channelAxis(), 1);
}

}  // namespace
}  // namespace kiln::test
