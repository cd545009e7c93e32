// ONNX models whose shape-deciding inputs (a Reshape's shape, a Slice's bounds, ReduceSum's
// axes, a Resize's float scales, ...) are graph inputs: the parser makes them shape tensors
// (Tensor::isShapeTensor), an optimization profile gives their values, and the engine reads them at
// run time.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "onnx_test_util.h"

namespace kiln::test::onnx_test {
namespace {

constexpr int32_t kInt64 = ::onnx::TensorProto::INT64;

// A network input's host data for the engine.
struct Feed {
  std::string name;
  std::vector<std::byte> bytes;

  static Feed floats(std::string name, const std::vector<float>& values) {
    Feed f{std::move(name), std::vector<std::byte>(values.size() * sizeof(float))};
    std::memcpy(f.bytes.data(), values.data(), f.bytes.size());
    return f;
  }
  static Feed ints(std::string name, const std::vector<int64_t>& values) {
    Feed f{std::move(name), std::vector<std::byte>(values.size() * sizeof(int64_t))};
    std::memcpy(f.bytes.data(), values.data(), f.bytes.size());
    return f;
  }
};

struct Result {
  Dims dims;
  std::vector<float> values;
};

// Parses @p model, gives each shape tensor @p shapeValues (min = opt = max), builds, runs with
// @p feeds and returns output @p output; fails the test on the way where something breaks.
class ShapeInputRun {
 public:
  explicit ShapeInputRun(const ModelBuilder& model) {
    parsers::OnnxParser parser(*network_, logger_);
    const std::string bytes = model.bytes();
    parsed_ = parser.parse(asBytes(bytes));
    EXPECT_TRUE(parsed_) << parserErrors(parser) << logger_.errors();
  }

  bool isShapeTensor(std::string_view name) const { return network_->tensor(name).isShapeTensor(); }

  //! @p floatValues go to float32 shape tensors (a Resize's scales, a OneHot's depth).
  std::vector<std::byte> build(const std::map<std::string, std::vector<int64_t>>& shapeValues,
                               const std::map<std::string, std::vector<float>>& floatValues = {}) {
    auto config = builder_.createBuilderConfig();
    if (!shapeValues.empty() || !floatValues.empty()) {
      OptimizationProfile* profile = builder_.createOptimizationProfile();
      for (auto which :
           {OptProfileSelector::kMIN, OptProfileSelector::kOPT, OptProfileSelector::kMAX}) {
        for (const auto& [name, values] : shapeValues) profile->setShapeValues(name, which, values);
        for (const auto& [name, values] : floatValues) profile->setShapeValues(name, which, values);
      }
      EXPECT_EQ(config->addOptimizationProfile(profile), 0) << logger_.errors();
    }
    return builder_.buildSerializedNetwork(*network_, *config);
  }

  Result run(const std::map<std::string, std::vector<int64_t>>& shapeValues,
             const std::vector<Feed>& feeds, const std::string& output,
             const std::map<std::string, std::vector<float>>& floatValues = {}) {
    Result result;
    if (!parsed_) return result;
    const auto plan = build(shapeValues, floatValues);
    EXPECT_FALSE(plan.empty()) << logger_.errors();
    if (plan.empty()) return result;
    Runtime runtime(logger_);
    auto engine = runtime.deserialize(plan);
    EXPECT_TRUE(engine) << logger_.errors();
    if (!engine) return result;
    auto context = engine->createExecutionContext();
    for (const Feed& feed : feeds) {
      if (engine->tensorIOMode(feed.name) == TensorIOMode::kINPUT) {
        context->setInputTensorAddress(feed.name, feed.bytes.data());
      }
    }
    result.dims = context->tensorShape(output);
    result.values.assign(static_cast<std::size_t>(std::max<int64_t>(volume(result.dims), 1)), 0.f);
    context->setTensorAddress(output, result.values.data());
    EXPECT_TRUE(context->enqueueV3()) << logger_.errors();
    result.values.resize(static_cast<std::size_t>(volume(result.dims)));
    return result;
  }

  const CapturingLogger& logger() const { return logger_; }

 private:
  CapturingLogger logger_;
  Builder builder_{logger_};
  std::unique_ptr<NetworkDefinition> network_ = builder_.createNetwork();
  bool parsed_ = false;
};

std::vector<float> iota(int count) {
  std::vector<float> v(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) v[static_cast<std::size_t>(i)] = static_cast<float>(i);
  return v;
}

TEST(OnnxShapeInputs, ReshapeTakesItsShapeFromAProfile) {
  ModelBuilder m(14);
  m.input("x", {2, 3, 4}).input("shape", {3}, kInt64).output("y");
  m.node("Reshape", {"x", "shape"}, {"y"});
  ShapeInputRun run(m);
  EXPECT_TRUE(run.isShapeTensor("shape"));
  EXPECT_FALSE(run.isShapeTensor("x"));
  const std::vector<int64_t> shape{4, 0, -1};  // 0 copies, -1 infers
  const Result r =
      run.run({{"shape", shape}}, {Feed::floats("x", iota(24)), Feed::ints("shape", shape)}, "y");
  EXPECT_EQ(r.dims, (Dims{4, 3, 2}));
  EXPECT_EQ(r.values, iota(24));
}

TEST(OnnxShapeInputs, SliceBoundsAsOnnxClampsThem) {
  ModelBuilder m(13);
  m.input("x", {3, 4})
      .input("starts", {2}, kInt64)
      .input("ends", {2}, kInt64)
      .input("axes", {2}, kInt64)
      .input("steps", {2}, kInt64)
      .output("y");
  m.node("Slice", {"x", "starts", "ends", "axes", "steps"}, {"y"});
  ShapeInputRun run(m);
  for (const char* name : {"starts", "ends", "axes", "steps"}) EXPECT_TRUE(run.isShapeTensor(name));
  // Rows 1.. (end past the extent), columns backwards from the last, every second one.
  const std::vector<int64_t> starts{1, -1}, ends{1000, -1000}, axes{0, -1}, steps{1, -2};
  const Result r =
      run.run({{"starts", starts}, {"ends", ends}, {"axes", axes}, {"steps", steps}},
              {Feed::floats("x", iota(12)), Feed::ints("starts", starts), Feed::ints("ends", ends),
               Feed::ints("axes", axes), Feed::ints("steps", steps)},
              "y");
  EXPECT_EQ(r.dims, (Dims{2, 2}));
  EXPECT_EQ(r.values, (std::vector<float>{7, 5, 11, 9}));
}

TEST(OnnxShapeInputs, ReduceSumAxesFromAProfile) {
  ModelBuilder m(13);
  m.input("x", {2, 3}).input("axes", {1}, kInt64).output("y");
  attrInt(m.node("ReduceSum", {"x", "axes"}, {"y"}), "keepdims", 0);
  ShapeInputRun run(m);
  EXPECT_TRUE(run.isShapeTensor("axes"));
  const std::vector<int64_t> axes{-1};
  const Result r =
      run.run({{"axes", axes}}, {Feed::floats("x", iota(6)), Feed::ints("axes", axes)}, "y");
  EXPECT_EQ(r.dims, (Dims{2}));
  EXPECT_EQ(r.values, (std::vector<float>{3, 12}));
}

TEST(OnnxShapeInputs, SplitTileAndUnsqueeze) {
  ModelBuilder m(13);
  m.input("x", {5})
      .input("split", {2}, kInt64)
      .input("repeats", {1}, kInt64)
      .input("axes", {1}, kInt64)
      .output("y");
  m.node("Split", {"x", "split"}, {"a", "b"});
  m.node("Tile", {"b", "repeats"}, {"t"});
  m.node("Unsqueeze", {"t", "axes"}, {"y"});
  ShapeInputRun run(m);
  const std::vector<int64_t> split{2, 3}, repeats{2}, axes{0};
  const Result r = run.run({{"split", split}, {"repeats", repeats}, {"axes", axes}},
                           {Feed::floats("x", iota(5)), Feed::ints("split", split),
                            Feed::ints("repeats", repeats), Feed::ints("axes", axes)},
                           "y");
  EXPECT_EQ(r.dims, (Dims{1, 6}));
  EXPECT_EQ(r.values, (std::vector<float>{2, 3, 4, 2, 3, 4}));
}

TEST(OnnxShapeInputs, TopKTakesKFromAProfile) {
  ModelBuilder m(13);
  m.input("x", {5}).input("k", {1}, kInt64).output("y");
  m.node("TopK", {"x", "k"}, {"y", "i"});
  ShapeInputRun run(m);
  const std::vector<int64_t> k{2};
  const Result r =
      run.run({{"k", k}}, {Feed::floats("x", {3, 9, 1, 7, 5}), Feed::ints("k", k)}, "y");
  EXPECT_EQ(r.dims, (Dims{2}));
  EXPECT_EQ(r.values, (std::vector<float>{9, 7}));
}

TEST(OnnxShapeInputs, ConstantOfShapeFromAProfile) {
  ModelBuilder m(13);
  m.input("shape", {2}, kInt64).output("c");
  ::onnx::TensorProto value;
  value.set_data_type(::onnx::TensorProto::FLOAT);
  value.add_dims(1);
  value.add_float_data(2.5f);
  attrTensor(m.node("ConstantOfShape", {"shape"}, {"c"}), "value", value);
  ShapeInputRun run(m);
  EXPECT_TRUE(run.isShapeTensor("shape"));
  const std::vector<int64_t> shape{2, 3};
  const Result r = run.run({{"shape", shape}}, {Feed::ints("shape", shape)}, "c");
  EXPECT_EQ(r.dims, (Dims{2, 3}));
  EXPECT_EQ(r.values, std::vector<float>(6, 2.5f));
}

TEST(OnnxShapeInputs, HannWindowOfAProfileSize) {
  ModelBuilder m(17);
  m.input("size", {}, kInt64).output("w");
  attrInt(m.node("HannWindow", {"size"}, {"w"}), "periodic", 0);
  ShapeInputRun run(m);
  EXPECT_TRUE(run.isShapeTensor("size"));
  const std::vector<int64_t> size{5};
  const Result r = run.run({{"size", size}}, {Feed::ints("size", size)}, "w");
  EXPECT_EQ(r.dims, (Dims{5}));
  const std::vector<float> expected{0.f, 0.5f, 1.f, 0.5f, 0.f};
  ASSERT_EQ(r.values.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(r.values[i], expected[i], 1e-6);
}

TEST(OnnxShapeInputs, ResizeScalesFromAProfile) {
  ModelBuilder m(13);
  m.input("x", {1, 1, 2, 2}).input("scales", {4}).output("y");
  attrString(m.node("Resize", {"x", "", "scales"}, {"y"}), "mode", "nearest");
  ShapeInputRun run(m);
  EXPECT_TRUE(run.isShapeTensor("scales"));
  EXPECT_FALSE(run.isShapeTensor("x"));
  const std::vector<float> scales{1, 1, 2, 1.5f};
  const Result r = run.run({}, {Feed::floats("x", iota(4)), Feed::floats("scales", scales)}, "y",
                           {{"scales", scales}});
  EXPECT_EQ(r.dims, (Dims{1, 1, 4, 3}));
  EXPECT_EQ(r.values, (std::vector<float>{0, 0, 1, 0, 0, 1, 2, 2, 3, 2, 2, 3}));
}

TEST(OnnxShapeInputs, UpsampleScalesFromAProfile) {
  ModelBuilder m(9);
  m.input("x", {1, 2}).input("scales", {2}).output("y");
  m.node("Upsample", {"x", "scales"}, {"y"});
  ShapeInputRun run(m);
  EXPECT_TRUE(run.isShapeTensor("scales"));
  const std::vector<float> scales{2, 2};
  const Result r = run.run({}, {Feed::floats("x", {5, 7}), Feed::floats("scales", scales)}, "y",
                           {{"scales", scales}});
  EXPECT_EQ(r.dims, (Dims{2, 4}));
  EXPECT_EQ(r.values, (std::vector<float>{5, 5, 7, 7, 5, 5, 7, 7}));
}

TEST(OnnxShapeInputs, OneHotDepthFromAProfile) {
  for (const bool floatDepth : {true, false}) {
    ModelBuilder m(11);
    m.input("indices", {3}, kInt64)
        .input("depth", {}, floatDepth ? ::onnx::TensorProto::FLOAT : kInt64)
        .input("values", {2})
        .output("y");
    m.node("OneHot", {"indices", "depth", "values"}, {"y"});
    ShapeInputRun run(m);
    EXPECT_TRUE(run.isShapeTensor("depth"));
    EXPECT_FALSE(run.isShapeTensor("indices"));
    const std::vector<int64_t> indices{0, 2, -1};
    const std::vector<Feed> feeds{
        Feed::ints("indices", indices), Feed::floats("values", {0, 1}),
        floatDepth ? Feed::floats("depth", {3}) : Feed::ints("depth", {3})};
    const Result r = floatDepth ? run.run({}, feeds, "y", {{"depth", {3.f}}})
                                : run.run({{"depth", {3}}}, feeds, "y");
    EXPECT_EQ(r.dims, (Dims{3, 3})) << floatDepth;
    EXPECT_EQ(r.values, (std::vector<float>{1, 0, 0, 0, 0, 1, 0, 0, 1})) << floatDepth;
  }
}

TEST(OnnxShapeInputs, FloatShapeTensorNeedsFloatValues) {
  ModelBuilder m(13);
  m.input("x", {1, 1, 2, 2}).input("scales", {4}).output("y");
  m.node("Resize", {"x", "", "scales"}, {"y"});
  ShapeInputRun run(m);
  EXPECT_TRUE(run.build({{"scales", {1, 1, 2, 2}}}).empty());
  EXPECT_TRUE(run.logger().hasError("is given int values; the input is")) << run.logger().errors();
}

TEST(OnnxShapeInputs, FloatValuesOutsideTheProfileAreRefusedAtRunTime) {
  ModelBuilder m(13);
  m.input("x", {1, 1, 2, 2}).input("scales", {4}).output("y");
  m.node("Resize", {"x", "", "scales"}, {"y"});
  ShapeInputRun run(m);
  const auto plan = run.build({}, {{"scales", {1, 1, 2, 2}}});
  ASSERT_FALSE(plan.empty()) << run.logger().errors();
  CapturingLogger logger;
  Runtime runtime(logger);
  auto engine = runtime.deserialize(plan);
  ASSERT_TRUE(engine) << logger.errors();
  EXPECT_TRUE(engine->isShapeInferenceIO("scales"));
  auto context = engine->createExecutionContext();
  const std::vector<float> x(4, 1.f), scales{1, 1, 3, 3};
  std::vector<float> y(36);
  context->setInputTensorAddress("x", x.data());
  context->setInputTensorAddress("scales", scales.data());
  context->setTensorAddress("y", y.data());
  EXPECT_FALSE(context->enqueueV3());
  EXPECT_TRUE(logger.hasError("values [1,1,3,3] are outside optimization profile 0 (min [1,1,2,2]"))
      << logger.errors();
}

TEST(OnnxShapeInputs, RangeBoundsFromAProfile) {
  ModelBuilder m(11);
  m.input("start", {}).input("limit", {}).input("delta", {}).output("y");
  m.node("Range", {"start", "limit", "delta"}, {"y"});
  ShapeInputRun run(m);
  for (const char* name : {"start", "limit", "delta"}) EXPECT_TRUE(run.isShapeTensor(name));
  const Result r = run.run(
      {},
      {Feed::floats("start", {1}), Feed::floats("limit", {2.5f}), Feed::floats("delta", {0.5f})},
      "y", {{"start", {1}}, {"limit", {2.5f}}, {"delta", {0.5f}}});
  EXPECT_EQ(r.dims, (Dims{3}));
  EXPECT_EQ(r.values, (std::vector<float>{1, 1.5f, 2}));
}

TEST(OnnxShapeInputs, RangeOfACastSizeAndConstants) {
  // As the expanded window functions: Range(0, Cast(size), 1) in float, then arithmetic.
  ModelBuilder m(13);
  m.input("size", {}, ::onnx::TensorProto::INT32).output("y");
  m.floats("zero", {}, {0.f}).floats("one", {}, {1.f});
  attrInt(m.node("Cast", {"size"}, {"sizeF"}), "to", ::onnx::TensorProto::FLOAT);
  m.node("Range", {"zero", "sizeF", "one"}, {"r"});
  m.node("Div", {"r", "sizeF"}, {"y"});
  ShapeInputRun run(m);
  EXPECT_TRUE(run.isShapeTensor("size"));
  const std::vector<int32_t> size{4};
  Feed feed{"size", std::vector<std::byte>(sizeof(int32_t))};
  std::memcpy(feed.bytes.data(), size.data(), sizeof(int32_t));
  const Result r = run.run({{"size", {4}}}, {feed}, "y");
  EXPECT_EQ(r.dims, (Dims{4}));
  EXPECT_EQ(r.values, (std::vector<float>{0, 0.25f, 0.5f, 0.75f}));
}

TEST(OnnxShapeInputs, RangeOfAnInt64SizeCastToFloat) {
  ModelBuilder m(13);
  m.input("size", {}, kInt64).output("y");
  m.floats("zero", {}, {0.f}).floats("two", {}, {2.f});
  attrInt(m.node("Cast", {"size"}, {"sizeF"}), "to", ::onnx::TensorProto::FLOAT);
  m.node("Range", {"zero", "sizeF", "two"}, {"y"});
  ShapeInputRun run(m);
  EXPECT_TRUE(run.isShapeTensor("size"));
  const Result r = run.run({{"size", {5}}}, {Feed::ints("size", {5})}, "y");
  EXPECT_EQ(r.dims, (Dims{3}));
  EXPECT_EQ(r.values, (std::vector<float>{0, 2, 4}));
}

TEST(OnnxShapeInputs, RangeOfComputedBoundsIsUnsupported) {
  ModelBuilder m(11);
  m.input("x", {}).output("y");
  m.floats("one", {}, {1.f});
  m.node("Add", {"x", "one"}, {"limit"});
  m.node("Range", {"one", "limit", "one"}, {"y"});
  expectParseError(m, {"Range with bounds computed at run time (input 1 'limit')"});
}

TEST(OnnxShapeInputs, OrdinaryIntegerInputsAreNoShapeTensors) {
  ModelBuilder m(13);
  m.input("x", {4}).input("indices", {2}, kInt64).output("y");
  m.node("Gather", {"x", "indices"}, {"y"});
  ShapeInputRun run(m);
  EXPECT_FALSE(run.isShapeTensor("indices"));
  EXPECT_FALSE(run.isShapeTensor("x"));
}

TEST(OnnxShapeInputs, BuildingWithoutValuesNamesTheInput) {
  ModelBuilder m(14);
  m.input("x", {2, 3}).input("shape", {2}, kInt64).output("y");
  m.node("Reshape", {"x", "shape"}, {"y"});
  ShapeInputRun run(m);
  EXPECT_TRUE(run.build({}).empty());
  EXPECT_TRUE(run.logger().hasError("network input 'shape' decides the output shape of layer"))
      << run.logger().errors();
  EXPECT_TRUE(run.logger().hasError("OptimizationProfile::setShapeValues"))
      << run.logger().errors();
}

}  // namespace
}  // namespace kiln::test::onnx_test
