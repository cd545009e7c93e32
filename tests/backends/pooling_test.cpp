// Pooling tactics (portable, AVX2 and AVX-512 planes) against the reference kernel: strides 1, 2
// and 3 (the vector paths and the scalar one), windows clipped by padding on both sides, ROUND_UP's
// partial last window, average with and without padding in the divisor, widths around the
// 16-lane vector, 1-d, global windows, empty batches, and NaN propagation through max; the
// blocked layout NCHW8c's tactic.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <string>

#include "backends/tactic.h"
#include "tactic_check.h"

namespace kiln::test {
namespace {

struct PoolCase {
  Dims x;
  PoolingType type;
  Dims window, stride, pre, post;
  bool exclude = true;
  PaddingMode mode = PaddingMode::kEXPLICIT_ROUND_DOWN;
};

ir::Attributes poolAttrs(const PoolCase& c) {
  ir::Attributes a;
  a.set("type", c.type);
  a.set("window", c.window);
  a.set("stride", c.stride);
  a.set("pre_padding", c.pre);
  a.set("post_padding", c.post);
  a.set("exclude_padding", c.exclude);
  a.set("padding_mode", c.mode);
  return a;
}

TEST(PoolingTactics, WindowsStridesAndPadding) {
  const PoolCase cases[] = {
      {shape({1, 3, 28, 28}), PoolingType::kMAX, shape({3, 3}), shape({1, 1}), shape({1, 1}),
       shape({1, 1})},
      {shape({2, 2, 9, 37}), PoolingType::kAVERAGE, shape({3, 3}), shape({1, 1}), shape({1, 1}),
       shape({1, 1}), false},
      {shape({1, 4, 112, 112}), PoolingType::kMAX, shape({3, 3}), shape({2, 2}), shape({1, 1}),
       shape({1, 1})},
      {shape({1, 3, 55, 55}), PoolingType::kMAX, shape({3, 3}), shape({2, 2}), shape({0, 0}),
       shape({0, 0}), true, PaddingMode::kEXPLICIT_ROUND_UP},
      {shape({1, 2, 16, 34}), PoolingType::kMAX, shape({2, 2}), shape({2, 2}), shape({0, 0}),
       shape({0, 0})},
      {shape({1, 2, 13, 35}), PoolingType::kAVERAGE, shape({2, 3}), shape({2, 2}), shape({1, 1}),
       shape({0, 1}), true, PaddingMode::kEXPLICIT_ROUND_UP},
      {shape({1, 2, 11, 40}), PoolingType::kAVERAGE, shape({3, 3}), shape({3, 3}), shape({1, 1}),
       shape({1, 1}), false},
      {shape({2, 3, 5, 17}), PoolingType::kMAX, shape({3, 5}), shape({1, 1}), shape({1, 2}),
       shape({1, 2})},
      {shape({1, 2, 6, 130}), PoolingType::kMAX, shape({3, 3}), shape({1, 1}), shape({1, 1}),
       shape({1, 1})},
      {shape({1, 2, 5, 64}), PoolingType::kAVERAGE, shape({2, 2}), shape({1, 1}), shape({0, 0}),
       shape({0, 0})},
      {shape({1, 4, 33}), PoolingType::kMAX, shape({3}), shape({2}), shape({1}), shape({1})},
      {shape({1, 5, 7, 7}), PoolingType::kAVERAGE, shape({7, 7}), shape({1, 1}), shape({0, 0}),
       shape({0, 0})},
      {shape({0, 4, 5, 5}), PoolingType::kMAX, shape({2, 2}), shape({2, 2}), shape({0, 0}),
       shape({0, 0})},
  };
  uint32_t seed = 1;
  for (const auto& c : cases) {
    SCOPED_TRACE(toString(c.x));
    const auto r = checkTactics("Pooling", poolAttrs(c), {randomInput(c.x, seed++)});
    EXPECT_GE(r.tactics, 1) << toString(c.x);
  }
}

TEST(PoolingTactics, MaxPropagatesNaN) {
  for (int64_t stride : {int64_t{1}, int64_t{2}}) {
    const PoolCase c{shape({1, 1, 6, 40}),    PoolingType::kMAX, shape({3, 3}),
                     shape({stride, stride}), shape({1, 1}),     shape({1, 1})};
    CheckInput x = randomInput(c.x, 5);
    x.values[7] = std::numeric_limits<float>::quiet_NaN();
    x.values[100] = std::numeric_limits<float>::quiet_NaN();
    checkTactics("Pooling", poolAttrs(c), {x});
  }
}

TEST(PoolingTactics, BlockedNchw8c) {
  // x [N, C/8, H, W, 8]: cpu.pool.nchw8c.avx2 where the host has AVX2 (the NCHW tactics refuse
  // the node): GoogLeNet's and SqueezeNet's max pools (ROUND_UP, padded stride 1), averages with
  // and without padding in the divisor, a global window, and NaN in some lanes.
  const PoolCase cases[] = {
      {shape({1, 2, 55, 55, 8}), PoolingType::kMAX, shape({3, 3}), shape({2, 2}), shape({0, 0}),
       shape({0, 0}), true, PaddingMode::kEXPLICIT_ROUND_UP},
      {shape({2, 3, 14, 14, 8}), PoolingType::kMAX, shape({3, 3}), shape({1, 1}), shape({1, 1}),
       shape({1, 1})},
      {shape({1, 1, 9, 11, 8}), PoolingType::kAVERAGE, shape({3, 3}), shape({2, 2}), shape({1, 1}),
       shape({1, 1}), false},
      {shape({1, 2, 9, 11, 8}), PoolingType::kAVERAGE, shape({2, 3}), shape({2, 1}), shape({1, 1}),
       shape({0, 1}), true, PaddingMode::kEXPLICIT_ROUND_UP},
      {shape({1, 4, 7, 7, 8}), PoolingType::kAVERAGE, shape({7, 7}), shape({1, 1}), shape({0, 0}),
       shape({0, 0})},
  };
  const bool avx2 =
      tacticRunsHere(*backends::TacticRegistry::instance().find("Pooling", "cpu.pool.nchw8c.avx2"));
  uint32_t seed = 60;
  for (const auto& c : cases) {
    SCOPED_TRACE(toString(c.x));
    ir::Attributes attrs = poolAttrs(c);
    attrs.set("layout", std::string("NCHW8c"));
    CheckInput x = randomInput(c.x, seed++);
    x.values[3] = std::numeric_limits<float>::quiet_NaN();
    x.values[x.values.size() / 2] = std::numeric_limits<float>::quiet_NaN();
    const auto r = checkTactics("Pooling", attrs, {x});
    EXPECT_EQ(r.tactics, avx2 ? 1 : 0);
  }
}

// 3 columns at stride 2 (the AVX-512 plane's separable path): output widths around the 16-lane
// vector, window heights 2 and 3, row strides 1 to 3, padding on either side and ROUND_UP's
// partial windows, NaN in the first, a middle and the last column of a window.
TEST(PoolingTactics, SeparableMaxStride2) {
  const Dims none = shape({0, 0});
  const PoolCase cases[] = {
      {shape({1, 3, 111, 111}), PoolingType::kMAX, shape({3, 3}), shape({2, 2}), none, none},
      {shape({2, 2, 9, 33}), PoolingType::kMAX, shape({3, 3}), shape({2, 2}), none, none},
      {shape({1, 2, 7, 35}), PoolingType::kMAX, shape({2, 3}), shape({1, 2}), none, none},
      {shape({1, 2, 10, 8}), PoolingType::kMAX, shape({3, 3}), shape({3, 2}), none, none},
      {shape({1, 2, 3, 3}), PoolingType::kMAX, shape({3, 3}), shape({2, 2}), none, none},
      {shape({1, 2, 13, 64}), PoolingType::kMAX, shape({3, 3}), shape({2, 2}), none, none},
      {shape({1, 2, 27, 27}), PoolingType::kMAX, shape({3, 3}), shape({2, 2}), none, none, true,
       PaddingMode::kEXPLICIT_ROUND_UP},
      // Padding reads as -inf: both sides, one side, ROUND_UP's windows past the end.
      {shape({1, 2, 9, 31}), PoolingType::kMAX, shape({3, 3}), shape({2, 2}), shape({1, 1}),
       shape({1, 1})},
      {shape({1, 2, 8, 28}), PoolingType::kMAX, shape({3, 3}), shape({2, 2}), none, none, true,
       PaddingMode::kEXPLICIT_ROUND_UP},
      {shape({2, 2, 10, 40}), PoolingType::kMAX, shape({2, 3}), shape({2, 2}), shape({0, 1}),
       shape({1, 0})},
      {shape({1, 2, 6, 33}), PoolingType::kMAX, shape({3, 3}), shape({1, 2}), shape({2, 2}),
       shape({2, 2})},
  };
  uint32_t seed = 40;
  for (const auto& c : cases) {
    SCOPED_TRACE(toString(c.x));
    CheckInput x = randomInput(c.x, seed++);
    const int64_t iw = c.x[3];
    for (int64_t at : {int64_t{0}, iw + 5, 2 * iw + 2 * (iw / 2)}) {
      if (at < static_cast<int64_t>(x.values.size())) {
        x.values[static_cast<std::size_t>(at)] = std::numeric_limits<float>::quiet_NaN();
      }
    }
    const auto r = checkTactics("Pooling", poolAttrs(c), {x});
    EXPECT_GE(r.tactics, 1);
  }
}

// Every shape the separable AVX2 plane folds differently, against the reference: widths 1 to 40
// (the 8-lane vector's tails, rows narrower than the window's padding), kernels 1 to 5, strides
// 1 to 3 (stride 3 folds the row's columns scalar), no, partial and full padding on either side,
// ROUND_UP's windows past the end, max with NaN (first, middle and last columns) and average
// with and without the padding in the divisor; 2-d and 1-d. Each case runs every vector tactic
// of this machine (here at least the portable one and cpu.pool.avx2 where AVX2 is present).
TEST(PoolingTactics, SweepWidthsKernelsStrides) {
  const int32_t expected = 1 + (hostCpu().has("avx2") && hostCpu().has("fma") ? 1 : 0) +
                           (hostCpu().has("avx512f") ? 1 : 0);
  uint32_t seed = 100;
  for (int64_t k = 1; k <= 5; ++k) {
    for (int64_t s = 1; s <= 3; ++s) {
      for (int64_t w = 1; w <= 40; ++w) {
        const int64_t variant = (k * 7 + s * 3 + w) % 6;
        const int64_t pre = variant % 3 == 0 ? 0 : (variant % 3 == 1 ? (k - 1) / 2 : k - 1);
        const int64_t post = variant % 2 == 0 ? pre : (k - 1) / 2;
        if (w + pre + post < k) continue;
        const auto mode =
            variant < 3 ? PaddingMode::kEXPLICIT_ROUND_DOWN : PaddingMode::kEXPLICIT_ROUND_UP;
        const bool oneD = w % 7 == 3;
        const int64_t h = 1 + (w * 5 + k) % 9;
        const int64_t kh = oneD ? 0 : 1 + (k + w) % 5;
        if (!oneD && h + pre + post < kh) continue;
        const Dims x = oneD ? shape({1, 3, w}) : shape({1, 3, h, w});
        const Dims window = oneD ? shape({k}) : shape({kh, k});
        const Dims stride = oneD ? shape({s}) : shape({1 + (w + s) % 3, s});
        const Dims pads = oneD ? shape({pre}) : shape({pre < kh ? pre : kh - 1, pre});
        const Dims posts = oneD ? shape({post}) : shape({post < kh ? post : kh - 1, post});
        for (const auto type : {PoolingType::kMAX, PoolingType::kAVERAGE}) {
          const bool exclude = (w + k) % 2 == 0;
          const PoolCase c{x, type, window, stride, pads, posts, exclude, mode};
          SCOPED_TRACE(toString(x) + " window " + toString(window) + " stride " + toString(stride) +
                       " pre " + toString(pads) + " post " + toString(posts) +
                       (type == PoolingType::kMAX ? " max" : " average"));
          CheckInput in = randomInput(x, seed++);
          if (type == PoolingType::kMAX && w % 4 == 1) {
            const auto n = static_cast<int64_t>(in.values.size());
            for (int64_t at : {int64_t{0}, n / 2 + 1, n - 1}) {
              in.values[static_cast<std::size_t>(at)] = std::numeric_limits<float>::quiet_NaN();
            }
          }
          const auto r = checkTactics("Pooling", poolAttrs(c), {in});
          EXPECT_EQ(r.tactics, expected);
        }
      }
    }
  }
}

// Planes wider than the AVX2 plane's stack row (2048 padded columns) go in chunks of outputs;
// a window too wide for it takes its scalar path.
TEST(PoolingTactics, WideRowsAndWindows) {
  const PoolCase cases[] = {
      {shape({1, 2, 3, 4500}), PoolingType::kMAX, shape({3, 3}), shape({1, 1}), shape({1, 1}),
       shape({1, 1})},
      {shape({1, 2, 3, 4501}), PoolingType::kAVERAGE, shape({2, 3}), shape({1, 2}), shape({0, 1}),
       shape({0, 1}), false, PaddingMode::kEXPLICIT_ROUND_UP},
      {shape({1, 2, 4097}), PoolingType::kMAX, shape({5}), shape({3}), shape({2}), shape({2})},
      {shape({1, 1, 2, 2500}), PoolingType::kAVERAGE, shape({1, 2100}), shape({1, 7}),
       shape({0, 0}), shape({0, 0})},
  };
  uint32_t seed = 900;
  for (const auto& c : cases) {
    SCOPED_TRACE(toString(c.x));
    const auto r = checkTactics("Pooling", poolAttrs(c), {randomInput(c.x, seed++)});
    EXPECT_GE(r.tactics, 1);
  }
}

TEST(PoolingTactics, VectorTacticsAreOffered) {
  int32_t avx512 = 0;
  int32_t avx2 = 0;
  for (const auto* t :
       backends::TacticRegistry::instance().candidates("Pooling", DeviceType::kCPU)) {
    avx512 += t->name() == "cpu.pool.avx512";
    avx2 += t->name() == "cpu.pool.avx2";
  }
  EXPECT_EQ(avx512, 1);
  EXPECT_EQ(avx2, 1);
  int32_t reduceAvx2 = 0;
  for (const auto* t :
       backends::TacticRegistry::instance().candidates("Reduce", DeviceType::kCPU)) {
    reduceAvx2 += t->name() == "cpu.reduce.inner.avx2";
  }
  EXPECT_EQ(reduceAvx2, 1);
}

}  // namespace
}  // namespace kiln::test
