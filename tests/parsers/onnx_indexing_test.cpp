// ONNX importers of Scatter, ScatterElements, ScatterND, CumSum, OneHot, Trilu and Einsum:
// results on the ONNX examples (run-time axis and k included) and the errors.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "onnx_test_util.h"

namespace kiln::test {
namespace {

using onnx_test::attrInt;
using onnx_test::attrString;
using onnx_test::expectParseError;
using onnx_test::ModelBuilder;
using onnx_test::runModel;

HostTensor int64Tensor(const Dims& dims, const std::vector<int64_t>& values) {
  HostTensor t(DataType::kINT64, dims);
  std::copy(values.begin(), values.end(), t.as<int64_t>().begin());
  return t;
}

std::vector<int64_t> int64s(const HostTensor& t) {
  if (t.dtype == DataType::kINT32) return {t.as<int32_t>().begin(), t.as<int32_t>().end()};
  return {t.as<int64_t>().begin(), t.as<int64_t>().end()};
}

HostTensor floats(const Dims& dims, const std::vector<float>& values) {
  return HostTensor::fromFloats(dims, values);
}

TEST(OnnxScatter, ElementsWithAxisNegativeIndicesAndReduction) {
  ModelBuilder m(16);
  m.input("data", {1, 5}).input("indices", {1, 2}, ::onnx::TensorProto::INT64);
  m.input("updates", {1, 2}).output("y").output("sum");
  attrInt(m.node("ScatterElements", {"data", "indices", "updates"}, {"y"}), "axis", 1);
  auto& add = m.node("ScatterElements", {"data", "indices", "updates"}, {"sum"});
  attrInt(add, "axis", -1);
  attrString(add, "reduction", "add");
  const auto out = runModel(m, {floats({1, 5}, {1, 2, 3, 4, 5}), int64Tensor({1, 2}, {1, -2}),
                                floats({1, 2}, {1.1f, 2.1f})});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{1, 1.1f, 3, 2.1f, 5}));
  expectClose(out[1].floats(), std::vector<float>{1, 3.1f, 3, 6.1f, 5});
}

TEST(OnnxScatter, LegacyScatterAndScatterNDMultiply) {
  ModelBuilder m(10);
  m.input("data", {3, 3}).output("y");
  m.ints("indices", {2, 3}, {1, 0, 2, 0, 2, 1});
  m.floats("updates", {2, 3}, {1, 1.1f, 1.2f, 2, 2.1f, 2.2f});
  m.node("Scatter", {"data", "indices", "updates"}, {"y"});
  auto out = runModel(m, {floats({3, 3}, std::vector<float>(9, 0.f))});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{2, 1.1f, 0, 1, 0, 2.2f, 0, 2.1f, 1.2f}));

  ModelBuilder nd(16);
  nd.input("data", {2, 2}).output("y");
  nd.ints("indices", {2, 1}, {1, 1});
  nd.floats("updates", {2, 2}, {2, 3, 4, 5});
  attrString(nd.node("ScatterND", {"data", "indices", "updates"}, {"y"}), "reduction", "mul");
  out = runModel(nd, {floats({2, 2}, {1, 2, 3, 4})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{1, 2, 24, 60}));
}

TEST(OnnxScatter, BadReductionAndRankAreReported) {
  ModelBuilder m(18);
  m.input("data", {2, 2}).output("y");
  m.ints("indices", {1, 1}, {0});
  m.floats("updates", {1, 2}, {1, 2});
  attrString(m.node("ScatterND", {"data", "indices", "updates"}, {"y"}, "s"), "reduction", "avg");
  expectParseError(
      m, {"node 's' (ScatterND, opset 18)", "reduction 'avg' is not none, add, mul, max or min"});

  ModelBuilder rank(13);
  rank.input("data", {2, 2}).output("y");
  rank.ints("indices", {2}, {0, 1});
  rank.floats("updates", {2}, {1, 2});
  rank.node("ScatterElements", {"data", "indices", "updates"}, {"y"}, "s");
  expectParseError(rank, {"indices have rank 1 but data has rank 2"});
}

TEST(OnnxCumSum, RunTimeAndConstantAxis) {
  ModelBuilder m(14);
  m.input("x", {2, 3}).input("axis", {}, ::onnx::TensorProto::INT32).output("y").output("z");
  m.ints("one", {}, {1});
  auto& node = m.node("CumSum", {"x", "axis"}, {"y"});
  attrInt(node, "reverse", 1);
  attrInt(m.node("CumSum", {"x", "one"}, {"z"}), "exclusive", 1);
  const std::vector<int32_t> axis = {0};
  const auto out =
      runModel(m, {floats({2, 3}, {1, 2, 3, 4, 5, 6}), HostTensor::fromInts({}, axis)});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{5, 7, 9, 4, 5, 6}));
  EXPECT_EQ(out[1].floats(), (std::vector<float>{0, 1, 3, 0, 4, 9}));
}

TEST(OnnxCumSum, AxisOutOfRangeIsReported) {
  ModelBuilder m(14);
  m.input("x", {2, 3}).output("y");
  m.ints("axis", {}, {2});
  m.node("CumSum", {"x", "axis"}, {"y"}, "c");
  expectParseError(m, {"node 'c' (CumSum, opset 14)", "axis 2 is outside [-2, 1] for rank 2"});

  // A run-time axis out of range fails the execution.
  ModelBuilder runtime(14);
  runtime.input("x", {2}).input("axis", {}, ::onnx::TensorProto::INT32).output("y");
  runtime.node("CumSum", {"x", "axis"}, {"y"});
  NetworkFixture f;
  parsers::OnnxParser parser(f.net(), f.logger);
  const std::string bytes = runtime.bytes();
  ASSERT_TRUE(parser.parse(onnx_test::asBytes(bytes)));
  const std::vector<int32_t> axis = {3};
  std::unique_ptr<BuilderConfig> config = f.builder.createBuilderConfig();
  const auto plan = f.builder.buildSerializedNetwork(f.net(), *config);
  ASSERT_FALSE(plan.empty()) << f.logger.errors();
  Runtime rt(f.logger);
  auto engine = rt.deserialize(plan);
  ASSERT_TRUE(engine);
  auto context = engine->createExecutionContext();
  std::vector<float> x = {1, 2}, y(2);
  context->setInputTensorAddress("x", x.data());
  context->setInputTensorAddress("axis", axis.data());
  context->setTensorAddress("y", y.data());
  EXPECT_FALSE(context->enqueueV3());
  EXPECT_TRUE(f.logger.hasError("the axis is 3, out of range for input of shape 2"))
      << f.logger.errors();
}

TEST(OnnxOneHot, AxisAndNegativeIndices) {
  ModelBuilder m(11);
  m.input("indices", {3}, ::onnx::TensorProto::INT64).output("y");
  m.floats("depth", {}, {4});
  m.floats("values", {2}, {1, 3});
  attrInt(m.node("OneHot", {"indices", "depth", "values"}, {"y"}), "axis", 0);
  const auto out = runModel(m, {int64Tensor({3}, {0, -1, 7})});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].dims, (Dims{4, 3}));
  EXPECT_EQ(out[0].floats(), (std::vector<float>{3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1}));
}

TEST(OnnxOneHot, RunTimeDepthIsReported) {
  ModelBuilder m(11);
  // Computed by a layer (a network input would be a shape tensor: onnx_shape_inputs_test).
  m.input("indices", {3}, ::onnx::TensorProto::INT64).input("d", {}).output("y");
  m.floats("values", {2}, {0, 1});
  m.node("Abs", {"d"}, {"depth"});
  m.node("OneHot", {"indices", "depth", "values"}, {"y"}, "oh");
  expectParseError(m, {"node 'oh' (OneHot, opset 11)",
                       "depth (input 1 'depth') must be known when the network is built"});
}

TEST(OnnxTrilu, ConstantAndRunTimeK) {
  ModelBuilder m(14);
  m.input("x", {3, 3}, ::onnx::TensorProto::INT64)
      .input("k", {}, ::onnx::TensorProto::INT64)
      .output("upper", ::onnx::TensorProto::INT64)
      .output("lower", ::onnx::TensorProto::INT64);
  m.node("Trilu", {"x", "k"}, {"upper"});
  m.ints("minus1", {}, {-1});
  attrInt(m.node("Trilu", {"x", "minus1"}, {"lower"}), "upper", 0);
  const auto out =
      runModel(m, {int64Tensor({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}), int64Tensor({}, {1})});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(int64s(out[0]), (std::vector<int64_t>{0, 2, 3, 0, 0, 6, 0, 0, 0}));
  EXPECT_EQ(int64s(out[1]), (std::vector<int64_t>{0, 0, 0, 4, 0, 0, 7, 8, 0}));
}

TEST(OnnxTrilu, VectorInputIsReported) {
  ModelBuilder m(14);
  m.input("x", {3}).output("y");
  m.node("Trilu", {"x"}, {"y"}, "t");
  expectParseError(m,
                   {"node 't' (Trilu, opset 14)", "the input has shape 3; Trilu needs rank >= 2"});
}

TEST(OnnxEinsum, BatchMatMulAndBadEquation) {
  ModelBuilder m(12);
  m.input("x", {2, 1, 2}).input("y", {2, 2, 1}).output("z");
  auto& node = m.node("Einsum", {"x", "y"}, {"z"});
  attrString(node, "equation", "bij, bjk -> bik");
  const auto out = runModel(m, {floats({2, 1, 2}, {1, 2, 3, 4}), floats({2, 2, 1}, {5, 6, 7, 8})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{2, 1, 1}));
  EXPECT_EQ(out[0].floats(), (std::vector<float>{17, 53}));

  // The layer's reason is logged by the network; the parser's error names the node.
  ModelBuilder bad(12);
  bad.input("x", {2, 3}).output("z");
  attrString(bad.node("Einsum", {"x"}, {"z"}, "e"), "equation", "ij->k");
  NetworkFixture f;
  parsers::OnnxParser parser(f.net(), f.logger);
  const std::string bytes = bad.bytes();
  EXPECT_FALSE(parser.parse(onnx_test::asBytes(bytes)));
  EXPECT_NE(onnx_test::parserErrors(parser).find("node 'e' (Einsum, opset 12)"), std::string::npos)
      << onnx_test::parserErrors(parser);
  EXPECT_TRUE(f.logger.hasError("equation 'ij->k': output label 'k' appears in no input"))
      << f.logger.errors();

  ModelBuilder none(12);
  none.input("x", {2, 3}).output("z");
  none.node("Einsum", {"x"}, {"z"}, "e");
  expectParseError(none, {"attribute 'equation' is required"});
}

}  // namespace
}  // namespace kiln::test
