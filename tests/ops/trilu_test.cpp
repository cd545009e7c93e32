// TriluLayer (ONNX Trilu) through the whole pipeline: the ONNX examples, upper and lower with
// many k on batched odd shapes of several types against plain loops, and the errors.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

HostTensor int64Tensor(const Dims& dims, const std::vector<int64_t>& values) {
  HostTensor t(DataType::kINT64, dims);
  std::copy(values.begin(), values.end(), t.as<int64_t>().begin());
  return t;
}

std::vector<int64_t> int64s(const HostTensor& t) {
  return {t.as<int64_t>().begin(), t.as<int64_t>().end()};
}

bool kept(bool upper, int64_t k, int64_t i, int64_t j) {
  return upper ? j - i >= k : j - i <= k;
}

TEST(Trilu, OnnxExamples) {
  const std::vector<int64_t> x45 = {5, 0, 3, 3, 7, 9, 3, 5, 2, 4, 7, 6, 8, 8, 1, 6, 7, 7, 8, 1};
  const std::vector<int64_t> x233(x45.begin(), x45.begin() + 18);
  const std::vector<int64_t> x315(x45.begin(), x45.begin() + 15);
  struct Example {
    const char* name;
    bool upper;
    int64_t k;
    Dims dims;
    std::vector<int64_t> expected;
  };
  const std::vector<Example> examples = {
      {"triu", true, 0, Dims{4, 5}, {5, 0, 3, 3, 7, 0, 3, 5, 2, 4, 0, 0, 8, 8, 1, 0, 0, 0, 8, 1}},
      {"triu_neg", true, -1, Dims{4, 5}, {5, 0, 3, 3, 7, 9, 3, 5, 2, 4,
                                          0, 6, 8, 8, 1, 0, 0, 7, 8, 1}},
      {"triu_pos", true, 2, Dims{4, 5}, {0, 0, 3, 3, 7, 0, 0, 0, 2, 4,
                                         0, 0, 0, 0, 1, 0, 0, 0, 0, 0}},
      {"triu_out_pos", true, 6, Dims{4, 5}, std::vector<int64_t>(20, 0)},
      {"triu_out_neg_out", true, -7, Dims{4, 5}, x45},
      {"triu_one_row", true, 1, Dims{3, 1, 5}, {0, 0, 3, 3, 7, 0, 3, 5, 2, 4, 0, 6, 8, 8, 1}},
      {"triu_square",
       true,
       0,
       Dims{2, 3, 3},
       {5, 0, 3, 0, 7, 9, 0, 0, 2, 4, 7, 6, 0, 8, 1, 0, 0, 7}},
      {"triu_square_neg",
       true,
       -1,
       Dims{2, 3, 3},
       {5, 0, 3, 3, 7, 9, 0, 5, 2, 4, 7, 6, 8, 8, 1, 0, 7, 7}},
      {"tril", false, 0, Dims{4, 5}, {5, 0, 0, 0, 0, 9, 3, 0, 0, 0, 7, 6, 8, 0, 0, 6, 7, 7, 8, 0}},
      {"tril_neg", false, -1, Dims{4, 5}, {0, 0, 0, 0, 0, 9, 0, 0, 0, 0,
                                           7, 6, 0, 0, 0, 6, 7, 7, 0, 0}},
      {"tril_pos", false, 2, Dims{4, 5}, {5, 0, 3, 0, 0, 9, 3, 5, 2, 0,
                                          7, 6, 8, 8, 1, 6, 7, 7, 8, 1}},
      {"tril_out_pos", false, 6, Dims{4, 5}, x45},
      {"tril_out_neg", false, -7, Dims{4, 5}, std::vector<int64_t>(20, 0)},
      {"tril_one_row_neg", false, 0, Dims{3, 1, 5}, {5, 0, 0, 0, 0, 9, 0, 0, 0, 0, 7, 0, 0, 0, 0}},
      {"tril_square",
       false,
       0,
       Dims{2, 3, 3},
       {5, 0, 0, 3, 7, 0, 3, 5, 2, 4, 0, 0, 8, 8, 0, 6, 7, 7}},
      {"tril_square_neg",
       false,
       -1,
       Dims{2, 3, 3},
       {0, 0, 0, 3, 0, 0, 3, 5, 0, 0, 0, 0, 8, 0, 0, 6, 7, 0}},
  };
  for (const Example& e : examples) {
    SCOPED_TRACE(e.name);
    NetworkFixture f;
    auto x = f.net().addInput("x", DataType::kINT64, e.dims);
    auto layer = f.net().addTrilu(x, e.upper, e.k);
    ASSERT_TRUE(layer) << f.logger.errors();
    f.net().markOutput(layer.output(0));
    const auto& source = e.dims == Dims{4, 5} ? x45 : e.dims == Dims{2, 3, 3} ? x233 : x315;
    const auto out = f.run({int64Tensor(e.dims, source)});
    ASSERT_EQ(out.size(), 1u) << f.logger.errors();
    EXPECT_EQ(out[0].dims, e.dims);
    EXPECT_EQ(int64s(out[0]), e.expected);
  }
}

TEST(Trilu, UpperAndLowerForManyKOnBatchedOddShapes) {
  const Dims dims{2, 3, 4, 7};
  const auto input = randomTensor(dims, 91);
  std::vector<int32_t> ints(static_cast<std::size_t>(volume(dims)));
  for (std::size_t i = 0; i < ints.size(); ++i) ints[i] = static_cast<int32_t>(i) + 1;
  const std::vector<int64_t> ks = {
      std::numeric_limits<int64_t>::min(), -9, -4, -1, 0, 1, 3, 6, 7, 100,
      std::numeric_limits<int64_t>::max()};
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, dims);
  auto xi = f.net().addInput("xi", DataType::kINT32, dims);
  for (bool upper : {true, false}) {
    for (int64_t k : ks) {
      f.net().markOutput(f.net().addTrilu(x, upper, k).output(0));
      f.net().markOutput(f.net().addTrilu(xi, upper, k).output(0));
    }
  }
  const auto out = f.run({input, HostTensor::fromInts(dims, ints)});
  ASSERT_EQ(out.size(), 4 * ks.size()) << f.logger.errors();
  const auto values = input.floats();
  std::size_t o = 0;
  for (bool upper : {true, false}) {
    for (int64_t k : ks) {
      SCOPED_TRACE(std::string(upper ? "upper" : "lower") + " k " + std::to_string(k));
      std::vector<float> expected;
      std::vector<int32_t> expectedInts;
      for (int64_t m = 0; m < 6; ++m) {
        for (int64_t i = 0; i < 4; ++i) {
          for (int64_t j = 0; j < 7; ++j) {
            const auto at = static_cast<std::size_t>((m * 4 + i) * 7 + j);
            // k at the int64 limits (where j - i - k would overflow): all or nothing.
            const bool keep = k < -100 ? upper : k > 100 ? !upper : kept(upper, k, i, j);
            expected.push_back(keep ? values[at] : 0.f);
            expectedInts.push_back(keep ? ints[at] : 0);
          }
        }
      }
      EXPECT_EQ(out[o].floats(), expected);
      EXPECT_TRUE(
          std::equal(expectedInts.begin(), expectedInts.end(), out[o + 1].as<int32_t>().begin()));
      o += 2;
    }
  }
}

TEST(Trilu, SettingsBoolDataAndEmptyShapes) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kBOOL, Dims{2, 2});
  auto layer = f.net().addTrilu(x, true);
  ASSERT_TRUE(layer) << f.logger.errors();
  EXPECT_EQ(layer.type(), LayerType::kTRILU);
  EXPECT_EQ(toString(LayerType::kTRILU), "Trilu");
  EXPECT_TRUE(layer.upper());
  EXPECT_EQ(layer.k(), 0);
  layer.setUpper(false);
  layer.setK(-1);
  EXPECT_FALSE(layer.upper());
  EXPECT_EQ(layer.k(), -1);
  auto e = f.net().addInput("e", DataType::kFLOAT, Dims{3, 0, 5});
  auto empty = f.net().addTrilu(e, false, 6);
  f.net().markOutput(layer.output(0));
  f.net().markOutput(empty.output(0));
  const auto out = f.run({HostTensor::fromBools(Dims{2, 2}, std::array<bool, 4>{1, 1, 1, 1}),
                          HostTensor(DataType::kFLOAT, Dims{3, 0, 5})});
  ASSERT_EQ(out.size(), 2u) << f.logger.errors();
  const std::vector<uint8_t> expected = {0, 0, 1, 0};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(static_cast<uint8_t>(out[0].as<std::byte>()[i]), expected[i]) << i;
  }
  EXPECT_EQ(out[1].dims, (Dims{3, 0, 5}));
}

TEST(Trilu, RejectsVectorsNamingTheLayer) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{4});
  expectInvalidLayer(f, f.net().addTrilu(x, true),
                     "layer 'Trilu_0' (Trilu): the input must have rank >= 2 (a matrix or a "
                     "batch of them), not shape 4");
  EXPECT_FALSE(f.net().addTrilu(Tensor(), false));
  EXPECT_TRUE(f.logger.hasError("addTrilu: input is a null tensor")) << f.logger.errors();
}

TEST(Trilu, RunTimeKReplacesTheAttribute) {
  NetworkFixture f;
  const Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3});
  const Tensor k = f.net().addInput("k", DataType::kINT64, Dims{});
  TriluLayer layer = f.net().addTrilu(x, true, 5);
  ASSERT_TRUE(layer);
  layer.setInput(1, k);
  f.net().markOutput(layer.output(0));
  const auto out = f.run({HostTensor::fromFloats({2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6}),
                          int64Tensor({}, {-1})});
  ASSERT_EQ(out.size(), 1u) << f.logger.errors();
  EXPECT_EQ(out[0].floats(), (std::vector<float>{1, 2, 3, 4, 5, 6}));

  NetworkFixture g;
  TriluLayer bad = g.net().addTrilu(g.net().addInput("x", DataType::kFLOAT, Dims{2, 3}), true);
  bad.setInput(1, g.net().addInput("k", DataType::kFLOAT, Dims{}));
  expectInvalidLayer(g, bad,
                     "layer 'Trilu_0' (Trilu): k (input 1) must be int32 or int64, not float32");
}

}  // namespace
}  // namespace kiln::test
