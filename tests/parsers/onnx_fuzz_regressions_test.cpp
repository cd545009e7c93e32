// Models the ONNX fuzzer (fuzz/onnx_parser_fuzz.cpp) found to crash kiln or to trip an internal
// check, reduced to what matters. Each must give a clear error, or parse, and nothing else.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "onnx_test_util.h"

namespace kiln::test {
namespace {

using onnx_test::asBytes;
using onnx_test::attrInt;
using onnx_test::expectParseError;
using onnx_test::ModelBuilder;
using onnx_test::parserErrors;
using parsers::OnnxParser;

//! Parses @p model; expects success and no internal error.
void expectParses(const ModelBuilder& model) {
  NetworkFixture f;
  OnnxParser parser(f.net(), f.logger);
  const std::string bytes = model.bytes();
  EXPECT_TRUE(parser.parse(asBytes(bytes))) << parserErrors(parser);
}

// An empty constant may have extents whose product passes 2^63 (0 x 2^62 x 64): flattening it
// to 2-D for an opset-11 LogSoftmax is refused, not computed with overflowing arithmetic.
TEST(OnnxFuzzRegressions, EmptyConstantsWithHugeExtentsDoNotOverflow) {
  ModelBuilder m(11);
  m.input("x", {1}).output("y");
  m.floats("c", {0, int64_t{1} << 62, 64}, {});
  attrInt(m.node("LogSoftmax", {"c"}, {"s"}, "softmax"), "axis", 1);
  m.node("Add", {"x", "s"}, {"y"});
  expectParseError(m, {"node 'softmax' (LogSoftmax, opset 11)", "does not flatten to 2-D"});

  ModelBuilder t(13);
  t.input("x", {1}).output("y");
  t.floats("c", {0, int64_t{1} << 62, 64}, {});
  t.node("Neg", {"c"}, {"n"});
  t.node("Add", {"x", "x"}, {"y"});
  expectParses(t);
}

// Constant folding a Softmax of an empty constant whose softmax axis is 2^32 long: nothing to
// normalize, so no row buffer of 2^32 doubles (32 GB; ASan aborted out of memory).
TEST(OnnxFuzzRegressions, SoftmaxOfAnEmptyConstantWithAHugeAxis) {
  ModelBuilder m(13);
  m.input("x", {1}).output("y");
  m.floats("c", {0, int64_t{1} << 32}, {});
  m.node("Softmax", {"c"}, {"s"});
  m.node("ReduceSum", {"s"}, {"r"});
  m.node("Add", {"x", "r"}, {"y"});
  NetworkFixture f;
  OnnxParser parser(f.net(), f.logger);
  const std::string bytes = m.bytes();
  ASSERT_TRUE(parser.parse(asBytes(bytes))) << parserErrors(parser);
  const auto out = f.run({HostTensor(DataType::kFLOAT, Dims{1})});
  ASSERT_EQ(out.size(), 1U) << f.logger.errors();
}

// Trailing optional outputs may be left out: DynamicQuantizeLinear with only y listed.
TEST(OnnxFuzzRegressions, NodesMayListFewerOutputsThanTheOpHas) {
  ModelBuilder m(11);
  m.input("x", {2, 3}).output("y", ::onnx::TensorProto::UINT8);
  m.node("DynamicQuantizeLinear", {"x"}, {"y"});
  expectParses(m);
  ModelBuilder d(13);
  d.input("x", {2, 3}).output("y");
  d.node("Dropout", {"x"}, {"y"});
  expectParses(d);
}

// A graph input whose shape the network cannot settle (a dynamic extent next to 2^31 - 1, in
// bfloat16, so a cast follows) read by a reduction over axis INT64_MIN: an error, never an
// internal one, and no overflow normalizing the axis.
TEST(OnnxFuzzRegressions, AxesOfInputsOfUnknownShape) {
  ModelBuilder m(18);
  m.input("x", {-1, 2147483647, 5}, ::onnx::TensorProto::BFLOAT16).output("y");
  m.vector("axes", {std::numeric_limits<int64_t>::min()});
  m.node("ReduceMax", {"x", "axes"}, {"y"});
  NetworkFixture f;
  OnnxParser parser(f.net(), f.logger);
  const std::string bytes = m.bytes();
  parser.parse(asBytes(bytes));
  for (int32_t i = 0; i < parser.nbErrors(); ++i) {
    EXPECT_NE(parser.errorCode(i), ErrorCode::kINTERNAL_ERROR) << parser.error(i);
  }
}

// ConvTranspose's full output length, (in - 1) * stride + (kernel - 1) * dilation + 1, with a
// dilation of 2^62: refused, not computed with overflowing arithmetic.
TEST(OnnxFuzzRegressions, ConvTransposeLengthsPastInt64) {
  ModelBuilder m(13);
  m.input("x", {1, 1, 8}).output("y");
  m.floats("w", {1, 1, 3}, {1, 2, 3});
  onnx_test::attrInts(m.node("ConvTranspose", {"x", "w"}, {"y"}, "deconv"), "dilations",
                      {int64_t{1} << 62});
  expectParseError(m, {"node 'deconv' (ConvTranspose, opset 13)", "lengths past 2^40"});
}

// Range with fewer than its three inputs, its one input a scalar shape-tensor network input:
// the importer named input 1 before checking that the node has one.
TEST(OnnxFuzzRegressions, RangeWithMissingBounds) {
  ModelBuilder m(17);
  m.input("x", {}, ::onnx::TensorProto::INT32).output("y", ::onnx::TensorProto::INT32);
  m.node("Range", {"x"}, {"y"}, "range");
  expectParseError(m,
                   {"node 'range' (Range, opset 17)", "input 1 (start, limit, delta) is missing"});
}

}  // namespace
}  // namespace kiln::test
