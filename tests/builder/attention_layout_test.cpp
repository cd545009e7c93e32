// Packed attention heads (builder/attention_layout.h): multi-head attention as PyTorch exports it
// — head split Shuffles around an Attention node and a head merge after it — runs as one
// Attention node that reads and writes [B, S, H*D] tensors, with the same results.
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

PassRun runMultiHead(const Options& options) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  buildMultiHead(*net, options);
  return expectSameWithPass(
      builder, *net,
      {randomTensor({kBatch, kSeq, kWidth}, 1), randomTensor({kBatch, 1, 1, kSeq}, 2, -3.f, 0.f)},
      {"attention-fusion"});
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

}  // namespace
}  // namespace kiln::test
