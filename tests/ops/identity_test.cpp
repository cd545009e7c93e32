// IdentityLayer: copies, and casts between every data type (addCast / setOutputType).
#include <gtest/gtest.h>

#include <array>
#include <cmath>
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

// Runs one cast of @p input to @p type through the pipeline.
HostTensor castOnce(const HostTensor& input, DataType type) {
  NetworkFixture f;
  auto x = f.net().addInput("x", input.dtype, input.dims);
  auto layer = f.net().addCast(x, type);
  EXPECT_TRUE(layer);
  EXPECT_EQ(layer.output(0).type(), type);
  f.net().markOutput(layer.output(0));
  auto out = f.run({input});
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
  if (out.size() != 1) return {};
  EXPECT_EQ(out[0].dtype, type);
  return out[0];
}

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

TEST(Identity, CopiesAnyType) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{3, 1, 5});
  auto i = f.net().addInput("i", DataType::kINT64, Dims{2});
  auto a = f.net().addIdentity(x);
  auto b = f.net().addIdentity(i);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a.type(), LayerType::kIDENTITY);
  EXPECT_TRUE(a.as<IdentityLayer>());
  f.net().markOutput(a.output(0));
  f.net().markOutput(b.output(0));
  const auto in = randomTensor(Dims{3, 1, 5}, 3);
  const auto longs = tensorOf<int64_t>(DataType::kINT64, {std::numeric_limits<int64_t>::min(), 5});
  auto out = f.run({in, longs});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].floats(), in.floats());
  EXPECT_EQ(valuesOf<int64_t>(out[1]), valuesOf<int64_t>(longs));
}

TEST(Identity, FloatHalfFloatRoundTrip) {
  const auto in = randomTensor(Dims{37}, 11, -100.f, 100.f);
  const auto half = castOnce(in, DataType::kHALF);
  const auto back = castOnce(half, DataType::kFLOAT);
  // Half keeps 11 significant bits: relative error at most 2^-11.
  expectClose(back.floats(), in.floats(), 0.0, 1.0 / 2048, "float->half->float");
  const auto special =
      castOnce(HostTensor::fromFloats(Dims{5}, std::vector<float>{1e6f, -kInf, kNaN, 6e-8f, -0.f}),
               DataType::kHALF);
  const auto s = valuesOf<uint16_t>(special);
  EXPECT_EQ(s[0], 0x7c00);  // overflow -> inf
  EXPECT_EQ(s[1], 0xfc00);
  EXPECT_EQ(s[2] & 0x7c00, 0x7c00);
  EXPECT_NE(s[2] & 0x3ff, 0);  // NaN stays NaN
  EXPECT_EQ(s[3], 0x0001);     // smallest subnormal
  EXPECT_EQ(s[4], 0x8000);
}

TEST(Identity, FloatBFloat16RoundTrip) {
  const auto in = randomTensor(Dims{29}, 12, -1e30f, 1e30f);
  const auto bf = castOnce(in, DataType::kBF16);
  const auto back = castOnce(bf, DataType::kFLOAT);
  expectClose(back.floats(), in.floats(), 0.0, 1.0 / 256, "float->bf16->float");
  // half <-> bf16 directly.
  const auto h = tensorOf<uint16_t>(DataType::kHALF, {0x3c00, 0xc500});  // 1, -5
  EXPECT_EQ(castOnce(castOnce(h, DataType::kBF16), DataType::kFLOAT).floats(),
            (std::vector<float>{1.f, -5.f}));
}

TEST(Identity, FloatToIntegersTruncatesAndSaturates) {
  const auto in = HostTensor::fromFloats(
      Dims{9}, std::vector<float>{2.9f, -2.9f, 300.f, -300.f, kNaN, kInf, -kInf, 3e9f, -0.5f});
  EXPECT_EQ(
      valuesOf<int32_t>(castOnce(in, DataType::kINT32)),
      (std::vector<int32_t>{2, -2, 300, -300, 0, 2147483647, -2147483647 - 1, 2147483647, 0}));
  EXPECT_EQ(valuesOf<int8_t>(castOnce(in, DataType::kINT8)),
            (std::vector<int8_t>{2, -2, 127, -128, 0, 127, -128, 127, 0}));
  EXPECT_EQ(valuesOf<uint8_t>(castOnce(in, DataType::kUINT8)),
            (std::vector<uint8_t>{2, 0, 255, 0, 0, 255, 0, 255, 0}));
  EXPECT_EQ(valuesOf<int64_t>(castOnce(in, DataType::kINT64)),
            (std::vector<int64_t>{2, -2, 300, -300, 0, std::numeric_limits<int64_t>::max(),
                                  std::numeric_limits<int64_t>::min(), 3000000000, 0}));
  EXPECT_EQ(valuesOf<uint8_t>(castOnce(in, DataType::kBOOL)),
            (std::vector<uint8_t>{1, 1, 1, 1, 1, 1, 1, 1, 1}));
  const auto half = tensorOf<uint16_t>(DataType::kHALF, {0x4580, 0xfbff});  // 5.5, -65504
  EXPECT_EQ(valuesOf<int32_t>(castOnce(half, DataType::kINT32)), (std::vector<int32_t>{5, -65504}));
  EXPECT_EQ(valuesOf<int8_t>(castOnce(half, DataType::kINT8)), (std::vector<int8_t>{5, -128}));
}

TEST(Identity, IntegerConversions) {
  const auto i64 = tensorOf<int64_t>(
      DataType::kINT64, {int64_t{1} << 40, -(int64_t{1} << 40), -7, 0, (int64_t{1} << 53) + 1});
  EXPECT_EQ(valuesOf<int32_t>(castOnce(i64, DataType::kINT32)),
            (std::vector<int32_t>{2147483647, -2147483647 - 1, -7, 0, 2147483647}));
  EXPECT_EQ(valuesOf<uint8_t>(castOnce(i64, DataType::kUINT8)),
            (std::vector<uint8_t>{255, 0, 0, 0, 255}));
  EXPECT_EQ(valuesOf<uint8_t>(castOnce(i64, DataType::kBOOL)),
            (std::vector<uint8_t>{1, 1, 1, 0, 1}));
  // Integers stay exact through wider integers.
  EXPECT_EQ(valuesOf<int64_t>(castOnce(castOnce(i64, DataType::kINT64), DataType::kINT64)),
            valuesOf<int64_t>(i64));

  const auto i32 = HostTensor::fromInts(Dims{4}, std::vector<int32_t>{-128, 127, 70000, 3});
  EXPECT_EQ(valuesOf<int64_t>(castOnce(i32, DataType::kINT64)),
            (std::vector<int64_t>{-128, 127, 70000, 3}));
  EXPECT_EQ(valuesOf<int8_t>(castOnce(i32, DataType::kINT8)),
            (std::vector<int8_t>{-128, 127, 127, 3}));
  EXPECT_EQ(castOnce(i32, DataType::kFLOAT).floats(), (std::vector<float>{-128, 127, 70000, 3}));
  EXPECT_EQ(valuesOf<uint16_t>(castOnce(i32, DataType::kHALF)),
            (std::vector<uint16_t>{0xd800, 0x57f0, 0x7c00, 0x4200}));  // 70000 -> inf

  const auto u8 = tensorOf<uint8_t>(DataType::kUINT8, {0, 200, 255});
  EXPECT_EQ(valuesOf<int8_t>(castOnce(u8, DataType::kINT8)), (std::vector<int8_t>{0, 127, 127}));
  EXPECT_EQ(castOnce(u8, DataType::kFLOAT).floats(), (std::vector<float>{0, 200, 255}));
  const auto i8 = tensorOf<int8_t>(DataType::kINT8, {-5, 5});
  EXPECT_EQ(valuesOf<uint8_t>(castOnce(i8, DataType::kUINT8)), (std::vector<uint8_t>{0, 5}));
  EXPECT_EQ(castOnce(i8, DataType::kBF16).as<uint16_t>()[0], 0xc0a0);  // -5
}

TEST(Identity, BoolConversions) {
  const auto b = HostTensor::fromBools(Dims{3}, std::array<bool, 3>{true, false, true});
  EXPECT_EQ(castOnce(b, DataType::kFLOAT).floats(), (std::vector<float>{1, 0, 1}));
  EXPECT_EQ(valuesOf<int32_t>(castOnce(b, DataType::kINT32)), (std::vector<int32_t>{1, 0, 1}));
  EXPECT_EQ(valuesOf<int64_t>(castOnce(b, DataType::kINT64)), (std::vector<int64_t>{1, 0, 1}));
  EXPECT_EQ(valuesOf<uint16_t>(castOnce(b, DataType::kHALF)),
            (std::vector<uint16_t>{0x3c00, 0, 0x3c00}));
  const auto f = HostTensor::fromFloats(Dims{4}, std::vector<float>{0.f, -0.f, 1e-30f, -2.f});
  EXPECT_EQ(valuesOf<uint8_t>(castOnce(f, DataType::kBOOL)), (std::vector<uint8_t>{0, 0, 1, 1}));
  EXPECT_EQ(castOnce(castOnce(f, DataType::kBOOL), DataType::kFLOAT).floats(),
            (std::vector<float>{0, 0, 1, 1}));
}

TEST(Identity, SetOutputTypeOnIdentityAndOtherLayers) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 2});
  auto id = f.net().addIdentity(x);
  id.setOutputType(0, DataType::kINT32);
  EXPECT_EQ(id.outputType(0), DataType::kINT32);
  EXPECT_EQ(id.output(0).type(), DataType::kINT32);
  // On another layer the builder inserts the cast.
  auto shuffle = f.net().addShuffle(x);
  shuffle.setReshapeDimensions(Dims{4});
  shuffle.setOutputType(0, DataType::kHALF);
  f.net().markOutput(id.output(0));
  f.net().markOutput(shuffle.output(0));
  auto out =
      f.run({HostTensor::fromFloats(Dims{2, 2}, std::vector<float>{1.7f, -2.2f, 3.f, 0.5f})});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].dtype, DataType::kINT32);
  EXPECT_EQ(valuesOf<int32_t>(out[0]), (std::vector<int32_t>{1, -2, 3, 0}));
  EXPECT_EQ(out[1].dtype, DataType::kHALF);
  EXPECT_EQ(out[1].dims, (Dims{4}));
  EXPECT_EQ(valuesOf<uint16_t>(out[1])[3], 0x3800);  // 0.5
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

TEST(Identity, BadArgumentsGiveNullLayer) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{2});
  EXPECT_FALSE(f.net().addCast(x, static_cast<DataType>(6)));
  EXPECT_TRUE(f.logger.hasError("addCast: unknown target type 6")) << f.logger.errors();
  EXPECT_FALSE(f.net().addIdentity(Tensor()));
  EXPECT_TRUE(f.logger.hasError("addIdentity: input is a null tensor")) << f.logger.errors();
  EXPECT_EQ(f.net().nbLayers(), 0);
}

}  // namespace
}  // namespace kiln::test
