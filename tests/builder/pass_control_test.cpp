// The pass manager's controls: every pass has a name, can be switched off by it, unknown names
// are refused, and verbose logging names the layers each rewrite merged.
#include <gtest/gtest.h>

#include "builder/pass_test_util.h"

namespace kiln::test {
namespace {

TEST(PassControl, EveryPassCanBeSwitchedOffByName) {
  CapturingLogger logger;
  Builder builder(logger);
  auto config = builder.createBuilderConfig();
  const auto names = BuilderConfig::optimizationPassNames();
  EXPECT_GE(names.size(), 10u);
  for (const auto& name : names) {
    EXPECT_TRUE(config->isPassEnabled(name)) << name;
    EXPECT_TRUE(config->setPassEnabled(name, false)) << name;
    EXPECT_FALSE(config->isPassEnabled(name)) << name;
    EXPECT_TRUE(config->setPassEnabled(name, true)) << name;
    EXPECT_TRUE(config->isPassEnabled(name)) << name;
  }
  EXPECT_FALSE(config->setPassEnabled("no-such-pass", false));
  EXPECT_FALSE(config->isPassEnabled("no-such-pass"));
}

// A logger that keeps verbose messages too.
class VerboseLogger final : public Logger {
 public:
  void log(Severity severity, std::string_view message) noexcept override {
    if (severity == Severity::kVERBOSE) text += std::string(message) + "\n";
  }
  std::string text;
};

TEST(PassControl, DisabledPassDoesNotRunAndVerboseLogNamesMergedLayers) {
  VerboseLogger logger;
  Builder builder(logger);
  auto net = builder.createNetwork();
  Tensor x = net->addInput("x", DataType::kFLOAT, {1, 2, 3, 3});
  const auto w = randomFloats(2 * 2, 1);
  auto conv = net->addConvolution(x, 2, Dims{1, 1}, floatWeights(w), Weights{});
  conv.setName("conv1");
  auto relu = net->addActivation(conv.output(0), ActivationType::kRELU);
  relu.setName("relu1");
  net->markOutput(relu.output(0));

  auto config = builder.createBuilderConfig();
  ASSERT_TRUE(config->setPassEnabled("activation-fusion", false));
  auto engine = builder.buildEngine(*net, *config);
  ASSERT_TRUE(engine);
  EXPECT_EQ(engine->nbLayers(), 2);
  EXPECT_EQ(logger.text.find("pass activation-fusion"), std::string::npos);

  ASSERT_TRUE(config->setPassEnabled("activation-fusion", true));
  logger.text.clear();
  engine = builder.buildEngine(*net, *config);
  ASSERT_TRUE(engine);
  EXPECT_EQ(engine->nbLayers(), 1);
  EXPECT_NE(logger.text.find("pass activation-fusion: fused the activation 'relu1' into the "
                             "epilogue of 'conv1'"),
            std::string::npos)
      << logger.text;
}

}  // namespace
}  // namespace kiln::test
