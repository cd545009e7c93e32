// Reduce: every operation over every axis mask of odd shapes (kept and dropped dims), the
// int32 path, empty axes, NaN, double accumulation, and the rejected configurations.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string_view>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

using Op = ReduceOperation;

constexpr Op kAllOps[] = {Op::kSUM, Op::kPROD, Op::kMAX, Op::kMIN, Op::kAVG};
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr int32_t kIntMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kIntMax = std::numeric_limits<int32_t>::max();

Dims reducedShape(const Dims& in, uint32_t axes, bool keep) {
  Dims out;
  for (int32_t d = 0; d < in.nbDims; ++d) {
    const bool reduced = ((axes >> d) & 1u) != 0;
    if (!reduced) out[out.nbDims++] = in[d];
    if (reduced && keep) out[out.nbDims++] = 1;
  }
  return out;
}

// Index of the output element that input element @p i folds into.
int64_t outputIndex(const Dims& in, uint32_t axes, int64_t i) {
  int64_t index = 0;
  int64_t stride = 1;
  for (int32_t d = in.nbDims - 1; d >= 0; --d) {
    const int64_t coord = i % in[d];
    i /= in[d];
    if (((axes >> d) & 1u) != 0) continue;
    index += coord * stride;
    stride *= in[d];
  }
  return index;
}

// Straightforward float reduction in double: every input element visits its output slot.
std::vector<float> referenceFloat(const HostTensor& x, Op op, uint32_t axes, bool keep) {
  const int64_t n = volume(reducedShape(x.dims, axes, keep));
  const double init = op == Op::kPROD  ? 1.0
                      : op == Op::kMAX ? -INFINITY
                      : op == Op::kMIN ? INFINITY
                                       : 0.0;
  std::vector<double> acc(static_cast<std::size_t>(n), init);
  std::vector<int64_t> count(static_cast<std::size_t>(n), 0);
  const auto values = x.as<float>();
  for (int64_t i = 0; i < x.count(); ++i) {
    const auto o = static_cast<std::size_t>(outputIndex(x.dims, axes, i));
    const double v = values[static_cast<std::size_t>(i)];
    ++count[o];
    switch (op) {
      case Op::kSUM:
      case Op::kAVG:
        acc[o] += v;
        break;
      case Op::kPROD:
        acc[o] *= v;
        break;
      case Op::kMAX:
        acc[o] = (std::isnan(v) || std::isnan(acc[o])) ? NAN : std::max(acc[o], v);
        break;
      case Op::kMIN:
        acc[o] = (std::isnan(v) || std::isnan(acc[o])) ? NAN : std::min(acc[o], v);
        break;
    }
  }
  std::vector<float> out;
  for (std::size_t o = 0; o < acc.size(); ++o) {
    out.push_back(
        static_cast<float>(op == Op::kAVG ? acc[o] / static_cast<double>(count[o]) : acc[o]));
  }
  return out;
}

std::vector<int32_t> referenceInt(const HostTensor& x, Op op, uint32_t axes) {
  const int64_t n = volume(reducedShape(x.dims, axes, false));
  const int64_t init = op == Op::kPROD  ? 1
                       : op == Op::kMAX ? kIntMin
                       : op == Op::kMIN ? kIntMax
                                        : 0;
  std::vector<int64_t> acc(static_cast<std::size_t>(n), init);
  const auto values = x.as<int32_t>();
  for (int64_t i = 0; i < x.count(); ++i) {
    auto& a = acc[static_cast<std::size_t>(outputIndex(x.dims, axes, i))];
    const int64_t v = values[static_cast<std::size_t>(i)];
    switch (op) {
      case Op::kSUM:
        a = static_cast<int32_t>(static_cast<uint32_t>(a + v));
        break;
      case Op::kPROD:
        a = static_cast<int32_t>(static_cast<uint32_t>(a * v));
        break;
      case Op::kMAX:
        a = std::max(a, v);
        break;
      case Op::kMIN:
        a = std::min(a, v);
        break;
      case Op::kAVG:
        ADD_FAILURE();
        break;
    }
  }
  return {acc.begin(), acc.end()};
}

HostTensor runReduce(const HostTensor& x, Op op, uint32_t axes, bool keep) {
  NetworkFixture f;
  auto input = f.net().addInput("x", x.dtype, x.dims);
  auto layer = f.net().addReduce(input, op, axes, keep);
  if (!layer) {
    ADD_FAILURE() << "addReduce failed: " << f.logger.errors();
    return {};
  }
  EXPECT_EQ(layer.operation(), op);
  EXPECT_EQ(layer.reduceAxes(), axes);
  EXPECT_EQ(layer.keepDimensions(), keep);
  f.net().markOutput(layer.output(0));
  auto outputs = f.run({x});
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
  if (outputs.size() != 1) return {};
  return outputs[0];
}

TEST(Reduce, FloatEveryOperationEveryMask) {
  uint32_t seed = 1;
  for (const Dims& dims : {Dims{2, 3, 5}, Dims{3, 1, 4}, Dims{1, 7}, Dims{5}}) {
    for (uint32_t axes = 1; axes < (1u << dims.nbDims); ++axes) {
      for (bool keep : {false, true}) {
        const auto x = randomTensor(dims, seed++, 0.5f, 1.5f);  // positive: tame products
        for (Op op : kAllOps) {
          SCOPED_TRACE(toString(dims) + " axes " + std::to_string(axes) + " keep " +
                       std::to_string(keep) + " op " + std::to_string(static_cast<int>(op)));
          auto y = runReduce(x, op, axes, keep);
          ASSERT_EQ(y.dims, reducedShape(dims, axes, keep));
          ASSERT_EQ(y.dtype, DataType::kFLOAT);
          expectClose(y.floats(), referenceFloat(x, op, axes, keep), 0, 1e-6);
        }
      }
    }
  }
}

TEST(Reduce, FloatEdgeValues) {
  const Dims dims{3, 4};
  const std::vector<float> v = {0.f, -1.f, 2.f, -3.f, kInf, 1.f, -kInf, 0.f, kNan, 1.f, 2.f, 3.f};
  const auto x = HostTensor::fromFloats(dims, v);
  for (Op op : kAllOps) {
    for (uint32_t axes : {1u, 2u, 3u}) {
      SCOPED_TRACE(std::to_string(static_cast<int>(op)) + " axes " + std::to_string(axes));
      expectClose(runReduce(x, op, axes, false).floats(), referenceFloat(x, op, axes, false), 0,
                  1e-6);
    }
  }
  // Rows: {0,-1,2,-3} {inf,1,-inf,0} {nan,1,2,3}.
  expectClose(runReduce(x, Op::kMAX, 2, false).floats(), std::vector<float>{2.f, kInf, kNan});
  expectClose(runReduce(x, Op::kMIN, 2, true).floats(), std::vector<float>{-3.f, -kInf, kNan});
  expectClose(runReduce(x, Op::kSUM, 2, false).floats(), std::vector<float>{-2.f, kNan, kNan});
  expectClose(runReduce(x, Op::kAVG, 1, false).floats(),
              std::vector<float>{kNan, 1.f / 3.f, -kInf, 0.f});
}

TEST(Reduce, SumsAccumulateInDouble) {
  // In float, 1e8 + 1 == 1e8: the ones would vanish.
  std::vector<float> v(18, 1.f);
  v.front() = 1e8f;
  v.back() = -1e8f;
  const auto x = HostTensor::fromFloats(Dims{18}, v);
  expectClose(runReduce(x, Op::kSUM, 1, false).floats(), std::vector<float>{16.f}, 0, 0);
  expectClose(runReduce(x, Op::kAVG, 1, true).floats(), std::vector<float>{16.f / 18.f}, 0, 1e-6);
}

TEST(Reduce, RankZeroAndSizeOneResults) {
  const auto x = randomTensor(Dims{5}, 3);
  auto scalar = runReduce(x, Op::kSUM, 1, false);
  EXPECT_EQ(scalar.dims, Dims{});
  expectClose(scalar.floats(), referenceFloat(x, Op::kSUM, 1, false));
  auto kept = runReduce(x, Op::kMAX, 1, true);
  EXPECT_EQ(kept.dims, Dims{1});
  expectClose(kept.floats(), referenceFloat(x, Op::kMAX, 1, true));
}

TEST(Reduce, EmptyAxesGiveIdentities) {
  const HostTensor x(DataType::kFLOAT, Dims{2, 0, 3});
  const std::vector<std::pair<Op, float>> cases = {
      {Op::kSUM, 0.f}, {Op::kPROD, 1.f}, {Op::kMAX, -kInf}, {Op::kMIN, kInf}, {Op::kAVG, kNan}};
  for (const auto& [op, identity] : cases) {
    SCOPED_TRACE(static_cast<int>(op));
    auto y = runReduce(x, op, 2, false);
    ASSERT_EQ(y.dims, (Dims{2, 3}));
    expectClose(y.floats(), std::vector<float>(6, identity), 0, 0);
  }
  const HostTensor xi(DataType::kINT32, Dims{0, 2});
  const std::vector<std::pair<Op, int32_t>> intCases = {
      {Op::kSUM, 0}, {Op::kPROD, 1}, {Op::kMAX, kIntMin}, {Op::kMIN, kIntMax}};
  for (const auto& [op, identity] : intCases) {
    auto y = runReduce(xi, op, 1, true);
    ASSERT_EQ(y.dims, (Dims{1, 2}));
    EXPECT_EQ(y.as<int32_t>()[0], identity);
    EXPECT_EQ(y.as<int32_t>()[1], identity);
  }
  // Reducing the non-empty axis of an empty tensor gives an empty result.
  auto empty = runReduce(HostTensor(DataType::kFLOAT, Dims{0, 3}), Op::kSUM, 2, false);
  EXPECT_EQ(empty.dims, Dims{0});
}

TEST(Reduce, IntEveryOperation) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int32_t> dist(-9, 9);
  for (const Dims& dims : {Dims{2, 3, 5}, Dims{4, 1}, Dims{7}}) {
    HostTensor x(DataType::kINT32, dims);
    for (auto& v : x.as<int32_t>()) v = dist(rng);
    for (uint32_t axes = 1; axes < (1u << dims.nbDims); ++axes) {
      for (Op op : {Op::kSUM, Op::kPROD, Op::kMAX, Op::kMIN}) {
        SCOPED_TRACE(toString(dims) + " axes " + std::to_string(axes) + " op " +
                     std::to_string(static_cast<int>(op)));
        auto y = runReduce(x, op, axes, false);
        ASSERT_EQ(y.dtype, DataType::kINT32);
        ASSERT_EQ(y.dims, reducedShape(dims, axes, false));
        const auto got = y.as<int32_t>();
        EXPECT_EQ(std::vector<int32_t>(got.begin(), got.end()), referenceInt(x, op, axes));
      }
    }
  }
  // Wraps modulo 2^32.
  const auto big = HostTensor::fromInts(Dims{3}, std::vector<int32_t>{kIntMax, 1, 1});
  EXPECT_EQ(runReduce(big, Op::kSUM, 1, false).as<int32_t>()[0], kIntMin + 1);
  const auto prod = HostTensor::fromInts(Dims{2}, std::vector<int32_t>{65536, 65536});
  EXPECT_EQ(runReduce(prod, Op::kPROD, 1, false).as<int32_t>()[0], 0);
}

// The inputs of the bad layers. Each bad layer gets a network of its own, so that the errors
// logged there are its alone.
struct BadInputs : NetworkFixture {
  Tensor x = net().addInput("x", DataType::kFLOAT, Dims{2, 3, 4});
  Tensor i = net().addInput("i", DataType::kINT32, Dims{2, 3});
  Tensor flag = net().addInput("flag", DataType::kBOOL, Dims{2, 3});
  Tensor scalar = net().addInput("s", DataType::kFLOAT, Dims{});
};

// Expects @p layer, the first layer of @p n, to be invalid with an error that names it and
// contains @p text.
void expectInvalid(NetworkFixture& n, const Layer& layer, std::string_view text) {
  expectInvalidLayer(n, layer, text);
  EXPECT_TRUE(n.logger.hasError("layer 'Reduce_0' (Reduce): ")) << n.logger.errors();
}

TEST(Reduce, RejectsBadConfigurations) {
  // Masks and operations that do not suit the input's rank or type: new input shapes or types
  // could still fix them, so they are reported when the layer's shapes are needed.
  {
    BadInputs n;
    expectInvalid(n, n.net().addReduce(n.x, Op::kSUM, 8, false),
                  "names dimensions the rank-3 input lacks");
  }
  {
    BadInputs n;
    expectInvalid(n, n.net().addReduce(n.scalar, Op::kSUM, 1, false), "no dimension to reduce");
  }
  {
    BadInputs n;
    expectInvalid(n, n.net().addReduce(n.i, Op::kAVG, 1, false), "AVG of an int32 input");
  }
  {
    BadInputs n;
    expectInvalid(n, n.net().addReduce(n.flag, Op::kSUM, 1, false), "float32 or int32, not bool");
  }

  // Arguments that no input could make valid are refused at once.
  BadInputs f;
  auto& x = f.x;
  EXPECT_FALSE(f.net().addReduce(x, Op::kSUM, 0, false));
  EXPECT_TRUE(f.logger.hasError("layer 'Reduce_0' (Reduce): the axes mask is 0"))
      << f.logger.errors();
  f.logger.clear();
  EXPECT_FALSE(f.net().addReduce(x, Op::kSUM, 0x80000001u, true));
  EXPECT_TRUE(f.logger.hasError("axes mask 2147483649 names dimensions beyond the 8"))
      << f.logger.errors();
  f.logger.clear();
  EXPECT_FALSE(f.net().addReduce(x, Op::kSUM, 0x100u, true));
  EXPECT_TRUE(f.logger.hasError("axes mask 256")) << f.logger.errors();
  f.logger.clear();

  EXPECT_FALSE(f.net().addReduce(x, static_cast<Op>(5), 1, false));
  EXPECT_TRUE(f.logger.hasError("unknown reduce operation 5")) << f.logger.errors();
  EXPECT_TRUE(f.logger.hasError("(Reduce)")) << f.logger.errors();
  f.logger.clear();

  EXPECT_FALSE(f.net().addReduce(Tensor(), Op::kSUM, 1, false));
  EXPECT_TRUE(f.logger.hasError("input is a null tensor")) << f.logger.errors();
  f.logger.clear();

  EXPECT_EQ(f.net().nbLayers(), 0);

  ReduceLayer null;
  EXPECT_EQ(null.operation(), Op::kSUM);
  EXPECT_EQ(null.reduceAxes(), 0u);
  EXPECT_FALSE(null.keepDimensions());
}

}  // namespace
}  // namespace kiln::test
