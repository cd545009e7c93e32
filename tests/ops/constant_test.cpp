// ConstantLayer: as a network output, as an input of other layers, with every weight type.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

TEST(Constant, FloatConstantAsNetworkOutput) {
  NetworkFixture f;
  const std::vector<float> values{1.5f, -2.f, 3.25f, 0.f, 7.f, -0.5f};
  auto layer = f.net().addConstant(Dims{2, 3}, floatWeights(values));
  ASSERT_TRUE(layer);
  EXPECT_EQ(layer.dimensions(), (Dims{2, 3}));
  EXPECT_EQ(layer.output(0).dimensions(), (Dims{2, 3}));
  EXPECT_EQ(layer.output(0).type(), DataType::kFLOAT);
  f.net().markOutput(layer.output(0));
  auto out = f.run({});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{2, 3}));
  EXPECT_EQ(out[0].floats(), values);
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

TEST(Constant, WeightTypesAreKept) {
  NetworkFixture f;
  const std::array<int32_t, 3> ints{-1, 2, 2147483647};
  const std::array<uint16_t, 2> halfs{0x3c00, 0xc000};  // 1, -2
  const std::array<uint8_t, 4> bools{1, 0, 0, 1};
  const std::array<int64_t, 1> longs{int64_t{1} << 50};
  auto i = f.net().addConstant(Dims{3}, Weights{DataType::kINT32, ints.data(), 3});
  auto h = f.net().addConstant(Dims{1, 2}, Weights{DataType::kHALF, halfs.data(), 2});
  auto b = f.net().addConstant(Dims{2, 2}, Weights{DataType::kBOOL, bools.data(), 4});
  auto l = f.net().addConstant(Dims{}, Weights{DataType::kINT64, longs.data(), 1});
  for (auto layer : {i, h, b, l}) {
    ASSERT_TRUE(layer);
    f.net().markOutput(layer.output(0));
  }
  EXPECT_EQ(h.output(0).type(), DataType::kHALF);
  auto out = f.run({});
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].dtype, DataType::kINT32);
  EXPECT_EQ(out[0].as<int32_t>()[2], 2147483647);
  EXPECT_EQ(out[1].dtype, DataType::kHALF);
  EXPECT_EQ(out[1].as<uint16_t>()[1], 0xc000);
  EXPECT_EQ(out[2].dtype, DataType::kBOOL);
  EXPECT_EQ(out[2].as<uint8_t>()[3], 1);
  EXPECT_EQ(out[3].dtype, DataType::kINT64);
  EXPECT_EQ(out[3].dims.nbDims, 0);
  EXPECT_EQ(out[3].as<int64_t>()[0], int64_t{1} << 50);
}

TEST(Constant, FeedsOtherLayers) {
  NetworkFixture f;
  auto x = f.net().addInput("x", DataType::kFLOAT, Dims{1, 2});
  const std::vector<float> values{9, 8};
  auto constant = f.net().addConstant(Dims{1, 2}, floatWeights(values));
  const std::array<Tensor, 2> inputs{x, constant.output(0)};
  auto cat = f.net().addConcatenation(inputs);
  // The same constant is both folded into the concatenation and a network output.
  f.net().markOutput(cat.output(0));
  f.net().markOutput(constant.output(0));
  auto out = f.run({HostTensor::fromFloats(Dims{1, 2}, std::vector<float>{1, 2})});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{1, 2, 9, 8}));
  EXPECT_EQ(out[1].floats(), values);
}

TEST(Constant, EmptyConstant) {
  NetworkFixture f;
  auto layer = f.net().addConstant(Dims{0, 3}, Weights{DataType::kFLOAT, nullptr, 0});
  ASSERT_TRUE(layer);
  f.net().markOutput(layer.output(0));
  auto out = f.run({});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{0, 3}));
}

TEST(Constant, BadWeightsGiveNullLayer) {
  NetworkFixture f;
  const std::vector<float> values{1, 2, 3};
  EXPECT_FALSE(f.net().addConstant(Dims{2, 2}, floatWeights(values)));
  EXPECT_TRUE(f.logger.hasError("addConstant: constant weights has 3 values")) << f.logger.errors();
  EXPECT_FALSE(f.net().addConstant(Dims{-1, 3}, floatWeights(values)));
  EXPECT_TRUE(f.logger.hasError("not a known non-negative extent")) << f.logger.errors();
  EXPECT_FALSE(f.net().addConstant(Dims{3}, Weights{DataType::kFLOAT, nullptr, 3}));
  EXPECT_TRUE(f.logger.hasError("no values")) << f.logger.errors();
  EXPECT_FALSE(f.net().addConstant(Dims{3}, Weights{static_cast<DataType>(42), values.data(), 3}));
  EXPECT_TRUE(f.logger.hasError("unknown data type")) << f.logger.errors();
  Dims tooBig;
  tooBig.nbDims = 9;
  EXPECT_FALSE(f.net().addConstant(tooBig, floatWeights(values)));
  EXPECT_EQ(f.net().nbLayers(), 0);
  EXPECT_FALSE(f.net().tensor("Constant_0.weights"));  // no weights left behind
  EXPECT_EQ(ConstantLayer().dimensions(), Dims{});
}

}  // namespace
}  // namespace kiln::test
