// Pooling, Activation, ElementWise and SoftMax tactics against the reference kernels: odd and
// empty shapes, broadcasts, padding, strides, ROUND_UP windows, global pooling, every axis.
#include <gtest/gtest.h>

#include "tactic_check.h"

namespace kiln::test {
namespace {

TEST(PoolingTactics, WindowsAndPadding) {
  struct Case {
    Dims x;
    PoolingType type;
    Dims window;
    Dims stride;
    Dims pre;
    Dims post;
    bool exclude;
    PaddingMode mode;
  };
  const Case cases[] = {
      {shape({1, 3, 11, 13}), PoolingType::kMAX, shape({3, 3}), shape({2, 2}), shape({1, 1}),
       shape({1, 1}), true, PaddingMode::kEXPLICIT_ROUND_DOWN},
      {shape({2, 2, 10, 9}), PoolingType::kAVERAGE, shape({3, 2}), shape({2, 1}), shape({1, 0}),
       shape({2, 1}), false, PaddingMode::kEXPLICIT_ROUND_UP},
      {shape({2, 2, 10, 9}), PoolingType::kAVERAGE, shape({3, 3}), shape({2, 3}), shape({1, 1}),
       shape({1, 1}), true, PaddingMode::kEXPLICIT_ROUND_UP},
      {shape({1, 5, 7, 7}), PoolingType::kAVERAGE, shape({7, 7}), shape({1, 1}), shape({0, 0}),
       shape({0, 0}), true, PaddingMode::kEXPLICIT_ROUND_DOWN},
      {shape({1, 5, 6, 5}), PoolingType::kMAX, shape({6, 5}), shape({1, 1}), shape({0, 0}),
       shape({0, 0}), true, PaddingMode::kEXPLICIT_ROUND_DOWN},
      {shape({1, 4, 9}), PoolingType::kMAX, shape({2}), shape({2}), shape({0}), shape({0}), true,
       PaddingMode::kSAME_UPPER},
      {shape({0, 4, 5, 5}), PoolingType::kMAX, shape({2, 2}), shape({2, 2}), shape({0, 0}),
       shape({0, 0}), true, PaddingMode::kEXPLICIT_ROUND_DOWN},
  };
  uint32_t seed = 1;
  for (const auto& c : cases) {
    ir::Attributes a;
    a.set("type", c.type);
    a.set("window", c.window);
    a.set("stride", c.stride);
    a.set("pre_padding", c.pre);
    a.set("post_padding", c.post);
    a.set("exclude_padding", c.exclude);
    a.set("padding_mode", c.mode);
    const auto r = checkTactics("Pooling", a, {randomInput(c.x, seed++)});
    EXPECT_GE(r.tactics, 1) << toString(
        c.x);  // cpu.pool, and cpu.pool.avx2 / .avx512 where present
  }
}

TEST(PointwiseTactics, Activations) {
  for (auto type : {ActivationType::kRELU, ActivationType::kSIGMOID, ActivationType::kTANH,
                    ActivationType::kLEAKY_RELU, ActivationType::kCLIP, ActivationType::kGELU_ERF,
                    ActivationType::kELU}) {
    for (const Dims& d : {shape({3, 5, 7}), shape({0, 4}), shape({70000})}) {
      ir::Attributes a;
      a.set("type", type);
      if (type == ActivationType::kCLIP) {
        a.set("alpha", -0.5);
        a.set("beta", 0.5);
      }
      const auto r = checkTactics("Activation", a, {randomInput(d, 3)});
      EXPECT_EQ(r.tactics, 1);
    }
  }
}

TEST(PointwiseTactics, ElementWiseBroadcasts) {
  const std::pair<Dims, Dims> shapes[] = {
      {shape({2, 3, 5}), shape({2, 3, 5})}, {shape({2, 3, 5}), shape({1})},
      {shape({1}), shape({4, 3})},          {shape({2, 6, 4, 5}), shape({1, 6, 1, 1})},
      {shape({3, 1, 7}), shape({1, 4, 1})}, {shape({0, 3}), shape({1, 3})},
      {shape({40000}), shape({40000})},     {shape({300, 129}), shape({129})},
  };
  uint32_t seed = 1;
  for (auto op :
       {ElementWiseOperation::kSUM, ElementWiseOperation::kSUB, ElementWiseOperation::kPROD,
        ElementWiseOperation::kDIV, ElementWiseOperation::kMAX, ElementWiseOperation::kMIN,
        ElementWiseOperation::kPOW, ElementWiseOperation::kFLOOR_DIV}) {
    for (const auto& [a, b] : shapes) {
      ir::Attributes attrs;
      attrs.set("op", op);
      // POW: positive bases keep the results real.
      CheckInput x = randomInput(a, seed++);
      if (op == ElementWiseOperation::kPOW) {
        for (float& v : x.values) v = std::fabs(v) + 0.1f;
      }
      const auto r = checkTactics("ElementWise", attrs, {x, randomInput(b, seed++)});
      EXPECT_EQ(r.tactics, 1);
    }
  }
  // POW by a constant 2 (the fast square).
  ir::Attributes attrs;
  attrs.set("op", ElementWiseOperation::kPOW);
  CheckInput two{shape({1}), {2.f}, true, true};
  EXPECT_EQ(checkTactics("ElementWise", attrs, {randomInput(shape({5, 9}), 1), two}).tactics, 1);
}

TEST(PointwiseTactics, SoftMaxAxes) {
  const Dims d = shape({2, 3, 5, 7});
  for (int64_t axis : {0, 1, 2, 3, -1}) {
    ir::Attributes a;
    a.set("axis", axis);
    EXPECT_EQ(checkTactics("SoftMax", a, {randomInput(d, 5, false)}).tactics, 1);
  }
  ir::Attributes a;
  a.set("axis", int64_t{1});
  EXPECT_EQ(checkTactics("SoftMax", a, {randomInput(shape({0, 4}), 1)}).tactics, 1);
  EXPECT_EQ(checkTactics("SoftMax", a, {randomInput(shape({3, 1000}), 1)}).tactics, 1);
}

}  // namespace
}  // namespace kiln::test
