// kiln build --disablePasses / --exportLayerInfo, kiln inspect (text and --json) and kiln exec
// --dumpProfile / --exportProfile, run as a separate process on the LeNet sample.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "run_kiln.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

using test::CommandResult;
using test::readText;

class InspectProfile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kiln_inspect_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path path(const std::string& name) const { return dir_ / name; }

  CommandResult run(const std::vector<std::string>& args) const {
    return test::runKiln(args, dir_);
  }

  // Builds the LeNet sample into DIR/lenet.plan with @p extra flags.
  CommandResult build(std::vector<std::string> extra) const {
    std::vector<std::string> args = {"build", "--network=" KILN_SOURCE_DIR "/samples/lenet.json",
                                     "--saveEngine=" + path("lenet.plan").string(),
                                     "--builderOptimizationLevel=0"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run(args);
  }

  fs::path dir_;
};

TEST_F(InspectProfile, ExportLayerInfoListsFusedLayers) {
  const auto r = build({"--exportLayerInfo=" + path("layers.json").string()});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const auto doc = nlohmann::json::parse(readText(path("layers.json")));
  ASSERT_TRUE(doc["layers"].is_array());
  bool fused = false;
  for (const auto& layer : doc["layers"]) {
    for (const char* key : {"name", "kind", "fused_from", "tactic", "precision"}) {
      EXPECT_TRUE(layer.contains(key)) << key;
    }
    if (layer["fused_from"] == nlohmann::json::array({"ip1", "relu1"})) fused = true;
  }
  EXPECT_TRUE(fused) << doc.dump(1);
}

TEST_F(InspectProfile, InspectPrintsLayersAndJson) {
  ASSERT_EQ(build({}).exitCode, 0);
  const auto text = run({"inspect", path("lenet.plan").string()});
  ASSERT_EQ(text.exitCode, 0) << text.err;
  EXPECT_NE(text.out.find("=== Layers ==="), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("ip1 [FullyConnected]"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("fused_from=ip1,relu1"), std::string::npos) << text.out;
  const auto json = run({"inspect", "--json", path("lenet.plan").string()});
  ASSERT_EQ(json.exitCode, 0) << json.err;
  const auto doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(doc["layers"].size(), 7u);
}

TEST_F(InspectProfile, DisablePassesKeepsLayersAndRefusesUnknownNames) {
  ASSERT_EQ(build({"--disablePasses=activation-fusion"}).exitCode, 0);
  const auto json = run({"inspect", "--json", path("lenet.plan").string()});
  EXPECT_EQ(nlohmann::json::parse(json.out)["layers"].size(), 8u);
  const auto bad = build({"--disablePasses=constant-folding,no-such-pass"});
  EXPECT_EQ(bad.exitCode, 1);
  EXPECT_NE(bad.err.find("unknown pass 'no-such-pass'"), std::string::npos) << bad.err;
}

TEST_F(InspectProfile, ExecDumpsAndExportsTheProfile) {
  ASSERT_EQ(build({}).exitCode, 0);
  const auto r =
      run({"exec", "--loadEngine=" + path("lenet.plan").string(), "--warmUp=0", "--duration=0",
           "--iterations=3", "--dumpProfile", "--exportProfile=" + path("profile.json").string()});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("=== Profile (3 iterations) ==="), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Time %"), std::string::npos);
  const auto doc = nlohmann::json::parse(readText(path("profile.json")));
  ASSERT_EQ(doc.size(), 8u);  // the count, then 7 layers
  EXPECT_EQ(doc[0]["count"], 3);
  double percent = 0;
  for (std::size_t i = 1; i < doc.size(); ++i) {
    EXPECT_TRUE(doc[i].contains("name"));
    EXPECT_GE(doc[i]["averageMs"].get<double>(), 0.0);
    percent += doc[i]["percentage"].get<double>();
  }
  EXPECT_NEAR(percent, 100.0, 1e-6);
}

}  // namespace
}  // namespace kiln
