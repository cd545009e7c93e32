// ONNX NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss: reductions, weights, ignore_index,
// the log_prob output, higher ranks, and the errors of bad models.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "onnx_test_util.h"

namespace kiln::test {
namespace {

using onnx_test::attrInt;
using onnx_test::attrString;
using onnx_test::expectParseError;
using onnx_test::ModelBuilder;
using onnx_test::runModel;

// Parses @p model, expecting failure; returns the parser's errors and the logged reasons.
std::string parseFailure(const ModelBuilder& model) {
  NetworkFixture f;
  parsers::OnnxParser parser(f.net(), f.logger);
  const std::string bytes = model.bytes();
  EXPECT_FALSE(parser.parse(onnx_test::asBytes(bytes)));
  return onnx_test::parserErrors(parser) + f.logger.errors();
}

HostTensor int64s(const Dims& dims, const std::vector<int64_t>& values) {
  HostTensor t(DataType::kINT64, dims);
  std::memcpy(t.bytes.data(), values.data(), values.size() * sizeof(int64_t));
  return t;
}

TEST(OnnxLoss, NegativeLogLikelihoodWithWeightAndIgnoreIndex) {
  // x [2, 3, 2]: loss[n, d] = -w[t] * x[n, t, d], target 1 ignored.
  ModelBuilder m(13);
  m.input("x", {2, 3, 2}).input("t", {2, 2}, ::onnx::TensorProto::INT64);
  m.floats("w", {3}, {0.5f, 2.f, 1.f});
  auto& node = m.node("NegativeLogLikelihoodLoss", {"x", "t", "w"}, {"loss"});
  attrString(node, "reduction", "mean");
  attrInt(node, "ignore_index", 1);
  m.output("loss");
  std::vector<float> xs(12);
  for (int i = 0; i < 12; ++i) xs[static_cast<std::size_t>(i)] = -0.25f * static_cast<float>(i);
  const auto out =
      runModel(m, {HostTensor::fromFloats(Dims{2, 3, 2}, xs), int64s(Dims{2, 2}, {0, 2, 1, 0})});
  ASSERT_EQ(out.size(), 1u);
  // Terms: (n0,d0,t0): 0.5 * 0; (n0,d1,t2): 1 * 1.25; (n1,d0) ignored; (n1,d1,t0): 0.5 * 1.75.
  EXPECT_EQ(out[0].dims.nbDims, 0);
  expectClose(out[0].floats(), std::vector<float>{(0.f + 1.25f + 0.875f) / 2.f});
}

TEST(OnnxLoss, SoftmaxCrossEntropyNoneWithLogProb) {
  ModelBuilder m(13);
  m.input("x", {1, 2, 3}).input("t", {1, 3}, ::onnx::TensorProto::INT64);
  attrString(m.node("SoftmaxCrossEntropyLoss", {"x", "t"}, {"loss", "log_prob"}), "reduction",
             "none");
  m.output("loss").output("log_prob");
  const std::vector<float> xs{0.f, 1.f, 2.f, 1.f, 1.f, 0.f};
  const auto out =
      runModel(m, {HostTensor::fromFloats(Dims{1, 2, 3}, xs), int64s(Dims{1, 3}, {0, 1, 1})});
  ASSERT_EQ(out.size(), 2u);
  std::vector<float> logp(6), loss(3);
  for (int d = 0; d < 3; ++d) {
    const double a = xs[static_cast<std::size_t>(d)], b = xs[static_cast<std::size_t>(3 + d)];
    const double lse = std::log(std::exp(a) + std::exp(b));
    logp[static_cast<std::size_t>(d)] = static_cast<float>(a - lse);
    logp[static_cast<std::size_t>(3 + d)] = static_cast<float>(b - lse);
  }
  loss = {-logp[0], -logp[4], -logp[5]};
  EXPECT_EQ(out[0].dims, (Dims{1, 3}));
  expectClose(out[0].floats(), loss);
  expectClose(out[1].floats(), logp);
}

TEST(OnnxLoss, SumReductionOfRankTwo) {
  ModelBuilder m(12);
  m.input("x", {3, 2}).input("t", {3}, ::onnx::TensorProto::INT64);
  attrString(m.node("NegativeLogLikelihoodLoss", {"x", "t"}, {"loss"}), "reduction", "sum");
  m.output("loss");
  const auto out =
      runModel(m, {HostTensor::fromFloats(Dims{3, 2}, std::vector<float>{-1, -2, -3, -4, -5, -6}),
                   int64s(Dims{3}, {1, 0, 1})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].floats(), std::vector<float>{2.f + 3.f + 6.f});
}

TEST(OnnxLoss, BadModelsAreReported) {
  {
    ModelBuilder m(13);
    m.input("x", {2, 3}).input("t", {2}, ::onnx::TensorProto::INT64);
    attrString(m.node("SoftmaxCrossEntropyLoss", {"x", "t"}, {"loss"}, "sce"), "reduction", "max");
    m.output("loss");
    expectParseError(m, {"sce", "reduction 'max' is not none, sum or mean"});
  }
  {
    ModelBuilder m(13);
    m.input("x", {2, 3}).input("t", {3}, ::onnx::TensorProto::INT64);
    m.node("NegativeLogLikelihoodLoss", {"x", "t"}, {"loss"}, "nll");
    m.output("loss");
    const std::string errors = parseFailure(m);
    EXPECT_NE(errors.find("layer 'nll' (Loss): the target has shape 3; an input of shape 2x3 "
                          "needs a target of shape 2"),
              std::string::npos)
        << errors;
  }
  {
    ModelBuilder m(11);
    m.input("x", {2, 3}).input("t", {2}, ::onnx::TensorProto::INT64);
    m.node("NegativeLogLikelihoodLoss", {"x", "t"}, {"loss"}, "old");
    m.output("loss");
    expectParseError(m, {"old"});
  }
}

}  // namespace
}  // namespace kiln::test
