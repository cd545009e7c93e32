// ONNX LSTM, GRU and RNN through the parser: omitted optional inputs and outputs, layout 1,
// activations with parameters, hidden_size taken from R, and the nodes kiln refuses.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "onnx_test_util.h"

namespace kiln::test {
namespace {

using onnx_test::attrFloat;
using onnx_test::attrInt;
using onnx_test::attrString;
using onnx_test::expectParseError;
using onnx_test::ModelBuilder;
using onnx_test::runModel;

void attrStrings(::onnx::NodeProto& node, const std::string& name,
                 const std::vector<std::string>& values) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::STRINGS);
  for (const auto& v : values) a->add_strings(v);
}

void attrFloats(::onnx::NodeProto& node, const std::string& name,
                const std::vector<float>& values) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::FLOATS);
  for (float v : values) a->add_floats(v);
}

TEST(OnnxRecurrent, LstmWithOmittedInputsAndOutputs) {
  // One unit, one step, x = 1, W = (i 1, o 2, f 3, c 4), R = 0, no B, initial_c = 0.5: Y and Y_c
  // wanted, Y_h left out ("").
  ModelBuilder m(13);
  m.input("x", {1, 1, 1}).input("c0", {1, 1, 1});
  m.floats("W", {1, 4, 1}, {1, 2, 3, 4}).floats("R", {1, 4, 1}, {0, 0, 0, 0});
  auto& node = m.node("LSTM", {"x", "W", "R", "", "", "", "c0"}, {"y", "", "yc"}, "lstm");
  attrInt(node, "hidden_size", 1);
  m.output("y").output("yc");
  const auto out = runModel(m, {HostTensor::fromFloats(Dims{1, 1, 1}, std::vector<float>{1}),
                                HostTensor::fromFloats(Dims{1, 1, 1}, std::vector<float>{0.5f})});
  ASSERT_EQ(out.size(), 2u);
  const auto s = [](double v) { return 1 / (1 + std::exp(-v)); };
  const double c = s(3) * 0.5 + s(1) * std::tanh(4.0);
  EXPECT_EQ(out[0].dims, (Dims{1, 1, 1, 1}));
  expectClose(out[0].floats(), std::vector<float>{static_cast<float>(s(2) * std::tanh(c))}, 1e-6,
              1e-6);
  expectClose(out[1].floats(), std::vector<float>{static_cast<float>(c)}, 1e-6, 1e-6);
}

TEST(OnnxRecurrent, RnnBatchFirstLeakyRelu) {
  // layout 1: x [batch 1, steps 2, 1]; h = LeakyRelu_0.5(x + 0 * h): -2 -> -1, 4 -> 4.
  ModelBuilder m(14);
  m.input("x", {1, 2, 1});
  m.floats("W", {1, 1, 1}, {1}).floats("R", {1, 1, 1}, {0});
  auto& node = m.node("RNN", {"x", "W", "R"}, {"y", "yh"});
  attrInt(node, "hidden_size", 1);
  attrInt(node, "layout", 1);
  attrStrings(node, "activations", {"leakyrelu"});
  attrFloats(node, "activation_alpha", {0.5f});
  m.output("y").output("yh");
  const auto out = runModel(m, {HostTensor::fromFloats(Dims{1, 2, 1}, std::vector<float>{-2, 4})});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].dims, (Dims{1, 2, 1, 1}));
  EXPECT_EQ(out[0].floats(), (std::vector<float>{-1, 4}));
  EXPECT_EQ(out[1].floats(), (std::vector<float>{4}));
}

TEST(OnnxRecurrent, GruHiddenSizeFromRAndSequenceLengths) {
  // No hidden_size: R [1, 3, 1] gives 1. Zero weights: z = r = 0.5 and the candidate is 0, so
  // each step halves the state; entry 1 stops after one step (its Y then 0).
  ModelBuilder m(13);
  m.input("x", {2, 2, 1}).input("len", {2}, ::onnx::TensorProto::INT32).input("h0", {1, 2, 1});
  m.floats("W", {1, 3, 1}, {0, 0, 0}).floats("R", {1, 3, 1}, {0, 0, 0});
  m.node("GRU", {"x", "W", "R", "", "len", "h0"}, {"y", "yh"});
  m.output("y").output("yh");
  const auto out =
      runModel(m, {HostTensor::fromFloats(Dims{2, 2, 1}, std::vector<float>{1, 2, 3, 4}),
                   HostTensor::fromInts(Dims{2}, std::vector<int32_t>{2, 1}),
                   HostTensor::fromFloats(Dims{1, 2, 1}, std::vector<float>{0.8f, 0.4f})});
  ASSERT_EQ(out.size(), 2u);
  // Y [2 steps, 1, 2 entries, 1].
  expectClose(out[0].floats(), std::vector<float>{0.4f, 0.2f, 0.2f, 0.f}, 1e-6, 1e-6);
  expectClose(out[1].floats(), std::vector<float>{0.2f, 0.2f}, 1e-6, 1e-6);
}

TEST(OnnxRecurrent, AffineAndUnknownSettingsAreReported) {
  const auto model = [](const std::string& activation, const std::string& direction) {
    ModelBuilder m(13);
    m.input("x", {2, 1, 1});
    m.floats("W", {1, 4, 1}, {1, 1, 1, 1}).floats("R", {1, 4, 1}, {0, 0, 0, 0});
    auto& node = m.node("LSTM", {"x", "W", "R"}, {"y"}, "lstm");
    attrInt(node, "hidden_size", 1);
    attrString(node, "direction", direction);
    attrStrings(node, "activations", {"Sigmoid", activation, "Tanh"});
    m.output("y");
    return m;
  };
  expectParseError(model("Affine", "forward"), {"lstm", "activation 'Affine' is not supported"});
  expectParseError(model("Cosh", "forward"), {"lstm", "unknown activation 'Cosh'"});
  expectParseError(model("Tanh", "sideways"),
                   {"lstm", "direction 'sideways' is none of forward, reverse and bidirectional"});
}

}  // namespace
}  // namespace kiln::test
