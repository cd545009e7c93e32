// Packed attention heads (builder/attention_layout.h): multi-head attention as PyTorch exports it
// — head split Shuffles around an Attention node and a head merge after it, or one fused QKV
// projection split by a Shuffle and three Slices — runs as one Attention node that reads and
// writes [B, S, H*D] tensors (or reads the [B, S, 3*H*D] projection), with the same results.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "builder/pass_test_util.h"

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

// x [B, S, H*D] -> projections -> head splits -> attention -> head merge -> y [B, S, H*D].
void buildMultiHead(NetworkDefinition& net, const Options& options) {
  Tensor x = net.addInput("x", DataType::kFLOAT, {kBatch, kSeq, kWidth});
  Tensor mask = net.addInput("mask", DataType::kFLOAT, {kBatch, 1, 1, kSeq});
  auto project = [&](uint32_t seed, std::span<const int32_t> perm) {
    const std::vector<float> values = randomFloats(kWidth * kWidth, seed, -0.5f, 0.5f);
    auto product = net.addMatrixMultiply(x, MatrixOperation::kNONE,
                                         constantTensor(net, {1, kWidth, kWidth}, values),
                                         MatrixOperation::kNONE);
    auto split = net.addShuffle(product.output(0));
    split.setReshapeDimensions({kBatch, kSeq, kHeads, kHead});
    split.setSecondTranspose(perm);
    return split.output(0);
  };
  const std::array<int32_t, 4> heads = {0, 2, 1, 3};
  const std::array<int32_t, 4> keysByDim = {0, 2, 3, 1};
  Tensor q = project(11, heads);
  Tensor k = project(12, options.transposedKeys ? std::span<const int32_t>(heads)
                                                : std::span<const int32_t>(keysByDim));
  Tensor v = project(13, heads);
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

// x -> one projection [B, S, 3*H*D] -> reshape [B, S, 3, H, D], permute to [3, B, H, S, D] ->
// three Slices squeezed to [B, H, S, D] (K also transposed unless the product transposes it) ->
// attention -> head merge -> y: what PyTorch exports for qkv(x).reshape(...).permute(2, 0, 3, 1,
// 4) and q, k, v = that.
void buildFusedQkv(NetworkDefinition& net, const Options& options) {
  Tensor x = net.addInput("x", DataType::kFLOAT, {kBatch, kSeq, kWidth});
  Tensor mask = net.addInput("mask", DataType::kFLOAT, {kBatch, 1, 1, kSeq});
  const std::vector<float> values = randomFloats(kWidth * 3 * kWidth, 21, -0.5f, 0.5f);
  auto qkv = net.addMatrixMultiply(x, MatrixOperation::kNONE,
                                   constantTensor(net, {1, kWidth, 3 * kWidth}, values),
                                   MatrixOperation::kNONE);
  auto split = net.addShuffle(qkv.output(0));
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

PassRun runAttention(void (*build)(NetworkDefinition&, const Options&), const Options& options) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  build(*net, options);
  return expectSameWithPass(
      builder, *net,
      {randomTensor({kBatch, kSeq, kWidth}, 1), randomTensor({kBatch, 1, 1, kSeq}, 2, -3.f, 0.f)},
      {"attention-fusion"});
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

}  // namespace
}  // namespace kiln::test
