// NonZero, Compress, Unique and NMS: outputs whose shape depends on the data, read through an
// OutputAllocator; their upper bounds, empty results and the refusal of readers of such
// tensors.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

// Keeps every output in a vector of its own, sized as the engine asks.
class Collector : public OutputAllocator {
 public:
  void* reallocateOutput(std::string_view name, void*, uint64_t size, uint64_t) noexcept override {
    auto& buffer = buffers[std::string(name)];
    buffer.assign(size, std::byte{0});
    return buffer.data();
  }
  void notifyShape(std::string_view name, const Dims& dims) noexcept override {
    shapes[std::string(name)] = dims;
  }
  template <typename T>
  std::vector<T> values(const std::string& name) const {
    const Dims& dims = shapes.at(name);
    std::vector<T> out(static_cast<std::size_t>(volume(dims)));
    if (!out.empty()) std::memcpy(out.data(), buffers.at(name).data(), out.size() * sizeof(T));
    return out;
  }

  std::map<std::string, std::vector<std::byte>> buffers;
  std::map<std::string, Dims> shapes;
};

// Builds the fixture's network (marked outputs named), binds @p inputs by name, runs once with
// a Collector on every output. False when a step fails (errors in the fixture's logger).
bool run(NetworkFixture& f, const std::map<std::string, HostTensor>& inputs, Collector& out) {
  auto config = f.builder.createBuilderConfig();
  const auto plan = f.builder.buildSerializedNetwork(f.net(), *config);
  if (plan.empty()) return false;
  Runtime runtime(f.logger);
  auto engine = runtime.deserialize(plan);
  if (!engine) return false;
  auto context = engine->createExecutionContext();
  for (int32_t i = 0; i < engine->nbIOTensors(); ++i) {
    const std::string name(engine->ioTensorName(i));
    if (engine->tensorIOMode(name) == TensorIOMode::kINPUT) {
      context->setInputTensorAddress(name, inputs.at(name).bytes.data());
    } else {
      context->setOutputAllocator(name, &out);
    }
  }
  return context->enqueueV3();
}

Dims dims(std::initializer_list<int64_t> extents) {
  Dims d;
  d.nbDims = static_cast<int32_t>(extents.size());
  int32_t i = 0;
  for (int64_t e : extents) d[i++] = e;
  return d;
}

TEST(NonZero, CoordinatesOfNonzeroElements) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 2});
  NonZeroLayer layer = f.net().addNonZero(x);
  ASSERT_TRUE(layer);
  EXPECT_EQ(layer.type(), LayerType::kNON_ZERO);
  EXPECT_EQ(layer.output(0).dimensions(), dims({2, -1}));
  layer.output(0).setName("y");
  f.net().markOutput(layer.output(0));
  Collector out;
  const std::vector<float> values{1, 0, -0.5f, 3};
  ASSERT_TRUE(run(f, {{"x", HostTensor::fromFloats(Dims{2, 2}, values)}}, out))
      << f.logger.errors();
  EXPECT_EQ(out.shapes["y"], dims({2, 3}));
  EXPECT_EQ(out.values<int32_t>("y"), (std::vector<int32_t>{0, 1, 1, 0, 0, 1}));
}

TEST(NonZero, AllFalseGivesAnEmptyResult) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kBOOL, Dims{2, 3, 1});
  NonZeroLayer layer = f.net().addNonZero(x);
  layer.output(0).setName("y");
  f.net().markOutput(layer.output(0));
  Collector out;
  ASSERT_TRUE(run(f, {{"x", HostTensor::fromBools(Dims{2, 3, 1}, std::array<bool, 6>{})}}, out))
      << f.logger.errors();
  EXPECT_EQ(out.shapes["y"], dims({3, 0}));
  EXPECT_EQ(out.buffers["y"].size(), 1u);  // never asked for 0 bytes
}

TEST(NonZero, EmptyInputAndInt32Input) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kINT32, Dims{0, 3});
  Tensor y = f.net().addNonZero(x).output(0);
  y.setName("y");
  f.net().markOutput(y);
  Tensor x2 = f.net().addInput("x2", DataType::kINT32, Dims{5});
  Tensor y2 = f.net().addNonZero(x2).output(0);
  y2.setName("y2");
  f.net().markOutput(y2);
  Collector out;
  ASSERT_TRUE(run(f,
                  {{"x", HostTensor(DataType::kINT32, Dims{0, 3})},
                   {"x2", HostTensor::fromInts(Dims{5}, std::vector<int32_t>{0, 7, 0, -1, 0})}},
                  out))
      << f.logger.errors();
  EXPECT_EQ(out.shapes["y"], dims({2, 0}));
  EXPECT_EQ(out.shapes["y2"], dims({1, 2}));
  EXPECT_EQ(out.values<int32_t>("y2"), (std::vector<int32_t>{1, 3}));
}

TEST(NonZero, Int64OutputThroughACast) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{3});
  NonZeroLayer layer = f.net().addNonZero(x);
  layer.setOutputType(0, DataType::kINT64);
  layer.output(0).setName("y");
  f.net().markOutput(layer.output(0));
  Collector out;
  ASSERT_TRUE(run(f, {{"x", HostTensor::fromFloats(Dims{3}, std::vector<float>{0, 2, 3})}}, out))
      << f.logger.errors();
  EXPECT_EQ(out.shapes["y"], dims({1, 2}));
  EXPECT_EQ(out.values<int64_t>("y"), (std::vector<int64_t>{1, 2}));
}

TEST(NonZero, ReadersOfTheResultAreRefusedNamingTheLayers) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{4});
  NonZeroLayer nz = f.net().addNonZero(x);
  nz.setName("nz");
  UnaryLayer neg = f.net().addUnary(nz.output(0), UnaryOperation::kNEG);
  neg.setName("neg");
  f.net().markOutput(neg.output(0));
  auto config = f.builder.createBuilderConfig();
  EXPECT_TRUE(f.builder.buildSerializedNetwork(f.net(), *config).empty());
  EXPECT_TRUE(f.logger.hasError("layer 'neg'")) << f.logger.errors();
  EXPECT_TRUE(f.logger.hasError("data-dependent shape (from layer 'nz')")) << f.logger.errors();
}

TEST(Compress, AlongAnAxisAndFlattened) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{3, 2});
  Tensor c = f.net().addInput("c", DataType::kBOOL, Dims{2});
  CompressLayer rows = f.net().addCompress(x, c);
  rows.setAxis(0);
  EXPECT_TRUE(rows.hasAxis());
  EXPECT_EQ(rows.output(0).dimensions(), dims({-1, 2}));
  rows.output(0).setName("rows");
  f.net().markOutput(rows.output(0));
  CompressLayer cols = f.net().addCompress(x, c);
  cols.setAxis(-1);
  cols.output(0).setName("cols");
  f.net().markOutput(cols.output(0));
  CompressLayer flat = f.net().addCompress(x, c);
  EXPECT_FALSE(flat.hasAxis());
  flat.output(0).setName("flat");
  f.net().markOutput(flat.output(0));
  Collector out;
  const std::vector<float> values{1, 2, 3, 4, 5, 6};
  ASSERT_TRUE(run(f,
                  {{"x", HostTensor::fromFloats(Dims{3, 2}, values)},
                   {"c", HostTensor::fromBools(Dims{2}, std::array<bool, 2>{false, true})}},
                  out))
      << f.logger.errors();
  // The condition is shorter than the axis: the third row is dropped.
  EXPECT_EQ(out.shapes["rows"], dims({1, 2}));
  EXPECT_EQ(out.values<float>("rows"), (std::vector<float>{3, 4}));
  EXPECT_EQ(out.shapes["cols"], dims({3, 1}));
  EXPECT_EQ(out.values<float>("cols"), (std::vector<float>{2, 4, 6}));
  EXPECT_EQ(out.shapes["flat"], dims({1}));
  EXPECT_EQ(out.values<float>("flat"), (std::vector<float>{2}));
}

TEST(Compress, RefusesAConditionOfRankTwo) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{3, 2});
  Tensor c = f.net().addInput("c", DataType::kBOOL, Dims{3, 2});
  expectInvalidLayer(f, f.net().addCompress(x, c), "must have rank 1");
}

struct UniqueResult {
  Dims shape;
  std::vector<float> y;
  std::vector<int32_t> indices, inverse, counts;
};

UniqueResult runUnique(const Dims& shape, const std::vector<float>& values, bool sorted,
                       std::optional<int32_t> axis) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, shape);
  UniqueLayer layer = f.net().addUnique(x);
  EXPECT_TRUE(layer);
  layer.setSorted(sorted);
  if (axis) layer.setAxis(*axis);
  const char* names[] = {"y", "indices", "inverse", "counts"};
  for (int32_t i = 0; i < 4; ++i) {
    layer.output(i).setName(names[i]);
    f.net().markOutput(layer.output(i));
  }
  Collector out;
  UniqueResult r;
  EXPECT_TRUE(run(f, {{"x", HostTensor::fromFloats(shape, values)}}, out)) << f.logger.errors();
  if (out.shapes.size() != 4) return r;
  r.shape = out.shapes["y"];
  r.y = out.values<float>("y");
  r.indices = out.values<int32_t>("indices");
  r.inverse = out.values<int32_t>("inverse");
  r.counts = out.values<int32_t>("counts");
  return r;
}

TEST(Unique, SortedAndInOrderOfFirstOccurrence) {
  const std::vector<float> x{2, 1, 1, 3, 4, 3};
  const UniqueResult s = runUnique(Dims{6}, x, true, std::nullopt);
  EXPECT_EQ(s.y, (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(s.indices, (std::vector<int32_t>{1, 0, 3, 4}));
  EXPECT_EQ(s.inverse, (std::vector<int32_t>{1, 0, 0, 2, 3, 2}));
  EXPECT_EQ(s.counts, (std::vector<int32_t>{2, 1, 2, 1}));
  const UniqueResult u = runUnique(Dims{6}, x, false, std::nullopt);
  EXPECT_EQ(u.y, (std::vector<float>{2, 1, 3, 4}));
  EXPECT_EQ(u.indices, (std::vector<int32_t>{0, 1, 3, 4}));
  EXPECT_EQ(u.inverse, (std::vector<int32_t>{0, 1, 1, 2, 3, 2}));
  EXPECT_EQ(u.counts, (std::vector<int32_t>{1, 2, 2, 1}));
}

TEST(Unique, SlicesAlongAnAxis) {
  const UniqueResult r =
      runUnique(Dims{3, 3}, {1, 0, 0, 1, 0, 0, 2, 3, 4}, true, 0);  // rows 0 and 1 equal
  EXPECT_EQ(r.shape, dims({2, 3}));
  EXPECT_EQ(r.y, (std::vector<float>{1, 0, 0, 2, 3, 4}));
  EXPECT_EQ(r.indices, (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(r.inverse, (std::vector<int32_t>{0, 0, 1}));
  EXPECT_EQ(r.counts, (std::vector<int32_t>{2, 1}));
  // Columns of [[1, 0, 1], [2, 5, 2]]: column 1 sorts first, columns 0 and 2 are equal.
  const UniqueResult c = runUnique(Dims{2, 3}, {1, 0, 1, 2, 5, 2}, true, -1);
  EXPECT_EQ(c.shape, dims({2, 2}));
  EXPECT_EQ(c.y, (std::vector<float>{0, 1, 5, 2}));
  EXPECT_EQ(c.inverse, (std::vector<int32_t>{1, 0, 1}));
}

TEST(Unique, EmptyInput) {
  const UniqueResult r = runUnique(Dims{0}, {}, true, std::nullopt);
  EXPECT_EQ(r.shape, dims({0}));
  EXPECT_TRUE(r.counts.empty());
}

std::vector<int32_t> runNms(const std::vector<float>& boxes, const std::vector<float>& scores,
                            int64_t nbBoxes, int64_t classes, int32_t limit, float iou,
                            std::optional<float> minScore, bool center) {
  NetworkFixture f;
  const Dims boxDims{1, nbBoxes, 4};
  const Dims scoreDims{1, classes, nbBoxes};
  Tensor b = f.net().addInput("boxes", DataType::kFLOAT, boxDims);
  Tensor s = f.net().addInput("scores", DataType::kFLOAT, scoreDims);
  Tensor m = f.net().addInput("limit", DataType::kINT32, Dims{});
  Tensor t = f.net().addInput("iou", DataType::kFLOAT, Dims{});
  NMSLayer layer = f.net().addNMS(b, s, m);
  EXPECT_TRUE(layer);
  layer.setInput(3, t);
  std::map<std::string, HostTensor> inputs{
      {"boxes", HostTensor::fromFloats(boxDims, boxes)},
      {"scores", HostTensor::fromFloats(scoreDims, scores)},
      {"limit", HostTensor::fromInts(Dims{}, std::vector<int32_t>{limit})},
      {"iou", HostTensor::fromFloats(Dims{}, std::vector<float>{iou})}};
  if (minScore) {
    layer.setInput(4, f.net().addInput("min", DataType::kFLOAT, Dims{}));
    inputs["min"] = HostTensor::fromFloats(Dims{}, std::vector<float>{*minScore});
  }
  if (center) layer.setBoundingBoxFormat(BoundingBoxFormat::kCENTER_SIZES);
  EXPECT_EQ(layer.output(0).dimensions(), dims({-1, 3}));
  layer.output(0).setName("selected");
  f.net().markOutput(layer.output(0));
  Collector out;
  EXPECT_TRUE(run(f, inputs, out)) << f.logger.errors();
  return out.shapes.count("selected") != 0 ? out.values<int32_t>("selected")
                                           : std::vector<int32_t>{};
}

const std::vector<float> kCornerBoxes{0, 0,  1, 1,  0, 0.1f,  1, 1.1f,  0, -0.1f, 1, 0.9f,
                                      0, 10, 1, 11, 0, 10.1f, 1, 11.1f, 0, 100,   1, 101};
const std::vector<float> kScores{0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f};

TEST(NMS, SuppressesOverlappingBoxes) {
  EXPECT_EQ(runNms(kCornerBoxes, kScores, 6, 1, 3, 0.5f, 0.0f, false),
            (std::vector<int32_t>{0, 0, 3, 0, 0, 0, 0, 0, 5}));
  // A score threshold of 0.4 drops box 5; a limit of 2 stops after two.
  EXPECT_EQ(runNms(kCornerBoxes, kScores, 6, 1, 3, 0.5f, 0.4f, false),
            (std::vector<int32_t>{0, 0, 3, 0, 0, 0}));
  EXPECT_EQ(runNms(kCornerBoxes, kScores, 6, 1, 2, 0.5f, std::nullopt, false),
            (std::vector<int32_t>{0, 0, 3, 0, 0, 0}));
  EXPECT_TRUE(runNms(kCornerBoxes, kScores, 6, 1, 0, 0.5f, std::nullopt, false).empty());
}

TEST(NMS, CenterFormatAndFlippedCorners) {
  const std::vector<float> center{0.5f, 0.5f,  1, 1, 0.5f, 0.6f,  1, 1, 0.5f, 0.4f,   1, 1,
                                  0.5f, 10.5f, 1, 1, 0.5f, 10.6f, 1, 1, 0.5f, 100.5f, 1, 1};
  EXPECT_EQ(runNms(center, kScores, 6, 1, 3, 0.5f, 0.0f, true),
            (std::vector<int32_t>{0, 0, 3, 0, 0, 0, 0, 0, 5}));
  std::vector<float> flipped = kCornerBoxes;
  for (std::size_t i = 0; i < flipped.size(); i += 8) {
    std::swap(flipped[i], flipped[i + 2]);
    std::swap(flipped[i + 1], flipped[i + 3]);
  }
  EXPECT_EQ(runNms(flipped, kScores, 6, 1, 3, 0.5f, 0.0f, false),
            (std::vector<int32_t>{0, 0, 3, 0, 0, 0, 0, 0, 5}));
}

TEST(NMS, RefusesBoxesOfTheWrongShape) {
  NetworkFixture f;
  Tensor b = f.net().addInput("boxes", DataType::kFLOAT, Dims{1, 6, 3});
  Tensor s = f.net().addInput("scores", DataType::kFLOAT, Dims{1, 1, 6});
  Tensor m = f.net().addInput("limit", DataType::kINT32, Dims{});
  expectInvalidLayer(f, f.net().addNMS(b, s, m), "expected [batches, boxes, 4]");
}

}  // namespace
}  // namespace kiln::test
