// The planned arena of every reference model (KILN_MODELS_DIR; skipped when unset) is within 10%
// of its lower bound, the most bytes alive at once (issue #7). Prints both per model.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "kiln/kiln.h"
#include "kiln/parsers/onnx.h"
#include "support/test_util.h"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;

class MemoryPlanModels : public ::testing::TestWithParam<const char*> {};

TEST_P(MemoryPlanModels, ArenaWithinTenPercentOfLowerBound) {
  const std::string name = GetParam();
  const char* dir = std::getenv("KILN_MODELS_DIR");
  if (dir == nullptr || *dir == '\0') GTEST_SKIP() << "KILN_MODELS_DIR is not set";
  const fs::path model = fs::path(dir) / (name + ".onnx");
  if (!fs::exists(model)) GTEST_SKIP() << model << " is absent";

  CapturingLogger logger;
  Builder builder(logger);
  auto network = builder.createNetwork();
  parsers::OnnxParser parser(*network, logger);
  if (!parser.parseFromFile(model)) GTEST_SKIP() << name << " does not import yet";
  // Dynamic extents (resnet18_dynbatch's batch) take the batch of the model's .npy input, 3.
  for (int32_t i = 0; i < network->nbInputs(); ++i) {
    Dims dims = network->input(i).dimensions();
    for (int32_t d = 0; d < dims.nbDims; ++d) {
      if (dims[d] < 0) dims[d] = 3;
    }
    network->input(i).setDimensions(dims);
  }
  auto config = builder.createBuilderConfig();
  config->setBuilderOptimizationLevel(0);  // the arena does not depend on timing
  const auto plan = builder.buildSerializedNetwork(*network, *config);
  ASSERT_FALSE(plan.empty()) << logger.errors();
  Runtime runtime(logger);
  const auto engine = runtime.deserialize(plan);
  ASSERT_TRUE(engine) << logger.errors();

  const auto info = nlohmann::json::parse(engine->engineInformation(LayerInformationFormat::kJSON));
  const auto arena = info.at("memory").at("arena_bytes").get<uint64_t>();
  const auto lowerBound = info.at("memory").at("lower_bound_bytes").get<uint64_t>();
  std::cout << "[ memory   ] " << name << ": arena " << arena << " bytes, lower bound "
            << lowerBound << " bytes, ratio "
            << static_cast<double>(arena) / static_cast<double>(std::max<uint64_t>(lowerBound, 1))
            << "\n";
  EXPECT_GT(lowerBound, 0u);
  EXPECT_GE(arena, lowerBound);
  EXPECT_LE(static_cast<double>(arena), 1.10 * static_cast<double>(lowerBound));
}

INSTANTIATE_TEST_SUITE_P(Models, MemoryPlanModels,
                         ::testing::Values("lenet", "squeezenet1_1", "mobilenet_v2", "resnet18",
                                           "resnet18_dynbatch", "googlenet", "unet_small",
                                           "bert_small", "bert_small_op17", "lstm", "gru",
                                           "resnet50"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace kiln::test
