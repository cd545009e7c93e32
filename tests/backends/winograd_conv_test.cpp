// The Winograd F(4x4, 3x3) convolution tactics against the reference kernel: paddings 0, 1 and
// asymmetric (tiles reading zeros on every side), output sides that are and are not multiples of
// the tile (1 to 56), channel counts from 1, batches of 1 and 3 (blocks of tile rows that span
// images), and the fused bias, activation and residual.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "backends/tactic.h"
#include "ops/activation.h"
#include "tactic_check.h"

namespace kiln::test {
namespace {

constexpr std::string_view kPrefix = "cpu.conv.winograd.";

struct Case {
  Dims x;
  int64_t outputs;
  Dims pre;
  Dims post;
};

ir::Attributes attrsOf(const Case& c) {
  ir::Attributes a;
  a.set("num_output", c.outputs);
  a.set("kernel", shape({3, 3}));
  a.set("pre_padding", c.pre);
  a.set("post_padding", c.post);
  return a;
}

std::vector<CheckInput> inputsOf(const Case& c, uint32_t seed, bool bias) {
  std::vector<CheckInput> in = {randomInput(c.x, seed),
                                randomInput(shape({c.outputs, c.x[1], 3, 3}), seed + 1, true)};
  if (bias) in.push_back(randomInput(shape({c.outputs}), seed + 2, true));
  return in;
}

// How many Winograd tactics (tile-major ones only, with @p tileMajor) run here and take the node.
int32_t winogradTactics(const std::vector<CheckInput>& in, const ir::Attributes& attrs,
                        bool tileMajor = false) {
  std::vector<ir::TensorInfo> infos(in.size());
  ir::Node node;
  node.op = "Convolution";
  node.attrs = attrs;
  for (std::size_t i = 0; i < in.size(); ++i) {
    node.inputs.push_back(static_cast<ir::ValueId>(i));
    infos[i].dims = in[i].dims;
    infos[i].constData = in[i].constant ? in[i].values.data() : nullptr;
  }
  node.outputs.push_back(static_cast<ir::ValueId>(in.size()));
  const auto outs = ir::inferNode(node, infos);
  const backends::NodeSpec spec{node, infos, outs};
  int32_t count = 0;
  for (const auto* t :
       backends::TacticRegistry::instance().candidates("Convolution", DeviceType::kCPU)) {
    if (!t->name().starts_with(kPrefix) || !tacticRunsHere(*t)) continue;
    if (tileMajor && t->name().find(".tm.") == std::string_view::npos) continue;
    count += t->supports(spec) ? 1 : 0;
  }
  return count;
}

bool hostHasWinograd() {
  for (const auto* t :
       backends::TacticRegistry::instance().candidates("Convolution", DeviceType::kCPU)) {
    if (t->name().starts_with(kPrefix) && tacticRunsHere(*t)) return true;
  }
  return false;
}

TEST(WinogradConv, Shapes) {
  const Case cases[] = {
      {shape({1, 16, 8, 8}), 16, shape({0, 0}), shape({0, 0})},
      {shape({1, 16, 8, 8}), 16, shape({1, 1}), shape({1, 1})},
      {shape({1, 1, 1, 1}), 1, shape({1, 1}), shape({1, 1})},
      {shape({1, 3, 5, 5}), 3, shape({1, 1}), shape({1, 1})},
      {shape({1, 3, 7, 13}), 16, shape({0, 1}), shape({2, 0})},
      {shape({3, 16, 13, 7}), 3, shape({1, 2}), shape({1, 0})},
      {shape({1, 64, 13, 13}), 64, shape({1, 1}), shape({1, 1})},
      {shape({3, 16, 7, 7}), 64, shape({1, 1}), shape({1, 1})},
      {shape({1, 1, 5, 56}), 1, shape({1, 1}), shape({1, 1})},
      {shape({1, 16, 56, 56}), 16, shape({1, 1}), shape({1, 1})},
      {shape({3, 64, 14, 14}), 64, shape({1, 1}), shape({1, 1})},
      {shape({1, 3, 9, 40}), 5, shape({3, 0}), shape({0, 3})},
      // Few tiles with small weights (the tile-major products take the GEMM's small-M path).
      {shape({1, 40, 7, 7}), 72, shape({1, 1}), shape({1, 1})},
      {shape({1, 60, 3, 5}), 66, shape({0, 1}), shape({0, 1})},
      // Wide rows: blocks of a few tile rows, some spanning two images.
      {shape({3, 16, 20, 118}), 16, shape({1, 0}), shape({1, 2})},
  };
  uint32_t seed = 500;
  for (const auto& c : cases) {
    for (bool bias : {true, false}) {
      const auto in = inputsOf(c, seed, bias);
      seed += 3;
      if (hostHasWinograd()) {
        EXPECT_GE(winogradTactics(in, attrsOf(c)), 1) << toString(c.x);
      }
      checkTactics("Convolution", attrsOf(c), in);
    }
  }
}

TEST(WinogradConv, Epilogue) {
  for (auto type : {ActivationType::kRELU, ActivationType::kLEAKY_RELU, ActivationType::kCLIP,
                    ActivationType::kSIGMOID}) {
    for (int64_t batch : {int64_t{1}, int64_t{3}}) {
      const Case c{shape({batch, 16, 11, 9}), 24, shape({1, 1}), shape({1, 1})};
      const ir::Attributes plain = attrsOf(c);
      ir::Attributes attrs = plain;
      attrs.set("epilogue.activation", type);
      attrs.set("epilogue.alpha", -0.3);
      attrs.set("epilogue.beta", 0.6);
      attrs.set("epilogue.residual", int64_t{3});
      auto in = inputsOf(c, 41, true);
      in.push_back(randomInput(shape({batch, 24, 11, 9}), 42));
      const auto residual = in[3].values;
      checkTactics("Convolution", attrs, in, 2, &plain, [&](std::vector<float>& y) {
        for (std::size_t i = 0; i < y.size(); ++i) {
          y[i] = static_cast<float>(ops::applyActivation(type, y[i] + residual[i], -0.3, 0.6));
        }
      });
    }
  }
  // Blocks each thread runs on its own (enough tile rows for several per thread), wide and
  // narrow rows of tiles.
  for (const Dims& x : {shape({2, 8, 40, 56}), shape({2, 8, 40, 30})}) {
    const Case c{x, 12, shape({1, 1}), shape({1, 1})};
    const ir::Attributes plain = attrsOf(c);
    ir::Attributes attrs = plain;
    attrs.set("epilogue.activation", ActivationType::kRELU);
    attrs.set("epilogue.residual", int64_t{3});
    auto in = inputsOf(c, 51, true);
    in.push_back(randomInput(shape({x[0], 12, x[2], x[3]}), 52));
    const auto residual = in[3].values;
    checkTactics("Convolution", attrs, in, 2, &plain, [&](std::vector<float>& y) {
      for (std::size_t i = 0; i < y.size(); ++i) y[i] = std::max(0.f, y[i] + residual[i]);
    });
  }
  // A residual without a bias (input 2 absent).
  const Case c{shape({1, 8, 6, 10}), 8, shape({1, 1}), shape({1, 1})};
  ir::Attributes attrs = attrsOf(c);
  const ir::Attributes plain = attrs;
  attrs.set("epilogue.residual", int64_t{3});
  auto in = inputsOf(c, 61, false);
  in.push_back(absentInput());
  in.push_back(randomInput(shape({1, 8, 6, 10}), 62));
  const auto residual = in[3].values;
  checkTactics("Convolution", attrs, in, 2, &plain, [&](std::vector<float>& y) {
    for (std::size_t i = 0; i < y.size(); ++i) y[i] += residual[i];
  });
}

// Offered for 3x3, stride 1, one group, constant weights, with enough tiles for its weights.
TEST(WinogradConv, Offered) {
  if (!hostHasWinograd()) GTEST_SKIP() << "no Winograd tactic runs here";
  const Case base{shape({1, 8, 9, 9}), 8, shape({1, 1}), shape({1, 1})};
  auto strided = attrsOf(base);
  strided.set("stride", shape({2, 2}));
  auto dilated = attrsOf(base);
  dilated.set("dilation", shape({2, 2}));
  auto grouped = attrsOf(base);
  grouped.set("groups", int64_t{2});
  auto fiveByFive = attrsOf(base);
  fiveByFive.set("kernel", shape({5, 5}));
  for (const auto* attrs : {&strided, &dilated}) {
    EXPECT_EQ(winogradTactics(inputsOf(base, 1, true), *attrs), 0);
  }
  auto in = inputsOf(base, 1, true);
  in[1] = randomInput(shape({8, 4, 3, 3}), 2, true);
  EXPECT_EQ(winogradTactics(in, grouped), 0);
  in = inputsOf(base, 1, true);
  in[1] = randomInput(shape({8, 8, 5, 5}), 2, true);
  EXPECT_EQ(winogradTactics(in, fiveByFive), 0);
  in = inputsOf(base, 1, true);
  in[1].constant = false;  // run-time weights: nothing to transform ahead
  EXPECT_EQ(winogradTactics(in, attrsOf(base)), 0);
  // Large weights over four tiles: bound by streaming the transformed weights (4x the
  // weights' memory for little gain), so not offered.
  const Case few{shape({1, 128, 7, 7}), 128, shape({1, 1}), shape({1, 1})};
  EXPECT_EQ(winogradTactics(inputsOf(few, 1, true), attrsOf(few)), 0);
  const Case eight{shape({1, 128, 8, 16}), 128, shape({1, 1}), shape({1, 1})};  // 8 tiles
  EXPECT_GE(winogradTactics(inputsOf(eight, 1, true), attrsOf(eight)), 1);
  const Case more{shape({3, 128, 7, 7}), 128, shape({1, 1}), shape({1, 1})};
  EXPECT_GE(winogradTactics(inputsOf(more, 1, true), attrsOf(more)), 1);
}

}  // namespace
}  // namespace kiln::test
