// The channels-last layout pass (builder/layout.h) on small graphs: which regions move to NHWC,
// the transposes at their edges, permuted weights and constants, graph inputs and outputs kept
// NCHW under their names, and the same outputs as the NCHW graph on the reference kernels. The
// kernel support test is a stand-in, so this runs without a GPU.
#include "builder/layout.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "builder/build_plan.h"
#include "builder/builder_config.h"
#include "graph_test_util.h"
#include "ir/math_mode.h"
#include "ir/op_registry.h"
#include "kiln/kiln.h"
#include "kiln/parsers/onnx.h"
#include "network/network_impl.h"
#include "ops/window_util.h"
#include "runtime/engine_impl.h"
#include "support/test_util.h"

namespace kiln::builder {
namespace {

using test::bytesOf;
using test::CapturingLogger;
using test::count;
using test::dimsOf;
using test::floatsOf;
using test::nodeNamed;
using test::randomConstant;
using test::runReference;

ir::ValueId conv(ir::Graph& g, const std::string& name, ir::ValueId x, int64_t channels,
                 int64_t outputs, uint32_t seed, int64_t groups = 1) {
  const ir::ValueId w =
      randomConstant(g, name + "_w", dimsOf({outputs, channels / groups, 3, 3}), seed);
  const ir::ValueId b = randomConstant(g, name + "_b", dimsOf({outputs}), seed + 1);
  const ir::NodeId n = g.addNode(name, "Convolution", {x, w, b}, 1);
  auto& attrs = g.node(n).attrs;
  attrs.set("num_output", outputs);
  attrs.set("kernel", dimsOf({3, 3}));
  attrs.set("pre_padding", dimsOf({1, 1}));
  attrs.set("post_padding", dimsOf({1, 1}));
  attrs.set("groups", groups);
  return g.node(n).outputs[0];
}

// x [2, 8, 6, 6] -> conv1 (16) -> relu -> conv2 (8) -> + x -> * c[8, 1, 1] -> maxpool 2x2 -> y.
ir::Graph network(int64_t channels = 8) {
  ir::Graph g;
  g.name = "block";
  const ir::ValueId x = g.addValue("x", DataType::kFLOAT, dimsOf({2, channels, 6, 6}));
  g.inputs.push_back(x);
  const ir::ValueId c1 = conv(g, "conv1", x, channels, 16, 1);
  const ir::NodeId relu = g.addNode("relu", "Activation", {c1}, 1);
  g.node(relu).attrs.set("type", ActivationType::kRELU);
  const ir::ValueId c2 = conv(g, "conv2", g.node(relu).outputs[0], 16, channels, 3);
  const ir::NodeId add = g.addNode("add", "ElementWise", {c2, x}, 1);
  g.node(add).attrs.set("op", ElementWiseOperation::kSUM);
  const ir::ValueId scale = randomConstant(g, "scale", dimsOf({channels, 1, 1}), 5);
  const ir::NodeId mul = g.addNode("mul", "ElementWise", {g.node(add).outputs[0], scale}, 1);
  g.node(mul).attrs.set("op", ElementWiseOperation::kPROD);
  const ir::NodeId pool = g.addNode("pool", "Pooling", {g.node(mul).outputs[0]}, 1);
  g.node(pool).attrs.set("type", PoolingType::kMAX);
  g.node(pool).attrs.set("window", dimsOf({2, 2}));
  g.node(pool).attrs.set("stride", dimsOf({2, 2}));
  g.value(g.node(pool).outputs[0]).name = "y";
  g.outputs.push_back(g.node(pool).outputs[0]);
  ir::inferShapes(g);
  return g;
}

ReducedSupport everything() {
  return [](const ir::Node& node, std::span<const ir::TensorInfo> inputs,
            std::span<const ir::TensorInfo> outputs) {
    // The pass asks about the node as it would make it.
    EXPECT_TRUE(ops::channelsLast(node.attrs)) << node.name;
    if (node.op == "Convolution") {
      EXPECT_EQ(inputs[1].dims.d[3] * node.attrs.getInt("groups", 1), inputs[0].dims.d[3])
          << "KRSC kernel";
      EXPECT_NE(inputs[1].constData, nullptr);
    }
    EXPECT_EQ(outputs[0].dims.nbDims, 4);
    return true;
  };
}

ReducedSupport nothing() {
  return [](const ir::Node&, std::span<const ir::TensorInfo>, std::span<const ir::TensorInfo>) {
    return false;
  };
}

LayoutOptions anyPrecision() {
  LayoutOptions o;
  o.reducedOnly = false;
  return o;
}

TEST(Layout, RegionMovesToNhwcWithTransposesAtItsEdges) {
  const ir::Graph original = network();
  ir::Graph g = original;
  CapturingLogger logger;
  const LayoutSummary s =
      assignChannelsLast(g, everything(), Reporter(logger), nullptr, anyPrecision());
  EXPECT_EQ(s.regions, 1);
  EXPECT_EQ(s.convolutions, 2);
  EXPECT_EQ(s.transposes, 2);  // x in, y out; x is transposed once for conv1 and the add
  EXPECT_EQ(count(g, "Shuffle"), 2);

  for (const char* name : {"conv1", "conv2", "pool"}) {
    const ir::Node* node = nodeNamed(g, name);
    ASSERT_NE(node, nullptr);
    EXPECT_TRUE(ops::channelsLast(node->attrs)) << name;
  }
  // Weights KCRS -> KRSC, the bias unchanged, the broadcast constant channels-last.
  const ir::Node& conv1 = *nodeNamed(g, "conv1");
  EXPECT_TRUE(g.value(conv1.inputs[1]).dims == dimsOf({16, 3, 3, 8}));
  EXPECT_TRUE(g.value(conv1.inputs[2]).dims == dimsOf({16}));
  EXPECT_TRUE(g.value(conv1.outputs[0]).dims == dimsOf({2, 6, 6, 16}));
  const ir::Node& mul = *nodeNamed(g, "mul");
  const ir::Value& scale = g.value(mul.inputs[1]);
  EXPECT_TRUE(scale.dims == dimsOf({1, 1, 1, 8})) << toString(scale.dims);
  const ir::Node& originalMul = *nodeNamed(original, "mul");
  EXPECT_EQ(floatsOf(*scale.constant), floatsOf(*original.value(originalMul.inputs[1]).constant));
  const std::vector<float> w = floatsOf(*g.value(conv1.inputs[1]).constant);
  const std::vector<float> w0 =
      floatsOf(*original.value(nodeNamed(original, "conv1")->inputs[1]).constant);
  // W[k=5][c=2][r=1][s=0] is at KRSC index ((5 * 3 + 1) * 3 + 0) * 8 + 2.
  EXPECT_EQ(w[((5 * 3 + 1) * 3 + 0) * 8 + 2], w0[((5 * 8 + 2) * 3 + 1) * 3 + 0]);

  // Graph input and output: names and NCHW shapes kept.
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.value(g.inputs[0]).name, "x");
  EXPECT_TRUE(g.value(g.inputs[0]).dims == dimsOf({2, 8, 6, 6}));
  ASSERT_EQ(g.outputs.size(), 1u);
  EXPECT_EQ(g.value(g.outputs[0]).name, "y");
  EXPECT_TRUE(g.value(g.outputs[0]).dims == dimsOf({2, 8, 3, 3}));
  EXPECT_EQ(g.node(g.value(g.outputs[0]).producer).op, "Shuffle");

  const std::vector<float> x = test::randomFloats(2 * 8 * 6 * 6, 11);
  const auto expected = runReference(original, x);
  const auto actual = runReference(g, x);
  test::expectClose(actual.at("y"), expected.at("y"), 1e-6, 1e-6, "y");
}

TEST(Layout, ExitsInsideTheRegionAndConcatAndReduce) {
  // y = reduce_avg_hw(concat(relu(conv1(x)), conv1(x)) along channels) (keep_dims), plus a
  // second output read from inside the region: both leave through transposes.
  ir::Graph original;
  const ir::ValueId x = original.addValue("x", DataType::kFLOAT, dimsOf({1, 8, 5, 4}));
  original.inputs.push_back(x);
  const ir::ValueId c1 = conv(original, "conv1", x, 8, 8, 21);
  const ir::ValueId c2 = conv(original, "conv2", c1, 8, 8, 23);
  const ir::ValueId c3 = conv(original, "conv3", c2, 8, 8, 25);
  const ir::NodeId relu = original.addNode("relu", "Activation", {c3}, 1);
  original.node(relu).attrs.set("type", ActivationType::kRELU);
  const ir::NodeId cat =
      original.addNode("cat", "Concatenation", {original.node(relu).outputs[0], c2}, 1);
  original.node(cat).attrs.set("axis", int64_t{1});
  const ir::NodeId mean = original.addNode("mean", "Reduce", {original.node(cat).outputs[0]}, 1);
  original.node(mean).attrs.set("op", ReduceOperation::kAVG);
  original.node(mean).attrs.set("axes", int64_t{0b1100});
  original.node(mean).attrs.set("keep_dims", int64_t{1});
  original.value(original.node(mean).outputs[0]).name = "y";
  original.outputs.push_back(original.node(mean).outputs[0]);
  original.value(c2).name = "mid";
  original.outputs.push_back(c2);
  ir::inferShapes(original);

  ir::Graph g = original;
  CapturingLogger logger;
  const LayoutSummary s =
      assignChannelsLast(g, everything(), Reporter(logger), nullptr, anyPrecision());
  EXPECT_EQ(s.regions, 1);
  EXPECT_EQ(s.convolutions, 3);
  EXPECT_EQ(s.transposes, 3);
  EXPECT_EQ(nodeNamed(g, "cat")->attrs.getInt("axis"), 3);
  EXPECT_EQ(nodeNamed(g, "mean")->attrs.getInt("axes"), 0b0110);
  EXPECT_EQ(g.value(g.outputs[1]).name, "mid");
  EXPECT_TRUE(g.value(g.outputs[1]).dims == dimsOf({1, 8, 5, 4}));
  EXPECT_TRUE(g.value(g.outputs[0]).dims == dimsOf({1, 16, 1, 1}));

  const std::vector<float> in = test::randomFloats(1 * 8 * 5 * 4, 31);
  const auto expected = runReference(original, in);
  const auto actual = runReference(g, in);
  test::expectClose(actual.at("y"), expected.at("y"), 1e-6, 1e-6, "y");
  test::expectClose(actual.at("mid"), expected.at("mid"), 1e-6, 1e-6, "mid");
}

TEST(Layout, DepthwiseConvolutionsJoinTheRegion) {
  ir::Graph original;
  const ir::ValueId x = original.addValue("x", DataType::kFLOAT, dimsOf({2, 8, 6, 5}));
  original.inputs.push_back(x);
  const ir::ValueId c1 = conv(original, "conv1", x, 8, 16, 41);
  const ir::ValueId dw = conv(original, "dw", c1, 16, 16, 43, 16);
  const ir::ValueId grouped = conv(original, "grouped", dw, 16, 16, 45, 2);
  original.outputs.push_back(conv(original, "conv2", grouped, 16, 8, 47));
  ir::inferShapes(original);
  ir::Graph g = original;
  CapturingLogger logger;
  const LayoutSummary s =
      assignChannelsLast(g, everything(), Reporter(logger), nullptr, anyPrecision());
  // Two groups (neither one nor depthwise) stay NCHW and end the region of conv1 and dw; conv2
  // alone would need two transposes, so it stays NCHW too.
  EXPECT_EQ(s.regions, 1);
  EXPECT_EQ(s.convolutions, 2);
  EXPECT_TRUE(ops::channelsLast(nodeNamed(g, "dw")->attrs));
  EXPECT_FALSE(ops::channelsLast(nodeNamed(g, "grouped")->attrs));
  EXPECT_FALSE(ops::channelsLast(nodeNamed(g, "conv2")->attrs));
  const std::vector<float> in0 = test::randomFloats(2 * 8 * 6 * 5, 48);
  test::expectClose(runReference(g, in0).begin()->second,
                    runReference(original, in0).begin()->second, 1e-6, 1e-6, "grouped y");
  ir::Graph depthwiseOnly;
  const ir::ValueId x2 = depthwiseOnly.addValue("x", DataType::kFLOAT, dimsOf({2, 8, 6, 5}));
  depthwiseOnly.inputs.push_back(x2);
  const ir::ValueId d1 = conv(depthwiseOnly, "conv1", x2, 8, 16, 41);
  const ir::ValueId d2 = conv(depthwiseOnly, "dw", d1, 16, 16, 43, 16);
  depthwiseOnly.outputs.push_back(conv(depthwiseOnly, "conv2", d2, 16, 8, 47));
  ir::inferShapes(depthwiseOnly);
  ir::Graph converted = depthwiseOnly;
  const LayoutSummary t =
      assignChannelsLast(converted, everything(), Reporter(logger), nullptr, anyPrecision());
  EXPECT_EQ(t.convolutions, 3);
  EXPECT_TRUE(converted.value(nodeNamed(converted, "dw")->inputs[1]).dims == dimsOf({16, 3, 3, 1}));
  const std::vector<float> in = test::randomFloats(2 * 8 * 6 * 5, 49);
  test::expectClose(runReference(converted, in).begin()->second,
                    runReference(depthwiseOnly, in).begin()->second, 1e-6, 1e-6, "y");
}

TEST(Layout, AnotherOpsLayoutAttributeOfAnotherKindIsNotChannelsLast) {
  ir::Graph g = network();
  // ONNX's LSTM carries an int "layout"; the pass looks at every node's.
  for (auto& node : g.nodes) {
    if (node.name == "relu") node.attrs.set("layout", int64_t{1});
  }
  EXPECT_FALSE(ops::channelsLast(nodeNamed(g, "relu")->attrs));
  CapturingLogger logger;
  const LayoutSummary s =
      assignChannelsLast(g, everything(), Reporter(logger), nullptr, anyPrecision());
  EXPECT_EQ(s.convolutions, 2);
}

TEST(Layout, ALoneConvolutionBetweenTransposesStaysNchw) {
  ir::Graph g;
  const ir::ValueId x = g.addValue("x", DataType::kFLOAT, dimsOf({1, 8, 5, 5}));
  g.inputs.push_back(x);
  g.outputs.push_back(conv(g, "conv", x, 8, 8, 1));
  ir::inferShapes(g);
  CapturingLogger logger;
  const LayoutSummary s =
      assignChannelsLast(g, everything(), Reporter(logger), nullptr, anyPrecision());
  EXPECT_EQ(s.regions, 0);
  EXPECT_FALSE(ops::channelsLast(nodeNamed(g, "conv")->attrs));
  EXPECT_EQ(count(g, "Shuffle"), 0);
}

TEST(Layout, ConvolutionsOffTensorCoresStayNchw) {
  CapturingLogger logger;
  // Three input channels whose region does not pay: the padded entry, the exit and the
  // residual's transposes for one convolution (conv2's 3 outputs are no multiple of 8).
  ir::Graph three = network(3);
  EXPECT_EQ(assignChannelsLast(three, everything(), Reporter(logger), nullptr, anyPrecision())
                .convolutions,
            0);
  // FP32 convolutions (the graphs here run on the reference kernels), where only those in
  // FP16 / BF16 count (the default).
  ir::Graph fp32 = network();
  EXPECT_EQ(assignChannelsLast(fp32, everything(), Reporter(logger)).regions, 0);
  // No GPU kernel for the NHWC node.
  ir::Graph unsupported = network();
  EXPECT_EQ(
      assignChannelsLast(unsupported, nothing(), Reporter(logger), nullptr, anyPrecision()).regions,
      0);
  EXPECT_EQ(count(unsupported, "Shuffle"), 0);
}

// A convolution of 3 input channels (an image) reads them padded to 8 in NHWC, with zero
// weights for the extra channels: same outputs on the reference kernels. The image comes
// through a layout-transparent node (an FP16 build's cast), which stays NCHW.
TEST(Layout, ThreeChannelInputIsPaddedToEight) {
  ir::Graph g;
  const ir::ValueId x = g.addValue("x", DataType::kFLOAT, dimsOf({2, 3, 6, 6}));
  g.inputs.push_back(x);
  const ir::NodeId cast = g.addNode("cast", "Identity", {x}, 1);
  const ir::ValueId c1 = conv(g, "conv1", g.node(cast).outputs[0], 3, 16, 1);
  const ir::ValueId c2 = conv(g, "conv2", c1, 16, 8, 3);
  g.value(c2).name = "y";
  g.outputs.push_back(c2);
  ir::inferShapes(g);
  const ir::Graph original = g;
  CapturingLogger logger;
  const LayoutSummary s =
      assignChannelsLast(g, everything(), Reporter(logger), nullptr, anyPrecision());
  EXPECT_EQ(s.convolutions, 2);
  EXPECT_EQ(s.transposes, 2);
  ASSERT_EQ(count(g, "PadToChannelsLast"), 1);
  const ir::Node* first = nodeNamed(g, "conv1");
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(g.value(first->inputs[0]).dims, dimsOf({2, 6, 6, 8}));
  EXPECT_EQ(g.value(first->inputs[1]).dims, dimsOf({16, 3, 3, 8}));
  const std::vector<float> input = test::randomFloats(2 * 3 * 6 * 6, 9);
  const auto expected = runReference(original, input);
  const auto actual = runReference(g, input);
  ASSERT_EQ(actual.count("y"), 1U);
  const auto& want = expected.at("y");
  const auto& got = actual.at("y");
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-4) << i;
}

TEST(Layout, LaterProfilesTakeTheFirstOnesDecisions) {
  CapturingLogger logger;
  ir::Graph first = network();
  assignChannelsLast(first, everything(), Reporter(logger), nullptr, anyPrecision());
  // A later profile converts the same nodes whatever its support test says.
  ir::Graph later = network();
  const LayoutSummary s =
      assignChannelsLast(later, nothing(), Reporter(logger), &first, anyPrecision());
  EXPECT_EQ(s.convolutions, 2);
  ASSERT_EQ(first.nodes.size(), later.nodes.size());
  for (std::size_t i = 0; i < first.nodes.size(); ++i) {
    EXPECT_EQ(first.nodes[i].name, later.nodes[i].name);
    EXPECT_EQ(first.nodes[i].attrs, later.nodes[i].attrs) << first.nodes[i].name;
  }
}

TEST(Layout, ResNet50IsOneRegionBetweenTheStemAndTheHead) {
  const char* dir = std::getenv("KILN_MODELS_DIR");
  if (dir == nullptr || *dir == '\0') GTEST_SKIP() << "KILN_MODELS_DIR is not set";
  const std::filesystem::path model = std::filesystem::path(dir) / "resnet50.onnx";
  if (!std::filesystem::exists(model)) GTEST_SKIP() << model << " is absent";
  CapturingLogger logger;
  Builder builder(logger);
  auto network = builder.createNetwork();
  parsers::OnnxParser parser(*network, logger);
  ASSERT_TRUE(parser.parseFromFile(model)) << logger.errors();
  for (int32_t i = 0; i < network->nbInputs(); ++i) {
    Dims dims = network->input(i).dimensions();
    for (int32_t d = 0; d < dims.nbDims; ++d) {
      if (dims[d] < 0) dims[d] = 1;
    }
    network->input(i).setDimensions(dims);
  }
  // The graph after the builder's passes (a CPU build: fused epilogues and pointwise chains as a
  // GPU build has them); the layout pass then runs as if every layer were FP16.
  // (An engine's graph would not do: a CPU plan keeps packed weights in place of the
  // convolutions' kernels, which the layout pass reorders.)
  auto config = builder.createBuilderConfig();
  ir::Graph g = optimizeGraph(network->impl().graph(), config->data(), Reporter(logger));
  const int32_t convolutions = count(g, "Convolution");
  const int32_t shuffles = count(g, "Shuffle");
  const LayoutSummary s =
      assignChannelsLast(g, everything(), Reporter(logger), nullptr, anyPrecision());
  EXPECT_EQ(s.regions, 1);
  EXPECT_EQ(s.convolutions, convolutions);  // the 3-channel stem too, its input padded to 8
  EXPECT_LE(s.transposes, 2);
  EXPECT_EQ(count(g, "PadToChannelsLast"), 1);
  EXPECT_EQ(count(g, "Shuffle"), shuffles + s.transposes - 1);
}

}  // namespace
}  // namespace kiln::builder
