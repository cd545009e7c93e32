// GatherLayer: kDEFAULT (ONNX Gather), kELEMENT (GatherElements), kND (GatherND), through the
// whole pipeline; negative and int64 indices; run-time index errors.
#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <random>
#include <string_view>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

bool buildFails(NetworkFixture& f) {
  auto config = f.builder.createBuilderConfig();
  return f.builder.buildEngine(f.net(), *config) == nullptr;
}

HostTensor int64Tensor(const Dims& dims, const std::vector<int64_t>& values) {
  HostTensor t(DataType::kINT64, dims);
  EXPECT_EQ(static_cast<int64_t>(values.size()), t.count());
  for (std::size_t i = 0; i < values.size(); ++i) t.as<int64_t>()[i] = values[i];
  return t;
}

std::vector<int32_t> randomIndices(int64_t count, int32_t extent, uint32_t seed) {
  std::mt19937 rng(seed);
  // Negative ones too: [-extent, extent).
  std::uniform_int_distribution<int32_t> dist(-extent, extent - 1);
  std::vector<int32_t> values(static_cast<std::size_t>(count));
  for (auto& v : values) v = dist(rng);
  return values;
}

int64_t wrap(int64_t index, int64_t extent) {
  return index < 0 ? index + extent : index;
}

TEST(Gather, DefaultModeOnnxExamples) {
  NetworkFixture f;
  auto data = f.net().addInput("data", DataType::kFLOAT, Dims{3, 2});
  auto indices = f.net().addInput("indices", DataType::kINT32, Dims{2, 2});
  auto layer = f.net().addGather(data, indices, 0);
  ASSERT_TRUE(layer);
  EXPECT_EQ(layer.mode(), GatherMode::kDEFAULT);
  EXPECT_EQ(layer.gatherAxis(), 0);
  EXPECT_EQ(layer.nbElementWiseDims(), 0);
  f.net().markOutput(layer.output(0));
  auto out = f.run(
      {HostTensor::fromFloats(Dims{3, 2}, std::vector<float>{1, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f}),
       HostTensor::fromInts(Dims{2, 2}, std::vector<int32_t>{0, 1, 1, 2})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{2, 2, 2}));
  EXPECT_EQ(out[0].floats(), (std::vector<float>{1, 1.2f, 2.3f, 3.4f, 2.3f, 3.4f, 4.5f, 5.7f}));
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
}

TEST(Gather, DefaultModeAxis1NegativeAndInt64Indices) {
  NetworkFixture f;
  auto data = f.net().addInput("data", DataType::kFLOAT, Dims{3, 3});
  auto indices = f.net().addInput("indices", DataType::kINT64, Dims{1, 2});
  auto layer = f.net().addGather(data, indices, 1);
  f.net().markOutput(layer.output(0));
  auto out = f.run({HostTensor::fromFloats(Dims{3, 3}, std::vector<float>{1, 1.2f, 1.9f, 2.3f, 3.4f,
                                                                          3.9f, 4.5f, 5.7f, 5.9f}),
                    int64Tensor(Dims{1, 2}, {0, -1})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{3, 1, 2}));
  EXPECT_EQ(out[0].floats(), (std::vector<float>{1, 1.9f, 2.3f, 3.9f, 4.5f, 5.9f}));
}

TEST(Gather, DefaultModeRandomOddShapesScalarIndexAndIntData) {
  NetworkFixture f;
  const Dims shape{3, 5, 2, 3};
  auto data = f.net().addInput("data", DataType::kFLOAT, shape);
  auto indices = f.net().addInput("indices", DataType::kINT32, Dims{4, 1, 3});
  auto layer = f.net().addGatherV2(data, indices, GatherMode::kDEFAULT);
  layer.setGatherAxis(-3);  // axis 1
  EXPECT_EQ(layer.gatherAxis(), -3);
  // A scalar index drops the axis; int32 data is copied as it is.
  auto idata = f.net().addInput("idata", DataType::kINT32, Dims{4, 2});
  const std::array<int32_t, 1> scalarIndex{-2};
  auto scalar = f.net().addConstant(Dims{}, Weights{DataType::kINT32, scalarIndex.data(), 1});
  auto picked = f.net().addGather(idata, scalar.output(0), 0);
  f.net().markOutput(layer.output(0));
  f.net().markOutput(picked.output(0));
  const auto in = randomTensor(shape, 21);
  const auto idx = randomIndices(12, 5, 22);
  auto out =
      f.run({in, HostTensor::fromInts(Dims{4, 1, 3}, idx),
             HostTensor::fromInts(Dims{4, 2}, std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6, 7})});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].dims, (Dims{3, 4, 1, 3, 2, 3}));
  const auto x = in.floats();
  std::vector<float> expected;
  for (int64_t a = 0; a < 3; ++a) {
    for (int64_t j = 0; j < 12; ++j) {
      const int64_t k = wrap(idx[static_cast<std::size_t>(j)], 5);
      for (int64_t s = 0; s < 6; ++s)
        expected.push_back(x[static_cast<std::size_t>((a * 5 + k) * 6 + s)]);
    }
  }
  EXPECT_EQ(out[0].floats(), expected);
  EXPECT_EQ(out[1].dims, (Dims{2}));
  EXPECT_EQ(out[1].as<int32_t>()[0], 4);
  EXPECT_EQ(out[1].as<int32_t>()[1], 5);
}

TEST(Gather, DefaultModeWithElementWiseBatchDimension) {
  // data [2, 3], indices [2, 2], axis 1, one shared batch dimension:
  // out[b, j] = data[b, indices[b, j]].
  NetworkFixture f;
  auto data = f.net().addInput("data", DataType::kFLOAT, Dims{2, 3});
  auto indices = f.net().addInput("indices", DataType::kINT32, Dims{2, 2});
  auto layer = f.net().addGather(data, indices, 1);
  layer.setNbElementWiseDims(1);
  EXPECT_EQ(layer.nbElementWiseDims(), 1);
  f.net().markOutput(layer.output(0));
  auto out = f.run({HostTensor::fromFloats(Dims{2, 3}, std::vector<float>{0, 1, 2, 10, 11, 12}),
                    HostTensor::fromInts(Dims{2, 2}, std::vector<int32_t>{2, 0, -1, 1})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{2, 2}));
  EXPECT_EQ(out[0].floats(), (std::vector<float>{2, 0, 12, 11}));
}

TEST(Gather, ElementModeOnnxExamplesAndRandom) {
  NetworkFixture f;
  auto d1 = f.net().addInput("d1", DataType::kFLOAT, Dims{2, 2});
  auto i1 = f.net().addInput("i1", DataType::kINT32, Dims{2, 2});
  auto axis1 = f.net().addGatherV2(d1, i1, GatherMode::kELEMENT);
  axis1.setGatherAxis(1);
  EXPECT_EQ(axis1.mode(), GatherMode::kELEMENT);
  auto d0 = f.net().addInput("d0", DataType::kFLOAT, Dims{3, 3});
  auto i0 = f.net().addInput("i0", DataType::kINT64, Dims{2, 3});
  auto axis0 = f.net().addGatherV2(d0, i0, GatherMode::kELEMENT);
  const Dims shape{3, 4, 5};
  const Dims idxShape{3, 6, 2};  // larger along the axis, smaller elsewhere
  auto dr = f.net().addInput("dr", DataType::kFLOAT, shape);
  auto ir = f.net().addInput("ir", DataType::kINT32, idxShape);
  auto random = f.net().addGatherV2(dr, ir, GatherMode::kELEMENT);
  random.setGatherAxis(1);
  f.net().markOutput(axis1.output(0));
  f.net().markOutput(axis0.output(0));
  f.net().markOutput(random.output(0));
  const auto xr = randomTensor(shape, 31);
  const auto idx = randomIndices(volume(idxShape), 4, 32);
  auto out = f.run(
      {HostTensor::fromFloats(Dims{2, 2}, std::vector<float>{1, 2, 3, 4}),
       HostTensor::fromInts(Dims{2, 2}, std::vector<int32_t>{0, 0, 1, 0}),
       HostTensor::fromFloats(Dims{3, 3}, std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9}),
       int64Tensor(Dims{2, 3}, {1, 2, 0, 2, 0, -3}), xr, HostTensor::fromInts(idxShape, idx)});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].floats(), (std::vector<float>{1, 1, 4, 3}));
  EXPECT_EQ(out[1].dims, (Dims{2, 3}));
  EXPECT_EQ(out[1].floats(), (std::vector<float>{4, 8, 3, 7, 2, 3}));
  EXPECT_EQ(out[2].dims, idxShape);
  const auto x = xr.floats();
  std::vector<float> expected;
  for (int64_t i = 0; i < 3; ++i) {
    for (int64_t j = 0; j < 6; ++j) {
      for (int64_t k = 0; k < 2; ++k) {
        const int64_t n = wrap(idx[static_cast<std::size_t>((i * 6 + j) * 2 + k)], 4);
        expected.push_back(x[static_cast<std::size_t>((i * 4 + n) * 5 + k)]);
      }
    }
  }
  EXPECT_EQ(out[2].floats(), expected);
}

TEST(Gather, NDModeOnnxExamples) {
  NetworkFixture f;
  auto d2 = f.net().addInput("d2", DataType::kINT32, Dims{2, 2});
  auto iA = f.net().addInput("iA", DataType::kINT32, Dims{2, 2});
  auto iB = f.net().addInput("iB", DataType::kINT64, Dims{2, 1});
  auto d3 = f.net().addInput("d3", DataType::kINT32, Dims{2, 2, 2});
  auto iC = f.net().addInput("iC", DataType::kINT32, Dims{2, 2});
  auto iD = f.net().addInput("iD", DataType::kINT32, Dims{2, 1});
  auto a = f.net().addGatherV2(d2, iA, GatherMode::kND);
  auto b = f.net().addGatherV2(d2, iB, GatherMode::kND);
  auto c = f.net().addGatherV2(d3, iC, GatherMode::kND);
  auto d = f.net().addGatherV2(d3, iD, GatherMode::kND);
  d.setNbElementWiseDims(1);
  for (auto layer : {a, b, c, d}) f.net().markOutput(layer.output(0));
  const std::vector<int32_t> two{0, 1, 2, 3};
  const std::vector<int32_t> three{0, 1, 2, 3, 4, 5, 6, 7};
  auto out = f.run({HostTensor::fromInts(Dims{2, 2}, two),
                    HostTensor::fromInts(Dims{2, 2}, std::vector<int32_t>{0, 0, 1, -1}),
                    int64Tensor(Dims{2, 1}, {1, 0}), HostTensor::fromInts(Dims{2, 2, 2}, three),
                    HostTensor::fromInts(Dims{2, 2}, std::vector<int32_t>{0, 1, 1, 0}),
                    HostTensor::fromInts(Dims{2, 1}, std::vector<int32_t>{1, 0})});
  ASSERT_EQ(out.size(), 4u);
  auto ints = [](const HostTensor& t) {
    auto v = t.as<int32_t>();
    return std::vector<int32_t>(v.begin(), v.end());
  };
  EXPECT_EQ(out[0].dims, (Dims{2}));
  EXPECT_EQ(ints(out[0]), (std::vector<int32_t>{0, 3}));
  EXPECT_EQ(out[1].dims, (Dims{2, 2}));
  EXPECT_EQ(ints(out[1]), (std::vector<int32_t>{2, 3, 0, 1}));
  EXPECT_EQ(out[2].dims, (Dims{2, 2}));
  EXPECT_EQ(ints(out[2]), (std::vector<int32_t>{2, 3, 4, 5}));
  EXPECT_EQ(out[3].dims, (Dims{2, 2}));
  EXPECT_EQ(ints(out[3]), (std::vector<int32_t>{2, 3, 4, 5}));
}

TEST(Gather, NDModeRandomWithBatch) {
  // data [3, 4, 5, 2], indices [3, 7, 2], batch 1: out[b, g, :] = data[b, i0, i1, :].
  NetworkFixture f;
  const Dims shape{3, 4, 5, 2};
  auto data = f.net().addInput("data", DataType::kFLOAT, shape);
  auto indices = f.net().addInput("indices", DataType::kINT32, Dims{3, 7, 2});
  auto layer = f.net().addGatherV2(data, indices, GatherMode::kND);
  layer.setNbElementWiseDims(1);
  f.net().markOutput(layer.output(0));
  const auto in = randomTensor(shape, 41);
  const auto idx = randomIndices(42, 4, 42);  // in range for both extents 4 and 5
  auto out = f.run({in, HostTensor::fromInts(Dims{3, 7, 2}, idx)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{3, 7, 2}));
  const auto x = in.floats();
  std::vector<float> expected;
  for (int64_t b = 0; b < 3; ++b) {
    for (int64_t g = 0; g < 7; ++g) {
      const int64_t i0 = wrap(idx[static_cast<std::size_t>((b * 7 + g) * 2)], 4);
      const int64_t i1 = wrap(idx[static_cast<std::size_t>((b * 7 + g) * 2 + 1)], 5);
      for (int64_t s = 0; s < 2; ++s) {
        expected.push_back(x[static_cast<std::size_t>(((b * 4 + i0) * 5 + i1) * 2 + s)]);
      }
    }
  }
  EXPECT_EQ(out[0].floats(), expected);
}

TEST(Gather, OutOfRangeIndexFailsExecution) {
  NetworkFixture f;
  auto data = f.net().addInput("data", DataType::kFLOAT, Dims{3, 2});
  auto indices = f.net().addInput("indices", DataType::kINT32, Dims{2});
  auto layer = f.net().addGather(data, indices, 0);
  layer.setName("lookup");
  f.net().markOutput(layer.output(0));
  auto config = f.builder.createBuilderConfig();
  const auto plan = f.builder.buildSerializedNetwork(f.net(), *config);
  ASSERT_FALSE(plan.empty()) << f.logger.errors();
  Runtime runtime(f.logger);
  auto engine = runtime.deserialize(plan);
  ASSERT_TRUE(engine);
  auto context = engine->createExecutionContext();
  ASSERT_TRUE(context);
  std::vector<float> x(6, 1.f);
  std::vector<float> y(4, 0.f);
  for (int32_t bad : {3, -4}) {
    f.logger.clear();
    std::vector<int32_t> idx{0, bad};
    ASSERT_TRUE(context->setTensorAddress("data", x.data()));
    ASSERT_TRUE(context->setTensorAddress("indices", idx.data()));
    ASSERT_TRUE(context->setTensorAddress(layer.output(0).name(), y.data()));
    EXPECT_FALSE(context->enqueueV3());
    EXPECT_TRUE(f.logger.hasError("layer 'lookup' (Gather)")) << f.logger.errors();
    EXPECT_TRUE(f.logger.hasError("index " + std::to_string(bad))) << f.logger.errors();
    EXPECT_TRUE(f.logger.hasError("valid indices are -3 to 2")) << f.logger.errors();
  }
  // The context still works with good indices.
  f.logger.clear();
  std::vector<int32_t> good{2, -3};
  ASSERT_TRUE(context->setTensorAddress("indices", good.data()));
  EXPECT_TRUE(context->enqueueV3()) << f.logger.errors();
}

TEST(Gather, ConstantOutOfRangeIndicesFailBeforeRunning) {
  // Constant indices are checked by shape inference: the layer is invalid, and the error names
  // it and the index.
  NetworkFixture f;
  auto data = f.net().addInput("data", DataType::kFLOAT, Dims{3, 2});
  const std::array<int64_t, 2> idx{1, 7};
  auto constant = f.net().addConstant(Dims{2}, Weights{DataType::kINT64, idx.data(), 2});
  auto layer = f.net().addGather(data, constant.output(0), 0);
  expectInvalidLayer(f, layer, "layer 'Gather_1' (Gather): index 7");
  if (layer) {
    f.net().markOutput(layer.output(0));
    EXPECT_TRUE(buildFails(f));
  }
}

TEST(Gather, BadConfigurationsNameTheLayer) {
  // Shape problems: the layer is invalid, and the error names it (one network each, so that
  // each error is the only one).
  auto expectInvalid = [](const std::function<GatherLayer(NetworkFixture&, Tensor)>& add,
                          std::string_view text) {
    SCOPED_TRACE(text);
    NetworkFixture f;
    auto data = f.net().addInput("data", DataType::kFLOAT, Dims{3, 4});
    expectInvalidLayer(f, add(f, data), text);
  };
  expectInvalid(
      [](NetworkFixture& f, Tensor data) {
        return f.net().addGather(data, f.net().addInput("fidx", DataType::kFLOAT, Dims{2}), 0);
      },
      "layer 'Gather_0' (Gather): indices must be int32 or int64, not float32");
  expectInvalid(
      [](NetworkFixture& f, Tensor data) {
        return f.net().addGather(data, f.net().addInput("idx", DataType::kINT32, Dims{2}), 2);
      },
      "layer 'Gather_0' (Gather): axis 2 is out of range");
  expectInvalid(
      [](NetworkFixture& f, Tensor data) {
        return f.net().addGatherV2(data, f.net().addInput("idx", DataType::kINT32, Dims{2}),
                                   GatherMode::kELEMENT);
      },
      "layer 'Gather_0' (Gather): kELEMENT mode needs indices of the data's rank");
  // kND: the index tuple is longer than the data rank.
  expectInvalid(
      [](NetworkFixture& f, Tensor data) {
        return f.net().addGatherV2(data, f.net().addInput("idx3b", DataType::kINT32, Dims{3}),
                                   GatherMode::kND);
      },
      "layer 'Gather_0' (Gather): kND mode: the last dimension of the indices (3) is 3 but must "
      "be between 1 and 2");

  // Argument errors are refused at once.
  NetworkFixture f;
  auto data = f.net().addInput("data", DataType::kFLOAT, Dims{3, 4});
  auto idx = f.net().addInput("idx", DataType::kINT32, Dims{2});
  EXPECT_FALSE(f.net().addGatherV2(data, idx, static_cast<GatherMode>(9)));
  EXPECT_TRUE(f.logger.hasError("addGatherV2: unknown gather mode 9")) << f.logger.errors();
  EXPECT_FALSE(f.net().addGatherV2(data, idx, static_cast<GatherMode>(-1)));
  EXPECT_TRUE(f.logger.hasError("unknown gather mode -1")) << f.logger.errors();
  EXPECT_FALSE(f.net().addGather(Tensor(), idx, 0));
  EXPECT_TRUE(f.logger.hasError("addGather: data is a null tensor")) << f.logger.errors();
  EXPECT_EQ(f.net().nbLayers(), 0);

  // addGatherV2 sets no axis yet: what setGatherAxis may fix is checked at the build.
  f.logger.clear();
  auto wide = f.net().addInput("wide", DataType::kINT32, Dims{3, 9});
  auto element = f.net().addGatherV2(data, wide, GatherMode::kELEMENT);
  ASSERT_TRUE(element);
  element.setName("ge");
  EXPECT_EQ(f.logger.errorCount(), 0) << f.logger.errors();
  f.net().markOutput(element.output(0));
  EXPECT_TRUE(buildFails(f));
  EXPECT_TRUE(f.logger.hasError("layer 'ge' (Gather): kELEMENT mode: indices (3x9) exceed"))
      << f.logger.errors();
  element.setGatherAxis(1);
  EXPECT_EQ(element.output(0).dimensions(), (Dims{3, 9}));
  f.net().unmarkOutput(element.output(0));

  f.logger.clear();
  auto layer = f.net().addGather(data, idx, 1);
  ASSERT_TRUE(layer);
  layer.setName("g");
  layer.setNbElementWiseDims(2);  // more than the axis
  f.net().markOutput(layer.output(0));
  EXPECT_TRUE(buildFails(f));
  EXPECT_TRUE(f.logger.hasError("layer 'g' (Gather): num_elementwise_dims 2")) << f.logger.errors();
}

}  // namespace
}  // namespace kiln::test
