// Every constant a pass makes comes from PassContext::newConstant, which refuses one past the
// 16 MiB cap: the fold or fusion that needed it is not done and the layers run at inference. A
// constant that takes the place of the model's own weights may be as large as those.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "builder/pass_test_util.h"

namespace kiln::test {
namespace {

// x + broadcast(c): a constant of one value repeated (a stride-0 Slice) to @p rows x 1024
// floats, which constant folding would make a constant of rows x 4 KiB.
PassRun runBroadcastAdd(int64_t rows) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {rows, 1024});
  const std::vector<float> one = {1.5f};
  Tensor c = constantTensor(*net, {1, 1}, one);
  auto broadcast = net->addSlice(c, Dims{0, 0}, Dims{rows, 1024}, Dims{0, 0});
  auto add = net->addElementWise(x, broadcast.output(0), ElementWiseOperation::kSUM);
  net->markOutput(add.output(0));
  HostTensor in = randomTensor({rows, 1024}, 1);
  PassRun run = runWithPasses(builder, *net, {in}, {"constant-folding"});
  const auto expected = in.floats();
  const auto got = run.outputs.empty() ? std::vector<float>{} : run.outputs[0].floats();
  EXPECT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size() && i < expected.size(); i += 4099) {
    EXPECT_EQ(got[i], expected[i] + 1.5f) << "element " << i;
  }
  return run;
}

TEST(PassConstantLimits, FoldsAConstantOfExactlyTheCap) {
  const PassRun run = runBroadcastAdd(4096);  // 4096 x 1024 floats: 16 MiB
  EXPECT_EQ(run.count("Slice"), 0);
  EXPECT_EQ(run.count("ElementWise"), 1);
}

TEST(PassConstantLimits, LeavesALargerConstantToRunTime) {
  const PassRun run = runBroadcastAdd(4097);
  EXPECT_EQ(run.count("Slice"), 1);
  EXPECT_EQ(run.count("ElementWise"), 1);
}

// A 1x1 convolution of 2049 -> 2048 channels has 16 MiB + 8 KiB of weights, past the cap; a
// Scale after it is still folded into them, since the new weights replace the model's own.
TEST(PassConstantLimits, ConvScaleFusionRewritesWeightsLargerThanTheCap) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {1, 2049, 1, 1});
  const auto w = randomFloats(int64_t{2048} * 2049, 1, -0.05f, 0.05f);
  auto conv = net->addConvolution(x, 2048, Dims{1, 1}, floatWeights(w), Weights{});
  const auto shift = randomFloats(2048, 2), scale = randomFloats(2048, 3, 0.5f, 2.f);
  auto bn = net->addScale(conv.output(0), ScaleMode::kCHANNEL, floatWeights(shift),
                          floatWeights(scale), Weights{});
  net->markOutput(bn.output(0));
  const auto run =
      expectSameWithPass(builder, *net, {randomTensor({1, 2049, 1, 1}, 4)}, {"conv-scale-fusion"});
  ASSERT_EQ(run.layers, 1);
  EXPECT_EQ(run.ops[0], "Convolution");
}

}  // namespace
}  // namespace kiln::test
