// ONNX activations, element-wise arithmetic, comparisons, logic, Where, unary functions and the
// softmax family against values computed here.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "onnx_test_util.h"

namespace kiln::test {
namespace {

using onnx_test::attrFloat;
using onnx_test::attrInt;
using onnx_test::attrString;
using onnx_test::ModelBuilder;
using onnx_test::runModel;

const std::vector<float> kX = {-3.f, -1.5f, -0.25f, 0.f, 0.5f, 1.f, 2.5f, 4.f};

// Runs y = op(x) on kX ([2, 4]) with @p configure adding attributes.
std::vector<float> runUnaryOp(const std::string& op, int64_t opset = 17,
                              const std::function<void(::onnx::NodeProto&)>& configure = {}) {
  ModelBuilder m(opset);
  m.input("x", {2, 4}).output("y");
  auto& node = m.node(op, {"x"}, {"y"});
  if (configure) configure(node);
  const auto out = runModel(m, {HostTensor::fromFloats({2, 4}, kX)});
  if (out.size() != 1) return {};
  return out[0].floats();
}

std::vector<float> apply(const std::function<double(double)>& f) {
  std::vector<float> y;
  for (float x : kX) y.push_back(static_cast<float>(f(x)));
  return y;
}

TEST(OnnxPointwise, Activations) {
  expectClose(runUnaryOp("Relu"), apply([](double x) { return x > 0 ? x : 0; }));
  expectClose(runUnaryOp("LeakyRelu", 17, [](auto& n) { attrFloat(n, "alpha", 0.2f); }),
              apply([](double x) { return x >= 0 ? x : 0.2f * x; }));
  expectClose(runUnaryOp("Elu", 17, [](auto& n) { attrFloat(n, "alpha", 0.7f); }),
              apply([](double x) { return x >= 0 ? x : 0.7f * (std::exp(x) - 1); }));
  expectClose(runUnaryOp("Selu"), apply([](double x) {
                return 1.05070102214813232421875 *
                       (x >= 0 ? x : 1.67326319217681884765625 * (std::exp(x) - 1));
              }));
  expectClose(runUnaryOp("Sigmoid"), apply([](double x) { return 1 / (1 + std::exp(-x)); }));
  expectClose(runUnaryOp("HardSigmoid"),
              apply([](double x) { return std::fmax(0, std::fmin(1, 0.2f * x + 0.5f)); }));
  expectClose(runUnaryOp("Tanh"), apply([](double x) { return std::tanh(x); }));
  expectClose(runUnaryOp("Softplus"), apply([](double x) { return std::log(std::exp(x) + 1); }));
  expectClose(runUnaryOp("Softsign"), apply([](double x) { return x / (1 + std::fabs(x)); }));
  expectClose(runUnaryOp("ThresholdedRelu", 17, [](auto& n) { attrFloat(n, "alpha", 0.5f); }),
              apply([](double x) { return x > 0.5 ? x : 0; }));
  expectClose(runUnaryOp("Gelu", 20),
              apply([](double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }));
  expectClose(runUnaryOp("Gelu", 20, [](auto& n) { attrString(n, "approximate", "tanh"); }),
              apply([](double x) {
                return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
              }));
  expectClose(runUnaryOp("HardSwish"),
              apply([](double x) { return x * std::fmax(0, std::fmin(1, x / 6 + 0.5)); }));
  expectClose(runUnaryOp("Mish"),
              apply([](double x) { return x * std::tanh(std::log1p(std::exp(x))); }));
  expectClose(runUnaryOp("Celu", 17, [](auto& n) { attrFloat(n, "alpha", 2.f); }),
              apply([](double x) { return x >= 0 ? x : 2 * (std::exp(x / 2) - 1); }));
}

TEST(OnnxPointwise, ClipFromAttributesAndInputs) {
  expectClose(runUnaryOp("Clip", 10,
                         [](auto& n) {
                           attrFloat(n, "min", -1.f);
                           attrFloat(n, "max", 2.f);
                         }),
              apply([](double x) { return std::fmin(std::fmax(x, -1), 2); }));
  ModelBuilder m(13);
  m.input("x", {2, 4}).output("y").output("z");
  m.floats("lo", {}, {-0.5f});
  m.node("Clip", {"x", "lo"}, {"y"});     // min only
  m.node("Clip", {"x", "", "x"}, {"z"});  // max computed at run time: min(x, x) = x
  const auto out = runModel(m, {HostTensor::fromFloats({2, 4}, kX)});
  ASSERT_EQ(out.size(), 2u);
  expectClose(out[0].floats(), apply([](double x) { return std::fmax(x, -0.5); }));
  expectClose(out[1].floats(), kX);
}

TEST(OnnxPointwise, PReluBroadcastsItsSlope) {
  ModelBuilder m(13);
  m.input("x", {1, 2, 2, 2}).output("y");
  m.floats("slope", {2, 1, 1}, {0.1f, -2.f});
  m.node("PRelu", {"x", "slope"}, {"y"});
  const auto out = runModel(m, {HostTensor::fromFloats({1, 2, 2, 2}, kX)});
  ASSERT_EQ(out.size(), 1u);
  std::vector<float> expected;
  for (std::size_t i = 0; i < kX.size(); ++i) {
    const float slope = i < 4 ? 0.1f : -2.f;
    expected.push_back(kX[i] >= 0 ? kX[i] : slope * kX[i]);
  }
  expectClose(out[0].floats(), expected);
}

TEST(OnnxPointwise, BinaryArithmeticBroadcasts) {
  const std::vector<float> b = {0.5f, -2.f, 4.f, 1.f};
  struct Case {
    const char* op;
    std::function<double(double, double)> f;
  };
  const std::vector<Case> cases = {
      {"Add", [](double x, double y) { return x + y; }},
      {"Sub", [](double x, double y) { return x - y; }},
      {"Mul", [](double x, double y) { return x * y; }},
      {"Div", [](double x, double y) { return x / y; }},
      {"Max", [](double x, double y) { return std::fmax(x, y); }},
      {"Min", [](double x, double y) { return std::fmin(x, y); }},
  };
  for (const auto& c : cases) {
    ModelBuilder m(13);
    m.input("x", {2, 4}).output("y");
    m.floats("b", {4}, b);
    m.node(c.op, {"x", "b"}, {"y"});
    const auto out = runModel(m, {HostTensor::fromFloats({2, 4}, kX)});
    ASSERT_EQ(out.size(), 1u) << c.op;
    std::vector<float> expected;
    for (std::size_t i = 0; i < kX.size(); ++i) {
      expected.push_back(static_cast<float>(c.f(kX[i], b[i % 4])));
    }
    expectClose(out[0].floats(), expected, 1e-6, 1e-6, c.op);
  }
}

TEST(OnnxPointwise, PowWithAnIntegerExponent) {
  ModelBuilder m(13);
  m.input("x", {2, 4}).output("y");
  m.ints("two", {}, {2});
  m.node("Pow", {"x", "two"}, {"y"});
  const auto out = runModel(m, {HostTensor::fromFloats({2, 4}, kX)});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), apply([](double x) { return x * x; }));
}

TEST(OnnxPointwise, VariadicOps) {
  ModelBuilder m(13);
  m.input("a", {2, 4})
      .input("b", {4})
      .input("c", {1, 1})
      .output("sum")
      .output("mean")
      .output("max")
      .output("min")
      .output("one");
  m.node("Sum", {"a", "b", "c"}, {"sum"});
  m.node("Mean", {"a", "b", "c"}, {"mean"});
  m.node("Max", {"a", "b", "c"}, {"max"});
  m.node("Min", {"a", "b", "c"}, {"min"});
  m.node("Max", {"a"}, {"one"});
  const std::vector<float> b = {1, 2, 3, 4}, c = {0.5f};
  const auto out = runModel(m, {HostTensor::fromFloats({2, 4}, kX), HostTensor::fromFloats({4}, b),
                                HostTensor::fromFloats({1, 1}, c)});
  ASSERT_EQ(out.size(), 5u);
  std::vector<float> sum, mean, max, min;
  for (std::size_t i = 0; i < kX.size(); ++i) {
    const double s = double{kX[i]} + b[i % 4] + c[0];
    sum.push_back(static_cast<float>(s));
    mean.push_back(static_cast<float>(s / 3));
    max.push_back(std::max({kX[i], b[i % 4], c[0]}));
    min.push_back(std::min({kX[i], b[i % 4], c[0]}));
  }
  expectClose(out[0].floats(), sum);
  expectClose(out[1].floats(), mean);
  expectClose(out[2].floats(), max);
  expectClose(out[3].floats(), min);
  expectClose(out[4].floats(), kX);
}

TEST(OnnxPointwise, ComparisonsLogicAndWhere) {
  ModelBuilder m(13);
  m.input("x", {2, 4}).output("y", ::onnx::TensorProto::FLOAT);
  m.floats("zero", {}, {0.f});
  m.floats("one", {}, {1.f});
  m.floats("big", {}, {100.f});
  m.node("Greater", {"x", "zero"}, {"gt"});
  m.node("LessOrEqual", {"x", "one"}, {"le"});
  m.node("And", {"gt", "le"}, {"in01"});  // 0 < x <= 1
  m.node("Equal", {"x", "zero"}, {"eq"});
  m.node("Or", {"in01", "eq"}, {"pick"});  // 0 <= x <= 1
  m.node("GreaterOrEqual", {"x", "big"}, {"never"});
  m.node("Xor", {"pick", "never"}, {"pick2"});
  m.node("Not", {"pick2"}, {"other"});
  m.node("Less", {"x", "zero"}, {"negative"});
  m.node("And", {"other", "negative"}, {"neg_pick"});
  m.node("Where", {"pick2", "x", "big"}, {"w"});
  m.node("Neg", {"big"}, {"minus_big"});
  m.node("Where", {"neg_pick", "minus_big", "w"}, {"y"});
  const auto out = runModel(m, {HostTensor::fromFloats({2, 4}, kX)});
  ASSERT_EQ(out.size(), 1u);
  std::vector<float> expected;
  for (float x : kX) expected.push_back(x >= 0 && x <= 1 ? x : (x < 0 ? -100.f : 100.f));
  EXPECT_EQ(out[0].floats(), expected);
}

TEST(OnnxPointwise, UnaryFunctions) {
  struct Case {
    const char* op;
    std::function<double(double)> f;
  };
  const std::vector<Case> cases = {
      {"Abs", [](double x) { return std::fabs(x); }},
      {"Neg", [](double x) { return -x; }},
      {"Exp", [](double x) { return std::exp(x); }},
      {"Sin", [](double x) { return std::sin(x); }},
      {"Cos", [](double x) { return std::cos(x); }},
      {"Atan", [](double x) { return std::atan(x); }},
      {"Floor", [](double x) { return std::floor(x); }},
      {"Ceil", [](double x) { return std::ceil(x); }},
      {"Sign", [](double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }},
      {"Round", [](double x) { return std::nearbyint(x); }},
      {"Erf", [](double x) { return std::erf(x); }},
  };
  for (const auto& c : cases) {
    expectClose(runUnaryOp(c.op), apply(c.f), 1e-6, 1e-5, c.op);
  }
  // Functions of positive numbers on |x| + 0.5.
  ModelBuilder m(13);
  m.input("x", {2, 4}).output("log").output("sqrt").output("recip");
  m.floats("half", {}, {0.5f});
  m.node("Abs", {"x"}, {"a"});
  m.node("Add", {"a", "half"}, {"p"});
  m.node("Log", {"p"}, {"log"});
  m.node("Sqrt", {"p"}, {"sqrt"});
  m.node("Reciprocal", {"p"}, {"recip"});
  const auto out = runModel(m, {HostTensor::fromFloats({2, 4}, kX)});
  ASSERT_EQ(out.size(), 3u);
  expectClose(out[0].floats(), apply([](double x) { return std::log(std::fabs(x) + 0.5); }));
  expectClose(out[1].floats(), apply([](double x) { return std::sqrt(std::fabs(x) + 0.5); }));
  expectClose(out[2].floats(), apply([](double x) { return 1 / (std::fabs(x) + 0.5); }));
}

TEST(OnnxPointwise, IsInfDetectsOneSide) {
  const float inf = std::numeric_limits<float>::infinity();
  ModelBuilder m(13);
  m.input("x", {4}).output("y", ::onnx::TensorProto::BOOL);
  attrInt(m.node("IsInf", {"x"}, {"y"}), "detect_negative", 0);
  const auto out =
      runModel(m, {HostTensor::fromFloats({4}, std::vector<float>{inf, -inf, 1, NAN})});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].dtype, DataType::kBOOL);
  const auto y = out[0].as<uint8_t>();
  EXPECT_EQ(std::vector<uint8_t>(y.begin(), y.end()), (std::vector<uint8_t>{1, 0, 0, 0}));
}

std::vector<float> softmaxRows(const std::vector<float>& x, std::size_t rows, bool log) {
  const std::size_t cols = x.size() / rows;
  std::vector<float> y(x.size());
  for (std::size_t r = 0; r < rows; ++r) {
    double max = -INFINITY, sum = 0;
    for (std::size_t c = 0; c < cols; ++c) max = std::max<double>(max, x[r * cols + c]);
    for (std::size_t c = 0; c < cols; ++c) sum += std::exp(x[r * cols + c] - max);
    for (std::size_t c = 0; c < cols; ++c) {
      const double v = x[r * cols + c] - max;
      y[r * cols + c] = static_cast<float>(log ? v - std::log(sum) : std::exp(v) / sum);
    }
  }
  return y;
}

TEST(OnnxPointwise, SoftmaxAxisSemanticsByOpset) {
  const Dims xd{2, 3, 4};
  const auto x = randomFloats(24, 21, -3, 3);
  for (const char* op : {"Softmax", "LogSoftmax"}) {
    const bool log = std::string(op) == "LogSoftmax";
    // Opset 11, axis 1: softmax over the 12 values of each [3, 4] block (flattened).
    ModelBuilder old(11);
    old.input("x", {2, 3, 4}).output("y");
    attrInt(old.node(op, {"x"}, {"y"}), "axis", 1);
    auto out = runModel(old, {HostTensor::fromFloats(xd, x)});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].dims, xd);
    expectClose(out[0].floats(), softmaxRows(x, 2, log), 1e-6, 1e-5, op);
    // Opset 13, axis -1 (default): over the last dimension.
    ModelBuilder now(13);
    now.input("x", {2, 3, 4}).output("y");
    now.node(op, {"x"}, {"y"});
    out = runModel(now, {HostTensor::fromFloats(xd, x)});
    ASSERT_EQ(out.size(), 1u);
    expectClose(out[0].floats(), softmaxRows(x, 6, log), 1e-6, 1e-5, op);
  }
}

TEST(OnnxPointwise, HardmaxMarksTheFirstMaximum) {
  ModelBuilder m(13);
  m.input("x", {2, 3}).output("y");
  m.node("Hardmax", {"x"}, {"y"});
  const auto out =
      runModel(m, {HostTensor::fromFloats({2, 3}, std::vector<float>{1, 5, 5, -1, -3, -2})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{0, 1, 0, 1, 0, 0}));
}

TEST(OnnxPointwise, IntegerArithmeticStaysInteger) {
  ModelBuilder m(14);
  m.input("a", {4}, ::onnx::TensorProto::INT32).output("y", ::onnx::TensorProto::INT32);
  m.ints("three", {}, {3});
  m.node("Relu", {"a"}, {"r"});
  m.node("Div", {"r", "three"}, {"y"});
  NetworkFixture f;
  parsers::OnnxParser parser(f.net(), f.logger);
  const std::string bytes = m.bytes();
  ASSERT_TRUE(parser.parse(onnx_test::asBytes(bytes))) << onnx_test::parserErrors(parser);
  const auto out = f.run({HostTensor::fromInts({4}, std::vector<int32_t>{-7, 7, 9, 2})});
  ASSERT_EQ(out.size(), 1u);
  const auto y = out[0].as<int32_t>();
  EXPECT_EQ(std::vector<int32_t>(y.begin(), y.end()), (std::vector<int32_t>{0, 2, 3, 0}));
}

}  // namespace
}  // namespace kiln::test
