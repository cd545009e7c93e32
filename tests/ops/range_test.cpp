// RangeLayer (ONNX Range) through the whole pipeline: constant bounds of each type, negative and
// fractional steps, empty ranges, bounds of another type converted to start's, and the errors.
// Bounds from shape-tensor network inputs: tests/parsers/onnx_shape_inputs_test.cpp.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

// A rank-0 constant (the network copies the weights).
template <typename T>
Tensor scalar(NetworkFixture& f, DataType type, T value) {
  return f.net().addConstant(Dims{}, Weights{type, &value, 1}).output(0);
}

TEST(Range, FloatIntAndInt64Bounds) {
  NetworkFixture f;
  auto a = f.net().addRange(scalar(f, DataType::kFLOAT, 1.f), scalar(f, DataType::kFLOAT, 2.f),
                            scalar(f, DataType::kFLOAT, 0.25f));
  auto b = f.net().addRange(scalar(f, DataType::kINT32, 10), scalar(f, DataType::kINT32, 4),
                            scalar(f, DataType::kINT32, -3));
  auto c = f.net().addRange(scalar<int64_t>(f, DataType::kINT64, -2),
                            scalar<int64_t>(f, DataType::kINT64, 3),
                            scalar<int64_t>(f, DataType::kINT64, 2));
  auto empty = f.net().addRange(scalar(f, DataType::kFLOAT, 3.f), scalar(f, DataType::kFLOAT, 1.f),
                                scalar(f, DataType::kFLOAT, 1.f));
  for (auto layer : {a, b, c, empty}) {
    ASSERT_TRUE(layer) << f.logger.errors();
    f.net().markOutput(layer.output(0));
  }
  EXPECT_EQ(a.type(), LayerType::kRANGE);
  EXPECT_EQ(toString(LayerType::kRANGE), "Range");
  const auto out = f.run({});
  ASSERT_EQ(out.size(), 4u) << f.logger.errors();
  EXPECT_EQ(out[0].floats(), (std::vector<float>{1, 1.25f, 1.5f, 1.75f}));
  EXPECT_EQ(out[1].dtype, DataType::kINT32);
  EXPECT_EQ(std::vector<int32_t>(out[1].as<int32_t>().begin(), out[1].as<int32_t>().end()),
            (std::vector<int32_t>{10, 7}));
  EXPECT_EQ(out[2].dtype, DataType::kINT64);
  EXPECT_EQ(std::vector<int64_t>(out[2].as<int64_t>().begin(), out[2].as<int64_t>().end()),
            (std::vector<int64_t>{-2, 0, 2}));
  EXPECT_EQ(out[3].dims, (Dims{0}));
}

TEST(Range, BoundsOfAnotherTypeAreConvertedToStarts) {
  NetworkFixture f;
  // limit 3.9 as int32 is 3 (truncated, as ONNX Cast); an int limit for a float start is exact.
  auto ints = f.net().addRange(scalar(f, DataType::kINT32, 0), scalar(f, DataType::kFLOAT, 3.9f),
                               scalar(f, DataType::kINT32, 1));
  auto floats = f.net().addRange(scalar(f, DataType::kFLOAT, 0.5f), scalar(f, DataType::kINT32, 2),
                                 scalar(f, DataType::kINT32, 1));
  ASSERT_TRUE(ints && floats) << f.logger.errors();
  f.net().markOutput(ints.output(0));
  f.net().markOutput(floats.output(0));
  const auto out = f.run({});
  ASSERT_EQ(out.size(), 2u) << f.logger.errors();
  EXPECT_EQ(std::vector<int32_t>(out[0].as<int32_t>().begin(), out[0].as<int32_t>().end()),
            (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(out[1].floats(), (std::vector<float>{0.5f, 1.5f}));
}

TEST(Range, BadBoundsAreReported) {
  {
    NetworkFixture f;
    auto layer = f.net().addRange(scalar(f, DataType::kINT32, 0), scalar(f, DataType::kINT32, 3),
                                  scalar(f, DataType::kINT32, 0));
    expectInvalidLayer(f, layer, "delta is 0");
  }
  {
    NetworkFixture f;
    auto v = f.net().addInput("v", DataType::kFLOAT, Dims{2});
    auto layer =
        f.net().addRange(v, scalar(f, DataType::kFLOAT, 3.f), scalar(f, DataType::kFLOAT, 1.f));
    expectInvalidLayer(f, layer, "start must be a scalar (or one-element vector), not of shape");
  }
  {
    NetworkFixture f;
    auto layer =
        f.net().addRange(scalar(f, DataType::kFLOAT, 0.f), scalar(f, DataType::kFLOAT, 1e30f),
                         scalar(f, DataType::kFLOAT, 1e-30f));
    expectInvalidLayer(f, layer, "give no usable length");
  }
}

}  // namespace
}  // namespace kiln::test
