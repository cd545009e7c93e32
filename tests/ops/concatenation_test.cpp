// ConcatenationLayer through the whole pipeline (build, plan round trip, run).
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

bool buildFails(NetworkFixture& f) {
  auto config = f.builder.createBuilderConfig();
  return f.builder.buildEngine(f.net(), *config) == nullptr;
}

// Naive concatenation of row-major float tensors along @p axis.
std::vector<float> concatNaive(const std::vector<HostTensor>& inputs, int32_t axis) {
  const Dims& d0 = inputs[0].dims;
  int64_t outer = 1;
  for (int32_t k = 0; k < axis; ++k) outer *= d0[k];
  int64_t inner = 1;
  for (int32_t k = axis + 1; k < d0.nbDims; ++k) inner *= d0[k];
  std::vector<float> out;
  for (int64_t o = 0; o < outer; ++o) {
    for (const auto& t : inputs) {
      const auto values = t.floats();
      const int64_t chunk = t.dims[axis] * inner;
      for (int64_t i = 0; i < chunk; ++i)
        out.push_back(values[static_cast<std::size_t>(o * chunk + i)]);
    }
  }
  return out;
}

TEST(Concatenation, HandComputedDefaultAxisOfRank2) {
  NetworkFixture f;
  auto a = f.net().addInput("a", DataType::kFLOAT, Dims{1, 2});
  auto b = f.net().addInput("b", DataType::kFLOAT, Dims{2, 2});
  const std::array<Tensor, 2> inputs{a, b};
  auto layer = f.net().addConcatenation(inputs);
  ASSERT_TRUE(layer);
  EXPECT_EQ(layer.axis(), 0);
  f.net().markOutput(layer.output(0));
  auto out = f.run({HostTensor::fromFloats(Dims{1, 2}, std::vector<float>{1, 2}),
                    HostTensor::fromFloats(Dims{2, 2}, std::vector<float>{3, 4, 5, 6})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{3, 2}));
  EXPECT_EQ(out[0].floats(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

TEST(Concatenation, DefaultAxisIsChannelsForRank4) {
  NetworkFixture f;
  const std::vector<Dims> shapes{Dims{2, 1, 3, 5}, Dims{2, 4, 3, 5}, Dims{2, 2, 3, 5}};
  std::vector<Tensor> tensors;
  std::vector<HostTensor> values;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    tensors.push_back(f.net().addInput("in" + std::to_string(i), DataType::kFLOAT, shapes[i]));
    values.push_back(randomTensor(shapes[i], static_cast<uint32_t>(10 + i)));
  }
  auto layer = f.net().addConcatenation(tensors);
  EXPECT_EQ(layer.axis(), 1);
  f.net().markOutput(layer.output(0));
  auto out = f.run(values);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{2, 7, 3, 5}));
  EXPECT_EQ(out[0].floats(), concatNaive(values, 1));
}

TEST(Concatenation, NegativeAxisOddShapes) {
  NetworkFixture f;
  const std::vector<Dims> shapes{Dims{3, 5, 1}, Dims{3, 5, 4}, Dims{3, 5, 7}};
  std::vector<Tensor> tensors;
  std::vector<HostTensor> values;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    tensors.push_back(f.net().addInput("in" + std::to_string(i), DataType::kFLOAT, shapes[i]));
    values.push_back(randomTensor(shapes[i], static_cast<uint32_t>(20 + i)));
  }
  auto layer = f.net().addConcatenation(tensors);
  layer.setAxis(-1);
  EXPECT_EQ(layer.axis(), -1);
  f.net().markOutput(layer.output(0));
  auto out = f.run(values);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{3, 5, 12}));
  EXPECT_EQ(out[0].floats(), concatNaive(values, 2));
}

TEST(Concatenation, SingleInputAndEmptyPart) {
  NetworkFixture f;
  auto a = f.net().addInput("a", DataType::kFLOAT, Dims{2, 3});
  auto b = f.net().addInput("b", DataType::kFLOAT, Dims{0, 3});
  const std::array<Tensor, 1> one{a};
  auto single = f.net().addConcatenation(one);
  const std::array<Tensor, 2> two{single.output(0), b};
  auto layer = f.net().addConcatenation(two);
  f.net().markOutput(layer.output(0));
  const auto in = randomTensor(Dims{2, 3}, 5);
  HostTensor empty(DataType::kFLOAT, Dims{0, 3});
  auto out = f.run({in, empty});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{2, 3}));
  EXPECT_EQ(out[0].floats(), in.floats());
}

TEST(Concatenation, BoolAndInt32Data) {
  NetworkFixture f;
  auto a = f.net().addInput("a", DataType::kBOOL, Dims{2, 1});
  auto b = f.net().addInput("b", DataType::kBOOL, Dims{2, 2});
  const std::array<Tensor, 2> bools{a, b};
  auto boolLayer = f.net().addConcatenation(bools);
  boolLayer.setAxis(1);
  auto c = f.net().addInput("c", DataType::kINT32, Dims{1, 3});
  const std::array<Tensor, 2> ints{c, c};
  auto intLayer = f.net().addConcatenation(ints);
  f.net().markOutput(boolLayer.output(0));
  f.net().markOutput(intLayer.output(0));
  EXPECT_EQ(boolLayer.output(0).type(), DataType::kBOOL);
  auto out = f.run({HostTensor::fromBools(Dims{2, 1}, std::array<bool, 2>{true, false}),
                    HostTensor::fromBools(Dims{2, 2}, std::array<bool, 4>{false, true, true, true}),
                    HostTensor::fromInts(Dims{1, 3}, std::vector<int32_t>{7, -8, 9})});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].dims, (Dims{2, 3}));
  const auto bv = out[0].as<uint8_t>();
  EXPECT_EQ(std::vector<uint8_t>(bv.begin(), bv.end()), (std::vector<uint8_t>{1, 0, 1, 0, 1, 1}));
  EXPECT_EQ(out[1].dims, (Dims{2, 3}));
  const auto iv = out[1].as<int32_t>();
  EXPECT_EQ(std::vector<int32_t>(iv.begin(), iv.end()), (std::vector<int32_t>{7, -8, 9, 7, -8, 9}));
}

TEST(Concatenation, BadConfigurationsNameTheLayer) {
  {
    NetworkFixture f;
    auto a = f.net().addInput("a", DataType::kFLOAT, Dims{2, 3});
    auto b = f.net().addInput("b", DataType::kINT32, Dims{2, 3});
    const std::array<Tensor, 2> inputs{a, b};
    auto layer = f.net().addConcatenation(inputs);
    expectInvalidLayer(f, layer, "layer 'Concatenation_0' (Concatenation)");
    EXPECT_TRUE(f.logger.hasError("same type")) << f.logger.errors();
    if (layer) {
      f.net().markOutput(layer.output(0));
      EXPECT_TRUE(buildFails(f));
    }
  }
  {
    NetworkFixture f;
    auto a = f.net().addInput("a", DataType::kFLOAT, Dims{2, 3});
    auto b = f.net().addInput("b", DataType::kFLOAT, Dims{3, 3});
    const std::array<Tensor, 2> inputs{a, b};
    auto layer = f.net().addConcatenation(inputs);  // axis 0: fine
    ASSERT_TRUE(layer);
    layer.setName("cat");
    layer.setAxis(1);  // now the inputs differ outside the axis
    f.net().markOutput(layer.output(0));
    EXPECT_TRUE(buildFails(f));
    EXPECT_TRUE(f.logger.hasError("layer 'cat' (Concatenation)")) << f.logger.errors();
    EXPECT_TRUE(f.logger.hasError("differ in dimension 0")) << f.logger.errors();
  }
  {
    // Inputs that match only along another axis are accepted (setAxis may follow), but a
    // network that never fixes the axis does not build.
    NetworkFixture f;
    auto a = f.net().addInput("a", DataType::kFLOAT, Dims{2, 3});
    auto b = f.net().addInput("b", DataType::kFLOAT, Dims{2, 4});
    const std::array<Tensor, 2> inputs{a, b};
    auto layer = f.net().addConcatenation(inputs);
    ASSERT_TRUE(layer);
    layer.setName("cat");
    f.net().markOutput(layer.output(0));
    EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
    EXPECT_TRUE(buildFails(f));
    EXPECT_TRUE(f.logger.hasError("layer 'cat' (Concatenation): input 1 has shape 2x4"))
        << f.logger.errors();
  }
  {
    NetworkFixture f;
    auto a = f.net().addInput("a", DataType::kFLOAT, Dims{2, 3});
    const std::array<Tensor, 1> inputs{a};
    auto layer = f.net().addConcatenation(inputs);
    layer.setName("cat");
    layer.setAxis(2);
    f.net().markOutput(layer.output(0));
    EXPECT_TRUE(buildFails(f));
    EXPECT_TRUE(f.logger.hasError("layer 'cat' (Concatenation): axis 2 is out of range"))
        << f.logger.errors();
  }
  {
    NetworkFixture f;
    auto a = f.net().addInput("a", DataType::kFLOAT, Dims{2, 3});
    auto b = f.net().addInput("b", DataType::kFLOAT, Dims{2, 3, 1});
    const std::array<Tensor, 2> inputs{a, b};
    expectInvalidLayer(f, f.net().addConcatenation(inputs),
                       "layer 'Concatenation_0' (Concatenation)");
    EXPECT_TRUE(f.logger.hasError("rank")) << f.logger.errors();
  }
  {
    NetworkFixture f;
    auto s = f.net().addInput("s", DataType::kFLOAT, Dims{});
    const std::array<Tensor, 1> scalar{s};
    expectInvalidLayer(f, f.net().addConcatenation(scalar),
                       "layer 'Concatenation_0' (Concatenation): input 0 is a scalar");
    EXPECT_FALSE(f.net().addConcatenation(std::span<const Tensor>{}));
    EXPECT_TRUE(f.logger.hasError("at least one input")) << f.logger.errors();
    const std::array<Tensor, 2> withNull{s, Tensor()};
    EXPECT_FALSE(f.net().addConcatenation(withNull));
    EXPECT_TRUE(f.logger.hasError("input 1 is a null tensor")) << f.logger.errors();
  }
}

}  // namespace
}  // namespace kiln::test
