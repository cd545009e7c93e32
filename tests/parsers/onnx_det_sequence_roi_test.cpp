// ONNX Det, ReverseSequence, RoiAlign and MaxPool with dilations or Indices through the parser.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "onnx_test_util.h"

namespace kiln::test {
namespace {

using onnx_test::attrFloat;
using onnx_test::attrInt;
using onnx_test::attrString;
using onnx_test::expectParseError;
using onnx_test::ModelBuilder;
using onnx_test::runModel;

HostTensor int64s(const Dims& dims, const std::vector<int64_t>& values) {
  HostTensor t(DataType::kINT64, dims);
  std::memcpy(t.bytes.data(), values.data(), values.size() * sizeof(int64_t));
  return t;
}

TEST(OnnxDet, BatchOfMatrices) {
  ModelBuilder m(11);
  m.input("x", {2, 2, 2});
  m.node("Det", {"x"}, {"y"});
  m.output("y");
  const auto out = runModel(
      m, {HostTensor::fromFloats(Dims{2, 2, 2}, std::vector<float>{1, 2, 3, 4, 2, 0, 0, 3})});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), std::vector<float>{-2, 6}, 1e-6, 1e-6);
}

TEST(OnnxReverseSequence, BatchAxisZero) {
  ModelBuilder m(10);
  m.input("x", {2, 3}).input("len", {2}, ::onnx::TensorProto::INT64);
  auto& node = m.node("ReverseSequence", {"x", "len"}, {"y"});
  attrInt(node, "batch_axis", 0);
  attrInt(node, "time_axis", 1);
  m.output("y");
  const auto out =
      runModel(m, {HostTensor::fromFloats(Dims{2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6}),
                   int64s(Dims{2}, {2, 3})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{2, 1, 3, 6, 5, 4}));
}

TEST(OnnxReverseSequence, SameAxesAreReported) {
  ModelBuilder m(10);
  m.input("x", {2, 3}).input("len", {3}, ::onnx::TensorProto::INT64);
  attrInt(m.node("ReverseSequence", {"x", "len"}, {"y"}, "rev"), "batch_axis", 0);
  m.output("y");
  expectParseError(m, {"rev"});
}

TEST(OnnxRoiAlign, OutputHalfPixelAverage) {
  // Opset 10 regions are output_half_pixel: [1, 3] x [1, 3] of x[i, j] = 10 i + j, one bin
  // sampled 2x2 at 1.5 and 2.5: the mean is 22.
  ModelBuilder m(10);
  m.input("x", {1, 1, 4, 4}).input("rois", {1, 4}).input("batch", {1}, ::onnx::TensorProto::INT64);
  auto& node = m.node("RoiAlign", {"x", "rois", "batch"}, {"y"});
  attrInt(node, "sampling_ratio", 2);
  attrFloat(node, "spatial_scale", 1.f);
  m.output("y");
  std::vector<float> plane(16);
  for (int i = 0; i < 16; ++i) plane[static_cast<std::size_t>(i)] = 10.f * (i / 4) + (i % 4);
  const auto out = runModel(m, {HostTensor::fromFloats(Dims{1, 1, 4, 4}, plane),
                                HostTensor::fromFloats(Dims{1, 4}, std::vector<float>{1, 1, 3, 3}),
                                int64s(Dims{1}, {0})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{1, 1, 1, 1}));
  expectClose(out[0].floats(), std::vector<float>{22.f}, 1e-5, 1e-5);
}

TEST(OnnxRoiAlign, BadModeIsReported) {
  ModelBuilder m(16);
  m.input("x", {1, 1, 4, 4}).input("rois", {1, 4}).input("batch", {1}, ::onnx::TensorProto::INT64);
  attrString(m.node("RoiAlign", {"x", "rois", "batch"}, {"y"}, "roi"), "mode", "median");
  m.output("y");
  expectParseError(m, {"roi", "mode 'median' is not avg or max"});
}

TEST(OnnxMaxPool, IndicesAndDilations) {
  ModelBuilder m(12);
  m.input("x", {1, 1, 3, 3});
  auto& node = m.node("MaxPool", {"x"}, {"y", "i"});
  onnx_test::attrInts(node, "kernel_shape", {2, 2});
  onnx_test::attrInts(node, "dilations", {2, 2});
  m.output("y").output("i", ::onnx::TensorProto::INT64);
  const auto out = runModel(
      m, {HostTensor::fromFloats(Dims{1, 1, 3, 3}, std::vector<float>{1, 9, 3, 4, 5, 6, 8, 2, 7})});
  ASSERT_EQ(out.size(), 2u);
  // One window over the corners 1, 3, 8, 7: the maximum 8 at (2, 0).
  EXPECT_EQ(out[0].floats(), std::vector<float>{8});
  ASSERT_EQ(out[1].dtype, DataType::kINT64);
  EXPECT_EQ(out[1].as<int64_t>()[0], 6);
}

}  // namespace
}  // namespace kiln::test
