// ONNX Conv, ConvTranspose, pooling and BatchNormalization against plain reference loops.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "onnx_test_util.h"

namespace kiln::test {
namespace {

using onnx_test::attrFloat;
using onnx_test::attrInt;
using onnx_test::attrInts;
using onnx_test::attrString;
using onnx_test::ModelBuilder;
using onnx_test::runModel;

std::vector<int64_t> shapeOf(const Dims& d) {
  return {d.d.begin(), d.d.begin() + d.nbDims};
}

struct Conv2d {
  int64_t groups = 1;
  std::array<int64_t, 2> stride{1, 1}, dilation{1, 1}, pre{0, 0}, post{0, 0}, outputPadding{0, 0};
};

// y[n, k, oh, ow] = b[k] + sum x[n, c, oh*s - pre + i*d, ...] * w[k, c, i, j] (zero padding).
std::vector<float> conv2d(const std::vector<float>& x, const Dims& xd, const std::vector<float>& w,
                          const Dims& wd, const std::vector<float>& b, const Conv2d& p, Dims& yd) {
  const int64_t N = xd[0], C = xd[1], H = xd[2], W = xd[3];
  const int64_t K = wd[0], Cg = wd[1], KH = wd[2], KW = wd[3];
  const int64_t OH = (H + p.pre[0] + p.post[0] - (KH - 1) * p.dilation[0] - 1) / p.stride[0] + 1;
  const int64_t OW = (W + p.pre[1] + p.post[1] - (KW - 1) * p.dilation[1] - 1) / p.stride[1] + 1;
  yd = Dims{N, K, OH, OW};
  std::vector<float> y(static_cast<std::size_t>(N * K * OH * OW));
  const int64_t Kg = K / p.groups;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double sum = b.empty() ? 0.0 : b[static_cast<std::size_t>(k)];
          const int64_t g = k / Kg;
          for (int64_t cg = 0; cg < Cg; ++cg)
            for (int64_t i = 0; i < KH; ++i)
              for (int64_t j = 0; j < KW; ++j) {
                const int64_t ih = oh * p.stride[0] - p.pre[0] + i * p.dilation[0];
                const int64_t iw = ow * p.stride[1] - p.pre[1] + j * p.dilation[1];
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                const int64_t c = g * Cg + cg;
                sum += static_cast<double>(
                           x[static_cast<std::size_t>(((n * C + c) * H + ih) * W + iw)]) *
                       w[static_cast<std::size_t>(((k * Cg + cg) * KH + i) * KW + j)];
              }
          y[static_cast<std::size_t>(((n * K + k) * OH + oh) * OW + ow)] = static_cast<float>(sum);
        }
  return y;
}

// Transposed: every input cell scatters x * w into the full output; pads crop it and
// output_padding extends its end (cells no input reaches hold the bias).
std::vector<float> convTranspose2d(const std::vector<float>& x, const Dims& xd,
                                   const std::vector<float>& w, const Dims& wd,
                                   const std::vector<float>& b, const Conv2d& p, Dims& yd) {
  const int64_t N = xd[0], C = xd[1], H = xd[2], W = xd[3];
  const int64_t Kg = wd[1], KH = wd[2], KW = wd[3];
  const int64_t K = Kg * p.groups, Cg = C / p.groups;
  const int64_t OH = (H - 1) * p.stride[0] + (KH - 1) * p.dilation[0] + 1 - p.pre[0] - p.post[0] +
                     p.outputPadding[0];
  const int64_t OW = (W - 1) * p.stride[1] + (KW - 1) * p.dilation[1] + 1 - p.pre[1] - p.post[1] +
                     p.outputPadding[1];
  yd = Dims{N, K, OH, OW};
  std::vector<double> acc(static_cast<std::size_t>(N * K * OH * OW));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t i = 0; i < OH * OW; ++i)
        acc[static_cast<std::size_t>((n * K + k) * OH * OW + i)] =
            b.empty() ? 0.0 : b[static_cast<std::size_t>(k)];
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t ih = 0; ih < H; ++ih)
        for (int64_t iw = 0; iw < W; ++iw) {
          const int64_t g = c / Cg;
          for (int64_t kk = 0; kk < Kg; ++kk)
            for (int64_t i = 0; i < KH; ++i)
              for (int64_t j = 0; j < KW; ++j) {
                const int64_t oh = ih * p.stride[0] + i * p.dilation[0] - p.pre[0];
                const int64_t ow = iw * p.stride[1] + j * p.dilation[1] - p.pre[1];
                if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                const int64_t k = g * Kg + kk;
                acc[static_cast<std::size_t>(((n * K + k) * OH + oh) * OW + ow)] +=
                    static_cast<double>(
                        x[static_cast<std::size_t>(((n * C + c) * H + ih) * W + iw)]) *
                    w[static_cast<std::size_t>(((c * Kg + kk) * KH + i) * KW + j)];
              }
        }
  return {acc.begin(), acc.end()};
}

struct Pool2d {
  bool max = true;
  std::array<int64_t, 2> kernel{2, 2}, stride{1, 1}, pre{0, 0}, post{0, 0};
  bool ceil = false;
  bool countIncludePad = false;
};

// PyTorch's (and ONNX Runtime's) rule: with ceil_mode a last window starting in the right
// padding is dropped; count_include_pad counts cells inside the padded input.
std::vector<float> pool2d(const std::vector<float>& x, const Dims& xd, const Pool2d& p, Dims& yd) {
  const int64_t N = xd[0], C = xd[1];
  std::array<int64_t, 2> in{xd[2], xd[3]}, out{};
  for (int d = 0; d < 2; ++d) {
    const int64_t span = in[d] + p.pre[d] + p.post[d] - p.kernel[d];
    out[d] = (p.ceil ? (span + p.stride[d] - 1) / p.stride[d] : span / p.stride[d]) + 1;
    if (p.ceil && (out[d] - 1) * p.stride[d] >= in[d] + p.pre[d]) --out[d];
  }
  yd = Dims{N, C, out[0], out[1]};
  std::vector<float> y;
  for (int64_t plane = 0; plane < N * C; ++plane)
    for (int64_t oh = 0; oh < out[0]; ++oh)
      for (int64_t ow = 0; ow < out[1]; ++ow) {
        const int64_t h0 = oh * p.stride[0] - p.pre[0], w0 = ow * p.stride[1] - p.pre[1];
        const int64_t h1 = std::min(h0 + p.kernel[0], in[0] + p.post[0]);
        const int64_t w1 = std::min(w0 + p.kernel[1], in[1] + p.post[1]);
        const int64_t padded = (h1 - h0) * (w1 - w0);
        double sum = 0, best = -std::numeric_limits<double>::infinity();
        int64_t inside = 0;
        for (int64_t h = std::max<int64_t>(h0, 0); h < std::min(h1, in[0]); ++h)
          for (int64_t w = std::max<int64_t>(w0, 0); w < std::min(w1, in[1]); ++w) {
            const double v = x[static_cast<std::size_t>((plane * in[0] + h) * in[1] + w)];
            sum += v;
            best = std::max(best, v);
            ++inside;
          }
        y.push_back(static_cast<float>(p.max ? best : sum / (p.countIncludePad ? padded : inside)));
      }
  return y;
}

TEST(OnnxConvPool, GroupedStridedDilatedConv) {
  const Dims xd{2, 4, 7, 8}, wd{6, 2, 3, 2};
  const auto x = randomFloats(volume(xd), 1), w = randomFloats(volume(wd), 2),
             b = randomFloats(6, 3);
  ModelBuilder m(13);
  m.input("x", shapeOf(xd)).output("y");
  m.floats("w", shapeOf(wd), w).floats("b", {6}, b);
  auto& conv = m.node("Conv", {"x", "w", "b"}, {"y"});
  attrInt(conv, "group", 2);
  attrInts(conv, "strides", {2, 1});
  attrInts(conv, "dilations", {1, 2});
  attrInts(conv, "pads", {1, 0, 1, 2});
  attrInts(conv, "kernel_shape", {3, 2});
  Conv2d p;
  p.groups = 2;
  p.stride = {2, 1};
  p.dilation = {1, 2};
  p.pre = {1, 0};
  p.post = {1, 2};
  Dims yd;
  const auto expected = conv2d(x, xd, w, wd, b, p, yd);
  const auto out = runModel(m, {HostTensor::fromFloats(xd, x)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, yd);
  expectClose(out[0].floats(), expected);
}

TEST(OnnxConvPool, AutoPadSameConv1d) {
  for (const char* mode : {"SAME_UPPER", "SAME_LOWER", "VALID"}) {
    const Dims xd{1, 3, 9}, wd{2, 3, 4};
    const auto x = randomFloats(volume(xd), 4), w = randomFloats(volume(wd), 5);
    ModelBuilder m(11);
    m.input("x", shapeOf(xd)).output("y");
    m.floats("w", shapeOf(wd), w);
    auto& conv = m.node("Conv", {"x", "w"}, {"y"});
    attrString(conv, "auto_pad", mode);
    attrInts(conv, "strides", {2});
    // The same convolution in 2-D with a height of 1, with the padding SAME derives.
    Conv2d p;
    p.stride = {1, 2};
    if (std::string(mode) != "VALID") {
      const int64_t out = (9 + 1) / 2, total = std::max<int64_t>((out - 1) * 2 + 4 - 9, 0);
      p.pre[1] = std::string(mode) == "SAME_UPPER" ? total / 2 : total - total / 2;
      p.post[1] = total - p.pre[1];
    }
    Dims yd;
    const auto expected = conv2d(x, Dims{1, 3, 1, 9}, w, Dims{2, 3, 1, 4}, {}, p, yd);
    const auto out = runModel(m, {HostTensor::fromFloats(xd, x)});
    ASSERT_EQ(out.size(), 1u) << mode;
    EXPECT_EQ(out[0].dims, (Dims{1, 2, yd[3]})) << mode;
    expectClose(out[0].floats(), expected, 1e-5, 1e-4, mode);
  }
}

TEST(OnnxConvPool, ConvTransposeWithPadsAndOutputPadding) {
  const Dims xd{1, 4, 3, 4}, wd{4, 3, 3, 3};
  const auto x = randomFloats(volume(xd), 6), w = randomFloats(volume(wd), 7),
             b = randomFloats(6, 8);
  ModelBuilder m(13);
  m.input("x", shapeOf(xd)).output("y");
  m.floats("w", shapeOf(wd), w).floats("b", {6}, b);
  auto& deconv = m.node("ConvTranspose", {"x", "w", "b"}, {"y"});
  attrInt(deconv, "group", 2);
  attrInts(deconv, "strides", {2, 3});
  attrInts(deconv, "pads", {1, 0, 2, 1});
  attrInts(deconv, "output_padding", {1, 2});
  Conv2d p;
  p.groups = 2;
  p.stride = {2, 3};
  p.pre = {1, 0};
  p.post = {2, 1};
  p.outputPadding = {1, 2};
  Dims yd;
  const auto expected = convTranspose2d(x, xd, w, wd, b, p, yd);
  const auto out = runModel(m, {HostTensor::fromFloats(xd, x)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, yd);
  expectClose(out[0].floats(), expected);
}

TEST(OnnxConvPool, ConvTransposeOutputPaddingBeyondThePads) {
  // output_padding larger than the end padding: the last cells hold only the bias.
  const Dims xd{1, 2, 3, 3}, wd{2, 2, 2, 2};
  const auto x = randomFloats(volume(xd), 9), w = randomFloats(volume(wd), 10),
             b = randomFloats(2, 11);
  ModelBuilder m(13);
  m.input("x", shapeOf(xd)).output("y");
  m.floats("w", shapeOf(wd), w).floats("b", {2}, b);
  auto& deconv = m.node("ConvTranspose", {"x", "w", "b"}, {"y"});
  attrInts(deconv, "strides", {3, 3});
  attrInts(deconv, "output_padding", {2, 1});
  Conv2d p;
  p.stride = {3, 3};
  p.outputPadding = {2, 1};
  Dims yd;
  const auto expected = convTranspose2d(x, xd, w, wd, b, p, yd);
  const auto out = runModel(m, {HostTensor::fromFloats(xd, x)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, yd);
  expectClose(out[0].floats(), expected);
}

TEST(OnnxConvPool, ConvTransposeOutputShape) {
  const Dims xd{1, 1, 3, 3}, wd{1, 2, 3, 3};
  const auto x = randomFloats(volume(xd), 12), w = randomFloats(volume(wd), 13);
  ModelBuilder m(13);
  m.input("x", shapeOf(xd)).output("y");
  m.floats("w", shapeOf(wd), w);
  auto& deconv = m.node("ConvTranspose", {"x", "w"}, {"y"});
  attrInts(deconv, "strides", {2, 2});
  attrInts(deconv, "output_shape", {6, 7});
  // full = (3 - 1) * 2 + 3 = 7: total padding 1 (rows, put at the start), 0 (columns).
  Conv2d p;
  p.stride = {2, 2};
  p.pre = {1, 0};
  Dims yd;
  const auto expected = convTranspose2d(x, xd, w, wd, {}, p, yd);
  ASSERT_EQ(yd, (Dims{1, 2, 6, 7}));
  const auto out = runModel(m, {HostTensor::fromFloats(xd, x)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, yd);
  expectClose(out[0].floats(), expected);
}

TEST(OnnxConvPool, MaxPoolCeilModeAndPads) {
  const Dims xd{1, 2, 7, 6};
  const auto x = randomFloats(volume(xd), 14);
  ModelBuilder m(13);
  m.input("x", shapeOf(xd)).output("y");
  auto& pool = m.node("MaxPool", {"x"}, {"y"});
  attrInts(pool, "kernel_shape", {3, 2});
  attrInts(pool, "strides", {2, 2});
  attrInts(pool, "pads", {1, 0, 1, 1});
  attrInt(pool, "ceil_mode", 1);
  Pool2d p;
  p.kernel = {3, 2};
  p.stride = {2, 2};
  p.pre = {1, 0};
  p.post = {1, 1};
  p.ceil = true;
  Dims yd;
  const auto expected = pool2d(x, xd, p, yd);
  const auto out = runModel(m, {HostTensor::fromFloats(xd, x)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, yd);
  expectClose(out[0].floats(), expected);
}

TEST(OnnxConvPool, MaxPoolOfBytes) {
  ModelBuilder m(12);
  m.input("x", {1, 1, 2, 3}, ::onnx::TensorProto::UINT8).output("y", ::onnx::TensorProto::UINT8);
  attrInts(m.node("MaxPool", {"x"}, {"y"}), "kernel_shape", {2, 2});
  HostTensor x(DataType::kUINT8, {1, 1, 2, 3});
  const uint8_t values[] = {7, 255, 3, 0, 9, 200};
  std::memcpy(x.bytes.data(), values, sizeof(values));
  const auto out = runModel(m, {x});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].dtype, DataType::kUINT8);
  const auto y = out[0].as<uint8_t>();
  EXPECT_EQ(std::vector<uint8_t>(y.begin(), y.end()), (std::vector<uint8_t>{255, 255}));
}

TEST(OnnxConvPool, AveragePoolCountIncludePad) {
  for (int include : {0, 1}) {
    const Dims xd{2, 1, 5, 5};
    const auto x = randomFloats(volume(xd), 15);
    ModelBuilder m(13);
    m.input("x", shapeOf(xd)).output("y");
    auto& pool = m.node("AveragePool", {"x"}, {"y"});
    attrInts(pool, "kernel_shape", {3, 3});
    attrInts(pool, "strides", {2, 2});
    attrInts(pool, "pads", {1, 1, 1, 1});
    attrInt(pool, "count_include_pad", include);
    Pool2d p;
    p.max = false;
    p.kernel = {3, 3};
    p.stride = {2, 2};
    p.pre = {1, 1};
    p.post = {1, 1};
    p.countIncludePad = include != 0;
    Dims yd;
    const auto expected = pool2d(x, xd, p, yd);
    const auto out = runModel(m, {HostTensor::fromFloats(xd, x)});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].dims, yd);
    expectClose(out[0].floats(), expected, 1e-5, 1e-4, include ? "include" : "exclude");
  }
}

TEST(OnnxConvPool, SameUpperPooling) {
  const Dims xd{1, 1, 5, 5};
  const auto x = randomFloats(volume(xd), 16);
  ModelBuilder m(13);
  m.input("x", shapeOf(xd)).output("y");
  auto& pool = m.node("MaxPool", {"x"}, {"y"});
  attrInts(pool, "kernel_shape", {2, 2});
  attrInts(pool, "strides", {2, 2});
  attrString(pool, "auto_pad", "SAME_UPPER");
  // out = ceil(5 / 2) = 3, total padding (3 - 1) * 2 + 2 - 5 = 1, at the end.
  Pool2d p;
  p.stride = {2, 2};
  p.post = {1, 1};
  Dims yd;
  const auto expected = pool2d(x, xd, p, yd);
  const auto out = runModel(m, {HostTensor::fromFloats(xd, x)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{1, 1, 3, 3}));
  expectClose(out[0].floats(), expected);
}

TEST(OnnxConvPool, GlobalPools) {
  const Dims xd{2, 3, 2, 4};
  const auto x = randomFloats(volume(xd), 17);
  ModelBuilder m(13);
  m.input("x", shapeOf(xd)).output("avg").output("max");
  m.node("GlobalAveragePool", {"x"}, {"avg"});
  m.node("GlobalMaxPool", {"x"}, {"max"});
  std::vector<float> avg, max;
  for (int64_t plane = 0; plane < 6; ++plane) {
    double sum = 0;
    float best = -INFINITY;
    for (int64_t i = 0; i < 8; ++i) {
      sum += x[static_cast<std::size_t>(plane * 8 + i)];
      best = std::max(best, x[static_cast<std::size_t>(plane * 8 + i)]);
    }
    avg.push_back(static_cast<float>(sum / 8));
    max.push_back(best);
  }
  const auto out = runModel(m, {HostTensor::fromFloats(xd, x)});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].dims, (Dims{2, 3, 1, 1}));
  expectClose(out[0].floats(), avg);
  expectClose(out[1].floats(), max);
}

TEST(OnnxConvPool, BatchNormalizationFoldsIntoAScale) {
  const Dims xd{2, 3, 2, 2};
  const auto x = randomFloats(volume(xd), 18);
  const std::vector<float> scale{1.5f, -0.5f, 2.f}, bias{0.1f, 0.2f, -0.3f},
      mean{0.5f, -0.25f, 0.f}, var{0.25f, 1.f, 4.f};
  const float epsilon = 1e-3f;
  ModelBuilder m(15);
  m.input("x", shapeOf(xd)).output("y");
  m.floats("s", {3}, scale).floats("b", {3}, bias).floats("m", {3}, mean).floats("v", {3}, var);
  attrFloat(m.node("BatchNormalization", {"x", "s", "b", "m", "v"}, {"y"}), "epsilon", epsilon);
  std::vector<float> expected(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::size_t c = (i / 4) % 3;
    expected[i] = static_cast<float>(
        (x[i] - mean[c]) / std::sqrt(var[c] + double{epsilon}) * scale[c] + bias[c]);
  }
  NetworkFixture f;
  parsers::OnnxParser parser(f.net(), f.logger);
  const std::string bytes = m.bytes();
  ASSERT_TRUE(parser.parse(onnx_test::asBytes(bytes))) << onnx_test::parserErrors(parser);
  ASSERT_EQ(f.net().nbLayers(), 1);
  EXPECT_EQ(f.net().layer(0).type(), LayerType::kSCALE);
  const auto out = f.run({HostTensor::fromFloats(xd, x)});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), expected);
}

// training_mode 1 is imported (tests/parsers/onnx_runtime_weights_test.cpp); the statistics
// outputs of older opsets without it are not.
TEST(OnnxConvPool, RunningStatisticsWithoutTrainingModeAreUnsupported) {
  ModelBuilder m(9);
  m.input("x", {1, 1, 2, 2}).output("y").output("mean");
  m.floats("s", {1}, {1}).floats("b", {1}, {0}).floats("m", {1}, {0}).floats("v", {1}, {1});
  m.node("BatchNormalization", {"x", "s", "b", "m", "v"}, {"y", "mean"}, "bn");
  onnx_test::expectParseError(
      m, {"node 'bn' (BatchNormalization, opset 9): the running statistics outputs exist only "
          "with training_mode 1"});
}

}  // namespace
}  // namespace kiln::test
