// ShuffleLayer: transposes and reshapes through the whole pipeline (build, plan round trip, run).
#include <gtest/gtest.h>

#include <array>
#include <numeric>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

// Naive transpose: output dimension k is input dimension perm[k].
std::vector<float> transposeNaive(const std::vector<float>& x, const std::vector<int64_t>& dims,
                                  const std::vector<int32_t>& perm) {
  const std::size_t rank = dims.size();
  std::vector<int64_t> outDims(rank);
  for (std::size_t k = 0; k < rank; ++k) outDims[k] = dims[static_cast<std::size_t>(perm[k])];
  std::vector<int64_t> inStrides(rank, 1);
  for (std::size_t k = rank; k-- > 1;) inStrides[k - 1] = inStrides[k] * dims[k];
  std::vector<float> out(x.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    int64_t rest = static_cast<int64_t>(i);
    int64_t offset = 0;
    for (std::size_t k = rank; k-- > 0;) {
      const int64_t idx = rest % outDims[k];
      rest /= outDims[k];
      offset += idx * inStrides[static_cast<std::size_t>(perm[k])];
    }
    out[i] = x[static_cast<std::size_t>(offset)];
  }
  return out;
}

bool buildFails(NetworkFixture& f) {
  auto config = f.builder.createBuilderConfig();
  return f.builder.buildEngine(f.net(), *config) == nullptr;
}

TEST(Shuffle, TransposeHandComputed) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3});
  auto layer = f.net().addShuffle(x);
  ASSERT_TRUE(layer);
  const std::array<int32_t, 2> perm{1, 0};
  layer.setFirstTranspose(perm);
  f.net().markOutput(layer.output(0));
  EXPECT_EQ(layer.output(0).dimensions(), (Dims{3, 2}));
  const std::vector<float> in{1, 2, 3, 4, 5, 6};
  auto out = f.run({HostTensor::fromFloats(Dims{2, 3}, in)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{3, 2}));
  EXPECT_EQ(out[0].floats(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

TEST(Shuffle, ReshapeWithPlaceholderAndInferredExtent) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3, 4});
  auto layer = f.net().addShuffle(x);
  layer.setReshapeDimensions(Dims{0, -1});
  f.net().markOutput(layer.output(0));
  EXPECT_TRUE(layer.hasReshape());
  EXPECT_EQ(layer.reshapeDimensions(), (Dims{0, -1}));
  const auto in = randomTensor(Dims{2, 3, 4}, 1);
  auto out = f.run({in});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{2, 12}));
  EXPECT_EQ(out[0].floats(), in.floats());
}

TEST(Shuffle, TransposeReshapeTransposeOddShapes) {
  // [3,5,7] -perm {2,0,1}-> [7,3,5] -reshape-> [7,15] -perm {1,0}-> [15,7]
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{3, 5, 7});
  auto layer = f.net().addShuffle(x);
  const std::array<int32_t, 3> first{2, 0, 1};
  const std::array<int32_t, 2> second{1, 0};
  layer.setFirstTranspose(first);
  layer.setReshapeDimensions(Dims{7, 15});
  layer.setSecondTranspose(second);
  f.net().markOutput(layer.output(0));
  const auto in = randomTensor(Dims{3, 5, 7}, 2);
  auto out = f.run({in});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{15, 7}));
  const auto t1 = transposeNaive(in.floats(), {3, 5, 7}, {2, 0, 1});
  const auto expected = transposeNaive(t1, {7, 15}, {1, 0});
  EXPECT_EQ(out[0].floats(), expected);
  EXPECT_EQ(layer.firstTranspose(), (std::vector<int32_t>{2, 0, 1}));
  EXPECT_EQ(layer.secondTranspose(), (std::vector<int32_t>{1, 0}));
}

TEST(Shuffle, RandomFourDimensionalPermutation) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 1, 5, 3});
  auto layer = f.net().addShuffle(x);
  const std::array<int32_t, 4> perm{3, 1, 0, 2};
  layer.setFirstTranspose(perm);
  f.net().markOutput(layer.output(0));
  const auto in = randomTensor(Dims{2, 1, 5, 3}, 3);
  auto out = f.run({in});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{3, 1, 2, 5}));
  EXPECT_EQ(out[0].floats(), transposeNaive(in.floats(), {2, 1, 5, 3}, {3, 1, 0, 2}));
}

TEST(Shuffle, Int32DataAndDefaults) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kINT32, Dims{2, 2});
  auto layer = f.net().addShuffle(x);
  EXPECT_FALSE(layer.hasReshape());
  EXPECT_EQ(layer.reshapeDimensions().nbDims, -1);
  EXPECT_TRUE(layer.zeroIsPlaceholder());
  EXPECT_EQ(layer.firstTranspose(), (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(layer.secondTranspose(), (std::vector<int32_t>{0, 1}));
  const std::array<int32_t, 2> perm{1, 0};
  layer.setSecondTranspose(perm);
  f.net().markOutput(layer.output(0));
  EXPECT_EQ(layer.output(0).type(), DataType::kINT32);
  const std::vector<int32_t> in{1, -2, 3, 2147483647};
  auto out = f.run({HostTensor::fromInts(Dims{2, 2}, in)});
  ASSERT_EQ(out.size(), 1u);
  const auto v = out[0].as<int32_t>();
  EXPECT_EQ(std::vector<int32_t>(v.begin(), v.end()), (std::vector<int32_t>{1, 3, -2, 2147483647}));
}

TEST(Shuffle, ReshapeToScalarAndBack) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 1});
  auto toScalar = f.net().addShuffle(x);
  toScalar.setReshapeDimensions(Dims{});
  EXPECT_EQ(toScalar.output(0).dimensions().nbDims, 0);
  auto back = f.net().addShuffle(toScalar.output(0));
  back.setReshapeDimensions(Dims{1, 1, 1});
  f.net().markOutput(back.output(0));
  auto out = f.run({HostTensor::fromFloats(Dims{1, 1}, std::vector<float>{4.5f})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{1, 1, 1}));
  EXPECT_EQ(out[0].floats(), (std::vector<float>{4.5f}));
}

TEST(Shuffle, ZeroIsLiteralWhenNotPlaceholder) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 0, 3});
  auto layer = f.net().addShuffle(x);
  layer.setZeroIsPlaceholder(false);
  layer.setReshapeDimensions(Dims{0, 5});
  EXPECT_FALSE(layer.zeroIsPlaceholder());
  auto id = f.net().addIdentity(layer.output(0));
  f.net().markOutput(id.output(0));
  EXPECT_EQ(layer.output(0).dimensions(), (Dims{0, 5}));
  HostTensor empty(DataType::kFLOAT, Dims{2, 0, 3});
  auto out = f.run({empty});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{0, 5}));
}

TEST(Shuffle, ShapeInputFromConstantLayer) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3, 4});
  const std::array<int32_t, 2> shape{-1, 6};
  auto constant = f.net().addConstant(Dims{2}, Weights{DataType::kINT32, shape.data(), 2});
  ASSERT_TRUE(constant);
  auto layer = f.net().addShuffle(x);
  layer.setInput(1, constant.output(0));
  f.net().markOutput(layer.output(0));
  EXPECT_TRUE(layer.hasReshape());
  EXPECT_EQ(layer.reshapeDimensions().nbDims, -1);
  EXPECT_EQ(layer.output(0).dimensions(), (Dims{4, 6}));
  EXPECT_EQ(layer.secondTranspose(), (std::vector<int32_t>{0, 1}));
  const auto in = randomTensor(Dims{2, 3, 4}, 4);
  auto out = f.run({in});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{4, 6}));
  EXPECT_EQ(out[0].floats(), in.floats());
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

TEST(Shuffle, ShapeInputMustBeConstant) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3});
  auto s = f.net().addInput("s", DataType::kINT32, Dims{2});
  auto layer = f.net().addShuffle(x);
  layer.setName("reshaper");
  layer.setInput(1, s);
  f.net().markOutput(layer.output(0));
  EXPECT_TRUE(buildFails(f));
  EXPECT_TRUE(f.logger.hasError("layer 'reshaper' (Shuffle)")) << f.logger.errors();
  EXPECT_TRUE(f.logger.hasError("must be a constant")) << f.logger.errors();
}

TEST(Shuffle, VolumeMismatchNamesBothShapes) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3, 4});
  auto layer = f.net().addShuffle(x);
  layer.setName("bad_reshape");
  layer.setReshapeDimensions(Dims{5, 5});
  f.net().markOutput(layer.output(0));
  EXPECT_TRUE(buildFails(f));
  EXPECT_TRUE(f.logger.hasError("layer 'bad_reshape' (Shuffle)")) << f.logger.errors();
  EXPECT_TRUE(f.logger.hasError("2x3x4")) << f.logger.errors();
  EXPECT_TRUE(f.logger.hasError("5x5")) << f.logger.errors();
}

TEST(Shuffle, BadConfigurationsAreReported) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3, 4});
  auto layer = f.net().addShuffle(x);
  layer.setName("shuf");

  const std::array<int32_t, 3> repeated{0, 0, 1};
  layer.setFirstTranspose(repeated);
  EXPECT_TRUE(f.logger.hasError("appears twice")) << f.logger.errors();
  EXPECT_EQ(layer.firstTranspose(), (std::vector<int32_t>{0, 1, 2}));  // unchanged

  f.logger.clear();
  layer.setReshapeDimensions(Dims{-1, -1});
  EXPECT_TRUE(f.logger.hasError("more than one -1")) << f.logger.errors();
  layer.setReshapeDimensions(Dims{-2, 12});
  EXPECT_TRUE(f.logger.hasError("'shuf'")) << f.logger.errors();
  EXPECT_FALSE(layer.hasReshape());

  // Wrong length: only known once the input rank is compared, at inference.
  f.logger.clear();
  const std::array<int32_t, 2> shortPerm{1, 0};
  layer.setFirstTranspose(shortPerm);
  f.net().markOutput(layer.output(0));
  EXPECT_EQ(layer.output(0).dimensions().nbDims, -1);
  EXPECT_TRUE(f.logger.hasError("layer 'shuf' (Shuffle): the first transpose has 2 entries"))
      << f.logger.errors();
  EXPECT_TRUE(buildFails(f));

  // A placeholder beyond the input rank.
  NetworkFixture g;
  auto y = g.net().addInput("y", DataType::kFLOAT, Dims{6});
  auto l2 = g.net().addShuffle(y);
  l2.setReshapeDimensions(Dims{3, 0});
  g.net().markOutput(l2.output(0));
  EXPECT_TRUE(buildFails(g));
  EXPECT_TRUE(g.logger.hasError("reshape dimension 1 is 0")) << g.logger.errors();
}

TEST(Shuffle, NullInputGivesNullLayer) {
  NetworkFixture f;
  auto layer = f.net().addShuffle(Tensor());
  EXPECT_FALSE(layer);
  EXPECT_TRUE(f.logger.hasError("addShuffle")) << f.logger.errors();
  // Calls on a null handle do nothing and never crash.
  const std::array<int32_t, 1> perm{0};
  layer.setFirstTranspose(perm);
  EXPECT_TRUE(layer.firstTranspose().empty());
  EXPECT_FALSE(layer.hasReshape());
}

}  // namespace
}  // namespace kiln::test
