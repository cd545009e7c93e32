// The 1x1-convolution tactics (cpu.conv.pointwise.avx512 and .avx2, and their channel-major
// twins .cm, each where the host has its ISA) beside the other convolution tactics, against the
// reference kernel: output channels around the row panels (AVX-512: 12 rows in 4-, 8- and 12-row
// tiles; AVX2: 6 rows, every row count) and the vectors of the channel-major panels (64 channels
// in 16-lane vectors; 24 in 8-lane ones, two channels per vector in the transposed store), pixels
// around the row tiles (16 and 32 wide; 8 and 16: masked loads, partial stores) and the
// channel-major ones (7 pixels; 4), one input channel, groups, batches, empty tensors, 1, 2 and 3
// threads (row panels shared where there are few tiles), shallow layers run along the output rows
// and deeper ones prefetching their rows, and the fused epilogue (bias, residual, in-register and
// generic activations).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "backends/tactic.h"
#include "ops/activation.h"
#include "tactic_check.h"

namespace kiln::test {
namespace {

struct PwCase {
  Dims x;
  int64_t outputs;
  int64_t groups = 1;
};

ir::Attributes pwAttrs(const PwCase& c) {
  ir::Attributes a;
  a.set("num_output", c.outputs);
  a.set("kernel", c.x.nbDims == 3 ? shape({1}) : shape({1, 1}));
  a.set("groups", c.groups);
  return a;
}

std::vector<CheckInput> pwInputs(const PwCase& c, uint32_t seed, bool bias) {
  std::vector<CheckInput> in = {
      randomInput(c.x, seed),
      randomInput(c.x.nbDims == 3 ? shape({c.outputs, c.x[1] / c.groups, 1})
                                  : shape({c.outputs, c.x[1] / c.groups, 1, 1}),
                  seed + 1, true)};
  if (bias) in.push_back(randomInput(shape({c.outputs}), seed + 2, true));
  return in;
}

// Whether the pointwise tactic @p name takes the node (and runs on this host).
bool pointwiseTakes(const ir::Attributes& attrs, const std::vector<CheckInput>& inputs,
                    std::string_view name = "cpu.conv.pointwise.avx512") {
  ir::Node node;
  node.name = "node";
  node.op = "Convolution";
  node.attrs = attrs;
  std::vector<ir::TensorInfo> infos;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    node.inputs.push_back(static_cast<ir::ValueId>(i));
    ir::TensorInfo info;
    info.dims = inputs[i].dims;
    info.constData = inputs[i].constant ? inputs[i].values.data() : nullptr;
    infos.push_back(info);
  }
  node.outputs.push_back(static_cast<ir::ValueId>(inputs.size()));
  const std::vector<ir::TensorInfo> out = ir::inferNode(node, infos);
  const backends::NodeSpec spec{node, infos, out};
  for (const auto* t :
       backends::TacticRegistry::instance().candidates("Convolution", DeviceType::kCPU)) {
    if (t->name() == name && tacticRunsHere(*t) && t->supports(spec)) {
      return true;
    }
  }
  return false;
}

// The pointwise tactics this host runs, as {row-major, channel-major} names per ISA.
std::vector<std::pair<std::string, std::string>> hostPointwiseTactics() {
  std::vector<std::pair<std::string, std::string>> names;
  if (hostCpu().has("avx2") && hostCpu().has("fma")) {
    names.emplace_back("cpu.conv.pointwise.avx2", "cpu.conv.pointwise.cm.avx2");
    if (hostCpu().has("avx512f")) {
      names.emplace_back("cpu.conv.pointwise.avx512", "cpu.conv.pointwise.cm.avx512");
    }
  }
  return names;
}

TEST(PointwiseConvTactic, OddShapes) {
  const PwCase cases[] = {
      {shape({1, 3, 1, 1}), 1},
      {shape({1, 1, 4, 5}), 5},
      {shape({1, 7, 4, 4}), 4},
      {shape({1, 5, 1, 17}), 8},
      {shape({1, 9, 3, 11}), 12},
      {shape({1, 6, 7, 7}), 13},
      {shape({1, 32, 7, 7}), 16},
      {shape({1, 20, 8, 4}), 25},
      {shape({1, 3, 5, 13}), 24},
      {shape({2, 8, 6, 11}), 10},
      {shape({1, 4, 1, 33}), 36},
      {shape({1, 12, 10, 10}), 9},
      {shape({1, 6, 5, 5}), 10, 2},
      {shape({2, 9, 3, 7}), 6, 3},
      {shape({1, 16, 2, 8}), 16, 16},
      {shape({1, 64, 28, 28}), 24},
      {shape({1, 24, 14, 14}), 70},
      {shape({1, 40, 56}), 7},
      {shape({0, 4, 3, 3}), 5},
      // More weights than pixels: whole row panels per task against every tile.
      {shape({1, 24, 3, 5}), 40},
      {shape({2, 6, 2, 3}), 30, 2},
      {shape({1, 30, 7, 7}), 100},
      // Last row tiles of exactly one AVX2 vector (8 and 24 pixels), channel-major tiles of 2
      // and 3 pixels over whole and partial 24-channel panels.
      {shape({1, 5, 3, 8}), 48},
      {shape({1, 3, 2, 4}), 11},
      {shape({1, 17, 2, 5}), 47},
      {shape({1, 10, 1, 7}), 7},
      // Deep enough for the AVX2 tiles to sum K in blocks (256 and 128 input channels a call).
      {shape({1, 300, 5, 7}), 30},
      {shape({1, 530, 3, 3}), 13},
      // At most 32 input channels: row panels along blocks of tiles (three blocks of 64 AVX2 and
      // 32 AVX-512 tiles here, the last one short), batches of such images.
      {shape({1, 16, 48, 48}), 20},
      {shape({2, 12, 9, 61}), 13},
      // Deeper, over enough tiles for each to prefetch the output rows two tiles on.
      {shape({2, 37, 9, 13}), 19},
  };
  uint32_t seed = 1;
  for (const auto& c : cases) {
    for (bool bias : {true, false}) {
      SCOPED_TRACE(toString(c.x) + " -> " + std::to_string(c.outputs));
      const auto in = pwInputs(c, seed, bias);
      for (int32_t threads : {1, 2, 3}) {
        const auto r = checkTactics("Convolution", pwAttrs(c), in, threads);
        EXPECT_GE(r.tactics, 1);
      }
      for (const auto& [rowMajor, channelMajor] : hostPointwiseTactics()) {
        EXPECT_TRUE(pointwiseTakes(pwAttrs(c), in, rowMajor)) << rowMajor;
        // Channel-major tiles for up to 256 pixels.
        const int64_t pixels = volume(c.x) / std::max<int64_t>(c.x[0] * c.x[1], 1);
        EXPECT_EQ(pointwiseTakes(pwAttrs(c), in, channelMajor), c.x[0] == 0 || pixels <= 256)
            << channelMajor;
      }
      seed += 3;
    }
  }
}

TEST(PointwiseConvTactic, FusedEpilogue) {
  for (auto type : {ActivationType::kRELU, ActivationType::kLEAKY_RELU, ActivationType::kCLIP,
                    ActivationType::kSIGMOID}) {
    for (const PwCase& c : {PwCase{shape({2, 7, 5, 9}), 14}, PwCase{shape({1, 24, 7, 7}), 20},
                            PwCase{shape({1, 6, 4, 8}), 6, 2}, PwCase{shape({1, 8, 3, 3}), 30},
                            PwCase{shape({1, 9, 2, 9}), 29}, PwCase{shape({1, 290, 4, 5}), 26},
                            // Row runs (32 input channels at most) and prefetched residual rows
                            // (enough tiles), batches.
                            PwCase{shape({2, 10, 9, 15}), 18}, PwCase{shape({2, 40, 5, 19}), 31}}) {
      const ir::Attributes plain = pwAttrs(c);
      ir::Attributes attrs = plain;
      const double alpha = type == ActivationType::kCLIP ? 0.0 : 0.1;
      attrs.set("epilogue.activation", type);
      attrs.set("epilogue.alpha", alpha);
      attrs.set("epilogue.beta", 0.6);
      attrs.set("epilogue.residual", int64_t{3});
      auto in = pwInputs(c, 21, true);
      Dims y = c.x;
      y[1] = c.outputs;
      in.push_back(randomInput(y, 77));
      const auto residual = in[3].values;
      const auto r = checkTactics("Convolution", attrs, in, 2, &plain, [&](std::vector<float>& v) {
        ASSERT_EQ(v.size(), residual.size());
        for (std::size_t i = 0; i < v.size(); ++i) {
          v[i] = static_cast<float>(ops::applyActivation(type, v[i] + residual[i], alpha, 0.6));
        }
      });
      EXPECT_GE(r.tactics, 1);
      for (const auto& [rowMajor, channelMajor] : hostPointwiseTactics()) {
        EXPECT_TRUE(pointwiseTakes(attrs, in, rowMajor)) << rowMajor;
        EXPECT_TRUE(pointwiseTakes(attrs, in, channelMajor)) << channelMajor;
      }
    }
  }
}

// Only 1x1, stride 1, unpadded convolutions with constant weights.
TEST(PointwiseConvTactic, DeclinesOtherConvolutions) {
  PwCase c{shape({1, 4, 6, 6}), 8};
  ir::Attributes strided = pwAttrs(c);
  strided.set("stride", shape({2, 2}));
  EXPECT_FALSE(pointwiseTakes(strided, pwInputs(c, 5, true)));
  ir::Attributes padded = pwAttrs(c);
  padded.set("pre_padding", shape({1, 1}));
  padded.set("post_padding", shape({1, 1}));
  EXPECT_FALSE(pointwiseTakes(padded, pwInputs(c, 5, true)));
  auto runtime = pwInputs(c, 5, true);
  runtime[1].constant = false;
  EXPECT_FALSE(pointwiseTakes(pwAttrs(c), runtime));
  ir::Attributes three = pwAttrs(c);
  three.set("kernel", shape({3, 3}));
  auto in = pwInputs(c, 5, true);
  in[1] = randomInput(shape({8, 4, 3, 3}), 6, true);
  EXPECT_FALSE(pointwiseTakes(three, in));
  for (const auto& [rowMajor, channelMajor] : hostPointwiseTactics()) {
    EXPECT_FALSE(pointwiseTakes(strided, pwInputs(c, 5, true), rowMajor));
    EXPECT_FALSE(pointwiseTakes(padded, pwInputs(c, 5, true), channelMajor));
    EXPECT_FALSE(pointwiseTakes(pwAttrs(c), runtime, channelMajor));
    EXPECT_FALSE(pointwiseTakes(three, in, rowMajor));
  }
}

}  // namespace
}  // namespace kiln::test
