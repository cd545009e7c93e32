// SoftMax through the public API and the whole pipeline (build, plan round trip, run).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

// Softmax of @p x (shape @p dims) along @p axis (already in [0, rank)), straight from the
// definition exp(x_i) / sum_j exp(x_j) on values small enough not to overflow.
std::vector<float> naiveSoftMax(const std::vector<float>& x, const Dims& dims, int32_t axis) {
  int64_t outer = 1;
  for (int32_t i = 0; i < axis; ++i) outer *= dims[i];
  int64_t inner = 1;
  for (int32_t i = axis + 1; i < dims.nbDims; ++i) inner *= dims[i];
  const int64_t n = dims[axis];
  std::vector<float> y(x.size());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      double sum = 0;
      for (int64_t j = 0; j < n; ++j) {
        sum += std::exp(static_cast<double>(x[static_cast<std::size_t>((o * n + j) * inner + i)]));
      }
      for (int64_t j = 0; j < n; ++j) {
        const auto at = static_cast<std::size_t>((o * n + j) * inner + i);
        y[at] = static_cast<float>(std::exp(static_cast<double>(x[at])) / sum);
      }
    }
  }
  return y;
}

// Builds input -> softmax (axis set unless @p axis is nullptr) -> output and runs it.
std::vector<float> runSoftMax(const HostTensor& in, const int32_t* axis,
                              int32_t* reportedAxis = nullptr) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, in.dims);
  auto sm = f.net().addSoftMax(x);
  EXPECT_TRUE(sm) << f.logger.errors();
  if (!sm) return {};
  if (axis != nullptr) sm.setAxis(*axis);
  if (reportedAxis != nullptr) *reportedAxis = sm.axis();
  EXPECT_EQ(sm.output(0).dimensions(), in.dims);
  f.net().markOutput(sm.output(0));
  const auto out = f.run({in});
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
  if (out.size() != 1) return {};
  EXPECT_EQ(out[0].dims, in.dims);
  return out[0].floats();
}

TEST(SoftMax, HandComputed) {
  const std::vector<float> v = {1, 2, 3};
  const auto out = runSoftMax(HostTensor::fromFloats(Dims{3}, v), nullptr);
  const double e1 = std::exp(1.0);
  const double e2 = std::exp(2.0);
  const double e3 = std::exp(3.0);
  const double s = e1 + e2 + e3;
  expectClose(out, std::vector<float>{static_cast<float>(e1 / s), static_cast<float>(e2 / s),
                                      static_cast<float>(e3 / s)});
}

TEST(SoftMax, EveryAxisOfARank4Input) {
  const Dims dims{2, 3, 4, 5};
  const auto in = randomTensor(dims, 31, -3.f, 3.f);
  for (int32_t axis = -4; axis < 4; ++axis) {
    SCOPED_TRACE("axis " + std::to_string(axis));
    int32_t reported = 99;
    const auto out = runSoftMax(in, &axis, &reported);
    EXPECT_EQ(reported, axis);
    expectClose(out, naiveSoftMax(in.floats(), dims, axis < 0 ? axis + 4 : axis));
  }
}

TEST(SoftMax, DefaultAxisFollowsTheRank) {
  struct Case {
    Dims dims;
    int32_t axis;
  };
  for (const Case& c : {Case{Dims{7}, 0}, Case{Dims{3, 5}, 1}, Case{Dims{2, 3, 5}, 2},
                        Case{Dims{2, 3, 4, 5}, 1}, Case{Dims{2, 1, 3, 2, 3}, 2}}) {
    SCOPED_TRACE(toString(c.dims));
    const auto in = randomTensor(c.dims, 32, -2.f, 2.f);
    int32_t reported = 99;
    const auto out = runSoftMax(in, nullptr, &reported);
    EXPECT_EQ(reported, c.axis);
    expectClose(out, naiveSoftMax(in.floats(), c.dims, c.axis));
  }
}

TEST(SoftMax, LargeInputsStayFinite) {
  // exp(1000) overflows even in double: only the max-subtracting form gets this right.
  const std::vector<float> v = {1000, 1001, 1002, -1000, 0, 1000};
  const int32_t axis = 1;
  const auto out = runSoftMax(HostTensor::fromFloats(Dims{2, 3}, v), &axis);
  const double s = 1 + std::exp(1.0) + std::exp(2.0);
  expectClose(out,
              std::vector<float>{static_cast<float>(1 / s), static_cast<float>(std::exp(1.0) / s),
                                 static_cast<float>(std::exp(2.0) / s), 0.f, 0.f, 1.f},
              1e-6);
}

TEST(SoftMax, SizeOneAndEmptyAxes) {
  const auto in = randomTensor(Dims{3, 1, 4}, 33);
  const int32_t axis = 1;
  expectClose(runSoftMax(in, &axis), std::vector<float>(12, 1.f));

  const HostTensor empty(DataType::kFLOAT, Dims{2, 0, 3});
  const int32_t last = -1;
  EXPECT_TRUE(runSoftMax(empty, &last).empty());
  const int32_t middle = 1;
  EXPECT_TRUE(runSoftMax(empty, &middle).empty());

  // Empty, with a softmax axis of 2^32: nothing is normalized and nothing is sized by the axis
  // (the ONNX parser fuzzer found a 32 GB row buffer this way).
  const HostTensor wide(DataType::kFLOAT, Dims{0, int64_t{1} << 32});
  EXPECT_TRUE(runSoftMax(wide, &last).empty());
}

TEST(SoftMax, RejectsBadAxisNamingTheLayer) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3, 4});
  auto sm = f.net().addSoftMax(x);
  ASSERT_TRUE(sm) << f.logger.errors();
  sm.setName("probs");
  sm.setAxis(3);
  EXPECT_TRUE(f.logger.hasError("layer 'probs' (SoftMax): axis 3 is out of range"))
      << f.logger.errors();
  EXPECT_EQ(sm.axis(), 2);  // unchanged
  f.logger.clear();
  sm.setAxis(-4);
  EXPECT_TRUE(f.logger.hasError("axis -4 is out of range")) << f.logger.errors();
  f.logger.clear();
  sm.setAxis(-3);
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
  EXPECT_EQ(sm.axis(), -3);

  // An axis that stops fitting when the input's rank changes fails the build, by name.
  x.setDimensions(Dims{6, 4});
  f.net().markOutput(sm.output(0));
  auto config = f.builder.createBuilderConfig();
  EXPECT_TRUE(f.builder.buildSerializedNetwork(f.net(), *config).empty());
  EXPECT_TRUE(f.logger.hasError("layer 'probs' (SoftMax): axis -3 is out of range"))
      << f.logger.errors();
}

// Settings may follow the add call: an axis set while a layer in front is not valid yet is
// checked once that layer's settings make the shapes work out.
TEST(SoftMax, SetAxisWhileALayerInFrontIsNotValidYet) {
  NetworkFixture f;
  auto a = f.net().addInput("a", DataType::kFLOAT, Dims{2, 3});
  auto b = f.net().addInput("b", DataType::kFLOAT, Dims{4, 3});
  auto mm = f.net().addMatrixMultiply(a, MatrixOperation::kNONE, b, MatrixOperation::kNONE);
  ASSERT_TRUE(mm) << f.logger.errors();
  auto sm = f.net().addSoftMax(mm.output(0));
  ASSERT_TRUE(sm) << f.logger.errors();
  sm.setAxis(0);
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
  EXPECT_EQ(sm.axis(), 0);

  // B transposed: [2, 3] x [3, 4]. The softmax runs down each of the 4 columns.
  mm.setOperation(1, MatrixOperation::kTRANSPOSE);
  EXPECT_EQ(sm.output(0).dimensions(), (Dims{2, 4})) << f.logger.errors();
  f.net().markOutput(sm.output(0));
  const auto out = f.run({randomTensor(Dims{2, 3}, 1), randomTensor(Dims{4, 3}, 2)});
  ASSERT_EQ(out.size(), 1u);
  const auto y = out[0].floats();
  ASSERT_EQ(y.size(), 8u);
  for (std::size_t col = 0; col < 4; ++col) EXPECT_NEAR(y[col] + y[4 + col], 1.f, 1e-6) << col;
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

TEST(SoftMax, RejectsScalarsNonFloatAndNullInputs) {
  // The input's shape and type may still change, so these layers are kept, but invalid. Each
  // gets a network of its own, so that the errors logged there are its alone.
  {
    NetworkFixture n;
    auto s = n.net().addInput("s", DataType::kFLOAT, Dims{});
    expectInvalidLayer(n, n.net().addSoftMax(s), "scalar");
    EXPECT_TRUE(n.logger.hasError("layer 'SoftMax_0' (SoftMax)")) << n.logger.errors();
  }
  {
    NetworkFixture n;
    auto i = n.net().addInput("i", DataType::kINT32, Dims{4});
    expectInvalidLayer(n, n.net().addSoftMax(i), "addCast");
    EXPECT_TRUE(n.logger.hasError("layer 'SoftMax_0' (SoftMax): input must be float32, not int32"))
        << n.logger.errors();
  }

  // Bad arguments are refused at once.
  NetworkFixture f;
  EXPECT_FALSE(f.net().addSoftMax(Tensor()));
  EXPECT_TRUE(f.logger.hasError("null")) << f.logger.errors();
  f.logger.clear();

  NetworkFixture other;
  EXPECT_FALSE(f.net().addSoftMax(other.net().addInput("x", DataType::kFLOAT, Dims{3})));
  EXPECT_TRUE(f.logger.hasError("another network")) << f.logger.errors();
  EXPECT_EQ(f.net().nbLayers(), 0);

  SoftMaxLayer none;
  none.setAxis(1);
  EXPECT_EQ(none.axis(), 0);
}

}  // namespace
}  // namespace kiln::test
