// Packed attention heads (builder/attention_layout.h): multi-head attention as PyTorch exports it
// — head split Shuffles around an Attention node and a head merge after it, or one fused QKV
// projection split by a Shuffle and three Slices — runs as one Attention node that reads and
// writes [B, S, H*D] tensors (or reads the [B, S, 3*H*D] projection, also when it is sliced in
// three along its last axis, or taken apart by constant indices), with the same results.
#include "builder/attention_layout.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "builder/pass_test_util.h"
#include "graph_test_util.h"
#include "ir/op_registry.h"

namespace kiln::test {
namespace {

constexpr int64_t kBatch = 2;
constexpr int64_t kSeq = 5;
constexpr int64_t kHeads = 3;
constexpr int64_t kHead = 4;
constexpr int64_t kWidth = kHeads * kHead;

struct Options {
  bool transposedKeys = false;  // K split to [B, H, S, D] and transposed by the product
  bool outputAlsoRead = false;  // the attention output has a second reader
};

// The attention of the split heads q, k, v (k transposed by the product with transposedKeys),
// scaled and masked, then the head merge to y [B, S, H*D] (and the unmerged output too with
// outputAlsoRead).
void attendAndMerge(NetworkDefinition& net, Tensor q, Tensor k, Tensor v, Tensor mask,
                    const Options& options) {
  auto qk = net.addMatrixMultiply(
      q, MatrixOperation::kNONE, k,
      options.transposedKeys ? MatrixOperation::kTRANSPOSE : MatrixOperation::kNONE);
  auto scaled = net.addElementWise(qk.output(0), constantTensor(net, {1, 1, 1, 1}, {2.f}),
                                   ElementWiseOperation::kDIV);
  auto masked = net.addElementWise(scaled.output(0), mask, ElementWiseOperation::kSUM);
  auto softmax = net.addSoftMax(masked.output(0));
  softmax.setAxis(3);
  auto pv =
      net.addMatrixMultiply(softmax.output(0), MatrixOperation::kNONE, v, MatrixOperation::kNONE);
  auto merge = net.addShuffle(pv.output(0));
  const std::array<int32_t, 4> back = {0, 2, 1, 3};
  merge.setFirstTranspose(back);
  merge.setReshapeDimensions({kBatch, kSeq, kWidth});
  net.markOutput(merge.output(0));
  if (options.outputAlsoRead) net.markOutput(pv.output(0));
}

// [B, S, H*D] -> [B, H, S, D] (with keysByDim [B, H, D, S]), as PyTorch splits heads.
Tensor splitHeads(NetworkDefinition& net, Tensor t, bool keysByDim) {
  auto split = net.addShuffle(t);
  split.setReshapeDimensions({kBatch, kSeq, kHeads, kHead});
  const std::array<int32_t, 4> heads = {0, 2, 1, 3};
  const std::array<int32_t, 4> byDim = {0, 2, 3, 1};
  split.setSecondTranspose(keysByDim ? byDim : heads);
  return split.output(0);
}

// x [B, S, H*D] times a random constant [H*D, parts * H*D] (seed @p seed).
Tensor project(NetworkDefinition& net, Tensor x, int64_t parts, uint32_t seed) {
  const std::vector<float> values = randomFloats(kWidth * parts * kWidth, seed, -0.5f, 0.5f);
  return net
      .addMatrixMultiply(x, MatrixOperation::kNONE,
                         constantTensor(net, {1, kWidth, parts * kWidth}, values),
                         MatrixOperation::kNONE)
      .output(0);
}

// x [B, S, H*D] -> projections -> head splits -> attention -> head merge -> y [B, S, H*D].
void buildMultiHead(NetworkDefinition& net, const Options& options) {
  Tensor x = net.addInput("x", DataType::kFLOAT, {kBatch, kSeq, kWidth});
  Tensor mask = net.addInput("mask", DataType::kFLOAT, {kBatch, 1, 1, kSeq});
  Tensor q = splitHeads(net, project(net, x, 1, 11), false);
  Tensor k = splitHeads(net, project(net, x, 1, 12), !options.transposedKeys);
  Tensor v = splitHeads(net, project(net, x, 1, 13), false);
  attendAndMerge(net, q, k, v, mask, options);
}

// x -> one projection [B, S, 3*H*D] -> reshape [B, S, 3, H, D], permute to [3, B, H, S, D] ->
// three Slices squeezed to [B, H, S, D] (K also transposed unless the product transposes it) ->
// attention -> head merge -> y: what PyTorch exports for qkv(x).reshape(...).permute(2, 0, 3, 1,
// 4) and q, k, v = that.
void buildFusedQkv(NetworkDefinition& net, const Options& options) {
  Tensor x = net.addInput("x", DataType::kFLOAT, {kBatch, kSeq, kWidth});
  Tensor mask = net.addInput("mask", DataType::kFLOAT, {kBatch, 1, 1, kSeq});
  auto split = net.addShuffle(project(net, x, 3, 21));
  split.setReshapeDimensions({kBatch, kSeq, 3, kHeads, kHead});
  const std::array<int32_t, 5> parts = {2, 0, 3, 1, 4};
  split.setSecondTranspose(parts);
  auto part = [&](int64_t index, bool keysByDim) {
    auto slice = net.addSlice(split.output(0), {index, 0, 0, 0, 0},
                              {1, kBatch, kHeads, kSeq, kHead}, {1, 1, 1, 1, 1});
    auto squeeze = net.addShuffle(slice.output(0));
    squeeze.setReshapeDimensions({kBatch, kHeads, kSeq, kHead});
    const std::array<int32_t, 4> swap = {0, 1, 3, 2};
    if (keysByDim) squeeze.setSecondTranspose(swap);
    return squeeze.output(0);
  };
  Tensor q = part(0, false);
  Tensor k = part(1, !options.transposedKeys);
  Tensor v = part(2, false);
  attendAndMerge(net, q, k, v, mask, options);
}

// GPT-2's form: one projection [B, S, 3*H*D] sliced in three along its last axis, each third
// split into heads as buildMultiHead's projections are.
void buildThirds(NetworkDefinition& net, const Options& options) {
  Tensor x = net.addInput("x", DataType::kFLOAT, {kBatch, kSeq, kWidth});
  Tensor mask = net.addInput("mask", DataType::kFLOAT, {kBatch, 1, 1, kSeq});
  const Tensor qkv = project(net, x, 3, 31);
  auto third = [&](int64_t index, bool keysByDim) {
    auto slice = net.addSlice(qkv, {0, 0, index * kWidth}, {kBatch, kSeq, kWidth}, {1, 1, 1});
    return splitHeads(net, slice.output(0), keysByDim);
  };
  Tensor q = third(0, false);
  Tensor k = third(1, !options.transposedKeys);
  Tensor v = third(2, false);
  attendAndMerge(net, q, k, v, mask, options);
}

// The fused projection's parts taken by index, as older vision transformers do (q, k, v =
// qkv[0], qkv[1], qkv[2]): Gathers of a constant scalar index along the leading 3, K then
// transposed on its own unless the product transposes it.
void buildIndexedQkv(NetworkDefinition& net, const Options& options) {
  static const std::array<int32_t, 3> kIndices = {0, 1, 2};
  Tensor x = net.addInput("x", DataType::kFLOAT, {kBatch, kSeq, kWidth});
  Tensor mask = net.addInput("mask", DataType::kFLOAT, {kBatch, 1, 1, kSeq});
  auto split = net.addShuffle(project(net, x, 3, 41));
  split.setReshapeDimensions({kBatch, kSeq, 3, kHeads, kHead});
  const std::array<int32_t, 5> parts = {2, 0, 3, 1, 4};
  split.setSecondTranspose(parts);
  auto part = [&](std::size_t index, bool keysByDim) {
    Tensor at = net.addConstant(Dims{}, Weights{DataType::kINT32, &kIndices[index], 1}).output(0);
    Tensor taken = net.addGather(split.output(0), at, 0).output(0);
    if (!keysByDim) return taken;
    auto transpose = net.addShuffle(taken);
    const std::array<int32_t, 4> swap = {0, 1, 3, 2};
    transpose.setFirstTranspose(swap);
    return transpose.output(0);
  };
  Tensor q = part(0, false);
  Tensor k = part(1, !options.transposedKeys);
  Tensor v = part(2, false);
  attendAndMerge(net, q, k, v, mask, options);
}

PassRun runAttention(void (*build)(NetworkDefinition&, const Options&), const Options& options,
                     const std::vector<std::string>& passes = {"attention-fusion"}) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  build(*net, options);
  return expectSameWithPass(
      builder, *net,
      {randomTensor({kBatch, kSeq, kWidth}, 1), randomTensor({kBatch, 1, 1, kSeq}, 2, -3.f, 0.f)},
      passes);
}

PassRun runMultiHead(const Options& options) {
  return runAttention(buildMultiHead, options);
}

TEST(AttentionLayout, HeadSplitsAndMergeBecomePackedHeads) {
  const PassRun run = runMultiHead({});
  EXPECT_EQ(run.count("Attention"), 1);
  EXPECT_EQ(run.count("Shuffle"), 0);
}

TEST(AttentionLayout, TransposedKeysArePackedToo) {
  const PassRun run = runMultiHead({.transposedKeys = true});
  EXPECT_EQ(run.count("Attention"), 1);
  EXPECT_EQ(run.count("Shuffle"), 0);
}

TEST(AttentionLayout, OutputReadElsewhereKeepsTheHeadLayout) {
  const PassRun run = runMultiHead({.outputAlsoRead = true});
  EXPECT_EQ(run.count("Attention"), 1);
  EXPECT_EQ(run.count("Shuffle"), 4);
}

TEST(AttentionLayout, FusedQkvProjectionIsReadInPlace) {
  const PassRun run = runAttention(buildFusedQkv, {});
  EXPECT_EQ(run.count("Attention"), 1);
  EXPECT_EQ(run.count("Shuffle"), 0);
  EXPECT_EQ(run.count("Slice"), 0);
}

TEST(AttentionLayout, FusedQkvWithTransposedKeys) {
  const PassRun run = runAttention(buildFusedQkv, {.transposedKeys = true});
  EXPECT_EQ(run.count("Attention"), 1);
  EXPECT_EQ(run.count("Shuffle"), 0);
  EXPECT_EQ(run.count("Slice"), 0);
}

TEST(AttentionLayout, FusedQkvOutputReadElsewhereKeepsTheHeadLayout) {
  const PassRun run = runAttention(buildFusedQkv, {.outputAlsoRead = true});
  EXPECT_EQ(run.count("Attention"), 1);
  EXPECT_EQ(run.count("Slice"), 3);
}

TEST(AttentionLayout, IndexedQkvProjectionIsReadInPlace) {
  for (const bool transposedKeys : {false, true}) {
    const PassRun run = runAttention(buildIndexedQkv, {.transposedKeys = transposedKeys},
                                     {"gather-slicing", "shuffle-folding", "attention-fusion"});
    EXPECT_EQ(run.count("Attention"), 1);
    EXPECT_EQ(run.count("Gather"), 0);
    EXPECT_EQ(run.count("Shuffle"), 0);
    EXPECT_EQ(run.count("Slice"), 0);
  }
}

TEST(AttentionLayout, ThirdsOfOneProjectionAreReadInPlace) {
  for (const bool transposedKeys : {false, true}) {
    const PassRun run = runAttention(buildThirds, {.transposedKeys = transposedKeys});
    EXPECT_EQ(run.count("Attention"), 1);
    EXPECT_EQ(run.count("Shuffle"), 0);
    EXPECT_EQ(run.count("Slice"), 0);
  }
}

// The thirds' graph at the IR level: qkv [B, S, 3*H*D] -> three Slices -> head splits ->
// Attention -> head merge.
ir::Graph thirdsGraph() {
  ir::Graph g;
  g.name = "thirds";
  const ir::ValueId qkv = g.addValue("qkv", DataType::kFLOAT, dimsOf({kBatch, kSeq, 3 * kWidth}));
  g.inputs.push_back(qkv);
  std::array<ir::ValueId, 3> parts{};
  for (int64_t i = 0; i < 3; ++i) {
    const std::string name = "part" + std::to_string(i);
    const ir::NodeId slice = g.addNode(name + "_slice", "Slice", {qkv}, 1);
    g.node(slice).attrs.set("start", dimsOf({0, 0, i * kWidth}));
    g.node(slice).attrs.set("size", dimsOf({kBatch, kSeq, kWidth}));
    const ir::NodeId split = g.addNode(name + "_split", "Shuffle", {g.node(slice).outputs[0]}, 1);
    g.node(split).attrs.set("reshape", dimsOf({kBatch, kSeq, kHeads, kHead}));
    g.node(split).attrs.set("second_perm", std::vector<int64_t>{0, 2, 1, 3});
    parts[static_cast<std::size_t>(i)] = g.node(split).outputs[0];
  }
  const ir::NodeId attention =
      g.addNode("attention", "Attention", {parts[0], parts[1], parts[2]}, 1);
  g.node(attention).attrs.set("transpose_k", int64_t{1});
  const ir::NodeId merge = g.addNode("merge", "Shuffle", {g.node(attention).outputs[0]}, 1);
  g.node(merge).attrs.set("first_perm", std::vector<int64_t>{0, 2, 1, 3});
  g.node(merge).attrs.set("reshape", dimsOf({kBatch, kSeq, kWidth}));
  g.value(g.node(merge).outputs[0]).name = "y";
  g.outputs.push_back(g.node(merge).outputs[0]);
  ir::inferShapes(g);
  return g;
}

int32_t countOps(const ir::Graph& g, std::string_view op) {
  int32_t n = 0;
  for (const ir::Node& node : g.nodes) n += node.op == op ? 1 : 0;
  return n;
}

// A backend that refuses packed QKV (the GPU's fused kernel) still gets packed heads: the three
// slice copies stay, the head transposes go.
TEST(AttentionLayout, RefusedPackedQkvFallsBackToPackedHeads) {
  CapturingLogger logger;
  ir::Graph g = thirdsGraph();
  const builder::ReducedSupport noPackedQkv =
      [](const ir::Node& node, std::span<const ir::TensorInfo>, std::span<const ir::TensorInfo>) {
        return node.attrs.getInt("packed_qkv", 0) == 0;
      };
  EXPECT_EQ(builder::packAttentionHeads(g, noPackedQkv, Reporter(logger)), 1);
  EXPECT_EQ(countOps(g, "Slice"), 3);
  EXPECT_EQ(countOps(g, "Shuffle"), 0);
  for (const ir::Node& node : g.nodes) {
    if (node.op != "Attention") continue;
    EXPECT_EQ(node.attrs.getInt("heads", 0), kHeads);
    EXPECT_EQ(node.attrs.getInt("packed_qkv", 0), 0);
  }

  // Taken as it is where the backend reads packed QKV; a later profile follows the first's form.
  ir::Graph packed = thirdsGraph();
  const builder::ReducedSupport every = [](const ir::Node&, std::span<const ir::TensorInfo>,
                                           std::span<const ir::TensorInfo>) { return true; };
  EXPECT_EQ(builder::packAttentionHeads(packed, every, Reporter(logger)), 1);
  EXPECT_EQ(countOps(packed, "Slice"), 0);
  ir::Graph later = thirdsGraph();
  EXPECT_EQ(builder::packAttentionHeads(later, every, Reporter(logger), &g), 1);
  EXPECT_EQ(countOps(later, "Slice"), 3);
}

}  // namespace
}  // namespace kiln::test
