// CumulativeLayer (ONNX CumSum) through the whole pipeline: the ONNX examples, every axis with
// exclusive / reverse on odd shapes against plain loops (float32, int32, int64), and the errors.
#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

Tensor axisConstant(NetworkDefinition& net, int64_t axis, DataType type = DataType::kINT32) {
  if (type == DataType::kINT64) {
    const std::array<int64_t, 1> v{axis};
    return net.addConstant(Dims{}, Weights{type, v.data(), 1}).output(0);
  }
  const std::array<int32_t, 1> v{static_cast<int32_t>(axis)};
  return net.addConstant(Dims{}, Weights{type, v.data(), 1}).output(0);
}

std::vector<float> cumsum(const std::vector<float>& x, const Dims& dims, int64_t axis,
                          bool exclusive, bool reverse) {
  if (axis < 0) axis += dims.nbDims;
  std::vector<float> y(x.size());
  int64_t outer = 1, inner = 1;
  for (int32_t k = 0; k < axis; ++k) outer *= dims[k];
  for (int32_t k = static_cast<int32_t>(axis) + 1; k < dims.nbDims; ++k) inner *= dims[k];
  const int64_t n = dims[static_cast<int32_t>(axis)];
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0;
        for (int64_t m = 0; m < n; ++m) {
          const bool in = reverse ? (exclusive ? m > j : m >= j) : (exclusive ? m < j : m <= j);
          if (in) sum += x[static_cast<std::size_t>((o * n + m) * inner + i)];
        }
        y[static_cast<std::size_t>((o * n + j) * inner + i)] = static_cast<float>(sum);
      }
    }
  }
  return y;
}

TEST(Cumulative, OnnxExamples) {
  struct Example {
    const char* name;
    Dims dims;
    int64_t axis;
    bool exclusive;
    bool reverse;
    std::vector<float> expected;
  };
  const std::vector<float> x = {1, 2, 3, 4, 5, 6};
  for (const Example& e : std::vector<Example>{
           {"1d", Dims{5}, 0, false, false, {1, 3, 6, 10, 15}},
           {"1d_exclusive", Dims{5}, 0, true, false, {0, 1, 3, 6, 10}},
           {"1d_reverse", Dims{5}, 0, false, true, {15, 14, 12, 9, 5}},
           {"1d_reverse_exclusive", Dims{5}, 0, true, true, {14, 12, 9, 5, 0}},
           {"2d_axis_0", Dims{2, 3}, 0, false, false, {1, 2, 3, 5, 7, 9}},
           {"2d_axis_1", Dims{2, 3}, 1, false, false, {1, 3, 6, 4, 9, 15}},
           {"2d_negative_axis", Dims{2, 3}, -1, false, false, {1, 3, 6, 4, 9, 15}},
       }) {
    SCOPED_TRACE(e.name);
    NetworkFixture f;
    auto in = f.net().addInput("x", DataType::kFLOAT, e.dims);
    auto layer = f.net().addCumulative(in, axisConstant(f.net(), e.axis), CumulativeOperation::kSUM,
                                       e.exclusive, e.reverse);
    ASSERT_TRUE(layer) << f.logger.errors();
    f.net().markOutput(layer.output(0));
    const std::vector<float> values(x.begin(), x.begin() + volume(e.dims));
    const auto out = f.run({HostTensor::fromFloats(e.dims, values)});
    ASSERT_EQ(out.size(), 1u) << f.logger.errors();
    EXPECT_EQ(out[0].dims, e.dims);
    EXPECT_EQ(out[0].floats(), e.expected);
  }
}

TEST(Cumulative, EveryAxisAndFlagOnOddShapes) {
  const Dims dims{3, 1, 5, 4};
  const auto input = randomTensor(dims, 71, -2.f, 2.f);
  std::vector<int32_t> ints(static_cast<std::size_t>(volume(dims)));
  std::mt19937 rng(72);
  for (auto& v : ints) v = static_cast<int32_t>(rng() % 2001) - 1000;
  HostTensor longs(DataType::kINT64, dims);
  for (std::size_t i = 0; i < ints.size(); ++i) {
    longs.as<int64_t>()[i] = int64_t{ints[i]} * 3'000'000'000LL;  // beyond int32
  }
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, dims);
  auto xi = f.net().addInput("xi", DataType::kINT32, dims);
  auto xl = f.net().addInput("xl", DataType::kINT64, dims);
  struct Case {
    int64_t axis;
    bool exclusive;
    bool reverse;
  };
  std::vector<Case> cases;
  for (int64_t axis = -4; axis < 4; ++axis) {
    for (bool exclusive : {false, true}) {
      for (bool reverse : {false, true}) {
        cases.push_back({axis, exclusive, reverse});
        const auto type = axis % 2 == 0 ? DataType::kINT32 : DataType::kINT64;
        for (Tensor t : {x, xi, xl}) {
          auto layer = f.net().addCumulative(t, axisConstant(f.net(), axis, type),
                                             CumulativeOperation::kSUM, exclusive, reverse);
          f.net().markOutput(layer.output(0));
        }
      }
    }
  }
  const auto out = f.run({input, HostTensor::fromInts(dims, ints), longs});
  ASSERT_EQ(out.size(), cases.size() * 3) << f.logger.errors();
  std::vector<float> intsAsFloat(ints.begin(), ints.end());
  for (std::size_t c = 0; c < cases.size(); ++c) {
    const Case& k = cases[c];
    SCOPED_TRACE("axis " + std::to_string(k.axis) + " exclusive " + std::to_string(k.exclusive) +
                 " reverse " + std::to_string(k.reverse));
    expectClose(out[c * 3].floats(), cumsum(input.floats(), dims, k.axis, k.exclusive, k.reverse),
                1e-5, 1e-5);
    // Small integers: the float sums are exact.
    const auto expected = cumsum(intsAsFloat, dims, k.axis, k.exclusive, k.reverse);
    ASSERT_EQ(out[c * 3 + 1].dtype, DataType::kINT32);
    ASSERT_EQ(out[c * 3 + 2].dtype, DataType::kINT64);
    for (std::size_t i = 0; i < expected.size(); ++i) {
      ASSERT_EQ(out[c * 3 + 1].as<int32_t>()[i], static_cast<int32_t>(expected[i])) << i;
      ASSERT_EQ(out[c * 3 + 2].as<int64_t>()[i],
                static_cast<int64_t>(expected[i]) * 3'000'000'000LL)
          << i;
    }
  }
}

TEST(Cumulative, SettingsEmptyInputsAndInt32Wraparound) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kINT32, Dims{3});
  auto layer =
      f.net().addCumulative(x, axisConstant(f.net(), 0), CumulativeOperation::kSUM, false, false);
  ASSERT_TRUE(layer) << f.logger.errors();
  EXPECT_EQ(layer.type(), LayerType::kCUMULATIVE);
  EXPECT_EQ(toString(LayerType::kCUMULATIVE), "Cumulative");
  EXPECT_EQ(layer.operation(), CumulativeOperation::kSUM);
  EXPECT_FALSE(layer.exclusive());
  EXPECT_FALSE(layer.reverse());
  layer.setExclusive(true);
  layer.setReverse(true);
  EXPECT_TRUE(layer.exclusive());
  EXPECT_TRUE(layer.reverse());
  auto e = f.net().addInput("e", DataType::kFLOAT, Dims{2, 0});
  auto empty =
      f.net().addCumulative(e, axisConstant(f.net(), 1), CumulativeOperation::kSUM, true, false);
  f.net().markOutput(layer.output(0));
  f.net().markOutput(empty.output(0));
  const auto out = f.run({HostTensor::fromInts(Dims{3}, std::vector<int32_t>{1, INT32_MAX, 5}),
                          HostTensor(DataType::kFLOAT, Dims{2, 0})});
  ASSERT_EQ(out.size(), 2u) << f.logger.errors();
  // Reverse exclusive: [MAX + 5 (wraps), 5, 0].
  EXPECT_EQ(out[0].as<int32_t>()[0], INT32_MIN + 4);
  EXPECT_EQ(out[0].as<int32_t>()[1], 5);
  EXPECT_EQ(out[0].as<int32_t>()[2], 0);
  EXPECT_EQ(out[1].dims, (Dims{2, 0}));
}

TEST(Cumulative, RunTimeAxis) {
  NetworkFixture f;
  const Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 2});
  const Tensor axis = f.net().addInput("axis", DataType::kINT32, Dims{});
  auto layer = f.net().addCumulative(x, axis, CumulativeOperation::kSUM, false, false);
  ASSERT_TRUE(layer) << f.logger.errors();
  f.net().markOutput(layer.output(0));
  const std::vector<int32_t> one = {-1};
  const auto out = f.run({HostTensor::fromFloats({2, 2}, std::vector<float>{1, 2, 3, 4}),
                          HostTensor::fromInts({}, one)});
  ASSERT_EQ(out.size(), 1u) << f.logger.errors();
  EXPECT_EQ(out[0].floats(), (std::vector<float>{1, 3, 3, 7}));
}

TEST(Cumulative, BadInputsNameTheLayer) {
  auto expectInvalid = [](const std::function<CumulativeLayer(NetworkFixture&)>& add,
                          std::string_view text) {
    SCOPED_TRACE(text);
    NetworkFixture f;
    expectInvalidLayer(f, add(f), text);
  };
  auto add = [](NetworkFixture& f, DataType type, const Dims& dims, Tensor axis) {
    auto x = f.net().addInput("x", type, dims);
    return f.net().addCumulative(x, axis, CumulativeOperation::kSUM, false, false);
  };
  expectInvalid(
      [&](NetworkFixture& f) {
        return add(f, DataType::kFLOAT, Dims{2, 3},
                   f.net().addInput("axis", DataType::kFLOAT, Dims{}));
      },
      "layer 'Cumulative_0' (Cumulative): the axis must be int32 or int64, not float32");
  expectInvalid(
      [&](NetworkFixture& f) {
        return add(f, DataType::kFLOAT, Dims{2, 3}, axisConstant(f.net(), 2));
      },
      "layer 'Cumulative_1' (Cumulative): axis 2 is out of range for input of shape 2x3 "
      "(valid: -2 to 1)");
  expectInvalid(
      [&](NetworkFixture& f) {
        return add(f, DataType::kBOOL, Dims{2, 3}, axisConstant(f.net(), 0));
      },
      "layer 'Cumulative_1' (Cumulative): the input must be float32, int32 or int64, not bool");
  expectInvalid(
      [&](NetworkFixture& f) { return add(f, DataType::kFLOAT, Dims{}, axisConstant(f.net(), 0)); },
      "layer 'Cumulative_1' (Cumulative): the input is a scalar");
  expectInvalid(
      [&](NetworkFixture& f) {
        const std::array<int32_t, 2> v{0, 1};
        return add(f, DataType::kFLOAT, Dims{2, 3},
                   f.net().addConstant(Dims{2}, Weights{DataType::kINT32, v.data(), 2}).output(0));
      },
      "layer 'Cumulative_1' (Cumulative): the axis must be a scalar (or one-element vector), not "
      "of shape 2");
  expectInvalid(
      [&](NetworkFixture& f) {
        const std::array<float, 1> v{0};
        return add(f, DataType::kFLOAT, Dims{2, 3},
                   f.net().addConstant(Dims{}, Weights{DataType::kFLOAT, v.data(), 1}).output(0));
      },
      "layer 'Cumulative_1' (Cumulative): the axis must be int32 or int64, not float32");

  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{3});
  EXPECT_FALSE(f.net().addCumulative(x, axisConstant(f.net(), 0),
                                     static_cast<CumulativeOperation>(3), false, false));
  EXPECT_TRUE(f.logger.hasError("addCumulative: unknown cumulative operation 3"))
      << f.logger.errors();
  EXPECT_FALSE(f.net().addCumulative(x, Tensor(), CumulativeOperation::kSUM, false, false));
  EXPECT_TRUE(f.logger.hasError("addCumulative: axis is a null tensor")) << f.logger.errors();
}

}  // namespace
}  // namespace kiln::test
