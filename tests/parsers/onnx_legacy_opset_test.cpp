// ONNX opsets 1 to 6: ops whose old definition kiln handles import (old attributes ignored or
// checked); the others are refused naming node, op and opset.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "onnx_test_util.h"

namespace kiln::test {
namespace {

using onnx_test::attrFloat;
using onnx_test::attrInt;
using onnx_test::attrInts;
using onnx_test::attrString;
using onnx_test::expectParseError;
using onnx_test::ModelBuilder;
using onnx_test::runModel;

TEST(OnnxLegacyOpset, OldActivationsAndPoolsImport) {
  ModelBuilder m(1);
  m.input("x", {1, 2, 1, 2}).output("elu").output("softsign").output("pool");
  auto& elu = m.node("Elu", {"x"}, {"elu"});
  attrFloat(elu, "alpha", 2.f);
  attrInts(elu, "consumed_inputs", {0});  // a memory hint of opset 1, ignored
  m.node("Softsign", {"x"}, {"softsign"});
  m.node("GlobalAveragePool", {"x"}, {"pool"});
  const auto out =
      runModel(m, {HostTensor::fromFloats({1, 2, 1, 2}, std::vector<float>{-1, 1, 3, -3})});
  ASSERT_EQ(out.size(), 3u);
  expectClose(out[0].floats(),
              std::vector<float>{2 * (std::exp(-1.f) - 1), 1, 3, 2 * (std::exp(-3.f) - 1)});
  expectClose(out[1].floats(), std::vector<float>{-0.5f, 0.5f, 0.75f, -0.75f});
  EXPECT_EQ(out[2].dims, (Dims{1, 2, 1, 1}));
  EXPECT_EQ(out[2].floats(), (std::vector<float>{0, 0}));
}

TEST(OnnxLegacyOpset, BroadcastWithoutAxisIsNumpy) {
  ModelBuilder m(6);
  m.input("a", {2, 3}).output("y");
  m.floats("b", {3}, {10, 20, 30});
  attrInt(m.node("Add", {"a", "b"}, {"y"}), "broadcast", 1);
  const auto out =
      runModel(m, {HostTensor::fromFloats({2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{11, 22, 33, 14, 25, 36}));
}

TEST(OnnxLegacyOpset, DifferentOldDefinitionsAreRefusedTogether) {
  ModelBuilder m(5);
  m.input("a", {2, 3}).input("x", {1, 2, 2, 2}).output("sum").output("bn").output("cast");
  m.floats("b", {2}, {1, 2});
  auto& add = m.node("Add", {"a", "b"}, {"sum"}, "add");
  attrInt(add, "broadcast", 1);
  attrInt(add, "axis", 0);
  m.floats("scale", {2}, {1, 1});
  m.floats("bias", {2}, {0, 0});
  m.floats("mean", {2}, {0, 0});
  m.floats("var", {2}, {1, 1});
  m.node("BatchNormalization", {"x", "scale", "bias", "mean", "var"}, {"bn"}, "bn");
  attrString(m.node("Cast", {"a"}, {"cast"}, "cast"), "to", "FLOAT");
  expectParseError(
      m, {"3 unsupported nodes (of 3)",
          "node 'add' (Add, opset 5): legacy broadcasting along axis 0 (B of rank 1 aligned "
          "inside A of rank 2) is not supported",
          "node 'bn' (BatchNormalization, opset 5): is_test 0 asks for training mode",
          "node 'cast' (Cast, opset 5): kiln imports Cast from opset 6; its 'to' attribute is a "
          "type name string before opset 6"});
}

TEST(OnnxLegacyOpset, OpsNewerThanTheModelAreRefused) {
  ModelBuilder m(6);
  m.input("x", {1, 1, 2, 2}).output("y");
  m.node("Upsample", {"x"}, {"y"}, "up");
  expectParseError(m, {"node 'up' (Upsample, opset 6): kiln imports Upsample from opset 7"});

  ModelBuilder bn(6);
  bn.input("x", {1, 2, 1, 1}).output("y");
  for (const char* name : {"scale", "var"}) bn.floats(name, {2}, {1, 1});
  bn.floats("bias", {2}, {0, 0});
  bn.floats("mean", {2}, {0, 1});
  attrInt(bn.node("BatchNormalization", {"x", "scale", "bias", "mean", "var"}, {"y"}), "is_test",
          1);
  const auto out = runModel(bn, {HostTensor::fromFloats({1, 2, 1, 1}, std::vector<float>{3, 3})});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), std::vector<float>{3, 2}, 1e-4);
}

}  // namespace
}  // namespace kiln::test
