// ModelLimits on JSON networks: the file and its weight files (maxModelBytes), inputs and
// weights (maxTensorBytes), layers (maxLayers) and nesting (maxNestingDepth); and weight files
// that leave the network's folder through a symbolic link.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "kiln/parsers/network_json.h"
#include "support/test_util.h"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using parsers::NetworkJsonOptions;

class JsonLimits : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("kiln_json_limits_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "net");
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ / name, std::ios::binary) << bytes;
    return dir_ / name;
  }
  bool parse(const std::string& json, const ModelLimits& limits) {
    NetworkJsonOptions options;
    options.limits = limits;
    fx_.network = fx_.builder.createNetwork();  // a fresh network for every file
    return parsers::parseNetworkJson(write("net/net.json", json), fx_.net(), fx_.logger, options);
  }
  void expectError(const std::string& text) {
    EXPECT_TRUE(fx_.logger.hasError(text)) << "expected '" << text << "' in:\n"
                                           << fx_.logger.errors();
  }

  NetworkFixture fx_;
  fs::path dir_;
};

// A float32 .npy file of @p count zeros.
std::string npy(int count) {
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(count) + ",), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY\x01";
  out += '\0';
  out += static_cast<char>(header.size());
  out += '\0';
  return out + header + std::string(static_cast<std::size_t>(count) * 4, '\0');
}

const char* kFc = R"({"inputs": [{"name": "x", "shape": [1, 4]}],
  "layers": [{"name": "fc", "type": "fully_connected", "inputs": ["x"], "num_output": 2,
              "weights": {"kernel": KERNEL}}], "outputs": ["fc"]})";

std::string fc(const std::string& kernel) {
  std::string json = kFc;
  return json.replace(json.find("KERNEL"), 6, kernel);
}

TEST_F(JsonLimits, WithinTheCapsTheNetworkParses) {
  write("net/w.npy", npy(8));
  EXPECT_TRUE(parse(fc("\"w.npy\""), {})) << fx_.logger.errors();
}

TEST_F(JsonLimits, ModelBytesCountTheFileAndItsWeights) {
  const std::string json = fc("\"w.npy\"");
  write("net/w.npy", npy(8));
  ModelLimits limits;
  limits.maxModelBytes = json.size() - 1;
  EXPECT_FALSE(parse(json, limits));
  expectError("the network description has " + std::to_string(json.size()) +
              " bytes, more than the limit of " + std::to_string(json.size() - 1));
  fx_.logger.clear();
  limits.maxModelBytes = json.size() + 100;  // the JSON fits, its weights file does not
  EXPECT_FALSE(parse(json, limits));
  expectError("weights file 'w.npy' has 160 bytes, which takes the model past the limit");
}

TEST_F(JsonLimits, TensorBytesCapInputsAndEveryKindOfWeights) {
  ModelLimits limits;
  limits.maxTensorBytes = 31;  // the kernel needs 32
  EXPECT_FALSE(parse(fc("[1, 2, 3, 4, 5, 6, 7, 8]"), limits));
  expectError(
      "the fully connected kernel [2, 4] needs 8 float32 values, more than the limit of "
      "31 bytes (ModelLimits::maxTensorBytes)");
  fx_.logger.clear();
  write("net/w.npy", npy(8));
  EXPECT_FALSE(parse(fc("\"w.npy\""), limits));
  expectError("needs 8 float32 values, more than the limit of 31 bytes");
  fx_.logger.clear();
  limits.maxTensorBytes = 15;  // the input x [1, 4] needs 16
  EXPECT_FALSE(parse(fc("null"), limits));
  expectError("field 'shape': [1, 4] of float32 needs 16 bytes, more than the limit of 15");
}

TEST_F(JsonLimits, Layers) {
  ModelLimits limits;
  limits.maxLayers = 0;
  EXPECT_FALSE(parse(fc("null"), limits));
  expectError("has 1 layers, more than the limit of 0 (ModelLimits::maxLayers)");
}

TEST_F(JsonLimits, NestingDepth) {
  ModelLimits limits;
  limits.maxNestingDepth = 5;  // the document, layers, a layer, weights, the kernel array
  EXPECT_TRUE(parse(fc("[1, 2, 3, 4, 5, 6, 7, 8]"), limits)) << fx_.logger.errors();
  fx_.logger.clear();
  limits.maxNestingDepth = 4;
  EXPECT_FALSE(parse(fc("[1, 2, 3, 4, 5, 6, 7, 8]"), limits));
  expectError("arrays and objects nest deeper than 4 levels (ModelLimits::maxNestingDepth)");
}

TEST_F(JsonLimits, SymbolicLinksMayNotLeaveTheFolder) {
  write("outside.npy", npy(8));
  fs::create_symlink("../outside.npy", dir_ / "net" / "link.npy");
  EXPECT_FALSE(parse(fc("\"link.npy\""), {}));
  expectError("weights file 'link.npy' resolves to '" +
              fs::canonical(dir_ / "outside.npy").string() +
              "', outside the folder of the JSON file");
  // A link that stays inside is fine.
  fx_.logger.clear();
  write("net/inside.npy", npy(8));
  fs::create_symlink("inside.npy", dir_ / "net" / "link2.npy");
  NetworkFixture fresh;
  NetworkJsonOptions options;
  EXPECT_TRUE(parsers::parseNetworkJson(write("net/net2.json", fc("\"link2.npy\"")), fresh.net(),
                                        fresh.logger, options))
      << fresh.logger.errors();
}

}  // namespace
}  // namespace kiln::test
