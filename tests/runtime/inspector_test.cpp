// The engine inspector (Engine::layerInformation / engineInformation) and the per-layer profiler
// hook (ExecutionContext::setProfiler).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kiln/kiln.h"
#include "support/test_util.h"

namespace kiln::test {
namespace {

struct Built {
  CapturingLogger logger;
  Builder builder{logger};
  std::unique_ptr<NetworkDefinition> net = builder.createNetwork();
  std::vector<float> w = randomFloats(4 * 3 * 9, 1);
  std::vector<float> b = randomFloats(4, 2);
  std::unique_ptr<Engine> engine;

  Built() {
    Tensor x = net->addInput("x", DataType::kFLOAT, {1, 3, 6, 6});
    auto conv = net->addConvolution(x, 4, Dims{3, 3}, floatWeights(w), floatWeights(b));
    conv.setName("conv \"1\"");
    auto relu = net->addActivation(conv.output(0), ActivationType::kRELU);
    relu.setName("relu1");
    auto pool = net->addPooling(relu.output(0), PoolingType::kMAX, Dims{2, 2});
    pool.setName("pool1");
    net->markOutput(pool.output(0));
    auto config = builder.createBuilderConfig();
    const auto plan = builder.buildSerializedNetwork(*net, *config);
    Runtime runtime(logger);
    engine = runtime.deserialize(plan);
  }
};

TEST(EngineInspector, JsonListsLayersWithTheLayersFusedIntoThem) {
  Built built;
  ASSERT_TRUE(built.engine);
  ASSERT_EQ(built.engine->nbLayers(), 2);
  const auto doc =
      nlohmann::json::parse(built.engine->engineInformation(LayerInformationFormat::kJSON));
  ASSERT_EQ(doc["layers"].size(), 2u);
  const auto& conv = doc["layers"][0];
  EXPECT_EQ(conv["name"], "conv \"1\"");
  EXPECT_EQ(conv["kind"], "Convolution");
  EXPECT_EQ(conv["fused_from"], nlohmann::json::array({"conv \"1\"", "relu1"}));
  EXPECT_EQ(conv["epilogue"], "relu");
  EXPECT_FALSE(conv["tactic"].get<std::string>().empty());
  EXPECT_EQ(conv["precision"], "float32");
  EXPECT_EQ(conv["inputs"][0]["shape"], nlohmann::json::array({1, 3, 6, 6}));
  EXPECT_EQ(conv["inputs"][1]["constant"], true);
  EXPECT_EQ(conv["outputs"][0]["shape"], nlohmann::json::array({1, 4, 4, 4}));
  EXPECT_EQ(doc["layers"][1]["fused_from"], nlohmann::json::array({"pool1"}));

  const auto one =
      nlohmann::json::parse(built.engine->layerInformation(1, LayerInformationFormat::kJSON));
  EXPECT_EQ(one["kind"], "Pooling");
  EXPECT_EQ(built.engine->layerInformation(2, LayerInformationFormat::kJSON), "");
  EXPECT_EQ(built.engine->layerInformation(-1, LayerInformationFormat::kONELINE), "");
}

TEST(EngineInspector, OneLinePerLayer) {
  Built built;
  ASSERT_TRUE(built.engine);
  const std::string line = built.engine->layerInformation(0, LayerInformationFormat::kONELINE);
  EXPECT_NE(line.find("[Convolution]"), std::string::npos) << line;
  EXPECT_NE(line.find("fused_from=conv \"1\",relu1"), std::string::npos) << line;
  EXPECT_NE(line.find("epilogue=relu"), std::string::npos) << line;
  EXPECT_NE(line.find("in=1x3x6x6"), std::string::npos) << line;
  const std::string all = built.engine->engineInformation(LayerInformationFormat::kONELINE);
  EXPECT_EQ(std::count(all.begin(), all.end(), '\n'), 2);
}

// Two convolutions concatenated along the channels of a batch-1 image: the planner has them
// write into their slices of the concatenation's output, which then moves nothing.
TEST(EngineInspector, MarksLayersThatMoveNoBytes) {
  CapturingLogger logger;
  Builder builder{logger};
  auto net = builder.createNetwork();
  const std::vector<float> w = randomFloats(4 * 3 * 9, 1);
  Tensor x = net->addInput("x", DataType::kFLOAT, {1, 3, 6, 6});
  auto left = net->addConvolution(x, 4, Dims{3, 3}, floatWeights(w), Weights{});
  auto right = net->addConvolution(x, 4, Dims{3, 3}, floatWeights(w), Weights{});
  const Tensor parts[] = {left.output(0), right.output(0)};
  auto concat = net->addConcatenation(parts);
  concat.setName("concat");
  auto pool = net->addPooling(concat.output(0), PoolingType::kMAX, Dims{2, 2});
  net->markOutput(pool.output(0));
  auto config = builder.createBuilderConfig();
  Runtime runtime(logger);
  const auto engine = runtime.deserialize(builder.buildSerializedNetwork(*net, *config));
  ASSERT_TRUE(engine);
  const auto doc = nlohmann::json::parse(engine->engineInformation(LayerInformationFormat::kJSON));
  int elided = 0;
  for (const auto& layer : doc["layers"]) {
    const bool isConcat = layer["name"] == "concat";
    EXPECT_EQ(layer["elided"].get<bool>(), isConcat) << layer["name"];
    elided += isConcat;
  }
  EXPECT_EQ(elided, 1);
  const std::string all = engine->engineInformation(LayerInformationFormat::kONELINE);
  EXPECT_NE(all.find("concat [Concatenation] tactic=cpu.concat elided"), std::string::npos) << all;
}

class RecordingProfiler final : public Profiler {
 public:
  void reportLayerTime(std::string_view layerName, float ms) noexcept override {
    names.emplace_back(layerName);
    times.push_back(ms);
  }
  std::vector<std::string> names;
  std::vector<float> times;
};

TEST(Profiler, ReportsEveryLayerOfEveryInference) {
  Built built;
  ASSERT_TRUE(built.engine);
  auto context = built.engine->createExecutionContext();
  HostTensor x = randomTensor({1, 3, 6, 6}, 3);
  const std::string output(built.net->output(0).name());
  HostTensor y(DataType::kFLOAT, built.engine->tensorShape(output));
  ASSERT_TRUE(context->setTensorAddress("x", x.bytes.data()));
  ASSERT_TRUE(context->setTensorAddress(output, y.bytes.data()));
  RecordingProfiler profiler;
  EXPECT_EQ(context->profiler(), nullptr);
  context->setProfiler(&profiler);
  EXPECT_EQ(context->profiler(), &profiler);
  ASSERT_TRUE(context->enqueueV3());
  ASSERT_TRUE(context->enqueueV3());
  EXPECT_EQ(profiler.names,
            (std::vector<std::string>{"conv \"1\"", "pool1", "conv \"1\"", "pool1"}));
  for (float t : profiler.times) EXPECT_GE(t, 0.f);
  context->setProfiler(nullptr);
  ASSERT_TRUE(context->enqueueV3());
  EXPECT_EQ(profiler.names.size(), 4u);
}

}  // namespace
}  // namespace kiln::test
