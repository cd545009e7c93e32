// TopK: values and indices along each axis of odd shapes, for float32 and int32, with ties
// (lower index first), NaN and infinities; and the rejected configurations.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <string_view>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

using Op = TopKOperation;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNan = std::numeric_limits<float>::quiet_NaN();

struct TopKResult {
  HostTensor values;
  HostTensor indices;
};

TopKResult runTopK(const HostTensor& x, Op op, int32_t k, uint32_t axes) {
  NetworkFixture f;
  auto input = f.net().addInput("x", x.dtype, x.dims);
  auto layer = f.net().addTopK(input, op, k, axes);
  if (!layer) {
    ADD_FAILURE() << "addTopK failed: " << f.logger.errors();
    return {};
  }
  EXPECT_EQ(layer.operation(), op);
  EXPECT_EQ(layer.k(), k);
  EXPECT_EQ(layer.reduceAxes(), axes);
  EXPECT_EQ(layer.nbOutputs(), 2);
  f.net().markOutput(layer.output(0));
  f.net().markOutput(layer.output(1));
  auto outputs = f.run({x});
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
  if (outputs.size() != 2) return {};
  return {outputs[0], outputs[1]};
}

// NaN above everything; ties keep the lower index first (stable sort).
template <typename T>
void referenceTopK(std::span<const T> x, const Dims& dims, Op op, int64_t k, int32_t axis,
                   std::vector<T>& values, std::vector<int32_t>& indices) {
  int64_t outer = 1;
  int64_t inner = 1;
  for (int32_t d = 0; d < axis; ++d) outer *= dims[d];
  for (int32_t d = axis + 1; d < dims.nbDims; ++d) inner *= dims[d];
  const int64_t n = dims[axis];
  auto rank = [](T v) -> double {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(v)) return INFINITY;
    }
    return static_cast<double>(v);
  };
  auto isNan = [](T v) {
    if constexpr (std::is_floating_point_v<T>) return std::isnan(v);
    return false;
  };
  values.assign(static_cast<std::size_t>(outer * k * inner), T{});
  indices.assign(values.size(), -1);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      std::vector<int32_t> order(static_cast<std::size_t>(n));
      std::iota(order.begin(), order.end(), 0);
      auto at = [&](int32_t j) { return x[static_cast<std::size_t>((o * n + j) * inner + i)]; };
      // Sort by (rank, NaN-ness) so NaN sorts above +inf.
      std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
        const auto ka = std::make_pair(isNan(at(a)), rank(at(a)));
        const auto kb = std::make_pair(isNan(at(b)), rank(at(b)));
        return op == Op::kMAX ? kb < ka : ka < kb;
      });
      for (int64_t j = 0; j < k; ++j) {
        const auto dst = static_cast<std::size_t>((o * k + j) * inner + i);
        values[dst] = at(order[static_cast<std::size_t>(j)]);
        indices[dst] = order[static_cast<std::size_t>(j)];
      }
    }
  }
}

std::vector<int32_t> ints(const HostTensor& t) {
  const auto v = t.as<int32_t>();
  return {v.begin(), v.end()};
}

TEST(TopK, HandPickedFloatValues) {
  const std::vector<float> v = {3.f, 1.f, 3.f, kNan, -kInf, 2.f, 3.f, kInf, -0.f, 0.f};
  const auto x = HostTensor::fromFloats(Dims{10}, v);

  auto top = runTopK(x, Op::kMAX, 5, 1);
  ASSERT_EQ(top.values.dims, Dims{5});
  ASSERT_EQ(top.values.dtype, DataType::kFLOAT);
  ASSERT_EQ(top.indices.dtype, DataType::kINT32);
  expectClose(top.values.floats(), std::vector<float>{kNan, kInf, 3.f, 3.f, 3.f}, 0, 0);
  EXPECT_EQ(ints(top.indices), (std::vector<int32_t>{3, 7, 0, 2, 6}));

  auto bottom = runTopK(x, Op::kMIN, 4, 1);
  expectClose(bottom.values.floats(), std::vector<float>{-kInf, -0.f, 0.f, 1.f}, 0, 0);
  EXPECT_EQ(ints(bottom.indices), (std::vector<int32_t>{4, 8, 9, 1}));  // -0 == 0: index order

  auto all = runTopK(x, Op::kMIN, 10, 1);
  EXPECT_EQ(ints(all.indices), (std::vector<int32_t>{4, 8, 9, 1, 5, 0, 2, 6, 7, 3}));  // NaN last
}

TEST(TopK, IntTiesLowerIndexFirst) {
  const auto x = HostTensor::fromInts(
      Dims{8}, std::vector<int32_t>{5, -2, 5, 7, std::numeric_limits<int32_t>::min(), 7, 0, -2});
  auto top = runTopK(x, Op::kMAX, 4, 1);
  ASSERT_EQ(top.values.dtype, DataType::kINT32);
  EXPECT_EQ(ints(top.values), (std::vector<int32_t>{7, 7, 5, 5}));
  EXPECT_EQ(ints(top.indices), (std::vector<int32_t>{3, 5, 0, 2}));
  auto bottom = runTopK(x, Op::kMIN, 3, 1);
  EXPECT_EQ(ints(bottom.values),
            (std::vector<int32_t>{std::numeric_limits<int32_t>::min(), -2, -2}));
  EXPECT_EQ(ints(bottom.indices), (std::vector<int32_t>{4, 1, 7}));
}

TEST(TopK, EveryAxisOfOddShapes) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int32_t> small(-4, 4);  // many ties
  for (const Dims& dims : {Dims{2, 5, 3}, Dims{7}, Dims{3, 1, 4}, Dims{1, 6}, Dims{0, 4}}) {
    for (int32_t axis = 0; axis < dims.nbDims; ++axis) {
      const int64_t n = dims[axis];
      for (int64_t k : {int64_t{1}, (n + 1) / 2, n}) {
        if (k < 1 || k > n) continue;
        for (Op op : {Op::kMAX, Op::kMIN}) {
          SCOPED_TRACE(toString(dims) + " axis " + std::to_string(axis) + " k " +
                       std::to_string(k) + " op " + std::to_string(static_cast<int>(op)));
          Dims outDims = dims;
          outDims[axis] = k;
          const auto axes = 1u << axis;

          HostTensor xf(DataType::kFLOAT, dims);
          for (auto& v : xf.as<float>()) v = static_cast<float>(small(rng)) * 0.5f;
          auto rf = runTopK(xf, op, static_cast<int32_t>(k), axes);
          ASSERT_EQ(rf.values.dims, outDims);
          ASSERT_EQ(rf.indices.dims, outDims);
          std::vector<float> ev;
          std::vector<int32_t> ei;
          referenceTopK<float>(xf.as<float>(), dims, op, k, axis, ev, ei);
          expectClose(rf.values.floats(), ev, 0, 0);
          EXPECT_EQ(ints(rf.indices), ei);

          HostTensor xi(DataType::kINT32, dims);
          for (auto& v : xi.as<int32_t>()) v = small(rng);
          auto ri = runTopK(xi, op, static_cast<int32_t>(k), axes);
          ASSERT_EQ(ri.values.dims, outDims);
          std::vector<int32_t> iv;
          referenceTopK<int32_t>(xi.as<int32_t>(), dims, op, k, axis, iv, ei);
          EXPECT_EQ(ints(ri.values), iv);
          EXPECT_EQ(ints(ri.indices), ei);
        }
      }
    }
  }
}

// The inputs of the bad layers. Each bad layer gets a network of its own, so that the errors
// logged there are its alone.
struct BadInputs : NetworkFixture {
  Tensor x = net().addInput("x", DataType::kFLOAT, Dims{2, 5});
  Tensor flag = net().addInput("flag", DataType::kBOOL, Dims{2, 5});
  Tensor scalar = net().addInput("s", DataType::kFLOAT, Dims{});
  Tensor empty = net().addInput("e", DataType::kFLOAT, Dims{3, 0});
};

// Expects @p layer, the first layer of @p n, to be invalid with an error that names it and
// contains @p text.
void expectInvalid(NetworkFixture& n, const Layer& layer, std::string_view text) {
  expectInvalidLayer(n, layer, text);
  EXPECT_TRUE(n.logger.hasError("layer 'TopK_0' (TopK): ")) << n.logger.errors();
}

TEST(TopK, RejectsBadConfigurations) {
  // k and axes that do not suit the input's shape, and input types TopK does not take: new
  // input shapes or types could still fix them, so they are reported when the layer's shapes
  // are needed.
  {
    BadInputs n;
    expectInvalid(n, n.net().addTopK(n.x, Op::kMAX, 6, 2), "k = 6 is outside [1, 5]");
  }
  {
    BadInputs n;
    expectInvalid(n, n.net().addTopK(n.empty, Op::kMIN, 1, 2), "k = 1 is outside [1, 0]");
  }
  {
    BadInputs n;
    expectInvalid(n, n.net().addTopK(n.x, Op::kMAX, 1, 4), "input lacks");
  }
  {
    BadInputs n;
    expectInvalid(n, n.net().addTopK(n.scalar, Op::kMAX, 1, 1), "no dimension to reduce");
  }
  {
    BadInputs n;
    expectInvalid(n, n.net().addTopK(n.flag, Op::kMAX, 1, 1), "float32 or int32, not bool");
  }

  // Arguments that no input could make valid are refused at once.
  BadInputs f;
  auto& x = f.x;
  EXPECT_FALSE(f.net().addTopK(x, Op::kMAX, 0, 2));
  EXPECT_TRUE(f.logger.hasError("layer 'TopK_0' (TopK): k = 0 is outside")) << f.logger.errors();
  f.logger.clear();
  EXPECT_FALSE(f.net().addTopK(x, Op::kMIN, -1, 1));
  EXPECT_TRUE(f.logger.hasError("k = -1 is outside")) << f.logger.errors();
  f.logger.clear();

  EXPECT_FALSE(f.net().addTopK(x, Op::kMAX, 1, 3));
  EXPECT_TRUE(f.logger.hasError("exactly one dimension")) << f.logger.errors();
  f.logger.clear();
  EXPECT_FALSE(f.net().addTopK(x, Op::kMAX, 1, 0));
  EXPECT_TRUE(f.logger.hasError("axes mask is 0")) << f.logger.errors();
  f.logger.clear();
  EXPECT_FALSE(f.net().addTopK(x, Op::kMAX, 1, 1u << 8));
  EXPECT_TRUE(f.logger.hasError("names dimension 8")) << f.logger.errors();
  f.logger.clear();

  EXPECT_FALSE(f.net().addTopK(x, static_cast<Op>(2), 1, 1));
  EXPECT_TRUE(f.logger.hasError("unknown top-k operation 2")) << f.logger.errors();
  f.logger.clear();

  EXPECT_FALSE(f.net().addTopK(Tensor(), Op::kMAX, 1, 1));
  EXPECT_TRUE(f.logger.hasError("input is a null tensor")) << f.logger.errors();
  f.logger.clear();

  EXPECT_EQ(f.net().nbLayers(), 0);

  TopKLayer null;
  EXPECT_EQ(null.operation(), Op::kMAX);
  EXPECT_EQ(null.k(), 0);
  EXPECT_EQ(null.reduceAxes(), 0u);
}

}  // namespace
}  // namespace kiln::test
