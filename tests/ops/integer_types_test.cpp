// The engine-boundary integer types (int16, uint16, uint32, uint64): sizes, names, casts to and
// from int32 (saturating), and ElementWise kSHIFT_LEFT / kSHIFT_RIGHT (ONNX BitShift).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

template <typename T>
HostTensor tensorOf(DataType type, const std::vector<T>& values) {
  HostTensor t(type, Dims{static_cast<int64_t>(values.size())});
  for (std::size_t i = 0; i < values.size(); ++i) t.as<T>()[i] = values[i];
  return t;
}

template <typename T>
std::vector<T> valuesOf(const HostTensor& t) {
  auto v = t.as<T>();
  return {v.begin(), v.end()};
}

HostTensor castOnce(const HostTensor& input, DataType type) {
  NetworkFixture f;
  auto x = f.net().addInput("x", input.dtype, input.dims);
  auto layer = f.net().addCast(x, type);
  EXPECT_TRUE(layer);
  f.net().markOutput(layer.output(0));
  auto out = f.run({input});
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
  if (out.size() != 1) return {};
  EXPECT_EQ(out[0].dtype, type);
  return out[0];
}

TEST(IntegerTypes, SizesAndNames) {
  EXPECT_EQ(elementSize(DataType::kINT16), 2u);
  EXPECT_EQ(elementSize(DataType::kUINT16), 2u);
  EXPECT_EQ(elementSize(DataType::kUINT32), 4u);
  EXPECT_EQ(elementSize(DataType::kUINT64), 8u);
  EXPECT_EQ(toString(DataType::kINT16), "int16");
  EXPECT_EQ(toString(DataType::kUINT16), "uint16");
  EXPECT_EQ(toString(DataType::kUINT32), "uint32");
  EXPECT_EQ(toString(DataType::kUINT64), "uint64");
  for (int32_t v : {12, 13, 14, 15}) EXPECT_TRUE(isValidDataType(v)) << v;
  for (int32_t v : {6, 9, 10, 11, 16}) EXPECT_FALSE(isValidDataType(v)) << v;
}

TEST(IntegerTypes, WidenToInt32Exactly) {
  EXPECT_EQ(valuesOf<int32_t>(castOnce(tensorOf<int16_t>(DataType::kINT16, {-32768, -1, 0, 32767}),
                                       DataType::kINT32)),
            (std::vector<int32_t>{-32768, -1, 0, 32767}));
  EXPECT_EQ(valuesOf<int32_t>(
                castOnce(tensorOf<uint16_t>(DataType::kUINT16, {0, 1, 65535}), DataType::kINT32)),
            (std::vector<int32_t>{0, 1, 65535}));
}

TEST(IntegerTypes, NarrowingSaturates) {
  const uint32_t big32 = std::numeric_limits<uint32_t>::max();
  EXPECT_EQ(valuesOf<int32_t>(castOnce(
                tensorOf<uint32_t>(DataType::kUINT32, {7, 2147483648u, big32}), DataType::kINT32)),
            (std::vector<int32_t>{7, INT32_MAX, INT32_MAX}));
  const uint64_t big64 = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(valuesOf<int32_t>(
                castOnce(tensorOf<uint64_t>(DataType::kUINT64, {9, big64}), DataType::kINT32)),
            (std::vector<int32_t>{9, INT32_MAX}));
  EXPECT_EQ(
      valuesOf<int64_t>(castOnce(tensorOf<uint64_t>(DataType::kUINT64, {big64}), DataType::kINT64)),
      (std::vector<int64_t>{INT64_MAX}));
  EXPECT_EQ(valuesOf<uint16_t>(
                castOnce(tensorOf<int32_t>(DataType::kINT32, {-5, 70000, 12}), DataType::kUINT16)),
            (std::vector<uint16_t>{0, 65535, 12}));
  EXPECT_EQ(valuesOf<int16_t>(castOnce(tensorOf<int32_t>(DataType::kINT32, {-40000, 40000, -3}),
                                       DataType::kINT16)),
            (std::vector<int16_t>{-32768, 32767, -3}));
  EXPECT_EQ(valuesOf<uint64_t>(
                castOnce(tensorOf<int64_t>(DataType::kINT64, {-1, INT64_MAX}), DataType::kUINT64)),
            (std::vector<uint64_t>{0, static_cast<uint64_t>(INT64_MAX)}));
  EXPECT_EQ(valuesOf<uint32_t>(castOnce(tensorOf<float>(DataType::kFLOAT, {-2.5f, 3.9f, 5e9f}),
                                        DataType::kUINT32)),
            (std::vector<uint32_t>{0, 3, std::numeric_limits<uint32_t>::max()}));
}

std::vector<int32_t> shift(ElementWiseOperation op, const std::vector<int32_t>& a, const Dims& da,
                           const std::vector<int32_t>& b, const Dims& db) {
  NetworkFixture f;
  Tensor x = f.net().addInput("a", DataType::kINT32, da);
  Tensor y = f.net().addInput("b", DataType::kINT32, db);
  ElementWiseLayer layer = f.net().addElementWise(x, y, op);
  f.net().markOutput(layer.output(0));
  const auto out = f.run({HostTensor::fromInts(da, a), HostTensor::fromInts(db, b)});
  if (out.size() != 1) return {};
  const auto span = out[0].as<int32_t>();
  return {span.begin(), span.end()};
}

TEST(BitShift, LeftAndRightWithBroadcasting) {
  const std::vector<int32_t> a{16, 4, 1, 255, -1, 7};
  const std::vector<int32_t> b{1, 2, 3};
  EXPECT_EQ(shift(ElementWiseOperation::kSHIFT_LEFT, a, Dims{2, 3}, b, Dims{3}),
            (std::vector<int32_t>{32, 16, 8, 510, -4, 56}));
  // The unsigned pattern: -1 >> 2 is 0x3fffffff, not -1.
  EXPECT_EQ(shift(ElementWiseOperation::kSHIFT_RIGHT, a, Dims{2, 3}, b, Dims{3}),
            (std::vector<int32_t>{8, 1, 0, 127, 0x3fffffff, 0}));
}

TEST(BitShift, CountsOutsideTheWidthGiveZero) {
  const std::vector<int32_t> a{1, 1, 1, 8};
  const std::vector<int32_t> b{31, 32, -1, 0};
  EXPECT_EQ(shift(ElementWiseOperation::kSHIFT_LEFT, a, Dims{4}, b, Dims{4}),
            (std::vector<int32_t>{INT32_MIN, 0, 0, 8}));
  EXPECT_EQ(shift(ElementWiseOperation::kSHIFT_RIGHT, a, Dims{4}, b, Dims{4}),
            (std::vector<int32_t>{0, 0, 0, 8}));
}

TEST(BitShift, ZeroSizeAndFloatRefused) {
  EXPECT_TRUE(shift(ElementWiseOperation::kSHIFT_LEFT, {}, Dims{0, 3}, {1, 2, 3}, Dims{3}).empty());
  NetworkFixture f;
  Tensor x = f.net().addInput("a", DataType::kFLOAT, Dims{2});
  ElementWiseLayer layer = f.net().addElementWise(x, x, ElementWiseOperation::kSHIFT_RIGHT);
  expectInvalidLayer(f, layer, "SHIFT_RIGHT needs int32 inputs");
}

}  // namespace
}  // namespace kiln::test
