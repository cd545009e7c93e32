// The fused epilogue (ops/epilogue.h) in the reference kernels of Convolution, Deconvolution,
// FullyConnected and MatrixMultiply, and its shape checks. The graphs are made directly in the
// IR, as the builder's fusion passes make them.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "ir/op_registry.h"
#include "kiln/network.h"
#include "support/test_util.h"

namespace kiln::test {
namespace {

ir::ValueId constant(ir::Graph& g, const std::string& name, const Dims& dims,
                     const std::vector<float>& values) {
  std::vector<std::byte> bytes(values.size() * sizeof(float));
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return g.addConstant(name, DataType::kFLOAT, dims, std::move(bytes));
}

// Runs node 0 of @p g (shapes inferred) on @p x and @p residual.
std::vector<float> run(const ir::Graph& g, const std::vector<float>& x,
                       const std::vector<float>& residual) {
  const ir::Node& node = g.nodes[0];
  std::vector<float> out(static_cast<std::size_t>(volume(g.value(node.outputs[0]).dims)));
  std::vector<ir::TensorView> inputs;
  for (std::size_t i = 0; i < node.inputs.size(); ++i) {
    const ir::ValueId v = node.inputs[i];
    if (v == ir::kNoValue) {
      inputs.push_back({DataType::kFLOAT, Dims{}, nullptr, false});
      continue;
    }
    const ir::Value& value = g.value(v);
    void* data = const_cast<float*>(i == 0 ? x.data() : residual.data());
    if (value.isConstant()) data = const_cast<std::byte*>(value.constant->data());
    inputs.push_back({value.dtype, value.dims, data, true});
  }
  const ir::TensorView outputs[1] = {
      {DataType::kFLOAT, g.value(node.outputs[0]).dims, out.data(), true}};
  ir::OpRegistry::instance().get(node.op).reference(ir::KernelContext{node, inputs, outputs});
  return out;
}

TEST(FusedEpilogue, ConvolutionAddsResidualThenActivates) {
  ir::Graph g;
  const ir::ValueId x = g.addValue("x", DataType::kFLOAT, {1, 2, 2, 2});
  const ir::ValueId r = g.addValue("r", DataType::kFLOAT, {1, 1, 2, 2});
  g.inputs = {x, r};
  const ir::ValueId w = constant(g, "w", {1, 2, 1, 1}, {1.f, -1.f});
  const ir::NodeId n = g.addNode("conv", "Convolution", {x, w, ir::kNoValue, r}, 1);
  auto& attrs = g.node(n).attrs;
  attrs.set("num_output", int64_t{1});
  attrs.set("kernel", Dims{1, 1});
  attrs.set("epilogue.residual", int64_t{3});
  attrs.set("epilogue.activation", ActivationType::kCLIP);
  attrs.set("epilogue.alpha", 0.0);
  attrs.set("epilogue.beta", 2.0);
  g.outputs = {g.node(n).outputs[0]};
  ir::inferShapes(g);
  // conv = x[c0] - x[c1]; y = clip(conv + r, 0, 2)
  const std::vector<float> xs = {1, 2, 3, 4, 0, 0, 0, 9};
  const std::vector<float> rs = {0.5f, 1, -10, 0};
  EXPECT_EQ(run(g, xs, rs), (std::vector<float>{1.5f, 2.f, 0.f, 0.f}));
}

TEST(FusedEpilogue, MatrixMultiplyAndFullyConnectedHonourIt) {
  ir::Graph g;
  const ir::ValueId a = g.addValue("a", DataType::kFLOAT, {2, 2});
  const ir::ValueId r = g.addValue("r", DataType::kFLOAT, {2, 2});
  g.inputs = {a, r};
  const ir::ValueId b = constant(g, "b", {2, 2}, {1, 0, 0, 1});
  const ir::NodeId n = g.addNode("mm", "MatrixMultiply", {a, b, r}, 1);
  g.node(n).attrs.set("epilogue.residual", int64_t{2});
  g.node(n).attrs.set("epilogue.activation", ActivationType::kRELU);
  g.outputs = {g.node(n).outputs[0]};
  ir::inferShapes(g);
  EXPECT_EQ(run(g, {1, -2, 3, -4}, {1, 1, -5, 5}), (std::vector<float>{2, 0, 0, 1}));

  ir::Graph f;
  const ir::ValueId fx = f.addValue("x", DataType::kFLOAT, {1, 2});
  f.inputs = {fx};
  const ir::ValueId fw = constant(f, "w", {1, 2}, {1, 1});
  const ir::NodeId fc = f.addNode("fc", "FullyConnected", {fx, fw}, 1);
  f.node(fc).attrs.set("num_output", int64_t{1});
  f.node(fc).attrs.set("epilogue.activation", ActivationType::kSIGMOID);
  f.outputs = {f.node(fc).outputs[0]};
  ir::inferShapes(f);
  const auto y = run(f, {0.5f, -0.5f}, {});
  EXPECT_FLOAT_EQ(y[0], 0.5f);
}

TEST(FusedEpilogue, ShapeInferenceRefusesABadResidualOrActivation) {
  auto make = [](const Dims& residualDims, int64_t slot, int64_t activation) {
    ir::Graph g;
    const ir::ValueId a = g.addValue("a", DataType::kFLOAT, {2, 3});
    const ir::ValueId r = g.addValue("r", DataType::kFLOAT, residualDims);
    g.inputs = {a, r};
    const ir::ValueId b = g.addValue("b", DataType::kFLOAT, {3, 4});
    g.inputs.push_back(b);
    const ir::NodeId n = g.addNode("mm", "MatrixMultiply", {a, b, r}, 1);
    g.node(n).attrs.set("epilogue.residual", slot);
    if (activation >= 0) g.node(n).attrs.set("epilogue.activation", activation);
    g.outputs = {g.node(n).outputs[0]};
    return g;
  };
  auto message = [](ir::Graph g) -> std::string {
    try {
      ir::inferShapes(g);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(message(make({2, 4}, 2, 0)), "");
  EXPECT_NE(message(make({2, 3}, 2, 0)).find("must have the output's shape 2x4"), std::string::npos)
      << message(make({2, 3}, 2, 0));
  EXPECT_NE(message(make({2, 4}, 1, 0)).find("residual is input 1"), std::string::npos);
  EXPECT_NE(message(make({2, 4}, 2, 99)).find("unknown epilogue activation type 99"),
            std::string::npos);
}

// MatrixMultiply's epilogue bias: inputs [A, B, then bias and residual at the indices the
// attributes give]; y = relu(A·B + bias + residual).
TEST(FusedEpilogue, MatrixMultiplyAddsBiasThenResidualThenActivates) {
  for (const bool biasFirst : {true, false}) {
    ir::Graph g;
    const ir::ValueId a = g.addValue("a", DataType::kFLOAT, {1, 2, 2});
    const ir::ValueId r = g.addValue("r", DataType::kFLOAT, {1, 2, 3});
    g.inputs = {a, r};
    const ir::ValueId b = constant(g, "b", {2, 3}, {1, 0, 1, 0, 1, 1});
    const ir::ValueId bias = constant(g, "bias", {3}, {1, -1, 0.5f});
    const ir::NodeId n = g.addNode("mm", "MatrixMultiply",
                                   biasFirst ? std::vector<ir::ValueId>{a, b, bias, r}
                                             : std::vector<ir::ValueId>{a, b, r, bias},
                                   1);
    g.node(n).attrs.set("epilogue.bias", int64_t{biasFirst ? 2 : 3});
    g.node(n).attrs.set("epilogue.residual", int64_t{biasFirst ? 3 : 2});
    g.node(n).attrs.set("epilogue.activation", ActivationType::kRELU);
    g.outputs = {g.node(n).outputs[0]};
    ir::inferShapes(g);
    // A·B = [1 2 3; 3 -4 -1]; + bias = [2 1 3.5; 4 -5 -0.5]; + r; relu.
    EXPECT_EQ(run(g, {1, 2, 3, -4}, {0, 0, -4, 1, 1, 1}), (std::vector<float>{2, 1, 0, 5, 0, 0.5f}))
        << (biasFirst ? "bias first" : "residual first");
  }
}

TEST(FusedEpilogue, ShapeInferenceRefusesABadBias) {
  struct Make {
    Dims bias{3};
    DataType biasType = DataType::kFLOAT;
    Dims b{2, 3};
    int64_t slot = 2;
    bool attribute = true;
    std::string op = "MatrixMultiply";
  };
  auto message = [](const Make& m) -> std::string {
    ir::Graph g;
    const ir::ValueId a = g.addValue("a", DataType::kFLOAT, {4, 2});
    const ir::ValueId b = g.addValue("b", DataType::kFLOAT, m.b);
    const ir::ValueId bias = g.addValue("bias", m.biasType, m.bias);
    g.inputs = {a, b, bias};
    const bool fc = m.op == "FullyConnected";
    const ir::NodeId n = g.addNode("mm", m.op,
                                   fc ? std::vector<ir::ValueId>{a, b, ir::kNoValue, bias}
                                      : std::vector<ir::ValueId>{a, b, bias},
                                   1);
    if (fc) g.node(n).attrs.set("num_output", int64_t{3});
    if (m.attribute) g.node(n).attrs.set("epilogue.bias", m.slot);
    g.outputs = {g.node(n).outputs[0]};
    try {
      ir::inferShapes(g);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  auto expectMessage = [&](const Make& m, const std::string& part) {
    const std::string text = message(m);
    EXPECT_NE(text.find(part), std::string::npos) << "message: " << text;
  };
  EXPECT_EQ(message(Make{}), "");
  expectMessage(Make{.bias = {4}}, "must be a vector of the output's last extent 3");
  expectMessage(Make{.bias = {1, 3}}, "must be a vector of the output's last extent 3");
  expectMessage(Make{.biasType = DataType::kINT32}, "epilogue bias (input 2) must be float32");
  expectMessage(Make{.b = {2}}, "needs input 1 to be a matrix");
  expectMessage(Make{.slot = 1}, "bias is input 1");
  expectMessage(Make{.slot = 3}, "bias is input 3, but the layer has 3 inputs");
  expectMessage(Make{.attribute = false}, "no epilogue bias or residual that reads it");
  expectMessage(Make{.b = {3, 2}, .slot = 3, .op = "FullyConnected"}, "only MatrixMultiply takes");
}

}  // namespace
}  // namespace kiln::test
