// ONNX QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, Mod, Shrink,
// MeanVarianceNormalization, EyeLike and the signal windows.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <numbers>
#include <vector>

#include "onnx_test_util.h"

namespace kiln::test {
namespace {

using onnx_test::attrFloat;
using onnx_test::attrInt;
using onnx_test::attrInts;
using onnx_test::expectParseError;
using onnx_test::ModelBuilder;
using onnx_test::runModel;

std::vector<uint8_t> bytesOf(const HostTensor& t) {
  const auto span = t.as<uint8_t>();
  return {span.begin(), span.end()};
}

void uint8Initializer(ModelBuilder& m, const std::string& name, const std::vector<int64_t>& dims,
                      const std::vector<int32_t>& values) {
  auto* t = m.graph().add_initializer();
  t->set_name(name);
  t->set_data_type(::onnx::TensorProto::UINT8);
  for (int64_t d : dims) t->add_dims(d);
  for (int32_t v : values) t->add_int32_data(v);
}

TEST(OnnxQuantize, QuantizeLinearPerAxisToUint8) {
  ModelBuilder m(13);
  m.input("x", {1, 2, 3});
  m.floats("s", {2}, {2.f, 0.5f});
  uint8Initializer(m, "z", {2}, {128, 0});
  attrInt(m.node("QuantizeLinear", {"x", "s", "z"}, {"y"}), "axis", 1);
  m.output("y", ::onnx::TensorProto::UINT8);
  const auto out = runModel(
      m, {HostTensor::fromFloats(Dims{1, 2, 3}, std::vector<float>{1, 3, -300, 1.25f, -1, 200})});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].dtype, DataType::kUINT8);
  // 0.5 -> 0, 1.5 -> 2, -150 -> saturates; 2.5 -> 2, -2 -> 0 (saturated), 400 -> 255.
  EXPECT_EQ(bytesOf(out[0]), (std::vector<uint8_t>{128, 130, 0, 2, 0, 255}));
}

TEST(OnnxQuantize, DequantizeLinear) {
  ModelBuilder m(13);
  m.input("x", {4}, ::onnx::TensorProto::UINT8);
  m.floats("s", {}, {0.5f});
  uint8Initializer(m, "z", {}, {10});
  m.node("DequantizeLinear", {"x", "s", "z"}, {"y"});
  m.output("y");
  HostTensor x(DataType::kUINT8, Dims{4});
  const uint8_t xs[] = {0, 10, 11, 255};
  std::memcpy(x.bytes.data(), xs, 4);
  const auto out = runModel(m, {x});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{-5.f, 0.f, 0.5f, 122.5f}));
}

TEST(OnnxQuantize, DynamicQuantizeLinear) {
  ModelBuilder m(11);
  m.input("x", {5});
  m.node("DynamicQuantizeLinear", {"x"}, {"y", "scale", "zero"});
  m.output("y", ::onnx::TensorProto::UINT8)
      .output("scale")
      .output("zero", ::onnx::TensorProto::UINT8);
  const std::vector<float> xs{-1.f, 0.f, 1.f, 2.f, 0.5f};
  const auto out = runModel(m, {HostTensor::fromFloats(Dims{5}, xs)});
  ASSERT_EQ(out.size(), 3u);
  const float scale = 3.f / 255.f;
  expectClose(out[1].floats(), std::vector<float>{scale});
  // zero point: round(1 / scale) = round(85) = 85.
  EXPECT_EQ(bytesOf(out[2]), std::vector<uint8_t>{85});
  std::vector<uint8_t> expected;
  for (float v : xs) {
    expected.push_back(static_cast<uint8_t>(std::nearbyint(v / scale) + 85));
  }
  EXPECT_EQ(bytesOf(out[0]), expected);
}

TEST(OnnxQuantize, Int32ZeroPointIsUnsupported) {
  ModelBuilder m(13);
  m.input("x", {2}).input("z", {}, ::onnx::TensorProto::INT32);
  m.floats("s", {}, {1.f});
  m.node("QuantizeLinear", {"x", "s", "z"}, {"y"}, "q");
  m.output("y");
  expectParseError(m, {"q", "a zero point of element type int32"});
}

HostTensor uint8s(const Dims& dims, const std::vector<uint8_t>& values) {
  HostTensor t(DataType::kUINT8, dims);
  std::memcpy(t.bytes.data(), values.data(), values.size());
  return t;
}

TEST(OnnxQuantize, ConvIntegerWithZeroPoints) {
  ModelBuilder m(10);
  m.input("x", {1, 1, 3, 3}, ::onnx::TensorProto::UINT8)
      .input("w", {1, 1, 2, 2}, ::onnx::TensorProto::UINT8);
  uint8Initializer(m, "xz", {}, {1});
  uint8Initializer(m, "wz", {}, {2});
  m.node("ConvInteger", {"x", "w", "xz", "wz"}, {"y"});
  m.output("y", ::onnx::TensorProto::INT32);
  const auto out = runModel(m, {uint8s(Dims{1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}),
                                uint8s(Dims{1, 1, 2, 2}, {3, 2, 2, 4})});
  ASSERT_EQ(out.size(), 1u);
  // (x - 1) conv [[1, 0], [0, 2]]: y = x'[i, j] + 2 x'[i + 1, j + 1].
  const auto ys = out[0].as<int32_t>();
  EXPECT_EQ(std::vector<int32_t>(ys.begin(), ys.end()), (std::vector<int32_t>{8, 11, 17, 20}));
}

TEST(OnnxQuantize, QLinearMatMulAndMatMulInteger) {
  ModelBuilder m(10);
  m.input("a", {2, 2}, ::onnx::TensorProto::UINT8).input("b", {2, 1}, ::onnx::TensorProto::UINT8);
  m.floats("as", {}, {0.5f}).floats("bs", {}, {2.f}).floats("ys", {}, {1.f});
  uint8Initializer(m, "az", {}, {1});
  uint8Initializer(m, "bz", {}, {0});
  uint8Initializer(m, "yz", {}, {3});
  m.node("QLinearMatMul", {"a", "as", "az", "b", "bs", "bz", "ys", "yz"}, {"q"});
  m.node("MatMulInteger", {"a", "b", "az", "bz"}, {"i"});
  m.output("q", ::onnx::TensorProto::UINT8).output("i", ::onnx::TensorProto::INT32);
  const auto out = runModel(m, {uint8s(Dims{2, 2}, {1, 3, 5, 2}), uint8s(Dims{2, 1}, {2, 1})});
  ASSERT_EQ(out.size(), 2u);
  // (a - 1) b = [0*2 + 2*1, 4*2 + 1*1] = [2, 9]; scaled by 0.5 * 2 = 1, plus zero point 3.
  EXPECT_EQ(bytesOf(out[0]), (std::vector<uint8_t>{5, 12}));
  const auto is = out[1].as<int32_t>();
  EXPECT_EQ(std::vector<int32_t>(is.begin(), is.end()), (std::vector<int32_t>{2, 9}));
}

TEST(OnnxMath, ModFmodAndIntegers) {
  ModelBuilder m(13);
  m.input("a", {4}, ::onnx::TensorProto::INT64).input("b", {4}, ::onnx::TensorProto::INT64);
  m.input("c", {3}).input("d", {3});
  m.node("Mod", {"a", "b"}, {"m"});
  attrInt(m.node("Mod", {"c", "d"}, {"f"}), "fmod", 1);
  m.output("m", ::onnx::TensorProto::INT64).output("f");
  HostTensor a(DataType::kINT64, Dims{4}), b(DataType::kINT64, Dims{4});
  const int64_t as[] = {-4, 7, 5, -7}, bs[] = {3, -3, 8, -3};
  std::memcpy(a.bytes.data(), as, sizeof(as));
  std::memcpy(b.bytes.data(), bs, sizeof(bs));
  const auto out =
      runModel(m, {a, b, HostTensor::fromFloats(Dims{3}, std::vector<float>{-4.5f, 7.f, 5.f}),
                   HostTensor::fromFloats(Dims{3}, std::vector<float>{2.f, -3.f, 5.f})});
  ASSERT_EQ(out.size(), 2u);
  const auto ms = out[0].as<int64_t>();
  EXPECT_EQ(std::vector<int64_t>(ms.begin(), ms.end()), (std::vector<int64_t>{2, -2, 5, -1}));
  EXPECT_EQ(out[1].floats(), (std::vector<float>{-0.5f, 1.f, 0.f}));
}

TEST(OnnxMath, ModBadAttribute) {
  ModelBuilder m(13);
  m.input("a", {2}).input("b", {2});
  attrInt(m.node("Mod", {"a", "b"}, {"y"}, "mod"), "fmod", 2);
  m.output("y");
  expectParseError(m, {"mod", "fmod 2 is not 0 or 1"});
}

TEST(OnnxMath, Shrink) {
  ModelBuilder m(13);
  m.input("x", {5});
  auto& node = m.node("Shrink", {"x"}, {"y"});
  attrFloat(node, "lambd", 1.5f);
  attrFloat(node, "bias", 1.f);
  m.output("y");
  const auto out =
      runModel(m, {HostTensor::fromFloats(Dims{5}, std::vector<float>{-2, -1.5f, 0, 1.5f, 3})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{-1, 0, 0, 0, 2}));
}

TEST(OnnxMath, MeanVarianceNormalization) {
  ModelBuilder m(13);
  m.input("x", {1, 2, 2});
  attrInts(m.node("MeanVarianceNormalization", {"x"}, {"y"}), "axes", {2});
  m.output("y");
  const auto out =
      runModel(m, {HostTensor::fromFloats(Dims{1, 2, 2}, std::vector<float>{1, 3, 5, 5})});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), std::vector<float>{-1, 1, 0, 0}, 1e-6, 1e-6);
}

TEST(OnnxMath, EyeLikeWithOffsetAndType) {
  ModelBuilder m(13);
  m.input("x", {3, 4});
  auto& node = m.node("EyeLike", {"x"}, {"y"});
  attrInt(node, "k", -1);
  attrInt(node, "dtype", ::onnx::TensorProto::INT32);
  m.output("y", ::onnx::TensorProto::INT32);
  const auto out = runModel(m, {randomTensor(Dims{3, 4}, 1)});
  ASSERT_EQ(out.size(), 1u);
  const auto ys = out[0].as<int32_t>();
  EXPECT_EQ(std::vector<int32_t>(ys.begin(), ys.end()),
            (std::vector<int32_t>{0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0}));
}

TEST(OnnxMath, EyeLikeNeedsRankTwo) {
  ModelBuilder m(13);
  m.input("x", {3});
  m.node("EyeLike", {"x"}, {"y"}, "eye");
  m.output("y");
  expectParseError(m, {"eye", "the input has shape 3; EyeLike needs 2-D"});
}

TEST(OnnxMath, WindowsOfConstantSize) {
  for (const char* op : {"HannWindow", "HammingWindow", "BlackmanWindow"}) {
    for (int periodic : {0, 1}) {
      SCOPED_TRACE(std::string(op) + " periodic " + std::to_string(periodic));
      ModelBuilder m(17);
      m.input("x", {1});
      auto* size = m.graph().add_initializer();
      size->set_name("size");
      size->set_data_type(::onnx::TensorProto::INT32);
      size->add_int32_data(6);
      attrInt(m.node(op, {"size"}, {"w"}), "periodic", periodic);
      m.node("Add", {"w", "x"}, {"y"});
      m.output("y");
      const auto out = runModel(m, {HostTensor::fromFloats(Dims{1}, std::vector<float>{0.f})});
      ASSERT_EQ(out.size(), 1u);
      const double a0 = std::string(op) == "HammingWindow"    ? 25.0 / 46.0
                        : std::string(op) == "BlackmanWindow" ? 0.42
                                                              : 0.5;
      const double a2 = std::string(op) == "BlackmanWindow" ? 0.08 : 0.0;
      const double a1 = std::string(op) == "BlackmanWindow" ? 0.5 : 1.0 - a0;
      const double span = periodic ? 6 : 5;
      std::vector<float> expected;
      for (int i = 0; i < 6; ++i) {
        const double t = 2 * std::numbers::pi * i / span;
        expected.push_back(static_cast<float>(a0 - a1 * std::cos(t) + a2 * std::cos(2 * t)));
      }
      expectClose(out[0].floats(), expected, 1e-6, 1e-6);
    }
  }
}

TEST(OnnxMath, WindowOfRunTimeSizeIsUnsupported) {
  ModelBuilder m(17);
  // Computed by a layer; a network input would be a shape tensor (onnx_shape_inputs_test.cpp).
  m.input("n", {}, ::onnx::TensorProto::INT32);
  m.node("Neg", {"n"}, {"size"});
  m.node("HannWindow", {"size"}, {"w"}, "hann");
  m.output("w");
  expectParseError(m, {"hann",
                       "the window size (input 0 'size') must be known when the network "
                       "is built"});
}

}  // namespace
}  // namespace kiln::test
