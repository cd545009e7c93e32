// The CPU's channel-blocked layout step (builder/channel_blocking.h) on small graphs: which
// convolutions move to NCHW8c, the reformats at the region's edges (one per tensor and way),
// graph inputs and outputs kept NCHW under their names, 1x1 regions that pay without a
// depthwise convolution, direct windows (stride 2, 7x7 outputs, 5x5) joining a region while
// Winograd's stay NCHW, an NCHW entry read by a direct convolution, concatenations along the
// channels inside a region (and at every batch of an engine), pools fed by a blocked node,
// regions left alone (shallow 1x1
// chains, channels in no whole blocks, no blocked kernels on the host), later profiles following
// the first; the same outputs as the NCHW graph on the reference kernels. Then a MobileNet-like
// block built through the API: fused, blocked, and equal to the unfused engine.
#include "builder/channel_blocking.h"

#include <gtest/gtest.h>

#include <array>
#include <initializer_list>
#include <string>
#include <vector>

#include "builder/pass_test_util.h"
#include "core/cpu_info.h"
#include "graph_test_util.h"
#include "ir/op_registry.h"
#include "kiln/kiln.h"
#include "ops/window_util.h"
#include "runtime/engine_impl.h"

namespace kiln::builder {
namespace {

using test::CapturingLogger;
using test::count;
using test::dimsOf;
using test::floatWeights;
using test::nodeNamed;
using test::randomConstant;
using test::runReference;

// A convolution of @p kernel x @p kernel (padding kernel / 2) from @p channels to @p outputs.
ir::NodeId conv(ir::Graph& g, const std::string& name, ir::ValueId x, int64_t channels,
                int64_t outputs, int64_t kernel, uint32_t seed, int64_t groups = 1) {
  const ir::ValueId w =
      randomConstant(g, name + "_w", dimsOf({outputs, channels / groups, kernel, kernel}), seed);
  const ir::ValueId b = randomConstant(g, name + "_b", dimsOf({outputs}), seed + 1);
  const ir::NodeId n = g.addNode(name, "Convolution", {x, w, b}, 1);
  auto& attrs = g.node(n).attrs;
  attrs.set("num_output", outputs);
  attrs.set("kernel", dimsOf({kernel, kernel}));
  attrs.set("pre_padding", dimsOf({kernel / 2, kernel / 2}));
  attrs.set("post_padding", dimsOf({kernel / 2, kernel / 2}));
  attrs.set("groups", groups);
  return n;
}

// An empty graph @p name with the float input "x" of @p dims.
ir::Graph graphWithInput(const std::string& name, std::initializer_list<int64_t> dims) {
  ir::Graph g;
  g.name = name;
  g.inputs.push_back(g.addValue("x", DataType::kFLOAT, dimsOf(dims)));
  return g;
}

// The outputs of @p nodes become the graph's outputs y, z, ...; then the shapes are inferred.
void markOutputs(ir::Graph& g, std::initializer_list<ir::NodeId> nodes) {
  char name = 'y';
  for (const ir::NodeId n : nodes) {
    const ir::ValueId v = g.node(n).outputs[0];
    g.value(v).name = std::string(1, name++);
    g.outputs.push_back(v);
  }
  ir::inferShapes(g);
}

// An inverted residual block as the fusions leave it: x [1, C, 10, 10] -> expand 1x1 (2C, ReLU)
// -> depthwise 3x3 (clip) -> project 1x1 (C) + x = y; z = relu(y). Graph outputs y and z.
ir::Graph invertedResidual(int64_t channels = 16, bool depthwise = true) {
  ir::Graph g;
  g.name = "block";
  const ir::ValueId x = g.addValue("x", DataType::kFLOAT, dimsOf({1, channels, 10, 10}));
  g.inputs.push_back(x);
  const ir::NodeId expand = conv(g, "expand", x, channels, 2 * channels, 1, 1);
  g.node(expand).attrs.set("epilogue.activation", ActivationType::kRELU);
  const ir::NodeId dw = conv(g, "dw", g.node(expand).outputs[0], 2 * channels, 2 * channels,
                             depthwise ? 3 : 1, 3, depthwise ? 2 * channels : 1);
  g.node(dw).attrs.set("epilogue.activation", ActivationType::kCLIP);
  g.node(dw).attrs.set("epilogue.alpha", 0.0);
  g.node(dw).attrs.set("epilogue.beta", 6.0);
  const ir::NodeId project =
      conv(g, "project", g.node(dw).outputs[0], 2 * channels, channels, 1, 5);
  g.node(project).inputs.push_back(x);
  g.node(project).attrs.set("epilogue.residual", int64_t{3});
  const ir::ValueId y = g.node(project).outputs[0];
  g.value(y).name = "y";
  const ir::NodeId relu = g.addNode("relu", "Activation", {y}, 1);
  g.node(relu).attrs.set("type", ActivationType::kRELU);
  g.value(g.node(relu).outputs[0]).name = "z";
  g.outputs = {y, g.node(relu).outputs[0]};
  ir::inferShapes(g);
  return g;
}

void expectSameOutputs(const ir::Graph& original, const ir::Graph& blocked) {
  const std::vector<float> x =
      test::randomFloats(volume(original.value(original.inputs[0]).dims), 9);
  const auto want = runReference(original, x);
  const auto got = runReference(blocked, x);
  ASSERT_EQ(want.size(), got.size());
  for (const auto& [name, values] : want) {
    ASSERT_EQ(got.count(name), 1u) << name;
    test::expectClose(got.at(name), values, 1e-5, 1e-4, name);
  }
}

TEST(ChannelBlocking, InvertedResidualRunsBlockedWithOneReformatPerEdge) {
  const ir::Graph original = invertedResidual();
  ir::Graph g = original;
  CapturingLogger logger;
  const BlockingSummary s = assignBlockedChannels(g, true, Reporter(logger));
  EXPECT_EQ(s.regions, 1);
  EXPECT_EQ(s.convolutions, 3);
  // x in once (for the expansion and the residual), y out once (graph output and relu).
  EXPECT_EQ(s.reformats, 2);
  EXPECT_EQ(count(g, "BlockChannels"), 1);
  EXPECT_EQ(count(g, "UnblockChannels"), 1);
  for (const char* name : {"expand", "dw", "project"}) {
    const ir::Node* node = nodeNamed(g, name);
    ASSERT_NE(node, nullptr);
    EXPECT_EQ(ops::layoutOf(node->attrs), ops::Layout::kChannelsBlocked) << name;
    // Weights stay KCRS; x and y are [N, C/8, H, W, 8].
    EXPECT_EQ(g.value(node->inputs[1]).dims.nbDims, 4) << name;
    EXPECT_EQ(g.value(node->outputs[0]).dims.nbDims, 5) << name;
  }
  EXPECT_TRUE(g.value(nodeNamed(g, "dw")->outputs[0]).dims == dimsOf({1, 4, 10, 10, 8}));
  EXPECT_EQ(ops::layoutOf(nodeNamed(g, "relu")->attrs), ops::Layout::kChannelsFirst);

  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.value(g.inputs[0]).name, "x");
  ASSERT_EQ(g.outputs.size(), 2u);
  EXPECT_EQ(g.value(g.outputs[0]).name, "y");
  EXPECT_TRUE(g.value(g.outputs[0]).dims == dimsOf({1, 16, 10, 10}));
  EXPECT_EQ(g.value(g.outputs[1]).name, "z");
  expectSameOutputs(original, g);
  EXPECT_TRUE(logger.hasMessage(Severity::kINFO, "channel-blocked layout: 3 convolutions"));
}

TEST(ChannelBlocking, ADepthwiseConvolutionReadsItsEntryInPlace) {
  // x [1, 16, 10, 10] -> depthwise 3x3 -> 1x1 (32) = y: x is read NCHW by the depthwise
  // convolution (no BlockChannels), y leaves through one UnblockChannels.
  ir::Graph original;
  const ir::ValueId x = original.addValue("x", DataType::kFLOAT, dimsOf({1, 16, 10, 10}));
  original.inputs.push_back(x);
  const ir::NodeId dw = conv(original, "dw", x, 16, 16, 3, 1, 16);
  const ir::NodeId pw = conv(original, "pw", original.node(dw).outputs[0], 16, 32, 1, 3);
  original.value(original.node(pw).outputs[0]).name = "y";
  original.outputs.push_back(original.node(pw).outputs[0]);
  ir::inferShapes(original);
  ir::Graph g = original;
  CapturingLogger logger;
  const BlockingSummary s = assignBlockedChannels(g, true, Reporter(logger));
  EXPECT_EQ(s.convolutions, 2);
  EXPECT_EQ(s.reformats, 1);
  EXPECT_EQ(count(g, "BlockChannels"), 0);
  EXPECT_EQ(g.value(nodeNamed(g, "dw")->inputs[0]).dims.nbDims, 4);
  EXPECT_EQ(g.value(nodeNamed(g, "dw")->outputs[0]).dims.nbDims, 5);
  expectSameOutputs(original, g);
}

TEST(ChannelBlocking, ShallowOneByOneChainsStayNchw) {
  // 16 -> 32 -> 32 -> 16: 64 multiply-adds per element the reformats would move.
  ir::Graph g = invertedResidual(16, false);
  CapturingLogger logger;
  const BlockingSummary s = assignBlockedChannels(g, true, Reporter(logger));
  EXPECT_EQ(s.convolutions, 0);
  EXPECT_EQ(count(g, "BlockChannels"), 0);
}

TEST(ChannelBlocking, DeepOneByOneChainsPayWithoutADepthwiseConvolution) {
  // 64 -> 128 -> 128 -> 64: 256 multiply-adds per element of x and y, the two reformats.
  const ir::Graph original = invertedResidual(64, false);
  ir::Graph g = original;
  CapturingLogger logger;
  const BlockingSummary s = assignBlockedChannels(g, true, Reporter(logger));
  EXPECT_EQ(s.convolutions, 3);
  EXPECT_EQ(s.reformats, 2);
  expectSameOutputs(original, g);
}

TEST(ChannelBlocking, DirectWindowsJoinTheRegionWinogradOnesStayNchw) {
  // x [1, 64, 14, 14] -> 1x1 (64) -> 3x3 stride 2 (7x7) -> 3x3 (7x7) -> 1x1 (128) = y, and a
  // 3x3 over x at 14x14 = z: the 7x7 windows run the blocked direct kernel, the 14x14 one (of 64
  // input channels) stays NCHW for Winograd.
  ir::Graph g = graphWithInput("direct", {1, 64, 14, 14});
  const ir::ValueId x = g.inputs[0];
  const ir::NodeId reduce = conv(g, "reduce", x, 64, 64, 1, 1);
  g.node(reduce).attrs.set("epilogue.activation", ActivationType::kRELU);
  const ir::NodeId down = conv(g, "down", g.node(reduce).outputs[0], 64, 64, 3, 3);
  g.node(down).attrs.set("stride", dimsOf({2, 2}));
  const ir::NodeId mid = conv(g, "mid", g.node(down).outputs[0], 64, 64, 3, 5);
  const ir::NodeId expand = conv(g, "expand", g.node(mid).outputs[0], 64, 128, 1, 7);
  const ir::NodeId wide = conv(g, "wide", x, 64, 32, 3, 9);
  markOutputs(g, {expand, wide});
  const ir::Graph original = g;
  CapturingLogger logger;
  const BlockingSummary s = assignBlockedChannels(g, true, Reporter(logger));
  EXPECT_EQ(s.convolutions, 4);
  for (const char* name : {"reduce", "down", "mid", "expand"}) {
    EXPECT_EQ(ops::layoutOf(nodeNamed(g, name)->attrs), ops::Layout::kChannelsBlocked) << name;
  }
  EXPECT_EQ(ops::layoutOf(nodeNamed(g, "wide")->attrs), ops::Layout::kChannelsFirst);
  // In: x through one reformat (the 1x1 reads blocked only); out: y.
  EXPECT_EQ(count(g, "BlockChannels"), 1);
  EXPECT_EQ(count(g, "UnblockChannels"), 1);
  expectSameOutputs(original, g);
}

TEST(ChannelBlocking, WideWinogradConvolutionsJoinTheRegionFromTwentyEightSquare) {
  // A bottleneck at 28x28: 1x1 (64 -> 64) -> 3x3 (64 -> 64) -> 1x1 (64 -> 64) + x. The
  // 3x3 joins the region (the blocked Winograd takes it): no reformats between the three. A 3x3
  // at 28x28 to 32 channels, beside them on x, stays NCHW.
  ir::Graph g = graphWithInput("bottleneck", {1, 64, 28, 28});
  const ir::ValueId x = g.inputs[0];
  const ir::NodeId reduce = conv(g, "reduce", x, 64, 64, 1, 1);
  g.node(reduce).attrs.set("epilogue.activation", ActivationType::kRELU);
  const ir::NodeId mid = conv(g, "mid", g.node(reduce).outputs[0], 64, 64, 3, 3);
  g.node(mid).attrs.set("epilogue.activation", ActivationType::kRELU);
  const ir::NodeId expand = conv(g, "expand", g.node(mid).outputs[0], 64, 64, 1, 5);
  g.node(expand).inputs.push_back(x);
  g.node(expand).attrs.set("epilogue.residual", int64_t{3});
  const ir::NodeId shallow = conv(g, "shallow", x, 64, 32, 3, 7);
  markOutputs(g, {expand, shallow});
  const ir::Graph original = g;
  CapturingLogger logger;
  const BlockingSummary s = assignBlockedChannels(g, true, Reporter(logger));
  EXPECT_EQ(s.convolutions, 3);
  for (const char* name : {"reduce", "mid", "expand"}) {
    EXPECT_EQ(ops::layoutOf(nodeNamed(g, name)->attrs), ops::Layout::kChannelsBlocked) << name;
  }
  EXPECT_EQ(ops::layoutOf(nodeNamed(g, "shallow")->attrs), ops::Layout::kChannelsFirst);
  // x in (the 1x1 reads blocked only; the residual shares the reformat), y out.
  EXPECT_EQ(count(g, "BlockChannels"), 1);
  EXPECT_EQ(count(g, "UnblockChannels"), 1);
  expectSameOutputs(original, g);
}

TEST(ChannelBlocking, DirectConvolutionsBlockAnNchwEntryInTheirCopy) {
  // x [1, 16, 8, 8] -> 5x5 (32) -> 1x1 (64) = y: the 5x5 reads x as it is.
  ir::Graph g = graphWithInput("entry", {1, 16, 8, 8});
  const ir::NodeId first = conv(g, "first", g.inputs[0], 16, 32, 5, 11);
  const ir::NodeId second = conv(g, "second", g.node(first).outputs[0], 32, 64, 1, 13);
  markOutputs(g, {second});
  const ir::Graph original = g;
  CapturingLogger logger;
  const BlockingSummary s = assignBlockedChannels(g, true, Reporter(logger));
  EXPECT_EQ(s.convolutions, 2);
  EXPECT_EQ(count(g, "BlockChannels"), 0);
  EXPECT_EQ(g.value(nodeNamed(g, "first")->inputs[0]).dims.nbDims, 4);
  expectSameOutputs(original, g);
}

// x [1, 64, 13, 13] -> squeeze 1x1 (16) -> expand 1x1 (64) and 3x3 (64) -> concatenation (128)
// -> 1x1 (64) = y: SqueezeNet's fire module.
ir::Graph fireModule() {
  ir::Graph g = graphWithInput("fire", {1, 64, 13, 13});
  const ir::NodeId squeeze = conv(g, "squeeze", g.inputs[0], 64, 16, 1, 21);
  const ir::ValueId s = g.node(squeeze).outputs[0];
  const ir::NodeId e1 = conv(g, "e1", s, 16, 64, 1, 23);
  const ir::NodeId e3 = conv(g, "e3", s, 16, 64, 3, 25);
  const ir::NodeId cat =
      g.addNode("cat", "Concatenation", {g.node(e1).outputs[0], g.node(e3).outputs[0]}, 1);
  const ir::NodeId out = conv(g, "out", g.node(cat).outputs[0], 128, 64, 1, 27);
  markOutputs(g, {out});
  return g;
}

TEST(ChannelBlocking, ChannelConcatenationsJoinTheRegion) {
  const ir::Graph original = fireModule();
  ir::Graph g = original;
  CapturingLogger logger;
  const BlockingSummary s = assignBlockedChannels(g, true, Reporter(logger));
  EXPECT_EQ(s.convolutions, 4);
  EXPECT_EQ(s.reformats, 2);
  const ir::Node* cat = nodeNamed(g, "cat");
  EXPECT_EQ(g.value(cat->outputs[0]).dims, dimsOf({1, 16, 13, 13, 8}));
  EXPECT_EQ(cat->attrs.getInt("axis", 0), 1);
  EXPECT_FALSE(cat->attrs.has(ops::kLayoutAttr));  // the planner writes its inputs in place
  expectSameOutputs(original, g);
  // A later profile follows: the concatenation blocked with the convolutions, and alone not.
  ir::Graph later = fireModule();
  assignBlockedChannels(later, true, Reporter(logger), &g);
  EXPECT_EQ(later.value(nodeNamed(later, "cat")->outputs[0]).dims.nbDims, 5);
  ir::Graph unblocked = fireModule();
  ir::Graph alone = fireModule();
  assignBlockedChannels(alone, true, Reporter(logger), &unblocked);
  EXPECT_EQ(alone.value(nodeNamed(alone, "cat")->outputs[0]).dims.nbDims, 4);
}

TEST(ChannelBlocking, PoolsJoinWhereABlockedNodeFeedsThem) {
  // x [1, 64, 32, 32] -> max pool (NCHW: x is the graph's) -> 1x1 (256) -> max pool 3x3 stride 2
  // (ROUND_UP) -> 1x1 (256) = y: the second pool runs blocked between the convolutions.
  ir::Graph g = graphWithInput("pools", {1, 64, 32, 32});
  const auto pool = [&](const std::string& name, ir::ValueId in) {
    const ir::NodeId n = g.addNode(name, "Pooling", {in}, 1);
    auto& attrs = g.node(n).attrs;
    attrs.set("type", PoolingType::kMAX);
    attrs.set("window", dimsOf({3, 3}));
    attrs.set("stride", dimsOf({2, 2}));
    attrs.set("padding_mode", PaddingMode::kEXPLICIT_ROUND_UP);
    return g.node(n).outputs[0];
  };
  const ir::ValueId p1 = pool("p1", g.inputs[0]);
  const ir::NodeId a = conv(g, "a", p1, 64, 256, 1, 31);
  const ir::ValueId p2 = pool("p2", g.node(a).outputs[0]);
  const ir::NodeId b = conv(g, "b", p2, 256, 256, 1, 33);
  markOutputs(g, {b});
  const ir::Graph original = g;
  CapturingLogger logger;
  const BlockingSummary s = assignBlockedChannels(g, true, Reporter(logger));
  EXPECT_EQ(s.convolutions, 2);
  EXPECT_EQ(ops::layoutOf(nodeNamed(g, "p1")->attrs), ops::Layout::kChannelsFirst);
  EXPECT_EQ(ops::layoutOf(nodeNamed(g, "p2")->attrs), ops::Layout::kChannelsBlocked);
  EXPECT_EQ(count(g, "BlockChannels"), 1);
  EXPECT_EQ(count(g, "UnblockChannels"), 1);
  expectSameOutputs(original, g);
}

TEST(ChannelBlocking, ChannelsInNoWholeBlocksStayNchw) {
  // 12 -> 24 -> 24 -> 12: the depthwise convolution's 24 would do, the others' 12 would not,
  // and without them its region needs more reformats than it has convolutions.
  ir::Graph g = invertedResidual(12);
  CapturingLogger logger;
  const BlockingSummary s = assignBlockedChannels(g, true, Reporter(logger));
  EXPECT_EQ(s.convolutions, 0);
  EXPECT_EQ(count(g, "UnblockChannels"), 0);
}

TEST(ChannelBlocking, NothingMovesWithoutBlockedKernels) {
  ir::Graph g = invertedResidual();
  CapturingLogger logger;
  EXPECT_EQ(assignBlockedChannels(g, false, Reporter(logger)).convolutions, 0);
  EXPECT_EQ(ops::layoutOf(nodeNamed(g, "dw")->attrs), ops::Layout::kChannelsFirst);
}

TEST(ChannelBlocking, LaterProfilesTakeTheFirstOnesDecisions) {
  ir::Graph first = invertedResidual();
  CapturingLogger logger;
  assignBlockedChannels(first, true, Reporter(logger));
  // The decisions of a graph where only the depthwise convolution was blocked: the later
  // profile blocks it alone, though on its own it would not pay.
  ir::Graph decisions = invertedResidual();
  decisions.node(1).attrs.set(ops::kLayoutAttr, std::string(ops::kChannelsBlocked));
  ASSERT_EQ(decisions.node(1).name, "dw");
  ir::Graph later = invertedResidual();
  const BlockingSummary s = assignBlockedChannels(later, true, Reporter(logger), &decisions);
  EXPECT_EQ(s.convolutions, 1);
  EXPECT_EQ(ops::layoutOf(nodeNamed(later, "expand")->attrs), ops::Layout::kChannelsFirst);
  EXPECT_EQ(ops::layoutOf(nodeNamed(later, "dw")->attrs), ops::Layout::kChannelsBlocked);
  expectSameOutputs(invertedResidual(), later);
}

// x [N, 16, 14, 14] -> 1x1 (32) -> ReLU -> depthwise 3x3 -> ReLU -> 1x1 (16) -> + x: the inverted
// residual block through the API (batch -1: dynamic).
void addInvertedResidual(NetworkDefinition& net, int64_t batch,
                         std::vector<std::vector<float>>& keep) {
  const int64_t c = 16;
  Tensor x = net.addInput("x", DataType::kFLOAT, {batch, c, 14, 14});
  keep = {test::randomFloats(2 * c * c, 1), test::randomFloats(2 * c, 2),
          test::randomFloats(2 * c * 9, 3), test::randomFloats(2 * c, 4),
          test::randomFloats(c * 2 * c, 5), test::randomFloats(c, 6)};
  auto expand =
      net.addConvolution(x, 2 * c, Dims{1, 1}, floatWeights(keep[0]), floatWeights(keep[1]));
  auto relu1 = net.addActivation(expand.output(0), ActivationType::kRELU);
  auto dw = net.addConvolution(relu1.output(0), 2 * c, Dims{3, 3}, floatWeights(keep[2]),
                               floatWeights(keep[3]));
  dw.setPadding(Dims{1, 1});
  dw.setNbGroups(2 * c);
  auto relu2 = net.addActivation(dw.output(0), ActivationType::kRELU);
  auto project = net.addConvolution(relu2.output(0), c, Dims{1, 1}, floatWeights(keep[4]),
                                    floatWeights(keep[5]));
  auto add = net.addElementWise(project.output(0), x, ElementWiseOperation::kSUM);
  add.output(0).setName("y");
  net.markOutput(add.output(0));
}

// Plans of @p net with x's batch in [1, @p maxBatch] (optimal @p optBatch): [0] with the
// channel-blocking step, [1] without.
std::array<std::vector<std::byte>, 2> blockedAndNchwPlans(Builder& builder, NetworkDefinition& net,
                                                          Dims x, int64_t optBatch,
                                                          int64_t maxBatch) {
  std::array<std::vector<std::byte>, 2> plans;
  for (const bool blocked : {true, false}) {
    auto config = builder.createBuilderConfig();
    EXPECT_TRUE(config->setPassEnabled("channel-blocking", blocked));
    OptimizationProfile* profile = builder.createOptimizationProfile();
    x.d[0] = 1;
    profile->setDimensions("x", OptProfileSelector::kMIN, x);
    x.d[0] = optBatch;
    profile->setDimensions("x", OptProfileSelector::kOPT, x);
    x.d[0] = maxBatch;
    profile->setDimensions("x", OptProfileSelector::kMAX, x);
    EXPECT_EQ(config->addOptimizationProfile(profile), 0);
    plans[blocked ? 0 : 1] = builder.buildSerializedNetwork(net, *config);
  }
  return plans;
}

// Runs @p plan with x of shape @p x holding @p in; the output y (as large as x).
std::vector<float> runPlan(Runtime& runtime, const std::vector<std::byte>& plan, const Dims& x,
                           const std::vector<float>& in) {
  const auto engine = runtime.deserialize(plan);
  EXPECT_TRUE(engine);
  if (!engine) return {};
  auto context = engine->createExecutionContext();
  std::vector<float> out(in.size(), -100.f);
  EXPECT_TRUE(context->setInputShape("x", x));
  EXPECT_TRUE(context->setInputTensorAddress("x", in.data()));
  EXPECT_TRUE(context->setTensorAddress("y", out.data()));
  EXPECT_TRUE(context->enqueueV3());
  return out;
}

// Runs both plans at each batch of @p batches and compares them; the blocked plan has one entry
// reformat where the host runs the step.
void expectBlockedMatchesNchw(const std::array<std::vector<std::byte>, 2>& plans, Dims x,
                              std::initializer_list<int64_t> batches, double atol, double rtol) {
  CapturingLogger logger;
  Runtime runtime(logger);
  const auto blockedEngine = runtime.deserialize(plans[0]);
  ASSERT_TRUE(blockedEngine);
  const int32_t reformats = count(blockedEngine->impl().plan().graph, "BlockChannels");
  EXPECT_EQ(reformats, blockedLayoutPays(hostCpu()) ? 1 : 0);
  for (const int64_t batch : batches) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    x.d[0] = batch;
    const std::vector<float> in = test::randomFloats(volume(x), static_cast<uint32_t>(10 + batch));
    test::expectClose(runPlan(runtime, plans[0], x, in), runPlan(runtime, plans[1], x, in), atol,
                      rtol, "blocked against NCHW");
  }
}

TEST(ChannelBlockingEngine, DynamicBatchRunsEveryShapeOfItsProfile) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  std::vector<std::vector<float>> weights;
  addInvertedResidual(*net, -1, weights);
  const Dims x{1, 16, 14, 14};
  const auto plans = blockedAndNchwPlans(builder, *net, x, 2, 4);
  ASSERT_FALSE(plans[0].empty() || plans[1].empty()) << logger.errors();
  expectBlockedMatchesNchw(plans, x, {1, 3, 4, 2}, 1e-5, 1e-4);
}

TEST(ChannelBlockingEngine, MobileNetBlockIsFusedBlockedAndMatches) {
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  const int64_t c = 16;
  Tensor x = net->addInput("x", DataType::kFLOAT, {1, c, 14, 14});
  const auto w1 = test::randomFloats(2 * c * c, 1), b1 = test::randomFloats(2 * c, 2);
  auto expand = net->addConvolution(x, 2 * c, Dims{1, 1}, floatWeights(w1), floatWeights(b1));
  auto relu1 = net->addActivation(expand.output(0), ActivationType::kRELU);
  const auto w2 = test::randomFloats(2 * c * 9, 3), b2 = test::randomFloats(2 * c, 4);
  auto dw =
      net->addConvolution(relu1.output(0), 2 * c, Dims{3, 3}, floatWeights(w2), floatWeights(b2));
  dw.setPadding(Dims{1, 1});
  dw.setNbGroups(2 * c);
  auto relu2 = net->addActivation(dw.output(0), ActivationType::kRELU);
  const auto w3 = test::randomFloats(c * 2 * c, 5), b3 = test::randomFloats(c, 6);
  auto project =
      net->addConvolution(relu2.output(0), c, Dims{1, 1}, floatWeights(w3), floatWeights(b3));
  auto add = net->addElementWise(project.output(0), x, ElementWiseOperation::kSUM);
  net->markOutput(add.output(0));
  const auto run = test::expectSameWithPass(builder, *net, {test::randomTensor({1, c, 14, 14}, 7)},
                                            test::kAllPasses);
  const int32_t blocked = blockedLayoutPays(hostCpu()) ? 1 : 0;
  EXPECT_EQ(run.count("BlockChannels"), blocked);
  EXPECT_EQ(run.count("UnblockChannels"), blocked);
}

TEST(ChannelBlockingEngine, FireModuleConcatenatesBlocksAtEveryBatch) {
  // The fire module through the API at batches 1 to 3: the concatenation is the planner's
  // in-place one at batch 1 and a copy of whole blocks beyond.
  CapturingLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {-1, 64, 13, 13});
  std::vector<std::vector<float>> w;
  const auto conv = [&](Tensor in, int64_t c, int64_t k, int64_t kernel) {
    w.push_back(test::randomFloats(k * c * kernel * kernel, static_cast<uint32_t>(w.size())));
    w.push_back(test::randomFloats(k, static_cast<uint32_t>(w.size())));
    auto layer = net->addConvolution(in, k, Dims{kernel, kernel}, floatWeights(w[w.size() - 2]),
                                     floatWeights(w.back()));
    layer.setPadding(Dims{kernel / 2, kernel / 2});
    return net->addActivation(layer.output(0), ActivationType::kRELU).output(0);
  };
  Tensor squeeze = conv(x, 64, 16, 1);
  const std::vector<Tensor> branches = {conv(squeeze, 16, 64, 1), conv(squeeze, 16, 64, 3)};
  auto cat = net->addConcatenation(branches);
  Tensor y = conv(cat.output(0), 128, 64, 1);
  y.setName("y");
  net->markOutput(y);
  const Dims shape{1, 64, 13, 13};
  const auto plans = blockedAndNchwPlans(builder, *net, shape, 1, 3);
  ASSERT_FALSE(plans[0].empty() || plans[1].empty()) << logger.errors();
  // The NCHW engine may run the 3x3 as Winograd F(4x4, 3x3), several times less exact.
  expectBlockedMatchesNchw(plans, shape, {1, 3, 2}, 1e-4, 1e-3);
}

}  // namespace
}  // namespace kiln::builder
