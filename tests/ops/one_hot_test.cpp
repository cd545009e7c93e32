// OneHotLayer through the whole pipeline: the ONNX OneHot examples, every axis on odd shapes
// against plain loops, index types, out-of-range indices, and the errors.
#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

template <typename T>
Tensor constant(NetworkDefinition& net, DataType type, const Dims& dims,
                const std::vector<T>& values) {
  return net.addConstant(dims, Weights{type, values.data(), static_cast<int64_t>(values.size())})
      .output(0);
}

Tensor depthConstant(NetworkDefinition& net, int32_t depth) {
  return constant(net, DataType::kINT32, Dims{}, std::vector<int32_t>{depth});
}

HostTensor int64Tensor(const Dims& dims, const std::vector<int64_t>& values) {
  HostTensor t(DataType::kINT64, dims);
  std::copy(values.begin(), values.end(), t.as<int64_t>().begin());
  return t;
}

TEST(OneHot, OnnxExamples) {
  NetworkFixture f;
  auto& net = f.net();
  // without_axis: indices [0, 7, 8], depth 12, int32 values [2, 5], axis -1.
  auto i1 = net.addInput("i1", DataType::kINT64, Dims{3});
  auto v1 = net.addInput("v1", DataType::kINT32, Dims{2});
  auto l1 =
      net.addOneHot(i1, v1, constant(net, DataType::kFLOAT, Dims{}, std::vector<float>{12}), -1);
  // with_axis: float indices [[1, 9], [2, 4]], depth 10, values [1, 3], axis 1.
  auto i2 = net.addInput("i2", DataType::kFLOAT, Dims{2, 2});
  auto v2 = net.addInput("v2", DataType::kFLOAT, Dims{2});
  auto d10 = constant(net, DataType::kFLOAT, Dims{1}, std::vector<float>{10});
  auto l2 = net.addOneHot(i2, v2, d10, 1);
  // with_negative_axis: the same with axis -2.
  auto l3 = net.addOneHot(i2, v2, d10, -2);
  // negative_indices: [0, -7, -8], depth 10, axis 1.
  auto i4 = net.addInput("i4", DataType::kINT64, Dims{3});
  auto l4 = net.addOneHot(i4, v2, d10, 1);
  for (auto* l : {&l1, &l2, &l3, &l4}) {
    ASSERT_TRUE(*l) << f.logger.errors();
    net.markOutput(l->output(0));
  }
  const auto out = f.run({int64Tensor(Dims{3}, {0, 7, 8}),
                          HostTensor::fromInts(Dims{2}, std::vector<int32_t>{2, 5}),
                          HostTensor::fromFloats(Dims{2, 2}, std::vector<float>{1, 9, 2, 4}),
                          HostTensor::fromFloats(Dims{2}, std::vector<float>{1, 3}),
                          int64Tensor(Dims{3}, {0, -7, -8})});
  ASSERT_EQ(out.size(), 4u) << f.logger.errors();

  EXPECT_EQ(out[0].dims, (Dims{3, 12}));
  EXPECT_EQ(out[0].dtype, DataType::kINT32);
  for (int64_t r = 0; r < 3; ++r) {
    for (int64_t d = 0; d < 12; ++d) {
      const int32_t hot = std::array<int32_t, 3>{0, 7, 8}[static_cast<std::size_t>(r)];
      EXPECT_EQ(out[0].as<int32_t>()[static_cast<std::size_t>(r * 12 + d)], d == hot ? 5 : 2);
    }
  }
  // [2, 10, 2]: out[i, d, j] = d == indices[i, j] ? 3 : 1.
  std::vector<float> expected;
  const std::array<std::array<int, 2>, 2> idx{{{1, 9}, {2, 4}}};
  for (std::size_t i = 0; i < 2; ++i) {
    for (int d = 0; d < 10; ++d) {
      for (std::size_t j = 0; j < 2; ++j) expected.push_back(d == idx[i][j] ? 3.f : 1.f);
    }
  }
  EXPECT_EQ(out[1].dims, (Dims{2, 10, 2}));
  EXPECT_EQ(out[1].floats(), expected);
  EXPECT_EQ(out[2].dims, (Dims{2, 10, 2}));
  EXPECT_EQ(out[2].floats(), expected);
  expected.clear();
  for (int hot : {0, 3, 2}) {
    for (int d = 0; d < 10; ++d) expected.push_back(d == hot ? 3.f : 1.f);
  }
  EXPECT_EQ(out[3].dims, (Dims{3, 10}));
  EXPECT_EQ(out[3].floats(), expected);
}

TEST(OneHot, EveryAxisOnOddShapesAndOutOfRangeIndices) {
  const Dims dims{3, 1, 4};
  const int32_t depth = 5;
  std::vector<int32_t> idx(12);
  std::mt19937 rng(81);
  // [-7, 7): some beyond [-depth, depth), which give rows of "off".
  for (auto& v : idx) v = static_cast<int32_t>(rng() % 14) - 7;
  NetworkFixture f;
  auto indices = f.net().addInput("indices", DataType::kINT32, dims);
  auto values = constant(f.net(), DataType::kFLOAT, Dims{2}, std::vector<float>{-0.5f, 2.5f});
  for (int32_t axis = -4; axis <= 3; ++axis) {
    auto layer = f.net().addOneHot(indices, values, depthConstant(f.net(), depth), axis);
    ASSERT_TRUE(layer) << f.logger.errors();
    f.net().markOutput(layer.output(0));
  }
  const auto out = f.run({HostTensor::fromInts(dims, idx)});
  ASSERT_EQ(out.size(), 8u) << f.logger.errors();
  for (int32_t axis = -4; axis <= 3; ++axis) {
    SCOPED_TRACE("axis " + std::to_string(axis));
    const int32_t at = axis < 0 ? axis + 4 : axis;
    Dims expectedDims;
    expectedDims.nbDims = 4;
    for (int32_t k = 0, j = 0; k < 4; ++k) expectedDims[k] = k == at ? depth : dims[j++];
    const auto& o = out[static_cast<std::size_t>(axis + 4)];
    ASSERT_EQ(o.dims, expectedDims);
    const auto values = o.floats();
    const Dims strides{expectedDims[1] * expectedDims[2] * expectedDims[3],
                       expectedDims[2] * expectedDims[3], expectedDims[3], 1};
    for (int64_t a = 0; a < 3; ++a) {
      for (int64_t c = 0; c < 4; ++c) {
        int64_t index = idx[static_cast<std::size_t>(a * 4 + c)];
        if (index < 0) index += depth;  // still negative (or >= depth) when out of range
        for (int64_t d = 0; d < depth; ++d) {
          const std::array<int64_t, 3> pos{a, 0, c};
          int64_t offset = 0;
          for (int32_t k = 0, j = 0; k < 4; ++k) {
            offset += (k == at ? d : pos[static_cast<std::size_t>(j++)]) * strides[k];
          }
          EXPECT_EQ(values[static_cast<std::size_t>(offset)], d == index ? 2.5f : -0.5f)
              << "index " << idx[static_cast<std::size_t>(a * 4 + c)] << " d " << d;
        }
      }
    }
  }
}

TEST(OneHot, SettingsAndEmptyShapes) {
  NetworkFixture f;
  auto indices = f.net().addInput("indices", DataType::kINT32, Dims{0, 2});
  auto values = constant(f.net(), DataType::kBOOL, Dims{2}, std::vector<uint8_t>{0, 1});
  auto layer = f.net().addOneHot(indices, values, depthConstant(f.net(), 3), -1);
  ASSERT_TRUE(layer) << f.logger.errors();
  EXPECT_EQ(layer.type(), LayerType::kONE_HOT);
  EXPECT_EQ(toString(LayerType::kONE_HOT), "OneHot");
  EXPECT_EQ(layer.axis(), -1);
  layer.setAxis(0);
  EXPECT_EQ(layer.axis(), 0);
  EXPECT_EQ(layer.output(0).dimensions(), (Dims{3, 0, 2}));
  EXPECT_EQ(layer.output(0).type(), DataType::kBOOL);
  // Depth 0: an empty dimension.
  auto scalar = f.net().addInput("scalar", DataType::kINT32, Dims{});
  auto none = f.net().addOneHot(scalar, values, depthConstant(f.net(), 0), 0);
  EXPECT_EQ(none.output(0).dimensions(), (Dims{0}));
  f.net().markOutput(layer.output(0));
  f.net().markOutput(none.output(0));
  const auto out = f.run({HostTensor(DataType::kINT32, Dims{0, 2}),
                          HostTensor::fromInts(Dims{}, std::vector<int32_t>{0})});
  ASSERT_EQ(out.size(), 2u) << f.logger.errors();
  EXPECT_EQ(out[0].dims, (Dims{3, 0, 2}));
  EXPECT_EQ(out[1].dims, (Dims{0}));
}

TEST(OneHot, BadInputsNameTheLayer) {
  auto expectInvalid = [](const std::function<OneHotLayer(NetworkFixture&)>& add,
                          std::string_view text) {
    SCOPED_TRACE(text);
    NetworkFixture f;
    expectInvalidLayer(f, add(f), text);
  };
  auto indices = [](NetworkFixture& f, DataType type = DataType::kINT32) {
    return f.net().addInput("indices", type, Dims{2, 3});
  };
  auto values = [](NetworkFixture& f) {
    return f.net().addInput("values", DataType::kFLOAT, Dims{2});
  };
  {
    // A network input's depth is a shape tensor: the build needs its value from a profile.
    NetworkFixture f;
    auto depth = f.net().addInput("depth", DataType::kINT32, Dims{});
    auto layer = f.net().addOneHot(indices(f), values(f), depth, -1);
    ASSERT_TRUE(layer) << f.logger.errors();
    EXPECT_EQ(layer.output(0).dimensions(), (Dims{2, 3, -1}));
    EXPECT_TRUE(depth.isShapeTensor());
    f.net().markOutput(layer.output(0));
    auto config = f.builder.createBuilderConfig();
    EXPECT_TRUE(f.builder.buildSerializedNetwork(f.net(), *config).empty());
    EXPECT_TRUE(f.logger.hasError("network input 'depth' decides the output shape of layer"))
        << f.logger.errors();
  }
  expectInvalid(
      [&](NetworkFixture& f) {
        return f.net().addOneHot(indices(f), values(f), depthConstant(f.net(), -2), -1);
      },
      "layer 'OneHot_1' (OneHot): the depth is -2; it must be >= 0");
  expectInvalid(
      [&](NetworkFixture& f) {
        return f.net().addOneHot(indices(f), values(f), depthConstant(f.net(), 4), 3);
      },
      "layer 'OneHot_1' (OneHot): axis 3 is out of range for indices of shape 2x3 (valid: -3 to "
      "2)");
  expectInvalid(
      [&](NetworkFixture& f) {
        return f.net().addOneHot(indices(f), f.net().addInput("v3", DataType::kFLOAT, Dims{3}),
                                 depthConstant(f.net(), 4), -1);
      },
      "layer 'OneHot_1' (OneHot): values must be a vector of two elements [off, on], not of "
      "shape 3");
  expectInvalid(
      [&](NetworkFixture& f) {
        return f.net().addOneHot(indices(f, DataType::kBOOL), values(f), depthConstant(f.net(), 4),
                                 -1);
      },
      "layer 'OneHot_1' (OneHot): indices must be int32, int64 or float32, not bool");
  expectInvalid(
      [&](NetworkFixture& f) {
        return f.net().addOneHot(
            indices(f), values(f),
            constant(f.net(), DataType::kINT32, Dims{2}, std::vector<int32_t>{3, 4}), -1);
      },
      "layer 'OneHot_1' (OneHot): the depth must be a scalar (or one-element vector), not of "
      "shape 2");

  NetworkFixture f;
  EXPECT_FALSE(f.net().addOneHot(Tensor(), values(f), depthConstant(f.net(), 2), 0));
  EXPECT_TRUE(f.logger.hasError("addOneHot: indices is a null tensor")) << f.logger.errors();
}

}  // namespace
}  // namespace kiln::test
