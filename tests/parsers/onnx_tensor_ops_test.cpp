// ONNX shape and data-movement ops: Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Concat,
// Split, Slice, Gather*, Expand, Tile, Pad, DepthToSpace, SpaceToDepth, Cast, ConstantOfShape,
// Range, Identity, Dropout.
#include <gtest/gtest.h>

#include <numeric>
#include <string>
#include <vector>

#include "onnx_test_util.h"

namespace kiln::test {
namespace {

using onnx_test::attrInt;
using onnx_test::attrInts;
using onnx_test::attrString;
using onnx_test::ModelBuilder;
using onnx_test::runModel;

std::vector<float> iota(int64_t n) {
  std::vector<float> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0.f);
  return v;
}

// Runs a model with one float input "x" of @p dims filled with 0, 1, 2, ...
std::vector<HostTensor> runOnIota(const ModelBuilder& m, const Dims& dims) {
  return runModel(m, {HostTensor::fromFloats(dims, iota(volume(dims)))});
}

TEST(OnnxTensorOps, ReshapeWithZeroAndMinusOne) {
  ModelBuilder m(14);
  m.input("x", {2, 3, 4}).output("y").output("z");
  m.vector("shape", {0, -1});
  m.vector("back", {0, 3, -1});
  m.node("Reshape", {"x", "shape"}, {"y"});
  m.node("Reshape", {"x", "shape"}, {"r"});
  attrInt(m.node("Reshape", {"r", "back"}, {"z"}), "allowzero", 0);
  const auto out = runOnIota(m, {2, 3, 4});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].dims, (Dims{2, 12}));
  EXPECT_EQ(out[0].floats(), iota(24));
  EXPECT_EQ(out[1].dims, (Dims{2, 3, 4}));
  EXPECT_EQ(out[1].floats(), iota(24));
}

TEST(OnnxTensorOps, FlattenTransposeSqueezeUnsqueeze) {
  ModelBuilder m(13);
  m.input("x", {2, 1, 3}).output("flat").output("t").output("sq").output("unsq");
  attrInt(m.node("Flatten", {"x"}, {"flat"}), "axis", 2);
  attrInts(m.node("Transpose", {"x"}, {"t"}), "perm", {2, 0, 1});
  m.vector("axis1", {1});
  m.node("Squeeze", {"x", "axis1"}, {"sq"});
  m.vector("axes", {0, -1});
  m.node("Unsqueeze", {"x", "axes"}, {"unsq"});
  const auto out = runOnIota(m, {2, 1, 3});
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].dims, (Dims{2, 3}));
  EXPECT_EQ(out[1].dims, (Dims{3, 2, 1}));
  EXPECT_EQ(out[1].floats(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(out[2].dims, (Dims{2, 3}));
  EXPECT_EQ(out[3].dims, (Dims{1, 2, 1, 3, 1}));
  EXPECT_EQ(out[3].floats(), iota(6));
}

TEST(OnnxTensorOps, OldOpsetAxesAttributes) {
  ModelBuilder m(11);
  m.input("x", {2, 1, 3}).output("sq").output("unsq").output("t");
  attrInts(m.node("Squeeze", {"x"}, {"sq"}), "axes", {1});
  attrInts(m.node("Unsqueeze", {"x"}, {"unsq"}), "axes", {3});
  m.node("Transpose", {"x"}, {"t"});  // default: reversed
  const auto out = runOnIota(m, {2, 1, 3});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].dims, (Dims{2, 3}));
  EXPECT_EQ(out[1].dims, (Dims{2, 1, 3, 1}));
  EXPECT_EQ(out[2].dims, (Dims{3, 1, 2}));
  EXPECT_EQ(out[2].floats(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

TEST(OnnxTensorOps, ConcatAndSplit) {
  ModelBuilder m(13);
  m.input("x", {2, 3}).output("c").output("s0").output("s1");
  m.floats("k", {2, 1}, {10, 20});
  attrInt(m.node("Concat", {"x", "k"}, {"c"}), "axis", -1);
  m.vector("split", {1, 3});
  attrInt(m.node("Split", {"c", "split"}, {"s0", "s1"}), "axis", 1);
  const auto out = runOnIota(m, {2, 3});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{0, 1, 2, 10, 3, 4, 5, 20}));
  EXPECT_EQ(out[1].floats(), (std::vector<float>{0, 3}));
  EXPECT_EQ(out[2].floats(), (std::vector<float>{1, 2, 10, 4, 5, 20}));
}

TEST(OnnxTensorOps, EqualSplitsByOpset) {
  ModelBuilder old(11);
  old.input("x", {6}).output("a").output("b").output("c");
  old.node("Split", {"x"}, {"a", "b", "c"});
  auto out = runOnIota(old, {6});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[2].floats(), (std::vector<float>{4, 5}));

  ModelBuilder now(18);
  now.input("x", {7}).output("a").output("b").output("c");
  attrInt(now.node("Split", {"x"}, {"a", "b", "c"}), "num_outputs", 3);
  out = runOnIota(now, {7});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{0, 1, 2}));
  EXPECT_EQ(out[2].floats(), (std::vector<float>{6}));
}

TEST(OnnxTensorOps, SliceClampsAsOnnx) {
  ModelBuilder m(13);
  m.input("x", {3, 5}).output("a").output("b").output("c");
  m.vector("s", {-100, -1}).vector("e", {100, -6}).vector("ax", {0, 1}).vector("st", {2, -2});
  m.node("Slice", {"x", "s", "e", "ax", "st"}, {"a"});  // rows 0, 2; columns 4, 2, 0
  m.vector("s2", {1}).vector("e2", {1});
  m.node("Slice", {"x", "s2", "e2"}, {"b"});  // empty
  m.vector("s3", {-2}).vector("e3", {INT64_MAX}).vector("ax3", {-1});
  m.node("Slice", {"x", "s3", "e3", "ax3"}, {"c"});
  const auto out = runOnIota(m, {3, 5});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].dims, (Dims{2, 3}));
  EXPECT_EQ(out[0].floats(), (std::vector<float>{4, 2, 0, 14, 12, 10}));
  EXPECT_EQ(out[1].dims, (Dims{0, 5}));
  EXPECT_EQ(out[2].floats(), (std::vector<float>{3, 4, 8, 9, 13, 14}));
}

TEST(OnnxTensorOps, GatherFamilies) {
  ModelBuilder m(13);
  m.input("x", {3, 4}).output("g").output("ge").output("gnd").output("scalar");
  m.ints("idx", {2}, {2, -3});
  attrInt(m.node("Gather", {"x", "idx"}, {"g"}), "axis", 0);
  m.ints("eidx", {3, 1}, {3, 0, 1});
  attrInt(m.node("GatherElements", {"x", "eidx"}, {"ge"}), "axis", 1);
  m.ints("ndidx", {2, 2}, {0, 1, 2, 3});
  m.node("GatherND", {"x", "ndidx"}, {"gnd"});
  m.ints("one", {}, {1});
  attrInt(m.node("Gather", {"x", "one"}, {"scalar"}), "axis", 1);
  const auto out = runOnIota(m, {3, 4});
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{8, 9, 10, 11, 0, 1, 2, 3}));
  EXPECT_EQ(out[1].floats(), (std::vector<float>{3, 4, 9}));
  EXPECT_EQ(out[2].floats(), (std::vector<float>{1, 11}));
  EXPECT_EQ(out[3].dims, (Dims{3}));
  EXPECT_EQ(out[3].floats(), (std::vector<float>{1, 5, 9}));
}

TEST(OnnxTensorOps, GatherOfTokensWithInt64Ids) {
  ModelBuilder m(13);
  m.input("ids", {1, 3}, ::onnx::TensorProto::INT64).output("y");
  m.floats("table", {4, 2}, iota(8));
  m.node("Gather", {"table", "ids"}, {"y"});
  HostTensor ids(DataType::kINT64, {1, 3});
  const int64_t values[] = {3, 0, 2};
  std::memcpy(ids.bytes.data(), values, sizeof(values));
  const auto out = runModel(m, {ids});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{1, 3, 2}));
  EXPECT_EQ(out[0].floats(), (std::vector<float>{6, 7, 0, 1, 4, 5}));
}

TEST(OnnxTensorOps, ExpandAndTile) {
  ModelBuilder m(13);
  m.input("x", {3, 1}).output("e").output("t");
  m.vector("shape", {2, 1, 4});
  m.node("Expand", {"x", "shape"}, {"e"});
  m.vector("reps", {2, 3});
  m.node("Tile", {"x", "reps"}, {"t"});
  const auto out = runOnIota(m, {3, 1});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].dims, (Dims{2, 3, 4}));
  std::vector<float> expanded;
  for (int b = 0; b < 2; ++b)
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 4; ++c) expanded.push_back(static_cast<float>(r));
  EXPECT_EQ(out[0].floats(), expanded);
  EXPECT_EQ(out[1].dims, (Dims{6, 3}));
  EXPECT_EQ(out[1].floats(),
            (std::vector<float>{0, 0, 0, 1, 1, 1, 2, 2, 2, 0, 0, 0, 1, 1, 1, 2, 2, 2}));
}

TEST(OnnxTensorOps, PadModes) {
  for (const char* mode : {"constant", "reflect", "edge"}) {
    ModelBuilder m(13);
    m.input("x", {1, 3}).output("y");
    m.vector("pads", {0, 2, 0, 1});
    m.floats("value", {}, {9.f});
    auto& pad = m.node("Pad", {"x", "pads", "value"}, {"y"});
    attrString(pad, "mode", mode);
    const auto out = runOnIota(m, {1, 3});
    ASSERT_EQ(out.size(), 1u) << mode;
    EXPECT_EQ(out[0].dims, (Dims{1, 6}));
    const std::string name(mode);
    const std::vector<float> expected = name == "constant"  ? std::vector<float>{9, 9, 0, 1, 2, 9}
                                        : name == "reflect" ? std::vector<float>{2, 1, 0, 1, 2, 1}
                                                            : std::vector<float>{0, 0, 0, 1, 2, 2};
    EXPECT_EQ(out[0].floats(), expected) << mode;
  }
  ModelBuilder old(10);  // before opset 11: pads as an attribute
  old.input("x", {2, 2}).output("y");
  auto& pad = old.node("Pad", {"x"}, {"y"});
  attrInts(pad, "pads", {1, 0, 0, 0});
  const auto out = runOnIota(old, {2, 2});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{0, 0, 0, 1, 2, 3}));
}

TEST(OnnxTensorOps, DepthToSpaceAndBack) {
  for (const char* mode : {"DCR", "CRD"}) {
    ModelBuilder m(13);
    m.input("x", {1, 8, 2, 3}).output("d2s").output("back");
    auto& d2s = m.node("DepthToSpace", {"x"}, {"d2s"});
    attrInt(d2s, "blocksize", 2);
    attrString(d2s, "mode", mode);
    attrInt(m.node("SpaceToDepth", {"d2s"}, {"back"}), "blocksize", 2);
    const auto out = runOnIota(m, {1, 8, 2, 3});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].dims, (Dims{1, 2, 4, 6}));
    // y[0, c, h*2 + i, w*2 + j] = x[0, (i*2 + j)*2 + c] (DCR) or x[0, c*4 + i*2 + j] (CRD).
    const auto y = out[0].floats();
    for (int c = 0; c < 2; ++c)
      for (int h = 0; h < 4; ++h)
        for (int w = 0; w < 6; ++w) {
          const int i = h % 2, j = w % 2;
          const int channel = std::string(mode) == "DCR" ? (i * 2 + j) * 2 + c : c * 4 + i * 2 + j;
          const float expected = static_cast<float>((channel * 2 + h / 2) * 3 + w / 2);
          ASSERT_EQ(y[static_cast<std::size_t>((c * 4 + h) * 6 + w)], expected) << mode;
        }
    if (std::string(mode) == "DCR") {
      EXPECT_EQ(out[1].floats(), iota(48));  // SpaceToDepth inverts DCR
    }
  }
}

TEST(OnnxTensorOps, CastsAndTypes) {
  ModelBuilder m(13);
  m.input("x", {4})
      .output("i", ::onnx::TensorProto::INT64)
      .output("b", ::onnx::TensorProto::BOOL)
      .output("f");
  attrInt(m.node("Cast", {"x"}, {"i"}), "to", ::onnx::TensorProto::INT64);
  attrInt(m.node("Cast", {"x"}, {"b"}), "to", ::onnx::TensorProto::BOOL);
  attrInt(m.node("Cast", {"i"}, {"f"}), "to", ::onnx::TensorProto::FLOAT);
  const auto out =
      runModel(m, {HostTensor::fromFloats({4}, std::vector<float>{-1.7f, 0, 0.5f, 2.9f})});
  ASSERT_EQ(out.size(), 3u);
  ASSERT_EQ(out[0].dtype, DataType::kINT64);
  const auto i = out[0].as<int64_t>();
  EXPECT_EQ(std::vector<int64_t>(i.begin(), i.end()), (std::vector<int64_t>{-1, 0, 0, 2}));
  const auto b = out[1].as<uint8_t>();
  EXPECT_EQ(std::vector<uint8_t>(b.begin(), b.end()), (std::vector<uint8_t>{1, 0, 1, 1}));
  EXPECT_EQ(out[2].floats(), (std::vector<float>{-1, 0, 0, 2}));
}

TEST(OnnxTensorOps, ConstantOfShapeRangeIdentityDropout) {
  ModelBuilder m(13);
  m.input("x", {2, 3}).output("y").output("mask", ::onnx::TensorProto::BOOL);
  m.node("Shape", {"x"}, {"shape"});
  ::onnx::TensorProto value;
  value.set_data_type(::onnx::TensorProto::FLOAT);
  value.add_dims(1);
  value.add_float_data(0.5f);
  onnx_test::attrTensor(m.node("ConstantOfShape", {"shape"}, {"halves"}), "value", value);
  m.floats("start", {}, {1.f}).floats("limit", {}, {2.5f}).floats("delta", {}, {0.5f});
  m.node("Range", {"start", "limit", "delta"}, {"steps"});  // 1, 1.5, 2
  m.node("Add", {"x", "halves"}, {"a"});
  m.node("Mul", {"a", "steps"}, {"b"});
  m.node("Identity", {"b"}, {"c"});
  m.node("Dropout", {"c"}, {"y", "mask"});
  const auto out = runOnIota(m, {2, 3});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{0.5f, 2.25f, 5.f, 3.5f, 6.75f, 11.f}));
  const auto mask = out[1].as<uint8_t>();
  EXPECT_EQ(std::vector<uint8_t>(mask.begin(), mask.end()), std::vector<uint8_t>(6, 1));
}

TEST(OnnxTensorOps, ArgumentsComputedAtRunTimeAreUnsupported) {
  ModelBuilder m(13);
  // A shape computed by a layer (not a network input, which a profile could give values).
  m.input("x", {2, 3}).input("shape", {2}, ::onnx::TensorProto::INT64).output("y");
  m.node("Neg", {"shape"}, {"computed"});
  m.node("Reshape", {"x", "computed"}, {"y"}, "dynamic_reshape");
  onnx_test::expectParseError(
      m,
      {"node 'dynamic_reshape' (Reshape, opset 13): the shape (input 1 'computed') must be known"});
}

}  // namespace
}  // namespace kiln::test
