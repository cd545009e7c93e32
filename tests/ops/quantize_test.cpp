// Quantize and Dequantize through the public API and the whole pipeline: the ONNX rounding
// (half to even on the float32 quotient), saturation, per-axis parameters, and their errors.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

std::vector<int32_t> ints(const HostTensor& t) {
  const auto span = t.as<int32_t>();
  return {span.begin(), span.end()};
}

TEST(Quantize, PerTensorRoundsHalfToEvenAndSaturates) {
  for (DataType to : {DataType::kUINT8, DataType::kINT8}) {
    NetworkFixture f;
    Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{9});
    Tensor s = f.net().addInput("s", DataType::kFLOAT, Dims{});
    Tensor z = f.net().addInput("z", DataType::kINT32, Dims{});
    QuantizeLayer q = f.net().addQuantize(x, s, to);
    ASSERT_TRUE(q) << f.logger.errors();
    EXPECT_EQ(q.toType(), to);
    q.setInput(2, z);
    f.net().markOutput(q.output(0));
    const std::vector<float> xs{0.f, 1.f, 3.f, 5.f, -1.f, -3.f, 1000.f, -1000.f, 2.9f};
    const auto out = f.run({HostTensor::fromFloats(Dims{9}, xs),
                            HostTensor::fromFloats(Dims{}, std::vector<float>{2.f}),
                            HostTensor::fromInts(Dims{}, std::vector<int32_t>{10})});
    ASSERT_EQ(out.size(), 1u);
    // x / 2 = 0, 0.5, 1.5, 2.5, -0.5, -1.5, 500, -500, 1.45 -> 0, 0, 2, 2, -0, -2, ..., 1; + 10
    const std::vector<int32_t> expected =
        to == DataType::kUINT8 ? std::vector<int32_t>{10, 10, 12, 12, 10, 8, 255, 0, 11}
                               : std::vector<int32_t>{10, 10, 12, 12, 10, 8, 127, -128, 11};
    EXPECT_EQ(ints(out[0]), expected);
  }
}

TEST(Quantize, PerAxisAndDequantizeRoundTrip) {
  NetworkFixture f;
  const Dims xd{2, 3, 2};
  Tensor x = f.net().addInput("x", DataType::kFLOAT, xd);
  Tensor s = f.net().addInput("s", DataType::kFLOAT, Dims{3});
  Tensor z = f.net().addInput("z", DataType::kINT32, Dims{3});
  QuantizeLayer q = f.net().addQuantize(x, s, DataType::kINT8);
  q.setAxis(-2);
  EXPECT_EQ(q.axis(), -2);
  q.setInput(2, z);
  DequantizeLayer d = f.net().addDequantize(q.output(0), s);
  d.setAxis(1);
  d.setInput(2, z);
  f.net().markOutput(q.output(0));
  f.net().markOutput(d.output(0));
  const std::vector<float> xs{1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6};
  const std::vector<float> scales{1.f, 2.f, 4.f};
  const std::vector<int32_t> zeros{0, 1, -1};
  const auto out = f.run({HostTensor::fromFloats(xd, xs), HostTensor::fromFloats(Dims{3}, scales),
                          HostTensor::fromInts(Dims{3}, zeros)});
  ASSERT_EQ(out.size(), 2u);
  // Channel c of element i: (i / 2) % 3. round(x / s) + z.
  EXPECT_EQ(ints(out[0]), (std::vector<int32_t>{1, 2, 3, 3, 0, 1, -1, -2, -1, -1, -2, -3}));
  EXPECT_EQ(out[1].floats(), (std::vector<float>{1, 2, 4, 4, 4, 8, -1, -2, -4, -4, -4, -8}));
}

TEST(Quantize, ZeroSizeInput) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{0, 4});
  Tensor s = f.net().addInput("s", DataType::kFLOAT, Dims{1});
  QuantizeLayer q = f.net().addQuantize(x, s, DataType::kUINT8);
  f.net().markOutput(q.output(0));
  const auto out = f.run({HostTensor(DataType::kFLOAT, Dims{0, 4}),
                          HostTensor::fromFloats(Dims{1}, std::vector<float>{1.f})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{0, 4}));
}

TEST(Quantize, BadArgumentsAndShapes) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3});
  Tensor s3 = f.net().addInput("s3", DataType::kFLOAT, Dims{3});
  Tensor s4 = f.net().addInput("s4", DataType::kFLOAT, Dims{4});
  Tensor zf = f.net().addInput("zf", DataType::kFLOAT, Dims{3});
  Tensor q8 = f.net().addInput("q8", DataType::kFLOAT, Dims{2, 3});

  EXPECT_FALSE(f.net().addQuantize(x, s3, DataType::kINT32));
  EXPECT_TRUE(f.logger.hasError("the quantized type must be kINT8 or kUINT8, not int32"))
      << f.logger.errors();

  QuantizeLayer wrongScale = f.net().addQuantize(x, s4, DataType::kINT8);
  wrongScale.setName("q");
  expectInvalidLayer(f, wrongScale,
                     "layer 'q' (Quantize): the scale has shape 4; it needs one value (per "
                     "tensor) or 3 (one per element of axis 1 of the input, shape 2x3)");

  QuantizeLayer badAxis = f.net().addQuantize(x, s3, DataType::kINT8);
  badAxis.setAxis(2);
  expectInvalidLayer(f, badAxis, "axis 2 is out of range for an input of shape 2x3");

  QuantizeLayer floatZero = f.net().addQuantize(x, s3, DataType::kINT8);
  floatZero.setInput(2, zf);
  expectInvalidLayer(f, floatZero, "the zero point must be int32, int8 or uint8, not float32");

  DequantizeLayer floatInput = f.net().addDequantize(q8, s3);
  expectInvalidLayer(f, floatInput,
                     "the input must be int32, int8 or uint8 (quantized values), not float32");

  f.logger.clear();
  QuantizeLayer q = f.net().addQuantize(x, s3);
  q.setToType(DataType::kBOOL);
  EXPECT_TRUE(f.logger.hasError("the quantized type must be kINT8 or kUINT8, not bool"))
      << f.logger.errors();
  EXPECT_EQ(q.toType(), DataType::kINT8);
}

}  // namespace
}  // namespace kiln::test
