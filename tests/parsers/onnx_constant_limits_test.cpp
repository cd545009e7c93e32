// Every constant the ONNX parser holds is checked against ModelLimits::maxTensorBytes before it
// is allocated (ConstTensor::allocate): initializers, Constant nodes and what the importers
// compute from shapes and attributes. A model that needs a larger one gets an error naming the
// node and the size; parse-time folds past their own limit are left to the network instead.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "onnx_test_util.h"

namespace kiln::test {
namespace {

using onnx_test::asBytes;
using onnx_test::attrInt;
using onnx_test::expectParseError;
using onnx_test::ModelBuilder;
using onnx_test::parserErrors;
using onnx_test::runModel;
using parsers::OnnxParser;

ModelLimits tensorLimit(uint64_t bytes) {
  ModelLimits limits;
  limits.maxTensorBytes = bytes;
  return limits;
}

//! Parses @p model under @p limits; the errors, or empty on success.
std::string parseWith(const ModelBuilder& model, const ModelLimits& limits, bool& ok) {
  NetworkFixture f;
  OnnxParser parser(f.net(), f.logger);
  parser.setModelLimits(limits);
  EXPECT_EQ(parser.modelLimits().maxTensorBytes, limits.maxTensorBytes);
  const std::string bytes = model.bytes();
  ok = parser.parse(asBytes(bytes));
  return parserErrors(parser);
}

// x + ConstantOfShape(shape): the constant's size is whatever the shape says.
ModelBuilder constantOfShape(const std::vector<int64_t>& shape) {
  ModelBuilder m(13);
  m.input("x", {1}).output("y");
  m.vector("shape", shape);
  m.node("ConstantOfShape", {"shape"}, {"c"}, "big");
  m.node("Add", {"x", "c"}, {"y"});
  return m;
}

TEST(OnnxConstantLimits, ConstantOfShapeAboveTheDefaultLimitNamesNodeAndSize) {
  // 2^40 float32 elements: 4 TiB, far past the default 16 GiB, refused before any allocation.
  expectParseError(
      constantOfShape({1 << 20, 1 << 20}),
      {"node 'big' (ConstantOfShape, opset 13)",
       "the constant would hold 1099511627776 elements of float32", "4398046511104 bytes",
       "more than the model limit of 17179869184 bytes", "ModelLimits::maxTensorBytes"});
}

TEST(OnnxConstantLimits, TheLimitIsTheParsersModelLimit) {
  bool ok = false;
  // 256 float32 values are 1024 bytes: at the limit, accepted; one more is refused.
  std::string errors = parseWith(constantOfShape({256}), tensorLimit(1024), ok);
  EXPECT_TRUE(ok) << errors;
  errors = parseWith(constantOfShape({257}), tensorLimit(1024), ok);
  EXPECT_FALSE(ok);
  EXPECT_NE(errors.find("node 'big' (ConstantOfShape, opset 13): the constant would hold 257 "
                        "elements of float32 (shape 257, 1028 bytes), more than the model "
                        "limit of 1024 bytes"),
            std::string::npos)
      << errors;
}

TEST(OnnxConstantLimits, InitializersAndConstantNodesAreChecked) {
  ModelBuilder m(13);
  m.input("x", {2, 3}).output("y");
  m.floats("w", {2, 3}, {1, 2, 3, 4, 5, 6});
  m.node("Add", {"x", "w"}, {"y"});
  bool ok = false;
  std::string errors = parseWith(m, tensorLimit(16), ok);
  EXPECT_FALSE(ok);
  EXPECT_NE(errors.find("initializer 'w': the constant would hold 6 elements of float32"),
            std::string::npos)
      << errors;

  ModelBuilder c(13);
  c.input("x", {5}).output("y");
  auto& node = c.node("Constant", {}, {"k"}, "k");
  auto* ints = node.add_attribute();
  ints->set_name("value_ints");
  ints->set_type(::onnx::AttributeProto::INTS);
  for (int i = 0; i < 5; ++i) ints->add_ints(i);
  auto& cast = c.node("Cast", {"k"}, {"kf"});
  attrInt(cast, "to", ::onnx::TensorProto::FLOAT);
  c.node("Add", {"x", "kf"}, {"y"});
  errors = parseWith(c, tensorLimit(16), ok);
  EXPECT_FALSE(ok);
  EXPECT_NE(errors.find("node 'k' (Constant, opset 13): the constant would hold 5 elements"),
            std::string::npos)
      << errors;
}

TEST(OnnxConstantLimits, RangeLengthIsCheckedWithoutOverflow) {
  // From INT64_MIN to INT64_MAX by 1: 2^64 - 1 steps, which int64 arithmetic cannot count.
  ModelBuilder m(13);
  m.input("x", {1}, ::onnx::TensorProto::INT64).output("y", ::onnx::TensorProto::INT64);
  m.ints("start", {}, {std::numeric_limits<int64_t>::min()});
  m.ints("limit", {}, {std::numeric_limits<int64_t>::max()});
  m.ints("delta", {}, {1});
  m.node("Range", {"start", "limit", "delta"}, {"r"}, "range");
  m.node("Add", {"x", "r"}, {"y"});
  expectParseError(
      m, {"node 'range' (Range, opset 13): the constant would hold", "more than the model limit"});

  // A descending range still folds exactly: 10, 7, 4.
  ModelBuilder small(13);
  small.input("x", {3}, ::onnx::TensorProto::INT64).output("y", ::onnx::TensorProto::INT64);
  small.ints("start", {}, {10});
  small.ints("limit", {}, {2});
  small.ints("delta", {}, {-3});
  small.node("Range", {"start", "limit", "delta"}, {"r"});
  small.node("Add", {"x", "r"}, {"y"});
  HostTensor x(DataType::kINT64, {3});
  std::fill(x.bytes.begin(), x.bytes.end(), std::byte{0});
  const auto out = runModel(small, {x});
  ASSERT_EQ(out.size(), 1u);
  const auto y = out[0].as<int64_t>();
  EXPECT_EQ(std::vector<int64_t>(y.begin(), y.end()), (std::vector<int64_t>{10, 7, 4}));
}

TEST(OnnxConstantLimits, DropoutMaskHardmaxAndEyeLikeAreChecked) {
  ModelBuilder dropout(13);
  dropout.input("x", {64, 64}).output("y").output("mask", ::onnx::TensorProto::BOOL);
  dropout.node("Dropout", {"x"}, {"y", "mask"}, "drop");
  bool ok = false;
  std::string errors = parseWith(dropout, tensorLimit(1024), ok);
  EXPECT_FALSE(ok);
  EXPECT_NE(errors.find("node 'drop' (Dropout, opset 13): the constant would hold 4096 elements "
                        "of bool (shape 64x64, 4096 bytes)"),
            std::string::npos)
      << errors;

  ModelBuilder hardmax(13);
  hardmax.input("x", {2, 1024}).output("y");
  hardmax.node("Hardmax", {"x"}, {"y"}, "hard");
  errors = parseWith(hardmax, tensorLimit(1024), ok);
  EXPECT_FALSE(ok);
  EXPECT_NE(errors.find("node 'hard' (Hardmax, opset 13): the constant would hold 1024 elements "
                        "of int32"),
            std::string::npos)
      << errors;

  ModelBuilder eye(13);
  eye.input("x", {1 << 20, 1 << 20}).output("y");
  eye.node("EyeLike", {"x"}, {"y"}, "eye");
  expectParseError(eye, {"node 'eye' (EyeLike, opset 13): the constant would hold 1099511627776"});
}

TEST(OnnxConstantLimits, FoldsPastTheirLimitBecomeLayers) {
  // Expand of a known scalar to 4096 values: 16 KiB, past a 1 KiB limit. Not an error: the
  // parser leaves it to a layer, which the engine computes.
  ModelBuilder m(13);
  m.input("x", {4096}).output("y");
  m.floats("two", {1}, {2.f});
  m.vector("shape", {4096});
  m.node("Expand", {"two", "shape"}, {"e"});
  m.node("Add", {"x", "e"}, {"y"});
  bool ok = false;
  const std::string errors = parseWith(m, tensorLimit(1024), ok);
  EXPECT_TRUE(ok) << errors;
  const auto out = runModel(m, {HostTensor::fromFloats({4096}, std::vector<float>(4096, 1.f))});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].floats(), std::vector<float>(4096, 3.f));
}

}  // namespace
}  // namespace kiln::test
