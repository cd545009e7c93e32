// The reduced-precision pass (BuilderFlag::kFP16 / kBF16): which layers move, the casts at their
// boundaries, converted weights, the FP16 range warning, and shape inference on the result. The
// kernel support test is a stand-in, so this runs without a GPU.
#include "builder/precision.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>

#include "core/half.h"
#include "ir/math_mode.h"
#include "support/test_util.h"

namespace kiln::builder {
namespace {

using test::CapturingLogger;

// x -> relu1 -> relu2 -> sum(+ c) -> y, all FP32; c a constant of @p constantValue.
ir::Graph chain(float constantValue = 0.5f) {
  ir::Graph g;
  g.name = "chain";
  Dims dims;
  dims.nbDims = 2;
  dims[0] = 2;
  dims[1] = 3;
  const ir::ValueId x = g.addValue("x", DataType::kFLOAT, dims);
  g.inputs.push_back(x);
  const ir::NodeId relu1 = g.addNode("relu1", "Activation", {x}, 1);
  const ir::NodeId relu2 = g.addNode("relu2", "Activation", {g.node(relu1).outputs[0]}, 1);
  std::vector<std::byte> bytes(6 * sizeof(float));
  for (int i = 0; i < 6; ++i) {
    std::memcpy(bytes.data() + i * sizeof(float), &constantValue, sizeof(float));
  }
  const ir::ValueId c = g.addConstant("c", DataType::kFLOAT, dims, std::move(bytes));
  const ir::NodeId sum = g.addNode("sum", "ElementWise", {g.node(relu2).outputs[0], c}, 1);
  g.node(sum).attrs.set("op", int64_t{0});
  g.value(g.node(sum).outputs[0]).name = "y";
  g.outputs.push_back(g.node(sum).outputs[0]);
  ir::inferShapes(g);
  return g;
}

detail::BuilderConfigData configWith(std::initializer_list<BuilderFlag> flags) {
  detail::BuilderConfigData config;
  config.device = DeviceType::kGPU;
  for (BuilderFlag f : flags) config.flags |= uint64_t{1} << static_cast<uint32_t>(f);
  return config;
}

// Supports the layers named in @p names (in any reduced type).
ReducedSupport only(std::set<std::string> names) {
  return [names = std::move(names)](const ir::Node& node, std::span<const ir::TensorInfo> inputs,
                                    std::span<const ir::TensorInfo> outputs) {
    // The pass offers every float tensor in one reduced type, constants converted.
    const auto type = ir::reducedPrecision(node.attrs);
    EXPECT_TRUE(type.has_value());
    for (const auto& info : inputs) {
      if (info.present) {
        EXPECT_EQ(info.dtype, *type) << node.name;
      }
    }
    for (const auto& info : outputs) EXPECT_EQ(info.dtype, *type) << node.name;
    return names.count(node.name) > 0;
  };
}

const ir::Node& nodeNamed(const ir::Graph& g, std::string_view name) {
  for (const auto& n : g.nodes) {
    if (n.name == name) return n;
  }
  ADD_FAILURE() << "no node " << name;
  return g.nodes.front();
}

DataType inputType(const ir::Graph& g, std::string_view node, std::size_t slot) {
  return g.value(nodeNamed(g, node).inputs[slot]).dtype;
}

TEST(Precision, NothingWithoutTheFlags) {
  ir::Graph g = chain();
  CapturingLogger logger;
  const auto summary =
      assignReducedPrecision(g, configWith({}), only({"relu1", "relu2", "sum"}), Reporter(logger));
  EXPECT_EQ(summary.reducedLayers, 0);
  EXPECT_EQ(g.nodes.size(), 3u);
}

TEST(Precision, SupportedLayersMoveWithCastsAtTheBoundaries) {
  ir::Graph g = chain();
  CapturingLogger logger;
  const auto summary = assignReducedPrecision(g, configWith({BuilderFlag::kFP16}),
                                              only({"relu1", "relu2"}), Reporter(logger));
  EXPECT_EQ(summary.reducedLayers, 2);
  EXPECT_EQ(summary.casts, 2);  // x to FP16, relu2's output back to FP32 for sum
  ASSERT_EQ(g.nodes.size(), 5u);
  EXPECT_EQ(ir::reducedPrecision(nodeNamed(g, "relu1").attrs), DataType::kHALF);
  EXPECT_EQ(ir::reducedPrecision(nodeNamed(g, "relu2").attrs), DataType::kHALF);
  EXPECT_FALSE(ir::reducedPrecision(nodeNamed(g, "sum").attrs).has_value());
  EXPECT_EQ(inputType(g, "relu1", 0), DataType::kHALF);
  EXPECT_EQ(inputType(g, "relu2", 0), DataType::kHALF);
  EXPECT_EQ(inputType(g, "sum", 0), DataType::kFLOAT);
  EXPECT_EQ(inputType(g, "sum", 1), DataType::kFLOAT);
  // The graph's inputs and outputs keep their names and types.
  EXPECT_EQ(g.value(g.inputs[0]).name, "x");
  EXPECT_EQ(g.value(g.inputs[0]).dtype, DataType::kFLOAT);
  EXPECT_EQ(g.value(g.outputs[0]).name, "y");
  EXPECT_EQ(g.value(g.outputs[0]).dtype, DataType::kFLOAT);
  EXPECT_NO_THROW(g.validate());
  EXPECT_TRUE(logger.hasMessage(Severity::kINFO, "2 of 3 layers run in FP16/BF16"));
}

TEST(Precision, GraphOutputOfAReducedLayerIsCastBackUnderItsName) {
  ir::Graph g = chain();
  CapturingLogger logger;
  assignReducedPrecision(g, configWith({BuilderFlag::kFP16}), only({"relu1", "relu2", "sum"}),
                         Reporter(logger));
  ASSERT_EQ(g.outputs.size(), 1u);
  const ir::Value& y = g.value(g.outputs[0]);
  EXPECT_EQ(y.name, "y");
  EXPECT_EQ(y.dtype, DataType::kFLOAT);
  const ir::Node& cast = g.node(y.producer);
  EXPECT_EQ(cast.op, "Identity");
  EXPECT_EQ(g.value(cast.inputs[0]).dtype, DataType::kHALF);
  // The constant operand was converted, not cast at run time.
  const ir::Value& c = g.value(nodeNamed(g, "sum").inputs[1]);
  ASSERT_TRUE(c.isConstant());
  EXPECT_EQ(c.dtype, DataType::kHALF);
  ASSERT_EQ(c.constant->size(), 6 * sizeof(uint16_t));
  uint16_t bits = 0;
  std::memcpy(&bits, c.constant->data(), sizeof(bits));
  EXPECT_EQ(halfToFloat(bits), 0.5f);
}

TEST(Precision, ShapeInferenceKeepsTheStoredTypes) {
  ir::Graph g = chain();
  CapturingLogger logger;
  assignReducedPrecision(g, configWith({BuilderFlag::kBF16}), only({"relu1", "relu2", "sum"}),
                         Reporter(logger));
  // The runtime re-infers shapes of plans (dynamic shapes): the shape rules see FP32, the
  // values stay BF16.
  ir::Graph again = g;
  for (auto& v : again.values) {
    if (v.producer != ir::kNoNode) v.dims = Dims{};
  }
  ir::inferShapes(again);
  for (std::size_t v = 0; v < g.values.size(); ++v) {
    EXPECT_EQ(again.values[v].dtype, g.values[v].dtype) << g.values[v].name;
    EXPECT_EQ(again.values[v].dims, g.values[v].dims) << g.values[v].name;
  }
  EXPECT_EQ(inputType(g, "relu1", 0), DataType::kBF16);
}

TEST(Precision, WeightsBeyondFp16RangeKeepTheLayerInFp32WithAWarning) {
  ir::Graph g = chain(1e6f);
  CapturingLogger logger;
  const auto summary = assignReducedPrecision(g, configWith({BuilderFlag::kFP16}),
                                              only({"relu1", "relu2", "sum"}), Reporter(logger));
  EXPECT_EQ(summary.reducedLayers, 2);
  EXPECT_FALSE(ir::reducedPrecision(nodeNamed(g, "sum").attrs).has_value());
  EXPECT_TRUE(logger.hasMessage(Severity::kWARNING, "layer 'sum' (ElementWise) stays FP32"));
  EXPECT_TRUE(logger.hasMessage(Severity::kWARNING, "'c' (6 values"));
  // BF16 holds them.
  ir::Graph bf = chain(1e6f);
  logger.clear();
  assignReducedPrecision(bf, configWith({BuilderFlag::kBF16}), only({"relu1", "relu2", "sum"}),
                         Reporter(logger));
  EXPECT_EQ(ir::reducedPrecision(nodeNamed(bf, "sum").attrs), DataType::kBF16);
  EXPECT_FALSE(logger.hasMessage(Severity::kWARNING, "stays FP32"));
}

TEST(Precision, LayerPrecisionOverridesTheDefault) {
  ir::Graph g = chain();
  g.node(0).precision = DataType::kFLOAT;  // relu1 asks for FP32
  g.node(1).precision = DataType::kBF16;   // relu2 for BF16
  CapturingLogger logger;
  assignReducedPrecision(g, configWith({BuilderFlag::kFP16, BuilderFlag::kBF16}),
                         only({"relu1", "relu2", "sum"}), Reporter(logger));
  EXPECT_FALSE(ir::reducedPrecision(nodeNamed(g, "relu1").attrs).has_value());
  EXPECT_EQ(ir::reducedPrecision(nodeNamed(g, "relu2").attrs), DataType::kBF16);
  EXPECT_EQ(ir::reducedPrecision(nodeNamed(g, "sum").attrs), DataType::kHALF);
  // BF16 output into an FP16 layer: one cast between the reduced types.
  EXPECT_EQ(inputType(g, "sum", 0), DataType::kHALF);
  const ir::Node& cast = g.node(g.value(nodeNamed(g, "sum").inputs[0]).producer);
  EXPECT_EQ(cast.op, "Identity");
  EXPECT_EQ(g.value(cast.inputs[0]).dtype, DataType::kBF16);
  EXPECT_NO_THROW(g.validate());
}

TEST(Precision, LaterProfilesTakeTheFirstOnesDecisions) {
  ir::Graph first = chain();
  CapturingLogger logger;
  assignReducedPrecision(first, configWith({BuilderFlag::kFP16}), only({"relu2"}),
                         Reporter(logger));
  ir::Graph later = chain();
  // Its own support test would move everything; the first profile's decisions win.
  assignReducedPrecision(later, configWith({BuilderFlag::kFP16}), only({"relu1", "relu2", "sum"}),
                         Reporter(logger), &first);
  ASSERT_EQ(later.nodes.size(), first.nodes.size());
  for (std::size_t n = 0; n < first.nodes.size(); ++n) {
    EXPECT_EQ(later.nodes[n].name, first.nodes[n].name);
    EXPECT_EQ(ir::reducedPrecision(later.nodes[n].attrs),
              ir::reducedPrecision(first.nodes[n].attrs));
  }
}

}  // namespace
}  // namespace kiln::builder
