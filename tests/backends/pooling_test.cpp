// Pooling tactics (portable and AVX-512 planes) against the reference kernel: strides 1, 2 and 3
// (the vector paths and the scalar one), windows clipped by padding on both sides, ROUND_UP's
// partial last window, average with and without padding in the divisor, widths around the
// 16-lane vector, 1-d, global windows, empty batches, and NaN propagation through max.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>

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

TEST(PoolingTactics, VectorTacticIsOffered) {
  int32_t vector = 0;
  for (const auto* t :
       backends::TacticRegistry::instance().candidates("Pooling", DeviceType::kCPU)) {
    vector += t->name() == "cpu.pool.avx512";
  }
  EXPECT_EQ(vector, 1);
}

}  // namespace
}  // namespace kiln::test
