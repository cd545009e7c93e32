// PaddingLayer through the whole pipeline (build, plan round trip, run).
#include <gtest/gtest.h>

#include <algorithm>
#include <string_view>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

bool buildFails(NetworkFixture& f) {
  auto config = f.builder.createBuilderConfig();
  return f.builder.buildEngine(f.net(), *config) == nullptr;
}

// Naive padding of a row-major float tensor; pre/post have the input's full rank.
std::vector<float> padNaive(const HostTensor& in, const std::vector<int64_t>& pre,
                            const std::vector<int64_t>& post, PaddingFill fill, float value,
                            Dims& outDims) {
  const auto x = in.floats();
  const int32_t rank = in.dims.nbDims;
  outDims = in.dims;
  for (int32_t k = 0; k < rank; ++k) {
    outDims[k] += pre[static_cast<std::size_t>(k)] + post[static_cast<std::size_t>(k)];
  }
  std::vector<int64_t> strides(static_cast<std::size_t>(rank), 1);
  for (int32_t k = rank - 1; k > 0; --k) {
    strides[static_cast<std::size_t>(k - 1)] = strides[static_cast<std::size_t>(k)] * in.dims[k];
  }
  std::vector<float> out;
  for (int64_t i = 0; i < volume(outDims); ++i) {
    int64_t rest = i;
    int64_t offset = 0;
    bool pad = false;
    for (int32_t k = rank - 1; k >= 0; --k) {
      const int64_t o = rest % outDims[k];
      rest /= outDims[k];
      int64_t c = o - pre[static_cast<std::size_t>(k)];
      const int64_t n = in.dims[k];
      if (c < 0 || c >= n) {
        if (fill == PaddingFill::kCONSTANT) pad = true;
        if (fill == PaddingFill::kEDGE) c = std::clamp<int64_t>(c, 0, n - 1);
        if (fill == PaddingFill::kREFLECT) c = c < 0 ? -c : 2 * (n - 1) - c;
      }
      offset += c * strides[static_cast<std::size_t>(k)];
    }
    out.push_back(pad ? value : x[static_cast<std::size_t>(offset)]);
  }
  return out;
}

TEST(Padding, ConstantHandComputed) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 2, 2});
  auto layer = f.net().addPadding(x, Dims{1, 0}, Dims{0, 1});
  ASSERT_TRUE(layer);
  layer.setValue(-1.5f);
  EXPECT_EQ(layer.fill(), PaddingFill::kCONSTANT);
  EXPECT_EQ(layer.value(), -1.5f);
  EXPECT_EQ(layer.prePadding(), (Dims{1, 0}));
  EXPECT_EQ(layer.postPadding(), (Dims{0, 1}));
  f.net().markOutput(layer.output(0));
  auto out = f.run({HostTensor::fromFloats(Dims{1, 2, 2}, std::vector<float>{1, 2, 3, 4})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{1, 3, 3}));
  EXPECT_EQ(out[0].floats(), (std::vector<float>{-1.5f, -1.5f, -1.5f, 1, 2, -1.5f, 3, 4, -1.5f}));
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

TEST(Padding, ReflectAndEdgeHandComputed) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{4});
  auto reflect = f.net().addPadding(x, Dims{2}, Dims{3});
  reflect.setFill(PaddingFill::kREFLECT);
  auto edge = f.net().addPadding(x, Dims{2}, Dims{1});
  edge.setFill(PaddingFill::kEDGE);
  auto crop = f.net().addPadding(x, Dims{-1}, Dims{-2});
  f.net().markOutput(reflect.output(0));
  f.net().markOutput(edge.output(0));
  f.net().markOutput(crop.output(0));
  auto out = f.run({HostTensor::fromFloats(Dims{4}, std::vector<float>{1, 2, 3, 4})});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{3, 2, 1, 2, 3, 4, 3, 2, 1}));
  EXPECT_EQ(out[1].floats(), (std::vector<float>{1, 1, 1, 2, 3, 4, 4}));
  EXPECT_EQ(out[2].floats(), (std::vector<float>{2}));
}

TEST(Padding, RandomEveryModeWithCropping) {
  const Dims shape{2, 3, 5, 4};
  const auto in = randomTensor(shape, 9);
  for (auto fill : {PaddingFill::kCONSTANT, PaddingFill::kREFLECT, PaddingFill::kEDGE}) {
    NetworkFixture f;
    auto x = f.net().addInput("x", DataType::kFLOAT, shape);
    // Three trailing dimensions: pad, crop+pad, pad+crop.
    auto layer = f.net().addPadding(x, Dims{2, -1, 3}, Dims{1, 4, -2});
    layer.setFill(fill);
    layer.setValue(0.25f);
    f.net().markOutput(layer.output(0));
    auto out = f.run({in});
    ASSERT_EQ(out.size(), 1u);
    Dims expectedDims;
    const auto expected = padNaive(in, {0, 2, -1, 3}, {0, 1, 4, -2}, fill, 0.25f, expectedDims);
    EXPECT_EQ(out[0].dims, expectedDims);
    EXPECT_EQ(out[0].floats(), expected) << "fill " << static_cast<int>(fill);
  }
}

TEST(Padding, IntegerData) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kINT32, Dims{2, 2});
  auto zero = f.net().addPadding(x, Dims{0, 1}, Dims{0, 0});
  auto three = f.net().addPadding(x, Dims{1, 0}, Dims{0, 0});
  three.setValue(3.0f);
  auto edge = f.net().addPadding(x, Dims{0}, Dims{1});
  edge.setFill(PaddingFill::kEDGE);
  f.net().markOutput(zero.output(0));
  f.net().markOutput(three.output(0));
  f.net().markOutput(edge.output(0));
  auto out = f.run({HostTensor::fromInts(Dims{2, 2}, std::vector<int32_t>{5, 6, 7, 8})});
  ASSERT_EQ(out.size(), 3u);
  auto ints = [](const HostTensor& t) {
    auto v = t.as<int32_t>();
    return std::vector<int32_t>(v.begin(), v.end());
  };
  EXPECT_EQ(ints(out[0]), (std::vector<int32_t>{0, 5, 6, 0, 7, 8}));
  EXPECT_EQ(ints(out[1]), (std::vector<int32_t>{3, 3, 5, 6, 7, 8}));
  EXPECT_EQ(ints(out[2]), (std::vector<int32_t>{5, 6, 6, 7, 8, 8}));
}

TEST(Padding, BadConfigurationsNameTheLayer) {
  // Shape problems (which later settings may fix): the layer is invalid, and the error names it.
  auto expectInvalid = [](const Dims& pre, const Dims& post, std::string_view text) {
    SCOPED_TRACE(text);
    NetworkFixture f;
    auto x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3});
    expectInvalidLayer(f, f.net().addPadding(x, pre, post), text);
  };
  expectInvalid(Dims{1, 1, 1}, Dims{1, 1, 1},
                "layer 'Padding_0' (Padding): padding has 3 dimensions");
  expectInvalid(Dims{1, 1}, Dims{1}, "layer 'Padding_0' (Padding): pre-padding has 2 entries");
  expectInvalid(Dims{1, 1}, Dims{1}, "same number");
  expectInvalid(Dims{0, -2}, Dims{0, -2}, "layer 'Padding_0' (Padding): dimension 1 of extent 3");
  expectInvalid(Dims{0, -2}, Dims{0, -2}, "more than its extent");

  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3});
  auto layer = f.net().addPadding(x, Dims{0, 3}, Dims{0, 0});
  ASSERT_TRUE(layer);
  layer.setName("pad");
  layer.setFill(PaddingFill::kREFLECT);  // 3 is not below the extent 3
  f.net().markOutput(layer.output(0));
  EXPECT_TRUE(buildFails(f));
  EXPECT_TRUE(f.logger.hasError("layer 'pad' (Padding): reflect padding")) << f.logger.errors();

  NetworkFixture g;
  auto i = g.net().addInput("i", DataType::kINT32, Dims{2});
  auto intPad = g.net().addPadding(i, Dims{1}, Dims{1});
  intPad.setName("ipad");
  intPad.setValue(0.5f);
  g.net().markOutput(intPad.output(0));
  EXPECT_TRUE(buildFails(g));
  EXPECT_TRUE(g.logger.hasError("layer 'ipad' (Padding): the padding value 0.5 cannot"))
      << g.logger.errors();
}

}  // namespace
}  // namespace kiln::test
