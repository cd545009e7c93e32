// ScatterLayer through the whole pipeline: kELEMENT (ONNX ScatterElements) and kND (ONNX
// ScatterND) with every reduction, on the ONNX examples and on odd shapes against plain loops;
// negative and int64 indices; run-time and build-time index errors; bad shapes.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

using SR = ScatterReduction;

HostTensor int64Tensor(const Dims& dims, const std::vector<int64_t>& values) {
  HostTensor t(DataType::kINT64, dims);
  EXPECT_EQ(static_cast<int64_t>(values.size()), t.count());
  std::copy(values.begin(), values.end(), t.as<int64_t>().begin());
  return t;
}

std::vector<int32_t> randomIndices(int64_t count, int64_t extent, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int64_t> dist(-extent, extent - 1);  // negative ones too
  std::vector<int32_t> values(static_cast<std::size_t>(count));
  for (auto& v : values) v = static_cast<int32_t>(dist(rng));
  return values;
}

template <typename T>
T combined(T target, T update, SR reduction) {
  switch (reduction) {
    case SR::kNONE:
      return update;
    case SR::kADD:
      return target + update;
    case SR::kMUL:
      return target * update;
    case SR::kMAX:
      return std::max(target, update);
    case SR::kMIN:
      return std::min(target, update);
  }
  return update;
}

struct Run {
  std::vector<HostTensor> out;
  std::string errors;
};

Run runScatter(const HostTensor& data, const HostTensor& indices, const HostTensor& updates,
               ScatterMode mode, int32_t axis, SR reduction) {
  NetworkFixture f;
  auto d = f.net().addInput("data", data.dtype, data.dims);
  auto i = f.net().addInput("indices", indices.dtype, indices.dims);
  auto u = f.net().addInput("updates", updates.dtype, updates.dims);
  auto layer = f.net().addScatter(d, i, u, mode);
  EXPECT_TRUE(layer) << f.logger.errors();
  layer.setAxis(axis);
  layer.setReduction(reduction);
  f.net().markOutput(layer.output(0));
  Run r;
  r.out = f.run({data, indices, updates});
  r.errors = f.logger.errors();
  return r;
}

// ---- ONNX examples.

TEST(Scatter, OnnxScatterElementsExamples) {
  {
    // Without axis (0).
    const auto r = runScatter(
        HostTensor::fromFloats(Dims{3, 3}, std::vector<float>(9, 0.f)),
        int64Tensor(Dims{2, 3}, {1, 0, 2, 0, 2, 1}),
        HostTensor::fromFloats(Dims{2, 3}, std::vector<float>{1, 1.1f, 1.2f, 2, 2.1f, 2.2f}),
        ScatterMode::kELEMENT, 0, SR::kNONE);
    ASSERT_EQ(r.out.size(), 1u) << r.errors;
    EXPECT_EQ(r.out[0].dims, (Dims{3, 3}));
    EXPECT_EQ(r.out[0].floats(), (std::vector<float>{2, 1.1f, 0, 1, 0, 2.2f, 0, 2.1f, 1.2f}));
  }
  const auto data = HostTensor::fromFloats(Dims{1, 5}, std::vector<float>{1, 2, 3, 4, 5});
  const auto updates = HostTensor::fromFloats(Dims{1, 2}, std::vector<float>{1.1f, 2.1f});
  struct Example {
    const char* name;
    std::vector<int64_t> indices;
    SR reduction;
    std::vector<float> expected;
  };
  for (const Example& e : std::vector<Example>{
           {"with_axis", {1, 3}, SR::kNONE, {1, 1.1f, 3, 2.1f, 5}},
           {"with_negative_indices", {1, -3}, SR::kNONE, {1, 1.1f, 2.1f, 4, 5}},
           {"with_duplicate_indices", {1, 1}, SR::kADD, {1, 5.2f, 3, 4, 5}},
           {"with_reduction_max", {1, 1}, SR::kMAX, {1, 2.1f, 3, 4, 5}},
           {"with_reduction_min", {1, 1}, SR::kMIN, {1, 1.1f, 3, 4, 5}},
           {"with_reduction_mul", {1, 1}, SR::kMUL, {1, 2 * 1.1f * 2.1f, 3, 4, 5}},
       }) {
    SCOPED_TRACE(e.name);
    const auto r = runScatter(data, int64Tensor(Dims{1, 2}, e.indices), updates,
                              ScatterMode::kELEMENT, 1, e.reduction);
    ASSERT_EQ(r.out.size(), 1u) << r.errors;
    expectClose(r.out[0].floats(), e.expected, 1e-6, 1e-6);
  }
}

TEST(Scatter, OnnxScatterNDExamples) {
  {
    // Single elements: data [8], indices [[4], [3], [1], [7]].
    const auto r =
        runScatter(HostTensor::fromFloats(Dims{8}, std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8}),
                   int64Tensor(Dims{4, 1}, {4, 3, 1, 7}),
                   HostTensor::fromFloats(Dims{4}, std::vector<float>{9, 10, 11, 12}),
                   ScatterMode::kND, 0, SR::kNONE);
    ASSERT_EQ(r.out.size(), 1u) << r.errors;
    EXPECT_EQ(r.out[0].floats(), (std::vector<float>{1, 11, 3, 10, 9, 6, 7, 12}));
  }
  // Slices: data [4, 4, 4], indices [[0], [2]] (none) and [[0], [0]] (add, mul).
  const std::vector<float> block = {1, 2, 3, 4, 5, 6, 7, 8, 8, 7, 6, 5, 4, 3, 2, 1};
  const std::vector<float> reversed = {8, 7, 6, 5, 4, 3, 2, 1, 1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<float> data;
  for (const auto* b : {&block, &block, &reversed, &reversed}) {
    data.insert(data.end(), b->begin(), b->end());
  }
  std::vector<float> updates;
  for (float v : {5.f, 6.f, 7.f, 8.f, 1.f, 2.f, 3.f, 4.f}) updates.insert(updates.end(), 4, v);
  const auto dataT = HostTensor::fromFloats(Dims{4, 4, 4}, data);
  const auto updatesT = HostTensor::fromFloats(Dims{2, 4, 4}, updates);
  auto expectedWith = [&](SR reduction, const std::vector<int64_t>& rows) {
    std::vector<float> expected = data;
    for (std::size_t u = 0; u < 2; ++u) {
      for (std::size_t k = 0; k < 16; ++k) {
        float& target = expected[static_cast<std::size_t>(rows[u]) * 16 + k];
        target = combined(target, updates[u * 16 + k], reduction);
      }
    }
    return expected;
  };
  for (auto [reduction, rows] : std::vector<std::pair<SR, std::vector<int64_t>>>{
           {SR::kNONE, {0, 2}}, {SR::kADD, {0, 0}}, {SR::kMUL, {0, 0}}}) {
    SCOPED_TRACE(static_cast<int>(reduction));
    const auto r =
        runScatter(dataT, int64Tensor(Dims{2, 1}, rows), updatesT, ScatterMode::kND, 0, reduction);
    ASSERT_EQ(r.out.size(), 1u) << r.errors;
    EXPECT_EQ(r.out[0].floats(), expectedWith(reduction, rows));
  }
  // The documented results of the add and mul examples, first row block.
  const auto add = expectedWith(SR::kADD, {0, 0});
  EXPECT_EQ(std::vector<float>(add.begin(), add.begin() + 8),
            (std::vector<float>{7, 8, 9, 10, 13, 14, 15, 16}));
  const auto mul = expectedWith(SR::kMUL, {0, 0});
  EXPECT_EQ(std::vector<float>(mul.begin(), mul.begin() + 8),
            (std::vector<float>{5, 10, 15, 20, 60, 72, 84, 96}));
}

// ---- Random odd shapes against plain loops, float32 and int32, every reduction.

TEST(Scatter, ElementModeRandomOddShapes) {
  const Dims shape{3, 5, 4};
  const Dims idxShape{2, 7, 3};  // longer than the data along the axis, shorter elsewhere
  const int32_t axis = 1;
  const auto idx = randomIndices(volume(idxShape), shape[axis], 41);
  const auto data = randomTensor(shape, 42, -3.f, 3.f);
  const auto updates = randomTensor(idxShape, 43, -3.f, 3.f);
  std::vector<int32_t> idata(static_cast<std::size_t>(volume(shape)));
  std::vector<int32_t> iupdates(static_cast<std::size_t>(volume(idxShape)));
  std::mt19937 rng(44);
  for (auto& v : idata) v = static_cast<int32_t>(rng() % 19) - 9;
  for (auto& v : iupdates) v = static_cast<int32_t>(rng() % 19) - 9;
  for (SR reduction : {SR::kNONE, SR::kADD, SR::kMUL, SR::kMAX, SR::kMIN}) {
    SCOPED_TRACE(static_cast<int>(reduction));
    std::vector<float> expected = data.floats();
    std::vector<int32_t> iexpected = idata;
    const auto u = updates.floats();
    for (int64_t a = 0; a < idxShape[0]; ++a) {
      for (int64_t b = 0; b < idxShape[1]; ++b) {
        for (int64_t c = 0; c < idxShape[2]; ++c) {
          const auto p = static_cast<std::size_t>((a * idxShape[1] + b) * idxShape[2] + c);
          const int64_t k = idx[p] < 0 ? idx[p] + shape[axis] : idx[p];
          const auto t = static_cast<std::size_t>((a * shape[1] + k) * shape[2] + c);
          expected[t] = combined(expected[t], u[p], reduction);
          iexpected[t] = combined(iexpected[t], iupdates[p], reduction);
        }
      }
    }
    // Negative axis: -2 is 1.
    const auto r = runScatter(data, HostTensor::fromInts(idxShape, idx), updates,
                              ScatterMode::kELEMENT, -2, reduction);
    ASSERT_EQ(r.out.size(), 1u) << r.errors;
    EXPECT_EQ(r.out[0].dims, shape);
    EXPECT_EQ(r.out[0].floats(), expected);
    const auto ri =
        runScatter(HostTensor::fromInts(shape, idata), HostTensor::fromInts(idxShape, idx),
                   HostTensor::fromInts(idxShape, iupdates), ScatterMode::kELEMENT, 1, reduction);
    ASSERT_EQ(ri.out.size(), 1u) << ri.errors;
    EXPECT_TRUE(std::equal(iexpected.begin(), iexpected.end(), ri.out[0].as<int32_t>().begin()));
  }
}

TEST(Scatter, NDModeRandomOddShapes) {
  // data [4, 3, 5, 2]; indices [3, 2, 2] address [4, 3] -> slices [5, 2]; updates [3, 2, 5, 2].
  const Dims shape{4, 3, 5, 2};
  const Dims idxShape{3, 2, 2};
  const Dims updShape{3, 2, 5, 2};
  std::vector<int32_t> idx = randomIndices(volume(idxShape), 3, 51);
  for (std::size_t i = 0; i < idx.size(); i += 2) {
    idx[i] = randomIndices(1, 4, 52 + static_cast<uint32_t>(i))[0];  // first of each tuple: [-4, 4)
  }
  const auto data = randomTensor(shape, 53);
  const auto updates = randomTensor(updShape, 54);
  for (SR reduction : {SR::kNONE, SR::kADD, SR::kMUL, SR::kMAX, SR::kMIN}) {
    SCOPED_TRACE(static_cast<int>(reduction));
    std::vector<float> expected = data.floats();
    const auto u = updates.floats();
    for (std::size_t t = 0; t < 6; ++t) {
      const int64_t i0 = idx[t * 2] < 0 ? idx[t * 2] + 4 : idx[t * 2];
      const int64_t i1 = idx[t * 2 + 1] < 0 ? idx[t * 2 + 1] + 3 : idx[t * 2 + 1];
      for (std::size_t k = 0; k < 10; ++k) {
        float& target = expected[static_cast<std::size_t>((i0 * 3 + i1) * 10) + k];
        target = combined(target, u[t * 10 + k], reduction);
      }
    }
    const auto r = runScatter(data, HostTensor::fromInts(idxShape, idx), updates, ScatterMode::kND,
                              0, reduction);
    ASSERT_EQ(r.out.size(), 1u) << r.errors;
    EXPECT_EQ(r.out[0].floats(), expected);
  }
}

TEST(Scatter, NoneCopiesAnyTypeAndFullTuplesAddressElements) {
  NetworkFixture f;
  auto data = f.net().addInput("data", DataType::kBOOL, Dims{2, 3});
  auto indices = f.net().addInput("indices", DataType::kINT64, Dims{2, 2});
  auto updates = f.net().addInput("updates", DataType::kBOOL, Dims{2});
  auto layer = f.net().addScatter(data, indices, updates, ScatterMode::kND);
  ASSERT_TRUE(layer) << f.logger.errors();
  EXPECT_EQ(layer.type(), LayerType::kSCATTER);
  EXPECT_EQ(layer.mode(), ScatterMode::kND);
  EXPECT_EQ(layer.reduction(), SR::kNONE);
  EXPECT_EQ(layer.axis(), 0);
  f.net().markOutput(layer.output(0));
  const auto out = f.run({HostTensor::fromBools(Dims{2, 3}, std::array<bool, 6>{}),
                          int64Tensor(Dims{2, 2}, {0, 2, -1, 0}),
                          HostTensor::fromBools(Dims{2}, std::array<bool, 2>{true, true})});
  ASSERT_EQ(out.size(), 1u) << f.logger.errors();
  const std::vector<uint8_t> expected = {0, 0, 1, 1, 0, 0};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(static_cast<uint8_t>(out[0].as<std::byte>()[i]), expected[i]) << i;
  }
}

TEST(Scatter, EmptyIndicesLeaveTheDataAsItIs) {
  NetworkFixture f;
  auto data = f.net().addInput("data", DataType::kFLOAT, Dims{2, 3});
  auto indices = f.net().addInput("indices", DataType::kINT32, Dims{0, 3});
  auto updates = f.net().addInput("updates", DataType::kFLOAT, Dims{0, 3});
  auto layer = f.net().addScatter(data, indices, updates, ScatterMode::kELEMENT);
  f.net().markOutput(layer.output(0));
  const auto in = randomTensor(Dims{2, 3}, 61);
  const auto out = f.run(
      {in, HostTensor(DataType::kINT32, Dims{0, 3}), HostTensor(DataType::kFLOAT, Dims{0, 3})});
  ASSERT_EQ(out.size(), 1u) << f.logger.errors();
  EXPECT_EQ(out[0].floats(), in.floats());
}

// ---- Errors.

TEST(Scatter, OutOfRangeIndexFailsExecution) {
  NetworkFixture f;
  auto data = f.net().addInput("data", DataType::kFLOAT, Dims{2, 3});
  auto indices = f.net().addInput("indices", DataType::kINT32, Dims{1, 2});
  auto updates = f.net().addInput("updates", DataType::kFLOAT, Dims{1, 2});
  auto layer = f.net().addScatter(data, indices, updates, ScatterMode::kELEMENT);
  layer.setAxis(1);
  layer.setName("write");
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
  std::vector<float> u(2, 5.f);
  std::vector<float> y(6, 0.f);
  ASSERT_TRUE(context->setTensorAddress("data", x.data()));
  ASSERT_TRUE(context->setTensorAddress("updates", u.data()));
  ASSERT_TRUE(context->setTensorAddress(layer.output(0).name(), y.data()));
  for (int32_t bad : {3, -4}) {
    f.logger.clear();
    std::vector<int32_t> idx{0, bad};
    ASSERT_TRUE(context->setTensorAddress("indices", idx.data()));
    EXPECT_FALSE(context->enqueueV3());
    EXPECT_TRUE(f.logger.hasError("layer 'write' (Scatter)")) << f.logger.errors();
    EXPECT_TRUE(f.logger.hasError("index " + std::to_string(bad) + " (indices element 1)"))
        << f.logger.errors();
    EXPECT_TRUE(f.logger.hasError("valid indices are -3 to 2")) << f.logger.errors();
  }
  f.logger.clear();
  std::vector<int32_t> good{2, -3};
  ASSERT_TRUE(context->setTensorAddress("indices", good.data()));
  EXPECT_TRUE(context->enqueueV3()) << f.logger.errors();
  EXPECT_EQ(y, (std::vector<float>{5, 1, 5, 1, 1, 1}));
}

TEST(Scatter, ConstantOutOfRangeIndicesFailBeforeRunning) {
  NetworkFixture f;
  auto data = f.net().addInput("data", DataType::kFLOAT, Dims{4, 2});
  const std::array<int64_t, 2> idx{1, 4};
  auto constant = f.net().addConstant(Dims{2, 1}, Weights{DataType::kINT64, idx.data(), 2});
  auto updates = f.net().addInput("updates", DataType::kFLOAT, Dims{2, 2});
  auto layer = f.net().addScatter(data, constant.output(0), updates, ScatterMode::kND);
  expectInvalidLayer(f, layer,
                     "layer 'Scatter_1' (Scatter): kND mode: index 4 (indices element 1) is out "
                     "of range for dimension 0 of the data: valid indices are -4 to 3");
}

TEST(Scatter, BadConfigurationsNameTheLayer) {
  struct Shapes {
    Dims data{3, 4};
    Dims indices{2, 4};
    Dims updates{2, 4};
    DataType dataType = DataType::kFLOAT;
    DataType indexType = DataType::kINT32;
    DataType updateType = DataType::kFLOAT;
  };
  auto expectInvalid = [](const Shapes& s, ScatterMode mode, std::string_view text,
                          const std::function<void(ScatterLayer&)>& configure = {}) {
    SCOPED_TRACE(text);
    NetworkFixture f;
    auto d = f.net().addInput("data", s.dataType, s.data);
    auto i = f.net().addInput("indices", s.indexType, s.indices);
    auto u = f.net().addInput("updates", s.updateType, s.updates);
    auto layer = f.net().addScatter(d, i, u, mode);
    ASSERT_TRUE(layer) << f.logger.errors();
    if (configure) configure(layer);
    expectInvalidLayer(f, layer, text);
  };
  using SM = ScatterMode;
  expectInvalid({.indexType = DataType::kFLOAT}, SM::kELEMENT,
                "layer 'Scatter_0' (Scatter): indices must be int32 or int64, not float32");
  expectInvalid({.updateType = DataType::kINT32}, SM::kELEMENT,
                "layer 'Scatter_0' (Scatter): updates (int32) must have the data's type "
                "(float32)");
  expectInvalid({.dataType = DataType::kBOOL, .updateType = DataType::kBOOL}, SM::kELEMENT,
                "layer 'Scatter_0' (Scatter): reductions need float32, int32 or int64 data, not "
                "bool",
                [](ScatterLayer& l) { l.setReduction(SR::kADD); });
  expectInvalid({}, SM::kELEMENT, "layer 'Scatter_0' (Scatter): axis 2 is out of range",
                [](ScatterLayer& l) { l.setAxis(2); });
  expectInvalid({.indices = Dims{8}, .updates = Dims{8}}, SM::kELEMENT,
                "layer 'Scatter_0' (Scatter): kELEMENT mode needs indices of the data's rank");
  expectInvalid({.updates = Dims{2, 3}}, SM::kELEMENT,
                "layer 'Scatter_0' (Scatter): kELEMENT mode needs updates of the indices' shape");
  expectInvalid({.indices = Dims{2, 5}, .updates = Dims{2, 5}}, SM::kELEMENT,
                "layer 'Scatter_0' (Scatter): kELEMENT mode: indices (2x5) exceed the data (3x4) "
                "in dimension 1, which is not the axis");
  expectInvalid({.indices = Dims{2, 3}, .updates = Dims{2}}, SM::kND,
                "layer 'Scatter_0' (Scatter): kND mode: the last dimension of the indices (2x3) "
                "is 3 but must be between 1 and the data rank 2");
  expectInvalid({.indices = Dims{2, 1}, .updates = Dims{2, 3}}, SM::kND,
                "layer 'Scatter_0' (Scatter): kND mode: updates must have shape 2x4 "
                "(indices.shape[:-1] + data.shape[1:]), not 2x3");
  expectInvalid({.data = Dims{}, .indices = Dims{1}, .updates = Dims{}}, SM::kND,
                "layer 'Scatter_0' (Scatter): the data is a scalar");
  expectInvalid({}, SM::kELEMENT, "layer 'Scatter_0' (Scatter): unknown scatter reduction 8",
                [](ScatterLayer& l) { l.setReduction(static_cast<SR>(8)); });

  NetworkFixture f;
  auto d = f.net().addInput("data", DataType::kFLOAT, Dims{3});
  auto i = f.net().addInput("indices", DataType::kINT32, Dims{3});
  EXPECT_FALSE(f.net().addScatter(d, i, d, static_cast<ScatterMode>(4)));
  EXPECT_TRUE(f.logger.hasError("addScatter: unknown scatter mode 4")) << f.logger.errors();
  EXPECT_FALSE(f.net().addScatter(d, i, Tensor(), ScatterMode::kELEMENT));
  EXPECT_TRUE(f.logger.hasError("addScatter: updates is a null tensor")) << f.logger.errors();
  EXPECT_EQ(f.net().nbLayers(), 0);
}

}  // namespace
}  // namespace kiln::test
