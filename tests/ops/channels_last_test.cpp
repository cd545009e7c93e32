// Channels-last (layout NHWC) Convolution and Pooling: the reference kernels and shape rules
// against the NCHW ones on transposed tensors, and the configurations they reject.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "ir/op_registry.h"
#include "kiln/network.h"
#include "ops/window_util.h"
#include "support/test_util.h"

namespace kiln::test {
namespace {

struct Input {
  Dims dims;
  std::vector<float> values;
  bool present = true;
};

Dims dims4(int64_t a, int64_t b, int64_t c, int64_t d) {
  Dims out;
  out.nbDims = 4;
  out[0] = a;
  out[1] = b;
  out[2] = c;
  out[3] = d;
  return out;
}

Dims dims1(int64_t a) {
  Dims out;
  out.nbDims = 1;
  out[0] = a;
  return out;
}

Dims dims2(int64_t a, int64_t b) {
  Dims out;
  out.nbDims = 2;
  out[0] = a;
  out[1] = b;
  return out;
}

ir::Node nodeOf(const std::string& op, const ir::Attributes& attrs, std::size_t inputs) {
  ir::Node node;
  node.name = "node";
  node.op = op;
  node.attrs = attrs;
  for (std::size_t i = 0; i < inputs; ++i) node.inputs.push_back(static_cast<ir::ValueId>(i));
  node.outputs.push_back(static_cast<ir::ValueId>(inputs));
  return node;
}

std::vector<ir::TensorInfo> infosOf(const std::vector<Input>& inputs) {
  std::vector<ir::TensorInfo> infos;
  for (const Input& in : inputs) {
    ir::TensorInfo info;
    info.present = in.present;
    info.dims = in.dims;
    infos.push_back(info);
  }
  return infos;
}

// Infers and runs @p op's reference kernel; fills @p outDims.
std::vector<float> runReference(const std::string& op, const ir::Attributes& attrs,
                                std::vector<Input> inputs, Dims& outDims) {
  const ir::Node node = nodeOf(op, attrs, inputs.size());
  const std::vector<ir::TensorInfo> outInfos = ir::inferNode(node, infosOf(inputs));
  outDims = outInfos[0].dims;
  std::vector<ir::TensorView> views;
  for (Input& in : inputs) {
    views.push_back({DataType::kFLOAT, in.dims, in.values.data(), in.present});
  }
  std::vector<float> out(static_cast<std::size_t>(volume(outDims)));
  const ir::TensorView outView{DataType::kFLOAT, outDims, out.data(), true};
  const ir::KernelContext ctx{
      .node = node, .inputs = views, .outputs = std::span<const ir::TensorView>(&outView, 1)};
  ir::OpRegistry::instance().get(op).reference(ctx);
  return out;
}

Input toLast(const Input& in) {
  if (!in.present || in.dims.nbDims != 4) return in;
  Input out{ops::toChannelsLast(in.dims), std::vector<float>(in.values.size()), true};
  ops::permute4d(in.values.data(), in.dims, ops::kToChannelsLast, out.values.data());
  return out;
}

Input random(const Dims& dims, uint32_t seed) {
  return {dims, randomFloats(volume(dims), seed), true};
}

// Runs @p op on @p inputs in NCHW and, with @p lastInputs (the inputs to transpose) moved to
// NHWC, with layout NHWC; expects the same values, transposed.
void expectSameInBothLayouts(const std::string& op, ir::Attributes attrs,
                             const std::vector<Input>& inputs,
                             const std::vector<std::size_t>& lastInputs) {
  Dims firstDims;
  const std::vector<float> first = runReference(op, attrs, inputs, firstDims);
  std::vector<Input> moved = inputs;
  for (std::size_t i : lastInputs) moved[i] = toLast(inputs[i]);
  attrs.set(ops::kLayoutAttr, std::string("NHWC"));
  Dims lastDims;
  const std::vector<float> last = runReference(op, attrs, moved, lastDims);
  ASSERT_TRUE(lastDims == ops::toChannelsLast(firstDims))
      << toString(lastDims) << " vs " << toString(firstDims);
  std::vector<float> expected(first.size());
  ops::permute4d(first.data(), firstDims, ops::kToChannelsLast, expected.data());
  expectClose(last, expected, 0.0, 0.0, op);
}

ir::Attributes convAttrs(int64_t outputs, int64_t kernel, int64_t stride, int64_t pad,
                         int64_t groups = 1) {
  ir::Attributes a;
  a.set("num_output", outputs);
  a.set("kernel", dims2(kernel, kernel));
  a.set("stride", dims2(stride, stride));
  a.set("pre_padding", dims2(pad, pad));
  a.set("post_padding", dims2(pad, pad));
  a.set("groups", groups);
  return a;
}

TEST(ChannelsLast, ConvolutionMatchesNchw) {
  const Input x = random(dims4(2, 8, 7, 9), 1);
  const Input w = random(dims4(16, 8, 3, 3), 2);
  const Input b = random(dims1(16), 3);
  expectSameInBothLayouts("Convolution", convAttrs(16, 3, 2, 1), {x, w, b}, {0, 1});
  expectSameInBothLayouts("Convolution", convAttrs(16, 3, 1, 0), {x, w}, {0, 1});
  // 1x1, and groups (weights [K, R, S, C/groups]).
  expectSameInBothLayouts("Convolution", convAttrs(5, 1, 1, 0), {x, random(dims4(5, 8, 1, 1), 4)},
                          {0, 1});
  expectSameInBothLayouts("Convolution", convAttrs(6, 3, 1, 1, 2),
                          {x, random(dims4(6, 4, 3, 3), 5), random(dims1(6), 6)}, {0, 1});
}

TEST(ChannelsLast, ConvolutionAsymmetricAndSamePadding) {
  const Input x = random(dims4(1, 3, 6, 5), 7);
  const Input w = random(dims4(4, 3, 2, 3), 8);
  ir::Attributes a;
  a.set("num_output", int64_t{4});
  a.set("kernel", dims2(2, 3));
  a.set("stride", dims2(2, 1));
  a.set("pre_padding", dims2(1, 0));
  a.set("post_padding", dims2(0, 2));
  expectSameInBothLayouts("Convolution", a, {x, w}, {0, 1});
  a.set("padding_mode", PaddingMode::kSAME_UPPER);
  expectSameInBothLayouts("Convolution", a, {x, w}, {0, 1});
}

TEST(ChannelsLast, ConvolutionEpilogueWithResidual) {
  const Input x = random(dims4(2, 8, 5, 5), 9);
  const Input w = random(dims4(8, 8, 3, 3), 10);
  const Input b = random(dims1(8), 11);
  const Input residual = random(dims4(2, 8, 5, 5), 12);
  ir::Attributes a = convAttrs(8, 3, 1, 1);
  a.set("epilogue.activation", ActivationType::kRELU);
  a.set("epilogue.residual", int64_t{3});
  expectSameInBothLayouts("Convolution", a, {x, w, b, residual}, {0, 1, 3});
}

TEST(ChannelsLast, EmptyBatch) {
  expectSameInBothLayouts("Convolution", convAttrs(8, 3, 1, 1),
                          {random(dims4(0, 8, 4, 4), 13), random(dims4(8, 8, 3, 3), 14)}, {0, 1});
  ir::Attributes p;
  p.set("type", PoolingType::kMAX);
  p.set("window", dims2(2, 2));
  expectSameInBothLayouts("Pooling", p, {random(dims4(0, 3, 4, 4), 15)}, {0});
}

TEST(ChannelsLast, PoolingMatchesNchw) {
  const Input x = random(dims4(2, 5, 9, 8), 16);
  for (const PoolingType type :
       {PoolingType::kMAX, PoolingType::kAVERAGE, PoolingType::kMAX_AVERAGE_BLEND}) {
    ir::Attributes a;
    a.set("type", type);
    a.set("window", dims2(3, 2));
    a.set("stride", dims2(2, 2));
    a.set("pre_padding", dims2(1, 0));
    a.set("post_padding", dims2(1, 1));
    a.set("padding_mode", PaddingMode::kEXPLICIT_ROUND_UP);
    a.set("exclude_padding", int64_t{0});
    a.set("blend_factor", 0.25);
    expectSameInBothLayouts("Pooling", a, {x}, {0});
  }
}

// The message of the shape-inference error of @p op on @p inputs; empty when it passes.
std::string inferError(const std::string& op, const ir::Attributes& attrs,
                       const std::vector<Input>& inputs) {
  try {
    ir::inferNode(nodeOf(op, attrs, inputs.size()), infosOf(inputs));
  } catch (const Error& e) {
    return e.what();
  }
  return {};
}

TEST(ChannelsLast, BadConfigurationsAreRejected) {
  const Input x{dims4(1, 6, 6, 8), {}, true};  // NHWC, C = 8
  const Input w{dims4(4, 3, 3, 8), {}, true};  // KRSC
  ir::Attributes a = convAttrs(4, 3, 1, 1);
  a.set(ops::kLayoutAttr, std::string("NHWC"));
  EXPECT_EQ(inferError("Convolution", a, {x, w}), "");

  ir::Attributes unknown = a;
  unknown.set(ops::kLayoutAttr, std::string("NCWH"));
  EXPECT_NE(inferError("Convolution", unknown, {x, w}).find("unknown layout 'NCWH'"),
            std::string::npos);

  // Weights in KCRS order under NHWC: the channel count does not match.
  const std::string wrongWeights =
      inferError("Convolution", a, {x, Input{dims4(4, 8, 3, 3), {}, true}});
  EXPECT_NE(wrongWeights.find("kernel weights"), std::string::npos) << wrongWeights;
  EXPECT_NE(wrongWeights.find("NHWC"), std::string::npos) << wrongWeights;

  const std::string rank3 = inferError("Convolution", a, {Input{dims2(6, 8), {}, true}, w});
  EXPECT_NE(rank3.find("rank-4"), std::string::npos) << rank3;

  ir::Attributes oneD;
  oneD.set("num_output", int64_t{4});
  oneD.set("kernel", dims1(3));
  oneD.set(ops::kLayoutAttr, std::string("NHWC"));
  EXPECT_NE(inferError("Convolution", oneD, {x, w}).find("2 spatial dimensions"),
            std::string::npos);

  ir::Attributes deconv = a;
  EXPECT_NE(inferError("Deconvolution", deconv, {x, w}).find("only layout NCHW"),
            std::string::npos);

  ir::Attributes pool;
  pool.set("type", PoolingType::kMAX);
  pool.set("window", dims2(2, 2));
  pool.set(ops::kLayoutAttr, std::string("NHWC"));
  EXPECT_EQ(inferError("Pooling", pool, {x}), "");
  const std::string poolRank = inferError("Pooling", pool, {Input{dims2(6, 8), {}, true}});
  EXPECT_NE(poolRank.find("rank-4"), std::string::npos) << poolRank;
}

}  // namespace
}  // namespace kiln::test
