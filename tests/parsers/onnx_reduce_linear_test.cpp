// ONNX reductions, ArgMax/ArgMin, TopK, Gemm, MatMul and the normalizations decomposed into
// layers (LayerNormalization, InstanceNormalization) and LRN, against values computed here.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "onnx_test_util.h"

namespace kiln::test {
namespace {

using onnx_test::attrFloat;
using onnx_test::attrInt;
using onnx_test::attrInts;
using onnx_test::ModelBuilder;
using onnx_test::runModel;

// Reduces [2, 3, 4] over dimension 1 with @p f applied to the three values.
std::vector<float> reduceMiddle(const std::vector<float>& x,
                                const std::function<double(const std::vector<double>&)>& f) {
  std::vector<float> y;
  for (int a = 0; a < 2; ++a)
    for (int c = 0; c < 4; ++c) {
      std::vector<double> v;
      for (int b = 0; b < 3; ++b) v.push_back(x[static_cast<std::size_t>((a * 3 + b) * 4 + c)]);
      y.push_back(static_cast<float>(f(v)));
    }
  return y;
}

TEST(OnnxReduceLinear, Reductions) {
  const auto x = randomFloats(24, 31, 0.1f, 2.f);
  struct Case {
    const char* op;
    std::function<double(const std::vector<double>&)> f;
  };
  const auto sum = [](const std::vector<double>& v) { return v[0] + v[1] + v[2]; };
  const std::vector<Case> cases = {
      {"ReduceSum", sum},
      {"ReduceMean", [&](const auto& v) { return sum(v) / 3; }},
      {"ReduceMax",
       [](const auto& v) {
         return std::max({v[0], v[1], v[2]});
       }},
      {"ReduceMin",
       [](const auto& v) {
         return std::min({v[0], v[1], v[2]});
       }},
      {"ReduceProd", [](const auto& v) { return v[0] * v[1] * v[2]; }},
      {"ReduceL1", [&](const auto& v) { return sum(v); }},
      {"ReduceL2",
       [](const auto& v) { return std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]); }},
      {"ReduceSumSquare", [](const auto& v) { return v[0] * v[0] + v[1] * v[1] + v[2] * v[2]; }},
      {"ReduceLogSum", [&](const auto& v) { return std::log(sum(v)); }},
      {"ReduceLogSumExp",
       [](const auto& v) { return std::log(std::exp(v[0]) + std::exp(v[1]) + std::exp(v[2])); }},
  };
  for (int64_t opset : {13, 18}) {
    for (const auto& c : cases) {
      for (int keep : {0, 1}) {
        ModelBuilder m(opset);
        m.input("x", {2, 3, 4}).output("y");
        const bool axesInput = opset >= 18 || std::string(c.op) == "ReduceSum";
        m.vector("axes", {-2});
        auto& node = axesInput ? m.node(c.op, {"x", "axes"}, {"y"}) : m.node(c.op, {"x"}, {"y"});
        if (!axesInput) attrInts(node, "axes", {-2});
        attrInt(node, "keepdims", keep);
        const auto out = runModel(m, {HostTensor::fromFloats({2, 3, 4}, x)});
        const std::string what = std::string(c.op) + " opset " + std::to_string(opset);
        ASSERT_EQ(out.size(), 1u) << what;
        EXPECT_EQ(out[0].dims, keep ? (Dims{2, 1, 4}) : (Dims{2, 4})) << what;
        expectClose(out[0].floats(), reduceMiddle(x, c.f), 1e-5, 1e-5, what);
      }
    }
  }
}

TEST(OnnxReduceLinear, EmptyAxesReduceAllOrNothing) {
  ModelBuilder m(18);
  m.input("x", {2, 3}).output("all").output("none");
  m.node("ReduceSum", {"x"}, {"all"});
  attrInt(m.node("ReduceMax", {"x"}, {"none"}), "noop_with_empty_axes", 1);
  const auto out =
      runModel(m, {HostTensor::fromFloats({2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6})});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].dims, (Dims{1, 1}));
  EXPECT_EQ(out[0].floats(), (std::vector<float>{21}));
  EXPECT_EQ(out[1].floats(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(OnnxReduceLinear, ArgMaxArgMin) {
  ModelBuilder m(13);
  m.input("x", {2, 4})
      .output("max", ::onnx::TensorProto::INT64)
      .output("min", ::onnx::TensorProto::INT64)
      .output("last", ::onnx::TensorProto::INT64);
  attrInt(m.node("ArgMax", {"x"}, {"max"}), "axis", 1);
  auto& argmin = m.node("ArgMin", {"x"}, {"min"});
  attrInt(argmin, "axis", 0);
  attrInt(argmin, "keepdims", 0);
  auto& last = m.node("ArgMax", {"x"}, {"last"});
  attrInt(last, "axis", -1);
  attrInt(last, "select_last_index", 1);
  const auto out =
      runModel(m, {HostTensor::fromFloats({2, 4}, std::vector<float>{3, 7, 7, 1, 0, -2, 5, 5})});
  ASSERT_EQ(out.size(), 3u);
  const auto ints = [](const HostTensor& t) {
    const auto v = t.as<int64_t>();
    return std::vector<int64_t>(v.begin(), v.end());
  };
  EXPECT_EQ(out[0].dims, (Dims{2, 1}));
  EXPECT_EQ(ints(out[0]), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(out[1].dims, (Dims{4}));
  EXPECT_EQ(ints(out[1]), (std::vector<int64_t>{1, 1, 1, 0}));
  EXPECT_EQ(ints(out[2]), (std::vector<int64_t>{2, 3}));
}

TEST(OnnxReduceLinear, TopK) {
  ModelBuilder m(11);
  m.input("x", {2, 4}).output("v").output("i", ::onnx::TensorProto::INT64);
  m.vector("k", {2});
  attrInt(m.node("TopK", {"x", "k"}, {"v", "i"}), "largest", 0);
  const auto out =
      runModel(m, {HostTensor::fromFloats({2, 4}, std::vector<float>{3, 7, -1, 1, 0, -2, 5, -2})});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{-1, 1, -2, -2}));
  const auto i = out[1].as<int64_t>();
  EXPECT_EQ(std::vector<int64_t>(i.begin(), i.end()), (std::vector<int64_t>{2, 3, 1, 3}));
}

// Y = alpha * A' B' + beta * C.
std::vector<float> gemm(const std::vector<float>& a, const std::vector<float>& b,
                        const std::vector<float>& c, int64_t M, int64_t K, int64_t N, bool ta,
                        bool tb, float alpha, float beta, bool cIsRow) {
  std::vector<float> y;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double sum = 0;
      for (int64_t k = 0; k < K; ++k) {
        const float av =
            ta ? a[static_cast<std::size_t>(k * M + i)] : a[static_cast<std::size_t>(i * K + k)];
        const float bv =
            tb ? b[static_cast<std::size_t>(j * K + k)] : b[static_cast<std::size_t>(k * N + j)];
        sum += static_cast<double>(av) * bv;
      }
      const double cv = c.empty() ? 0
                                  : (cIsRow ? c[static_cast<std::size_t>(j)]
                                            : c[static_cast<std::size_t>(i * N + j)]);
      y.push_back(static_cast<float>(alpha * sum + beta * cv));
    }
  return y;
}

TEST(OnnxReduceLinear, GemmAsFullyConnected) {
  const auto a = randomFloats(3 * 5, 41), b = randomFloats(4 * 5, 42), c = randomFloats(4, 43);
  ModelBuilder m(13);
  m.input("a", {3, 5}).output("y");
  m.floats("b", {4, 5}, b).floats("c", {4}, c);
  auto& node = m.node("Gemm", {"a", "b", "c"}, {"y"});
  attrInt(node, "transB", 1);
  attrFloat(node, "alpha", 0.5f);
  attrFloat(node, "beta", 2.f);
  NetworkFixture f;
  parsers::OnnxParser parser(f.net(), f.logger);
  const std::string bytes = m.bytes();
  ASSERT_TRUE(parser.parse(onnx_test::asBytes(bytes))) << onnx_test::parserErrors(parser);
  ASSERT_EQ(f.net().nbLayers(), 1);
  EXPECT_EQ(f.net().layer(0).type(), LayerType::kFULLY_CONNECTED);
  const auto out = f.run({HostTensor::fromFloats({3, 5}, a)});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), gemm(a, b, c, 3, 5, 4, false, true, 0.5f, 2.f, true));
}

TEST(OnnxReduceLinear, GemmGeneral) {
  const auto a = randomFloats(5 * 3, 44), b = randomFloats(5 * 4, 45), c = randomFloats(12, 46);
  ModelBuilder m(13);
  m.input("a", {5, 3}).input("b", {5, 4}).output("y");
  m.floats("c", {3, 4}, c);
  auto& node = m.node("Gemm", {"a", "b", "c"}, {"y"});
  attrInt(node, "transA", 1);
  attrFloat(node, "alpha", -1.5f);
  attrFloat(node, "beta", 0.25f);
  const auto out =
      runModel(m, {HostTensor::fromFloats({5, 3}, a), HostTensor::fromFloats({5, 4}, b)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{3, 4}));
  expectClose(out[0].floats(), gemm(a, b, c, 3, 5, 4, true, false, -1.5f, 0.25f, false));
}

TEST(OnnxReduceLinear, BatchedMatMulBroadcasts) {
  const auto a = randomFloats(2 * 3 * 4, 47), b = randomFloats(4 * 5, 48);
  ModelBuilder m(13);
  m.input("a", {2, 3, 4}).output("y");
  m.floats("b", {4, 5}, b);
  m.node("MatMul", {"a", "b"}, {"y"});
  const auto out = runModel(m, {HostTensor::fromFloats({2, 3, 4}, a)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{2, 3, 5}));
  std::vector<float> expected;
  for (int batch = 0; batch < 2; ++batch) {
    const std::vector<float> slice(a.begin() + batch * 12, a.begin() + batch * 12 + 12);
    const auto y = gemm(slice, b, {}, 3, 4, 5, false, false, 1, 0, true);
    expected.insert(expected.end(), y.begin(), y.end());
  }
  expectClose(out[0].floats(), expected);
}

// (x - mean) / sqrt(var + eps) over groups of @p inner consecutive values.
std::vector<double> normalized(const std::vector<float>& x, std::size_t inner, double eps) {
  std::vector<double> y(x.size());
  for (std::size_t g = 0; g < x.size() / inner; ++g) {
    double mean = 0, var = 0;
    for (std::size_t i = 0; i < inner; ++i) mean += x[g * inner + i];
    mean /= static_cast<double>(inner);
    for (std::size_t i = 0; i < inner; ++i) var += std::pow(x[g * inner + i] - mean, 2);
    var /= static_cast<double>(inner);
    for (std::size_t i = 0; i < inner; ++i)
      y[g * inner + i] = (x[g * inner + i] - mean) / std::sqrt(var + eps);
  }
  return y;
}

TEST(OnnxReduceLinear, LayerNormalization) {
  const auto x = randomFloats(2 * 3 * 4, 51, -2, 2);
  const auto scale = randomFloats(12, 52), bias = randomFloats(12, 53);
  ModelBuilder m(17);
  m.input("x", {2, 3, 4}).output("y").output("mean").output("inv");
  m.floats("s", {3, 4}, scale).floats("b", {3, 4}, bias);
  auto& ln = m.node("LayerNormalization", {"x", "s", "b"}, {"y", "mean", "inv"});
  attrInt(ln, "axis", 1);
  attrFloat(ln, "epsilon", 1e-3f);
  const auto out = runModel(m, {HostTensor::fromFloats({2, 3, 4}, x)});
  ASSERT_EQ(out.size(), 3u);
  const auto n = normalized(x, 12, double{1e-3f});
  std::vector<float> expected;
  for (std::size_t i = 0; i < x.size(); ++i) {
    expected.push_back(static_cast<float>(n[i] * scale[i % 12] + bias[i % 12]));
  }
  expectClose(out[0].floats(), expected);
  EXPECT_EQ(out[1].dims, (Dims{2, 1, 1}));
  EXPECT_EQ(out[2].dims, (Dims{2, 1, 1}));
}

TEST(OnnxReduceLinear, InstanceNormalization) {
  const auto x = randomFloats(2 * 3 * 5, 54, -2, 2);
  const std::vector<float> scale{1, 2, -1}, bias{0, 0.5f, 1};
  ModelBuilder m(13);
  m.input("x", {2, 3, 5}).output("y");
  m.floats("s", {3}, scale).floats("b", {3}, bias);
  m.node("InstanceNormalization", {"x", "s", "b"}, {"y"});
  const auto out = runModel(m, {HostTensor::fromFloats({2, 3, 5}, x)});
  ASSERT_EQ(out.size(), 1u);
  const auto n = normalized(x, 5, 1e-5);
  std::vector<float> expected;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::size_t c = (i / 5) % 3;
    expected.push_back(static_cast<float>(n[i] * scale[c] + bias[c]));
  }
  expectClose(out[0].floats(), expected);
}

TEST(OnnxReduceLinear, LocalResponseNormalization) {
  const auto x = randomFloats(1 * 5 * 2, 55);
  ModelBuilder m(13);
  m.input("x", {1, 5, 2}).output("y");
  auto& lrn = m.node("LRN", {"x"}, {"y"});
  attrInt(lrn, "size", 3);
  attrFloat(lrn, "alpha", 0.5f);
  attrFloat(lrn, "beta", 0.75f);
  attrFloat(lrn, "bias", 2.f);
  std::vector<float> expected;
  for (int c = 0; c < 5; ++c)
    for (int s = 0; s < 2; ++s) {
      double sum = 0;
      for (int k = std::max(0, c - 1); k <= std::min(4, c + 1); ++k) {
        sum += std::pow(x[static_cast<std::size_t>(k * 2 + s)], 2);
      }
      expected.push_back(static_cast<float>(x[static_cast<std::size_t>(c * 2 + s)] /
                                            std::pow(2.0 + 0.5 / 3 * sum, 0.75)));
    }
  const auto out = runModel(m, {HostTensor::fromFloats({1, 5, 2}, x)});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), expected);
}

}  // namespace
}  // namespace kiln::test
