// The channel-blocked layout NCHW8c on the CPU: the blocked convolution tactics
// (cpu.conv.depthwise.nchw8c.avx2, cpu.conv.pointwise.nchw8c.avx2, cpu.conv.direct.nchw8c.avx2,
// cpu.conv.winograd.nchw8c.avx2) against the reference kernel (which unblocks, runs NCHW and blocks
// the result again) over windows, strides, dilation, padding, NCHW x entries (read in place by the
// depthwise kernel, blocked by the direct kernel's padded copy), rows that end inside a step of the
// depthwise kernel, pixel counts that end inside a tile, partial panels of output blocks, input
// channels in several blocks of K or slices, 1x1 at stride 2 (read from a subsampled copy), and the
// fused epilogue; the NCHW tactics leave these nodes alone. Then the reformats BlockChannels and
// UnblockChannels (cpu.reformat.blocked.*) against their reference, their element order and
// their errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/cpu_info.h"
#include "core/error.h"
#include "ops/window_util.h"
#include "tactic_check.h"

namespace kiln::test {
namespace {

struct BlockedConv {
  int64_t n, c, k, h, w, kernel;
  int64_t stride = 1;
  int64_t pad = 0;
  int64_t groups = 1;
  int64_t dilation = 1;
};

int64_t outExtent(int64_t in, const BlockedConv& b) {
  return (in + 2 * b.pad - (b.kernel - 1) * b.dilation - 1) / b.stride + 1;
}

ir::Attributes attrsOf(const BlockedConv& b) {
  ir::Attributes a;
  a.set("num_output", b.k);
  a.set("kernel", shape({b.kernel, b.kernel}));
  a.set("stride", shape({b.stride, b.stride}));
  a.set("pre_padding", shape({b.pad, b.pad}));
  a.set("post_padding", shape({b.pad, b.pad}));
  a.set("groups", b.groups);
  a.set("dilation", shape({b.dilation, b.dilation}));
  a.set(ops::kLayoutAttr, std::string(ops::kChannelsBlocked));
  return a;
}

// x [N, C/8, H, W, 8] (or, @p nchwInput, [N, C, H, W]), constant KCRS weights, the bias [K] (or
// absent), and a residual [N, K/8, P, Q, 8] when asked.
std::vector<CheckInput> inputsOf(const BlockedConv& b, uint32_t seed, bool bias, bool residual,
                                 bool nchwInput = false) {
  std::vector<CheckInput> in = {
      randomInput(nchwInput ? shape({b.n, b.c, b.h, b.w}) : shape({b.n, b.c / 8, b.h, b.w, 8}),
                  seed),
      randomInput(shape({b.k, b.c / b.groups, b.kernel, b.kernel}), seed + 1, true)};
  in.push_back(bias ? randomInput(shape({b.k}), seed + 2, true) : absentInput());
  if (residual) {
    in.push_back(
        randomInput(shape({b.n, b.k / 8, outExtent(b.h, b), outExtent(b.w, b), 8}), seed + 3));
  }
  return in;
}

// The blocked tactics run where the host has AVX2 and FMA: the direct one takes every node of one
// group, and a depthwise node has its own. (@p also: further tactics that take the node there.)
int32_t blockedTacticsHere(int32_t also = 0) {
  return hostCpu().has("avx2") && hostCpu().has("fma") ? 1 + also : 0;
}

// Whether the blocked Winograd tactic takes the node too: 3x3, stride 1, no dilation, one group,
// and enough tiles of 4x4 outputs or few enough kernels (winograd_blocked_tactic.cpp).
bool blockedWinogradTakes(const BlockedConv& b) {
  if (b.kernel != 3 || b.stride != 1 || b.dilation != 1 || b.groups != 1) return false;
  const int64_t tiles = b.n * ((outExtent(b.h, b) + 3) / 4) * ((outExtent(b.w, b) + 3) / 4);
  return tiles >= 8 || b.c * b.k <= 64 * 64;
}

void expectBlockedTactic(const BlockedConv& b, const ir::Attributes& attrs,
                         const std::vector<CheckInput>& in, int32_t expected) {
  const CheckResult r = checkTactics("Convolution", attrs, in);
  EXPECT_EQ(r.tactics, expected) << "C " << b.c << " K " << b.k << " " << b.h << "x" << b.w
                                 << " kernel " << b.kernel << " stride " << b.stride;
}

TEST(BlockedConvTactics, Depthwise) {
  const BlockedConv cases[] = {
      {1, 16, 16, 9, 11, 3, 1, 1, 16},   // rows end inside a step of 4 pixels
      {2, 24, 24, 8, 8, 3, 2, 1, 24},    // stride 2, batch 2
      {1, 8, 8, 7, 7, 5, 1, 2, 8},       // 5x5
      {1, 16, 16, 13, 10, 7, 2, 3, 16},  // 7x7 stride 2
      {1, 8, 8, 5, 3, 3, 1, 0, 8},       // no padding, rows shorter than a step
      {1, 32, 32, 14, 14, 3, 1, 1, 32},  // MobileNet's 14x14
  };
  uint32_t seed = 1;
  for (const BlockedConv& b : cases) {
    for (const bool bias : {false, true}) {
      expectBlockedTactic(b, attrsOf(b), inputsOf(b, seed += 4, bias, false), blockedTacticsHere());
    }
  }
}

TEST(BlockedConvTactics, DepthwiseReadsAnNchwEntryInPlace) {
  // An NCHW x (a region's entry), blocked y: the kernel transposes rows into its ring.
  const BlockedConv cases[] = {
      {1, 16, 16, 9, 11, 3, 1, 1, 16},
      {2, 24, 24, 8, 8, 3, 2, 1, 24},
      {1, 32, 32, 12, 12, 3, 1, 1, 32},
  };
  uint32_t seed = 50;
  for (const BlockedConv& b : cases) {
    for (const bool residual : {false, true}) {
      ir::Attributes attrs = attrsOf(b);
      attrs.set("epilogue.activation", ActivationType::kCLIP);
      attrs.set("epilogue.alpha", 0.0);
      attrs.set("epilogue.beta", 0.6);
      if (residual) attrs.set("epilogue.residual", int64_t{3});
      expectBlockedTactic(b, attrs, inputsOf(b, seed += 4, true, residual, true),
                          blockedTacticsHere());
    }
  }
  // The 1x1 kernel reads its x blocked only: the direct one takes an NCHW x (blocking it in its
  // padded copy).
  const BlockedConv pointwise{1, 16, 24, 5, 7, 1};
  expectBlockedTactic(pointwise, attrsOf(pointwise), inputsOf(pointwise, 70, true, false, true),
                      blockedTacticsHere());
}

TEST(BlockedConvTactics, Direct) {
  const BlockedConv cases[] = {
      {1, 16, 16, 7, 7, 3, 1, 1},        // 7x7: tiles of 6 pixels run across rows
      {2, 24, 24, 9, 8, 3, 2, 1},        // stride 2 over an odd height, batch 2; K: 2 + 1 blocks
      {1, 40, 16, 6, 6, 3, 1, 1},        // 5 input blocks: two slices, the sum through y
      {1, 16, 8, 8, 8, 3, 1, 0},         // no padding: x read in place; one output block
      {1, 8, 16, 11, 9, 5, 1, 2},        // 5x5
      {1, 8, 24, 13, 13, 7, 2, 3},       // 7x7 stride 2 (a stem)
      {1, 16, 16, 9, 9, 3, 1, 2, 1, 2},  // dilation 2
      {1, 16, 16, 9, 10, 3, 2, 0},       // stride 2 unpadded: the last column unread
      {1, 16, 32, 1, 1, 3, 1, 1},        // one pixel, every tap but the centre padding
      {0, 16, 16, 5, 5, 3, 1, 1},        // an empty batch
  };
  uint32_t seed = 400;
  for (const BlockedConv& b : cases) {
    for (const bool bias : {false, true}) {
      expectBlockedTactic(b, attrsOf(b), inputsOf(b, seed += 4, bias, false),
                          blockedTacticsHere(blockedWinogradTakes(b) ? 1 : 0));
    }
  }
}

TEST(BlockedConvTactics, DirectBlocksAnNchwEntry) {
  const BlockedConv cases[] = {{1, 16, 24, 7, 9, 3, 2, 1}, {2, 8, 8, 6, 6, 3, 1, 0}};
  uint32_t seed = 450;
  for (const BlockedConv& b : cases) {
    expectBlockedTactic(b, attrsOf(b), inputsOf(b, seed += 4, true, false, true),
                        blockedTacticsHere(blockedWinogradTakes(b) ? 1 : 0));
  }
}

TEST(BlockedConvTactics, Winograd) {
  // Batch 2 (whole blocks per thread), 64 tiles a block's L2 budget splits in two, outputs that
  // end inside a tile; channels in several blocks; 14x14 (16 tiles: products of 18 rows); an
  // NCHW entry; unpadded.
  const BlockedConv cases[] = {
      {2, 64, 64, 30, 30, 3, 1, 1},
      {1, 24, 40, 9, 11, 3, 1, 1},
      {1, 32, 32, 14, 14, 3, 1, 1},
      {1, 16, 8, 10, 10, 3, 1, 0},
  };
  uint32_t seed = 470;
  for (const BlockedConv& b : cases) {
    for (const bool nchw : {false, true}) {
      for (auto type : {ActivationType::kRELU, ActivationType::kSIGMOID}) {
        ir::Attributes attrs = attrsOf(b);
        attrs.set("epilogue.activation", type);
        attrs.set("epilogue.residual", int64_t{3});
        ASSERT_TRUE(blockedWinogradTakes(b));
        expectBlockedTactic(b, attrs, inputsOf(b, seed += 4, true, true, nchw),
                            blockedTacticsHere(1));
      }
    }
  }
}

TEST(BlockedConvTactics, Pointwise) {
  const BlockedConv cases[] = {
      {1, 16, 24, 5, 7, 1},      // K: a panel of 2 blocks and one of 1; 35 pixels: 5 tiles of 6, 5
      {2, 8, 16, 3, 3, 1},       // batch 2, 9 pixels
      {1, 264, 40, 4, 5, 1},     // C in three blocks of K; 40 = 2 + 2 + 1 blocks
      {1, 32, 8, 9, 9, 1},       // one block: tiles of 8 pixels, then 1
      {1, 16, 48, 1, 1, 1},      // one pixel
      {1, 96, 576, 7, 7, 1},     // MobileNet's 7x7 expansion
      {1, 16, 24, 9, 7, 1, 2},   // stride 2 over odd extents: the subsampled copy
      {2, 32, 16, 8, 8, 1, 2},   // stride 2, batch 2
      {1, 136, 48, 6, 6, 1, 2},  // stride 2, two blocks of K
  };
  uint32_t seed = 100;
  for (const BlockedConv& b : cases) {
    for (const bool bias : {false, true}) {
      // The 1x1 tactic and the direct one.
      expectBlockedTactic(b, attrsOf(b), inputsOf(b, seed += 4, bias, false),
                          blockedTacticsHere(1));
    }
  }
}

TEST(BlockedConvTactics, Epilogue) {
  const BlockedConv cases[] = {
      {1, 16, 16, 6, 9, 3, 1, 1, 16},  // depthwise
      {2, 24, 16, 5, 6, 1},            // pointwise (and direct)
      {1, 136, 24, 3, 5, 1},           // pointwise over two blocks of K: the sum through y
      {1, 48, 24, 7, 7, 3, 1, 1},      // direct over two slices
  };
  uint32_t seed = 200;
  for (const BlockedConv& b : cases) {
    // ReLU and clip run in the kernels, sigmoid after them.
    for (auto type : {ActivationType::kRELU, ActivationType::kCLIP, ActivationType::kSIGMOID}) {
      for (const bool residual : {false, true}) {
        ir::Attributes attrs = attrsOf(b);
        attrs.set("epilogue.activation", type);
        attrs.set("epilogue.alpha", 0.0);
        attrs.set("epilogue.beta", 0.6);
        if (residual) attrs.set("epilogue.residual", int64_t{3});
        const bool pointwise = b.kernel == 1;
        expectBlockedTactic(b, attrs, inputsOf(b, seed += 4, true, residual),
                            blockedTacticsHere(pointwise || blockedWinogradTakes(b) ? 1 : 0));
      }
    }
  }
}

TEST(BlockedConvTactics, GroupedDirect) {
  // Groups of whole blocks: a panel within its group (two blocks where the group has a whole
  // tile's outputs, else one), reading that group's input blocks.
  const BlockedConv cases[] = {
      {1, 16, 16, 6, 6, 3, 1, 1, 2},     // two groups of one block
      {1, 104, 104, 9, 9, 3, 1, 1, 13},  // RegNet: groups of 8 channels, many panels
      {1, 96, 96, 7, 7, 3, 2, 1, 12},    // stride 2
      {2, 64, 128, 6, 5, 3, 1, 1, 4},    // 16 -> 32 a group: panels of two blocks; batch 2
      {1, 48, 48, 5, 5, 1, 1, 0, 3},     // grouped 1x1
      {1, 160, 160, 4, 4, 3, 1, 1, 2},   // 80 channels a group: two slices of input blocks
  };
  uint32_t seed = 300;
  for (const BlockedConv& b : cases) {
    expectBlockedTactic(b, attrsOf(b), inputsOf(b, seed += 4, true, false), blockedTacticsHere());
  }
  // Groups of part of a block: no blocked kernel, and no NCHW one takes the node.
  const BlockedConv split{1, 16, 16, 6, 6, 3, 1, 1, 4};
  expectBlockedTactic(split, attrsOf(split), inputsOf(split, 360, true, false), 0);
}

TEST(BlockedConvTactics, ShapesAreCheckedInTheirLayout) {
  ir::Node node;
  node.name = "conv";
  node.op = "Convolution";
  const BlockedConv b{1, 16, 12, 4, 4, 1};  // K = 12: no whole blocks
  node.attrs = attrsOf(b);
  node.inputs = {0, 1};
  node.outputs = {2};
  std::vector<ir::TensorInfo> infos(2);
  infos[0].dims = shape({1, 2, 4, 4, 8});
  infos[1].dims = shape({12, 16, 1, 1});
  try {
    ir::inferNode(node, infos);
    ADD_FAILURE() << "K = 12 accepted in NCHW8c";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("blocks of 8"), std::string::npos) << e.what();
  }
  node.attrs.set("num_output", int64_t{16});
  infos[1].dims = shape({16, 16, 1, 1});
  infos[0].dims = shape({1, 16, 4, 4});  // NCHW x: read in place, y blocked
  EXPECT_TRUE(ir::inferNode(node, infos)[0].dims == shape({1, 2, 4, 4, 8}));
  infos[0].dims = shape({1, 4, 4, 4, 4});  // blocks of 4 are no NCHW8c
  try {
    ir::inferNode(node, infos);
    ADD_FAILURE() << "blocks of 4 accepted in NCHW8c";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[N, C/8, H, W, 8]"), std::string::npos) << e.what();
  }
}

TEST(ChannelBlockTactics, BothWays) {
  const Dims nchw[] = {shape({2, 16, 5, 7}), shape({1, 8, 3, 3}), shape({1, 24, 16, 16})};
  uint32_t seed = 400;
  const int32_t expected = hostCpu().has("avx2") ? 2 : 1;
  for (const Dims& d : nchw) {
    EXPECT_EQ(checkTactics("BlockChannels", {}, {randomInput(d, seed++)}).tactics, expected);
    const Dims blocked = shape({d.d[0], d.d[1] / 8, d.d[2], d.d[3], 8});
    EXPECT_EQ(checkTactics("UnblockChannels", {}, {randomInput(blocked, seed++)}).tactics,
              expected);
  }
}

TEST(ChannelBlockOps, ElementOrderAndErrors) {
  // x[0, c, h, w] = c * 100 + h * 10 + w, C = 16, 2x3 pixels.
  const Dims d = shape({1, 16, 2, 3});
  std::vector<float> x(static_cast<std::size_t>(volume(d)));
  for (int64_t c = 0; c < 16; ++c) {
    for (int64_t p = 0; p < 6; ++p)
      x[c * 6 + p] = static_cast<float>(c * 100 + (p / 3) * 10 + p % 3);
  }
  std::vector<float> blocked(x.size());
  ops::reblockChannels(reinterpret_cast<const std::byte*>(x.data()), d, sizeof(float), true,
                       reinterpret_cast<std::byte*>(blocked.data()));
  // [0, 1, 1, 2, 3]: channel 8 + 3 = 11 of pixel (1, 2).
  EXPECT_EQ(blocked[((1 * 2 + 1) * 3 + 2) * 8 + 3], 1112.f);
  std::vector<float> back(x.size());
  ops::reblockChannels(reinterpret_cast<const std::byte*>(blocked.data()), d, sizeof(float), false,
                       reinterpret_cast<std::byte*>(back.data()));
  EXPECT_EQ(back, x);

  ir::Node node;
  node.name = "to_blocked";
  node.op = "BlockChannels";
  node.inputs = {0};
  node.outputs = {1};
  std::vector<ir::TensorInfo> infos(1);
  infos[0].dims = shape({1, 12, 4, 4});
  EXPECT_THROW(ir::inferNode(node, infos), Error) << "12 channels are no whole blocks";
  node.op = "UnblockChannels";
  infos[0].dims = shape({1, 2, 4, 4});
  EXPECT_THROW(ir::inferNode(node, infos), Error) << "a rank-4 input is not blocked";
  infos[0].dims = shape({1, 2, 4, 4, 8});
  EXPECT_TRUE(ir::inferNode(node, infos)[0].dims == shape({1, 16, 4, 4}));
}

}  // namespace
}  // namespace kiln::test
