// Pooling: hand-computed cases, random cases against a naive implementation that classifies
// every window cell (input, padding, or beyond the padding), and bad configurations.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "ops/window_test_util.h"
#include "support/test_util.h"

namespace kiln::test {
namespace {

struct PoolCase {
  Dims input{};  // [N, C, spatial...]
  PoolingType type = PoolingType::kMAX;
  Dims window{};
  Dims stride{};  // rank 0: leave the layer's default
  Dims pre{};
  Dims post{};
  PaddingMode mode = PaddingMode::kEXPLICIT_ROUND_DOWN;
  bool excludePadding = true;
  float blend = 0.f;
};

std::vector<float> naivePooling(const PoolCase& c, const std::vector<float>& x, Dims& outDims) {
  const int32_t rank = c.window.nbDims;
  std::vector<int64_t> in, out, window, stride, pre, post;
  for (int32_t i = 0; i < rank; ++i) {
    const int64_t n = c.input[2 + i];
    const int64_t s = at(c.stride, i, 1);
    const int64_t w = c.window[i];
    int64_t p0 = at(c.pre, i, 0);
    int64_t p1 = at(c.post, i, 0);
    int64_t o = 0;
    if (c.mode == PaddingMode::kSAME_UPPER || c.mode == PaddingMode::kSAME_LOWER) {
      o = (n + s - 1) / s;
      const int64_t total = std::max<int64_t>((o - 1) * s + w - n, 0);
      p0 = c.mode == PaddingMode::kSAME_UPPER ? total / 2 : (total + 1) / 2;
      p1 = total - p0;
    } else if (c.mode == PaddingMode::kEXPLICIT_ROUND_UP) {
      o = (n + p0 + p1 - w + s - 1) / s + 1;
      // Drop a last window that would start in the right padding.
      if ((o - 1) * s - p0 >= n) --o;
    } else {
      o = (n + p0 + p1 - w) / s + 1;
    }
    if (n == 0) o = 0;  // no window of an empty dimension has an input cell
    in.push_back(n);
    out.push_back(o);
    window.push_back(w);
    stride.push_back(s);
    pre.push_back(p0);
    post.push_back(p1);
  }
  outDims = c.input;
  for (int32_t i = 0; i < rank; ++i) outDims[2 + i] = out[i];
  std::vector<float> y;
  for (int64_t plane = 0; plane < c.input[0] * c.input[1]; ++plane) {
    forEachIndex(out, [&](const std::vector<int64_t>& o) {
      double sum = 0.0;
      double max = -std::numeric_limits<double>::infinity();
      int64_t inside = 0;
      int64_t padded = 0;
      forEachIndex(window, [&](const std::vector<int64_t>& t) {
        std::vector<int64_t> p(o);
        bool isInput = true;
        bool isPadded = true;
        for (int32_t d = 0; d < rank; ++d) {
          p[d] = o[d] * stride[d] - pre[d] + t[d];
          isInput = isInput && p[d] >= 0 && p[d] < in[d];
          isPadded = isPadded && p[d] >= -pre[d] && p[d] < in[d] + post[d];
        }
        padded += isPadded ? 1 : 0;
        if (!isInput) return;
        ++inside;
        const double v = x[static_cast<std::size_t>(plane * product(in) + flatIndex(p, in))];
        sum += v;
        max = std::max(max, v);
      });
      EXPECT_GT(inside, 0) << "a window without input cells";
      const double avg = sum / static_cast<double>(c.excludePadding ? inside : padded);
      double result = max;
      if (c.type == PoolingType::kAVERAGE) result = avg;
      if (c.type == PoolingType::kMAX_AVERAGE_BLEND) result = (1 - c.blend) * max + c.blend * avg;
      y.push_back(static_cast<float>(result));
    });
  }
  return y;
}

void runPoolCase(const PoolCase& c, uint32_t seed) {
  SCOPED_TRACE("input " + toString(c.input) + ", window " + toString(c.window) + ", type " +
               std::to_string(static_cast<int>(c.type)) + ", mode " +
               std::to_string(static_cast<int>(c.mode)));
  NetworkFixture f;
  const HostTensor x = randomTensor(c.input, seed);
  auto input = f.net().addInput("x", DataType::kFLOAT, c.input);
  auto pool = f.net().addPooling(input, c.type, c.window);
  ASSERT_TRUE(pool) << f.logger.errors();
  applyWindowSettings(pool, c.stride, c.pre, c.post, c.mode);
  pool.setAverageCountExcludesPadding(c.excludePadding);
  pool.setBlendFactor(c.blend);
  ASSERT_TRUE(f.net().markOutput(pool.output(0)));

  Dims expectedDims;
  const auto expected = naivePooling(c, x.floats(), expectedDims);
  expectRunMatches(f, pool.output(0), x, expected, expectedDims, 1e-6, 1e-5);
}

std::vector<float> iota(int n) {
  std::vector<float> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = static_cast<float>(i);
  return v;
}

TEST(Pooling, HandComputedMaxAndAverage) {
  for (PoolingType type : {PoolingType::kMAX, PoolingType::kAVERAGE}) {
    NetworkFixture f;
    auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 4, 4});
    auto pool = f.net().addPooling(x, type, Dims{2, 2});
    ASSERT_TRUE(pool) << f.logger.errors();
    pool.setStride(Dims{2, 2});
    f.net().markOutput(pool.output(0));
    const auto out = f.run({HostTensor::fromFloats(Dims{1, 1, 4, 4}, iota(16))});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(toString(out[0].dims), "1x1x2x2");
    expectClose(out[0].floats(), type == PoolingType::kMAX
                                     ? std::vector<float>{5, 7, 13, 15}
                                     : std::vector<float>{2.5f, 4.5f, 10.5f, 12.5f});
  }
}

TEST(Pooling, HandComputedAverageCountWithPadding) {
  const std::vector<float> in = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  for (bool exclude : {true, false}) {
    NetworkFixture f;
    auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 3, 3});
    auto pool = f.net().addPooling(x, PoolingType::kAVERAGE, Dims{2, 2});
    ASSERT_TRUE(pool);
    pool.setPadding(Dims{1, 1});
    pool.setAverageCountExcludesPadding(exclude);
    EXPECT_EQ(pool.averageCountExcludesPadding(), exclude);
    f.net().markOutput(pool.output(0));
    const auto out = f.run({HostTensor::fromFloats(Dims{1, 1, 3, 3}, in)});
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(toString(out[0].dims), "1x1x4x4");
    const auto y = out[0].floats();
    EXPECT_FLOAT_EQ(y[0], exclude ? 1.f : 0.25f);   // {1} and three padding cells
    EXPECT_FLOAT_EQ(y[1], exclude ? 1.5f : 0.75f);  // {1, 2}
    EXPECT_FLOAT_EQ(y[5], 3.f);                     // {1, 2, 4, 5}
    EXPECT_FLOAT_EQ(y[15], exclude ? 9.f : 2.25f);  // {9}
  }
}

TEST(Pooling, HandComputedRoundUpDropsWindowStartingInPadding) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 3});
  auto pool = f.net().addPooling(x, PoolingType::kMAX, Dims{2});
  ASSERT_TRUE(pool);
  pool.setStride(Dims{2});
  pool.setPadding(Dims{1});
  pool.setPaddingMode(PaddingMode::kEXPLICIT_ROUND_UP);
  // ceil((3 + 2 - 2) / 2) + 1 = 3 windows, but the third would start at 3: padding only.
  EXPECT_EQ(toString(pool.output(0).dimensions()), "1x1x2");
  f.net().markOutput(pool.output(0));
  const std::vector<float> in = {1, 5, 3};
  const auto out = f.run({HostTensor::fromFloats(Dims{1, 1, 3}, in)});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), std::vector<float>{1, 5});
}

TEST(Pooling, MaxPropagatesNaN) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 4});
  auto pool = f.net().addPooling(x, PoolingType::kMAX, Dims{2});
  ASSERT_TRUE(pool);
  pool.setStride(Dims{2});
  f.net().markOutput(pool.output(0));
  const std::vector<float> in = {1, std::numeric_limits<float>::quiet_NaN(), 3, 2};
  const auto out = f.run({HostTensor::fromFloats(Dims{1, 1, 4}, in)});
  ASSERT_EQ(out.size(), 1u);
  const auto y = out[0].floats();
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_EQ(y[1], 3.f);
}

TEST(Pooling, RandomTypesAndModes) {
  for (PoolingType type :
       {PoolingType::kMAX, PoolingType::kAVERAGE, PoolingType::kMAX_AVERAGE_BLEND}) {
    for (PaddingMode mode : {PaddingMode::kEXPLICIT_ROUND_DOWN, PaddingMode::kEXPLICIT_ROUND_UP,
                             PaddingMode::kSAME_UPPER, PaddingMode::kSAME_LOWER}) {
      for (bool exclude : {true, false}) {
        runPoolCase({.input = Dims{2, 3, 7, 5},
                     .type = type,
                     .window = Dims{3, 2},
                     .stride = Dims{2, 1},
                     .pre = Dims{1, 0},
                     .post = Dims{2, 1},
                     .mode = mode,
                     .excludePadding = exclude,
                     .blend = 0.3f},
                    1);
        runPoolCase({.input = Dims{1, 2, 8, 6},
                     .type = type,
                     .window = Dims{2, 3},
                     .stride = Dims{3, 2},
                     .pre = Dims{1, 2},
                     .post = Dims{0, 1},
                     .mode = mode,
                     .excludePadding = exclude,
                     .blend = 0.75f},
                    2);
      }
    }
  }
}

TEST(Pooling, RandomStrideLargerThanWindow) {
  runPoolCase({.input = Dims{1, 2, 9, 7},
               .type = PoolingType::kAVERAGE,
               .window = Dims{2, 1},
               .stride = Dims{3, 2}},
              10);
  runPoolCase({.input = Dims{1, 2, 9, 7},
               .type = PoolingType::kMAX,
               .window = Dims{2, 2},
               .stride = Dims{4, 3},
               .mode = PaddingMode::kSAME_LOWER},
              11);
}

TEST(Pooling, Random1dAnd3d) {
  runPoolCase({.input = Dims{2, 3, 10},
               .type = PoolingType::kAVERAGE,
               .window = Dims{4},
               .stride = Dims{3},
               .pre = Dims{2},
               .post = Dims{1},
               .mode = PaddingMode::kEXPLICIT_ROUND_UP,
               .excludePadding = false},
              20);
  runPoolCase({.input = Dims{1, 2, 4, 5, 3},
               .type = PoolingType::kMAX,
               .window = Dims{2, 3, 2},
               .stride = Dims{2, 1, 2},
               .pre = Dims{1, 1, 0},
               .post = Dims{0, 1, 1}},
              21);
  runPoolCase({.input = Dims{1, 1, 5, 4, 3},
               .type = PoolingType::kMAX_AVERAGE_BLEND,
               .window = Dims{3, 2, 2},
               .stride = Dims{2, 2, 1},
               .mode = PaddingMode::kSAME_UPPER,
               .blend = 0.5f},
              22);
}

TEST(Pooling, EmptyTensors) {
  runPoolCase({.input = Dims{0, 3, 4, 4}, .window = Dims{2, 2}}, 30);
  runPoolCase({.input = Dims{1, 2, 0, 4},
               .type = PoolingType::kAVERAGE,
               .window = Dims{2, 2},
               .pre = Dims{1, 1},
               .post = Dims{1, 1}},
              31);
}

TEST(Pooling, SettersAndDefaults) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 6, 6});
  auto pool = f.net().addPooling(x, PoolingType::kAVERAGE, Dims{3, 3});
  ASSERT_TRUE(pool);
  EXPECT_EQ(pool.poolingType(), PoolingType::kAVERAGE);
  EXPECT_EQ(toString(pool.windowSize()), "3x3");
  EXPECT_EQ(toString(pool.stride()), "1x1");
  EXPECT_EQ(toString(pool.prePadding()), "0x0");
  EXPECT_EQ(toString(pool.postPadding()), "0x0");
  EXPECT_EQ(pool.paddingMode(), PaddingMode::kEXPLICIT_ROUND_DOWN);
  EXPECT_TRUE(pool.averageCountExcludesPadding());
  EXPECT_EQ(pool.blendFactor(), 0.f);
  EXPECT_EQ(toString(pool.output(0).dimensions()), "1x1x4x4");
  pool.setPoolingType(PoolingType::kMAX_AVERAGE_BLEND);
  pool.setBlendFactor(0.25f);
  pool.setWindowSize(Dims{2, 2});
  pool.setStride(Dims{2, 2});
  EXPECT_EQ(pool.poolingType(), PoolingType::kMAX_AVERAGE_BLEND);
  EXPECT_EQ(pool.blendFactor(), 0.25f);
  EXPECT_EQ(toString(pool.output(0).dimensions()), "1x1x3x3");
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();

  pool.setBlendFactor(1.5f);
  EXPECT_TRUE(f.logger.hasError("layer 'Pooling_0' (Pooling): blend factor 1.5 is outside"))
      << f.logger.errors();
  pool.setPoolingType(static_cast<PoolingType>(7));
  pool.setWindowSize(Dims{0, 2});
  pool.setStride(Dims{1});
  pool.setPadding(Dims{-1, 0});
  EXPECT_EQ(f.logger.errorCount(), 5) << f.logger.errors();
  EXPECT_EQ(pool.blendFactor(), 0.25f);
  EXPECT_EQ(toString(pool.windowSize()), "2x2");
}

TEST(Pooling, PaddingSetAfterAddMakesLargeWindowFit) {
  // The TensorRT order: a 3x3 window on a 2x2 input, then setPadding(1).
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 2, 2});
  auto pool = f.net().addPooling(x, PoolingType::kMAX, Dims{3, 3});
  ASSERT_TRUE(pool) << f.logger.errors();
  pool.setPadding(Dims{1, 1});
  EXPECT_EQ(toString(pool.output(0).dimensions()), "1x1x2x2");
  f.net().markOutput(pool.output(0));
  const std::vector<float> in = {-4, -2, -3, -5};
  const auto out = f.run({HostTensor::fromFloats(Dims{1, 1, 2, 2}, in)});
  ASSERT_EQ(out.size(), 1u) << f.logger.errors();
  EXPECT_EQ(toString(out[0].dims), "1x1x2x2");
  // Every window covers the whole input; the padding takes no part in the maximum.
  expectClose(out[0].floats(), std::vector<float>{-2, -2, -2, -2});
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

TEST(Pooling, BadConfigurations) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1, 4, 4});
  EXPECT_FALSE(f.net().addPooling(Tensor(), PoolingType::kMAX, Dims{2, 2}));
  EXPECT_TRUE(f.logger.hasError("null tensor"));
  EXPECT_FALSE(f.net().addPooling(x, static_cast<PoolingType>(5), Dims{2, 2}));
  EXPECT_TRUE(f.logger.hasError("layer 'Pooling_0' (Pooling): unknown pooling type 5"));
  EXPECT_FALSE(f.net().addPooling(x, PoolingType::kMAX, Dims{}));
  EXPECT_TRUE(f.logger.hasError("window size must have 1, 2 or 3 spatial dimensions"));
  EXPECT_FALSE(f.net().addPooling(x, PoolingType::kMAX, Dims{2, 2, 2}));
  EXPECT_TRUE(f.logger.hasError("needs an input of rank 5"));
  EXPECT_EQ(f.net().nbLayers(), 0);

  // Shape problems (which later settings may fix): the layer is invalid, and the error names it.
  {
    NetworkFixture g;
    auto y = g.net().addInput("y", DataType::kFLOAT, Dims{1, 1, 4, 4});
    expectInvalidLayer(g, g.net().addPooling(y, PoolingType::kMAX, Dims{5, 2}),
                       "layer 'Pooling_0' (Pooling): the window (5) is larger than the "
                       "padded input");
  }
  {
    NetworkFixture g;
    auto ints = g.net().addInput("i", DataType::kINT32, Dims{1, 1, 4, 4});
    expectInvalidLayer(g, g.net().addPooling(ints, PoolingType::kMAX, Dims{2, 2}),
                       "layer 'Pooling_0' (Pooling): input must be float32");
    EXPECT_TRUE(g.logger.hasError("addCast")) << g.logger.errors();
  }

  // Padding as large as the window: some window would pool nothing but padding.
  auto pool = f.net().addPooling(x, PoolingType::kMAX, Dims{2, 2});
  ASSERT_TRUE(pool);
  pool.setName("pad_pool");
  pool.setPrePadding(Dims{0, 2});
  f.net().markOutput(pool.output(0));
  auto config = f.builder.createBuilderConfig();
  EXPECT_TRUE(f.builder.buildSerializedNetwork(f.net(), *config).empty());
  EXPECT_TRUE(
      f.logger.hasError("layer 'pad_pool' (Pooling): padding 2 + 0 in spatial dimension 1 "
                        "must be smaller than the window (2)"))
      << f.logger.errors();
}

}  // namespace
}  // namespace kiln::test
