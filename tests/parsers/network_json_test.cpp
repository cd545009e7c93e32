// kiln's JSON network description: parse, build and run small networks; inline and .npy
// weights; random weights; and one logged error (naming the file and the layer) per mistake.
#include "kiln/parsers/network_json.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using parsers::NetworkJsonOptions;
using parsers::parseNetworkJson;
using parsers::parseNetworkJsonString;

// A fresh folder per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            ("kiln_json_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path write(const std::string& name, const std::string& bytes) const {
    const fs::path file = path_ / name;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << bytes;
    return file;
  }

 private:
  fs::path path_;
};

// A version 1.0 .npy file, as numpy.save writes it.
std::string npyBytes(const std::string& descr, const std::vector<int64_t>& shape, const void* data,
                     std::size_t bytes) {
  std::string shapeText = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) shapeText += std::to_string(shape[i]) + ", ";
  if (shape.size() > 1) shapeText.resize(shapeText.size() - 2);
  shapeText += ")";
  std::string header =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shapeText + ", }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out.append(static_cast<const char*>(data), bytes);
  return out;
}

std::string npyFloats(const std::vector<int64_t>& shape, const std::vector<float>& values) {
  return npyBytes("<f4", shape, values.data(), values.size() * sizeof(float));
}

// Parses @p json written to <tmp>/net.json.
bool parseFile(NetworkFixture& fx, const TempDir& dir, const std::string& json,
               const NetworkJsonOptions& options = {}) {
  const auto file = dir.write("net.json", json);
  return parseNetworkJson(file, fx.net(), fx.logger, options);
}

bool parseString(NetworkFixture& fx, const std::string& json) {
  return parseNetworkJsonString(json, fs::path("."), fx.net(), fx.logger);
}

std::string sourcePath(const std::string& relative) {
  return std::string(KILN_SOURCE_DIR) + "/" + relative;
}

// ---------------------------------------------------------------------------------------------
// Networks that parse, build and run.

TEST(NetworkJson, ActivationRunsExactly) {
  NetworkFixture fx;
  ASSERT_TRUE(parseString(fx, R"({
    "name": "act",
    "inputs": [{"name": "x", "type": "float32", "shape": [2, 3]}],
    "layers": [{"name": "relu", "type": "activation", "inputs": ["x"], "activation_type": "relu"},
               {"name": "leaky", "type": "activation", "inputs": ["relu"], "outputs": ["y"],
                "activation_type": "clip", "alpha": -1, "beta": 2.5}],
    "outputs": ["y", "relu"]
  })"))
      << fx.logger.errors();
  EXPECT_EQ(fx.net().name(), "act");
  EXPECT_EQ(fx.net().nbLayers(), 2);
  EXPECT_EQ(fx.net().layer(0).name(), "relu");
  const std::vector<float> x = {-2, -0.5f, 0, 1, 2, 3};
  const auto out = fx.run({HostTensor::fromFloats({2, 3}, x)});
  ASSERT_EQ(out.size(), 2u);
  expectClose(out[0].floats(), std::vector<float>{0, 0, 0, 1, 2, 2.5f}, 0, 0, "y");
  expectClose(out[1].floats(), std::vector<float>{0, 0, 0, 1, 2, 3}, 0, 0, "relu");
}

TEST(NetworkJson, ElementWiseWithInlineConstant) {
  NetworkFixture fx;
  ASSERT_TRUE(parseString(fx, R"({
    "inputs": [{"name": "a", "shape": [2, 2]}, {"name": "b", "shape": [2, 2]}],
    "layers": [
      {"name": "sum", "type": "elementwise", "inputs": ["a", "b"], "operation": "sum"},
      {"name": "c", "type": "constant", "shape": [1, 2], "values": [[10, 100]]},
      {"name": "prod", "type": "elementwise", "inputs": ["sum", "c"], "outputs": ["y"],
       "operation": "prod"}
    ],
    "outputs": ["y"]
  })"))
      << fx.logger.errors();
  const auto out = fx.run({HostTensor::fromFloats({2, 2}, std::vector<float>{1, 2, 3, 4}),
                           HostTensor::fromFloats({2, 2}, std::vector<float>{0.5f, 1, 1, 1})});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), std::vector<float>{15, 300, 40, 500}, 0, 0);
}

TEST(NetworkJson, ConvolutionWithInlineWeights) {
  NetworkFixture fx;
  ASSERT_TRUE(parseString(fx, R"({
    "inputs": [{"name": "x", "shape": [1, 1, 3, 3]}],
    "layers": [{"name": "conv", "type": "convolution", "inputs": ["x"], "num_output": 2,
                "kernel": [2, 2], "stride": [1, 1], "padding": [0, 0], "groups": 1,
                "weights": {"kernel": [[1, 0, 0, 1], [0, 1, 1, 0]], "bias": [0.5, -1]}}],
    "outputs": ["conv"]
  })"))
      << fx.logger.errors();
  const std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const auto out = fx.run({HostTensor::fromFloats({1, 1, 3, 3}, x)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{1, 2, 2, 2}));
  // Map 0: x[i][j] + x[i+1][j+1] + 0.5; map 1: x[i][j+1] + x[i+1][j] - 1.
  expectClose(out[0].floats(), std::vector<float>{6.5f, 8.5f, 12.5f, 14.5f, 5, 7, 11, 13}, 0, 0);
}

TEST(NetworkJson, FullyConnectedWithNpyWeights) {
  TempDir dir;
  dir.write("w/fc_w.npy", npyFloats({3, 2}, {1, 2, 3, 4, 5, 6}));
  dir.write("w/fc_b.npy", npyFloats({3}, {0.25f, 0.5f, 1}));
  NetworkFixture fx;
  ASSERT_TRUE(parseFile(fx, dir, R"({
    "inputs": [{"name": "x", "shape": [1, 2]}],
    "layers": [{"name": "fc", "type": "fully_connected", "inputs": ["x"], "num_output": 3,
                "weights": {"kernel": "w/fc_w.npy", "bias": "./w/../w/fc_b.npy"}}],
    "outputs": ["fc"]
  })"))
      << fx.logger.errors();
  const auto out = fx.run({HostTensor::fromFloats({1, 2}, std::vector<float>{1, -1})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{1, 3}));
  expectClose(out[0].floats(), std::vector<float>{-0.75f, -0.5f, 0}, 0, 0);
}

TEST(NetworkJson, NpyFloat64AndInt64AreNarrowed) {
  TempDir dir;
  const std::vector<double> scale = {2, 3};
  dir.write("scale.npy", npyBytes("<f8", {2}, scale.data(), 16));
  const std::vector<int64_t> indices = {1, 0, 1};
  dir.write("idx.npy", npyBytes("<i8", {3}, indices.data(), 24));
  NetworkFixture fx;
  ASSERT_TRUE(parseFile(fx, dir, R"({
    "inputs": [{"name": "x", "shape": [1, 2]}],
    "layers": [
      {"name": "s", "type": "scale", "inputs": ["x"], "mode": "channel",
       "weights": {"scale": "scale.npy", "shift": null}},
      {"name": "idx", "type": "constant", "shape": [3], "values": "idx.npy"},
      {"name": "g", "type": "gather", "inputs": ["s", "idx"], "gather_axis": 1}
    ],
    "outputs": ["g"]
  })"))
      << fx.logger.errors();
  const auto out = fx.run({HostTensor::fromFloats({1, 2}, std::vector<float>{1, 1})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{1, 3}));
  expectClose(out[0].floats(), std::vector<float>{3, 2, 3}, 0, 0);
}

TEST(NetworkJson, LenetSampleGivesASoftmax) {
  NetworkFixture fx;
  ASSERT_TRUE(parseNetworkJson(sourcePath("samples/lenet.json"), fx.net(), fx.logger))
      << fx.logger.errors();
  EXPECT_EQ(fx.net().nbLayers(), 8);
  const auto out = fx.run({randomTensor({1, 1, 28, 28}, 7, 0.f, 1.f)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{1, 10, 1, 1}));
  const auto prob = out[0].floats();
  double sum = 0;
  for (float p : prob) {
    EXPECT_GT(p, 0.f);
    EXPECT_TRUE(std::isfinite(p));
    sum += p;
  }
  EXPECT_NEAR(sum, 1.0, 1e-5);
}

// The complete example of docs/network-json.md parses and runs as documented.
TEST(NetworkJson, DocumentedExampleRuns) {
  std::ifstream in(sourcePath("docs/network-json.md"));
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto begin = doc.find("```json\n");
  ASSERT_NE(begin, std::string::npos);
  const auto end = doc.find("```", begin + 8);
  ASSERT_NE(end, std::string::npos);
  TempDir dir;
  dir.write("conv1_w.npy", npyFloats({20, 1, 5, 5}, std::vector<float>(500, 0.01f)));
  dir.write("conv1_b.npy", npyFloats({20}, std::vector<float>(20, 0.f)));
  NetworkFixture fx;
  ASSERT_TRUE(parseFile(fx, dir, doc.substr(begin + 8, end - begin - 8))) << fx.logger.errors();
  const auto out = fx.run({randomTensor({1, 1, 28, 28}, 5, 0.f, 1.f)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{1, 10, 1, 1}));
  const auto prob = out[0].floats();
  EXPECT_NEAR(std::accumulate(prob.begin(), prob.end(), 0.0), 1.0, 1e-5);
}

TEST(NetworkJson, RandomWeightsFollowTheSeed) {
  auto run = [](uint32_t seed) {
    NetworkFixture fx;
    NetworkJsonOptions options;
    options.randomWeightsSeed = seed;
    EXPECT_TRUE(parseNetworkJson(sourcePath("samples/lenet.json"), fx.net(), fx.logger, options))
        << fx.logger.errors();
    const auto out = fx.run({randomTensor({1, 1, 28, 28}, 3, 0.f, 1.f)});
    return out.empty() ? std::vector<float>{} : out[0].floats();
  };
  const auto a = run(1);
  const auto b = run(1);
  const auto c = run(2);
  ASSERT_EQ(a.size(), 10u);
  ASSERT_EQ(c.size(), 10u);
  // Same weights; the two builds may time different kernels (summation order), so not bitwise.
  expectClose(b, a, 1e-5, 1e-4, "same seed");
  double largest = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    largest = std::max<double>(largest, std::fabs(a[i] - c[i]));
  EXPECT_GT(largest, 1e-3) << "another seed should give other weights";
}

TEST(NetworkJson, RandomWeightsAreBoundedByFanIn) {
  // fc over 400 inputs: |w| <= 1/20, so |y| <= 400 * 1/20 + 1/20 for inputs in [-1, 1].
  NetworkFixture fx;
  ASSERT_TRUE(parseString(fx, R"({
    "inputs": [{"name": "x", "shape": [1, 400]}],
    "layers": [{"name": "fc", "type": "fully_connected", "inputs": ["x"], "num_output": 64,
                "weights": {"bias": null}}],
    "outputs": ["fc"]
  })"))
      << fx.logger.errors();
  const auto out = fx.run({HostTensor::fromFloats({1, 400}, std::vector<float>(400, 1.f))});
  ASSERT_EQ(out.size(), 1u);
  const auto y = out[0].floats();
  double sumAbs = 0;
  for (float v : y) {
    EXPECT_LE(std::fabs(v), 20.f);
    sumAbs += std::fabs(v);
  }
  EXPECT_GT(sumAbs, 0.0);  // not all zero
}

// ---------------------------------------------------------------------------------------------
// One layer type at a time through the JSON (the ops are tested on their own in tests/ops).

std::vector<HostTensor> runJson(NetworkFixture& fx, const std::string& json,
                                const std::vector<HostTensor>& inputs) {
  if (!parseString(fx, json)) {
    ADD_FAILURE() << fx.logger.errors();
    return {};
  }
  return fx.run(inputs);
}

TEST(NetworkJsonLayers, Pooling) {
  NetworkFixture fx;
  const auto out =
      runJson(fx, R"({
    "inputs": [{"name": "x", "shape": [1, 1, 2, 4]}],
    "layers": [{"name": "p", "type": "pooling", "inputs": ["x"], "pooling_type": "max",
                "window_size": [2, 2], "stride": [2, 2], "padding_mode": "explicit_round_down"}],
    "outputs": ["p"]})",
              {HostTensor::fromFloats({1, 1, 2, 4}, std::vector<float>{1, 5, 2, 0, 3, 4, 8, 1})});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), std::vector<float>{5, 8}, 0, 0);
}

TEST(NetworkJsonLayers, SoftMaxAxis) {
  NetworkFixture fx;
  const auto out = runJson(fx, R"({
    "inputs": [{"name": "x", "shape": [2, 2]}],
    "layers": [{"name": "s", "type": "softmax", "inputs": ["x"], "axis": -1}],
    "outputs": ["s"]})",
                           {HostTensor::fromFloats({2, 2}, std::vector<float>{0, 0, 1, 1})});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f}, 1e-6);
}

TEST(NetworkJsonLayers, UnaryAndCast) {
  NetworkFixture fx;
  const auto out = runJson(fx, R"({
    "inputs": [{"name": "x", "shape": [3]}],
    "layers": [{"name": "n", "type": "unary", "inputs": ["x"], "operation": "neg"},
               {"name": "i", "type": "cast", "inputs": ["n"], "data_type": "int32"},
               {"name": "f", "type": "identity", "inputs": ["i"], "output_types": ["float32"]}],
    "outputs": ["i", "f"]})",
                           {HostTensor::fromFloats({3}, std::vector<float>{1, -2, 3})});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].dtype, DataType::kINT32);
  const auto ints = out[0].as<int32_t>();
  EXPECT_EQ(std::vector<int32_t>(ints.begin(), ints.end()), (std::vector<int32_t>{-1, 2, -3}));
  expectClose(out[1].floats(), std::vector<float>{-1, 2, -3}, 0, 0);
}

TEST(NetworkJsonLayers, ScaleWithPower) {
  NetworkFixture fx;
  const auto out = runJson(fx, R"({
    "inputs": [{"name": "x", "shape": [1, 2, 1, 2]}],
    "layers": [{"name": "s", "type": "scale", "inputs": ["x"], "mode": "channel",
                "weights": {"shift": [1, 0], "scale": [2, 3], "power": [2, 1]}}],
    "outputs": ["s"]})",
                           {HostTensor::fromFloats({1, 2, 1, 2}, std::vector<float>{1, 2, 3, 4})});
  ASSERT_EQ(out.size(), 1u);
  expectClose(out[0].floats(), std::vector<float>{9, 25, 9, 12}, 1e-5);
}

TEST(NetworkJsonLayers, ShuffleConcatSlicePadding) {
  NetworkFixture fx;
  const auto out = runJson(fx, R"({
    "inputs": [{"name": "x", "shape": [2, 3]}],
    "layers": [
      {"name": "t", "type": "shuffle", "inputs": ["x"], "first_transpose": [1, 0],
       "reshape_dimensions": [1, 6]},
      {"name": "cat", "type": "concatenation", "inputs": ["t", "t"], "axis": 0},
      {"name": "sl", "type": "slice", "inputs": ["cat"], "start": [1, 1], "size": [1, 3],
       "stride": [1, 2]},
      {"name": "pad", "type": "padding", "inputs": ["sl"], "pre_padding": [0, 1],
       "post_padding": [0, 0], "fill": "constant", "value": 7}
    ],
    "outputs": ["pad"]})",
                           {HostTensor::fromFloats({2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6})});
  ASSERT_EQ(out.size(), 1u);
  // t = [1 4 2 5 3 6]; slice columns 1, 3, 5 of row 1 -> 4 5 6; one 7 before.
  EXPECT_EQ(out[0].dims, (Dims{1, 4}));
  expectClose(out[0].floats(), std::vector<float>{7, 4, 5, 6}, 0, 0);
}

TEST(NetworkJsonLayers, ReduceAndTopK) {
  NetworkFixture fx;
  const auto out = runJson(fx, R"({
    "inputs": [{"name": "x", "shape": [2, 3]}],
    "layers": [
      {"name": "r", "type": "reduce", "inputs": ["x"], "operation": "sum", "reduce_axes": [-1],
       "keep_dimensions": false},
      {"name": "k", "type": "topk", "inputs": ["x"], "outputs": ["vals", "idx"],
       "operation": "max", "k": 1, "reduce_axes": [1]}
    ],
    "outputs": ["r", "vals", "idx"]})",
                           {HostTensor::fromFloats({2, 3}, std::vector<float>{1, 5, 2, 7, 0, 3})});
  ASSERT_EQ(out.size(), 3u);
  expectClose(out[0].floats(), std::vector<float>{8, 10}, 0, 0);
  expectClose(out[1].floats(), std::vector<float>{5, 7}, 0, 0);
  const auto idx = out[2].as<int32_t>();
  EXPECT_EQ(std::vector<int32_t>(idx.begin(), idx.end()), (std::vector<int32_t>{1, 0}));
}

TEST(NetworkJsonLayers, MatrixMultiplyAndSelect) {
  NetworkFixture fx;
  const auto out = runJson(fx, R"({
    "inputs": [{"name": "a", "shape": [2, 2]}],
    "layers": [
      {"name": "m", "type": "matrix_multiply", "inputs": ["a", "a"],
       "operation": ["none", "transpose"]},
      {"name": "c", "type": "constant", "data_type": "bool", "shape": [2, 2],
       "values": [true, false, 0, 1]},
      {"name": "s", "type": "select", "inputs": ["c", "m", "a"]}
    ],
    "outputs": ["s"]})",
                           {HostTensor::fromFloats({2, 2}, std::vector<float>{1, 2, 3, 4})});
  ASSERT_EQ(out.size(), 1u);
  // a a^T = [[5, 11], [11, 25]].
  expectClose(out[0].floats(), std::vector<float>{5, 2, 3, 25}, 0, 0);
}

TEST(NetworkJsonLayers, LrnAndDeconvolution) {
  NetworkFixture fx;
  const auto out = runJson(fx, R"({
    "inputs": [{"name": "x", "shape": [1, 1, 1, 2]}],
    "layers": [
      {"name": "up", "type": "deconvolution", "inputs": ["x"], "num_output": 1,
       "kernel": [1, 2], "stride": [1, 2], "weights": {"kernel": [1, 2], "bias": null}},
      {"name": "n", "type": "lrn", "inputs": ["up"], "window_size": 1, "alpha": 0, "beta": 1,
       "k": 2}
    ],
    "outputs": ["n"]})",
                           {HostTensor::fromFloats({1, 1, 1, 2}, std::vector<float>{1, 3})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims, (Dims{1, 1, 1, 4}));
  expectClose(out[0].floats(), std::vector<float>{0.5f, 1, 1.5f, 3}, 1e-6);
}

// ---------------------------------------------------------------------------------------------
// Errors: each logs an error naming the file, the layer and the problem, and returns false.

class NetworkJsonErrors : public ::testing::Test {
 protected:
  // Parses a one-layer network around @p layer, whose input is x [1, 2, 4, 4].
  bool parseLayer(const std::string& layer, const std::string& outputs = R"(["y"])") {
    return parseFile(fx_, dir_,
                     R"({"inputs": [{"name": "x", "shape": [1, 2, 4, 4]}],
                                   "layers": [)" +
                         layer + R"(], "outputs": )" + outputs + "}");
  }
  void expectError(std::initializer_list<std::string_view> parts) {
    EXPECT_GT(fx_.logger.errorCount(), 0);
    bool found = false;
    std::string errors = fx_.logger.errors();
    std::size_t begin = 0;
    while (begin < errors.size() && !found) {
      const auto end = errors.find('\n', begin);
      const std::string line = errors.substr(begin, end - begin);
      bool all = line.find((dir_.path() / "net.json").string()) != std::string::npos;
      for (auto part : parts) all = all && line.find(part) != std::string::npos;
      found = all;
      begin = end == std::string::npos ? errors.size() : end + 1;
    }
    EXPECT_TRUE(found) << "no error line holds the file and all of the expected parts; errors:\n"
                       << errors;
  }

  TempDir dir_;
  NetworkFixture fx_;
};

TEST_F(NetworkJsonErrors, UnknownLayerTypeListsKnownTypes) {
  EXPECT_FALSE(parseLayer(R"({"name": "c", "type": "convolutoin", "inputs": ["x"],
                              "outputs": ["y"]})"));
  expectError({"layer 0 'c'", "unknown layer type 'convolutoin'", "did you mean 'convolution'",
               "known types: convolution, deconvolution, pooling"});
}

TEST_F(NetworkJsonErrors, MissingRequiredField) {
  EXPECT_FALSE(parseLayer(R"({"name": "c", "type": "convolution", "inputs": ["x"],
                              "outputs": ["y"], "kernel": [3, 3]})"));
  expectError({"layer 0 'c' (convolution)", "missing required field 'num_output'"});
}

TEST_F(NetworkJsonErrors, WrongFieldType) {
  EXPECT_FALSE(parseLayer(R"({"name": "c", "type": "convolution", "inputs": ["x"],
                              "outputs": ["y"], "num_output": 2, "kernel": [3, 3],
                              "stride": "2"})"));
  expectError({"layer 0 'c' (convolution)", "field 'stride'", "expected an array of integers",
               "string \"2\""});
}

TEST_F(NetworkJsonErrors, FloatWhereAnIntegerBelongs) {
  EXPECT_FALSE(parseLayer(R"({"name": "c", "type": "convolution", "inputs": ["x"],
                              "outputs": ["y"], "num_output": 2.5, "kernel": [3, 3]})"));
  expectError({"layer 0 'c' (convolution)", "field 'num_output'", "expected an integer"});
}

TEST_F(NetworkJsonErrors, UnknownEnumListsValidValues) {
  EXPECT_FALSE(parseLayer(R"({"name": "a", "type": "activation", "inputs": ["x"],
                              "outputs": ["y"], "activation_type": "rleu"})"));
  expectError({"layer 0 'a' (activation)", "field 'activation_type'", "unknown value 'rleu'",
               "did you mean 'relu'", "valid values: relu, sigmoid, tanh"});
}

TEST_F(NetworkJsonErrors, UnknownInputTensor) {
  EXPECT_FALSE(parseLayer(R"({"name": "a", "type": "activation", "inputs": ["xx"],
                              "outputs": ["y"], "activation_type": "relu"})"));
  expectError({"layer 0 'a' (activation)", "unknown tensor 'xx'", "did you mean 'x'"});
}

TEST_F(NetworkJsonErrors, DuplicateOutputNames) {
  EXPECT_FALSE(parseLayer(R"({"name": "a", "type": "activation", "inputs": ["x"],
                              "outputs": ["y"], "activation_type": "relu"},
                             {"name": "b", "type": "activation", "inputs": ["y"],
                              "outputs": ["y"], "activation_type": "relu"})"));
  expectError({"layer 1 'b' (activation)", "tensor name 'y' is already the output of layer 0 'a'"});
}

TEST_F(NetworkJsonErrors, OutputShadowingAnInput) {
  EXPECT_FALSE(parseLayer(R"({"name": "a", "type": "activation", "inputs": ["x"],
                              "outputs": ["x"], "activation_type": "relu"})",
                          R"(["x"])"));
  expectError(
      {"layer 0 'a' (activation)", "tensor name 'x' is already the output of network input"});
}

TEST_F(NetworkJsonErrors, DuplicateLayerNames) {
  EXPECT_FALSE(parseLayer(R"({"name": "a", "type": "activation", "inputs": ["x"],
                              "outputs": ["y"], "activation_type": "relu"},
                             {"name": "a", "type": "activation", "inputs": ["y"],
                              "outputs": ["z"], "activation_type": "relu"})"));
  expectError({"layer 1 'a' (activation)", "another layer is already named 'a'"});
}

TEST_F(NetworkJsonErrors, UnknownFieldSuggestsTheKnownOne) {
  EXPECT_FALSE(parseLayer(R"({"name": "c", "type": "convolution", "inputs": ["x"],
                              "outputs": ["y"], "num_output": 2, "kernel": [3, 3],
                              "strides": [1, 1]})"));
  expectError({"layer 0 'c' (convolution)", "unknown field 'strides'", "did you mean 'stride'"});
  EXPECT_EQ(fx_.net().nbLayers(), 0) << "a layer with an unknown field must not be added";
}

TEST_F(NetworkJsonErrors, UnknownWeightsName) {
  EXPECT_FALSE(parseLayer(R"({"name": "c", "type": "convolution", "inputs": ["x"],
                              "outputs": ["y"], "num_output": 2, "kernel": [3, 3],
                              "weights": {"kernal": [1]}})"));
  expectError(
      {"layer 0 'c' (convolution)", "unknown field 'weights.kernal'", "did you mean 'kernel'"});
}

TEST_F(NetworkJsonErrors, WeightsFileMissing) {
  EXPECT_FALSE(parseLayer(R"({"name": "c", "type": "convolution", "inputs": ["x"],
                              "outputs": ["y"], "num_output": 2, "kernel": [3, 3],
                              "weights": {"kernel": "nope.npy"}})"));
  expectError(
      {"layer 0 'c' (convolution)", "field 'weights.kernel'", "weights file 'nope.npy' not found"});
}

TEST_F(NetworkJsonErrors, WeightsFileUnreadable) {
  dir_.write("bad.npy", "this is not numpy");
  const std::vector<int32_t> ints(36, 1);
  dir_.write("ints.npy", npyBytes("<i4", {36}, ints.data(), 36 * 4));
  dir_.write("short.npy", npyFloats({36}, std::vector<float>(36, 1.f)).substr(0, 140));
  dir_.write("big_endian.npy", npyBytes(">f4", {1}, ints.data(), 4));
  EXPECT_FALSE(parseLayer(R"({"name": "c", "type": "convolution", "inputs": ["x"],
                              "outputs": ["y"], "num_output": 2, "kernel": [3, 3],
                              "weights": {"kernel": "bad.npy", "bias": "big_endian.npy"}},
                             {"name": "d", "type": "convolution", "inputs": ["x"],
                              "outputs": ["z"], "num_output": 2, "kernel": [3, 3],
                              "weights": {"kernel": "short.npy"}},
                             {"name": "e", "type": "convolution", "inputs": ["x"],
                              "outputs": ["w"], "num_output": 2, "kernel": [3, 3],
                              "weights": {"kernel": "ints.npy"}})"));
  expectError({"layer 0 'c' (convolution)", "'bad.npy'", "not a .npy file"});
  expectError({"layer 0 'c' (convolution)", "'big_endian.npy'", "dtype '>f4'"});
  expectError(
      {"layer 1 'd' (convolution)", "'short.npy'", "needs 144 data bytes", "the file holds 12"});
  expectError({"layer 2 'e' (convolution)", "'ints.npy'", "holds <i4 values", "float32"});
}

TEST_F(NetworkJsonErrors, WeightsWrongCount) {
  dir_.write("w.npy", npyFloats({2, 2, 3, 2}, std::vector<float>(24, 1.f)));
  EXPECT_FALSE(parseLayer(R"({"name": "c", "type": "convolution", "inputs": ["x"],
                              "outputs": ["y"], "num_output": 2, "kernel": [3, 3],
                              "weights": {"kernel": "w.npy", "bias": [1, 2, 3]}})"));
  expectError({"layer 0 'c' (convolution)", "field 'weights.kernel'", "holds 24 values",
               "kernel [2, 2, 3, 3] needs 36"});
  expectError({"layer 0 'c' (convolution)", "field 'weights.bias'", "inline array holds 3 values",
               "needs 2"});
}

TEST_F(NetworkJsonErrors, WeightsPathsStayInTheJsonFolder) {
  EXPECT_FALSE(parseLayer(R"({"name": "c", "type": "convolution", "inputs": ["x"],
                              "outputs": ["y"], "num_output": 2, "kernel": [3, 3],
                              "weights": {"kernel": "/etc/passwd", "bias": "../b.npy"}})"));
  expectError({"layer 0 'c' (convolution)", "'/etc/passwd' is an absolute path"});
  expectError({"layer 0 'c' (convolution)", "'../b.npy' leaves the folder of the JSON file"});
}

TEST_F(NetworkJsonErrors, NetworkRefusesASetting) {
  EXPECT_FALSE(parseLayer(R"({"name": "c", "type": "convolution", "inputs": ["x"],
                              "outputs": ["y"], "num_output": 2, "kernel": [3, 3],
                              "stride": [0, 1]})"));
  expectError({"layer 0 'c' (convolution)", "field 'stride'", "the network refused this value"});
}

TEST_F(NetworkJsonErrors, NetworkRejectsTheLayer) {
  EXPECT_FALSE(parseLayer(R"({"name": "p", "type": "pooling", "inputs": ["x"],
                              "outputs": ["y"], "pooling_type": "max", "window_size": [5, 5]})"));
  expectError({"layer 0 'p' (pooling)", "the network rejected the layer"});
}

TEST_F(NetworkJsonErrors, SettingsThatDoNotFitTogether) {
  // Each setting is valid alone; the dilated kernel (7x7) is larger than the 4x4 input.
  EXPECT_FALSE(parseLayer(R"({"name": "c", "type": "convolution", "inputs": ["x"],
                              "outputs": ["y"], "num_output": 2, "kernel": [3, 3],
                              "dilation": [3, 3]},
                             {"name": "r", "type": "activation", "inputs": ["x"],
                              "outputs": ["z"], "activation_type": "relux"})",
                          R"(["y"])"));
  expectError({"layer 0 'c' (convolution)", "rejected the layer's settings"});
  // Later layers are still checked.
  expectError({"layer 1 'r' (activation)", "unknown value 'relux'"});
}

TEST_F(NetworkJsonErrors, EveryBrokenLayerIsReportedOnce) {
  EXPECT_FALSE(parseLayer(R"({"name": "a", "type": "activation", "inputs": ["x"],
                              "activation_type": "relux"},
                             {"name": "b", "type": "activation", "inputs": ["a"],
                              "activation_type": "relu"},
                             {"name": "c", "type": "softmax", "inputs": ["b"], "axes": 1})",
                          R"(["c"])"));
  expectError({"layer 0 'a' (activation)", "unknown value 'relux'"});
  expectError({"layer 2 'c' (softmax)", "unknown field 'axes'", "did you mean 'axis'"});
  // Layer b only reads a broken tensor: nothing to say about it.
  EXPECT_EQ(fx_.logger.errors().find("layer 1 'b'"), std::string::npos) << fx_.logger.errors();
}

TEST_F(NetworkJsonErrors, InputCountChecked) {
  EXPECT_FALSE(parseLayer(R"({"name": "e", "type": "elementwise", "inputs": ["x"],
                              "outputs": ["y"], "operation": "sum"})"));
  expectError({"layer 0 'e' (elementwise)", "takes 2 inputs, got 1"});
}

TEST_F(NetworkJsonErrors, UnknownNetworkOutput) {
  EXPECT_FALSE(parseLayer(R"({"name": "a", "type": "activation", "inputs": ["x"],
                              "outputs": ["y"], "activation_type": "relu"})",
                          R"(["yy"])"));
  expectError({"network", "field 'outputs'", "unknown tensor 'yy'", "did you mean 'y'"});
}

TEST_F(NetworkJsonErrors, UnknownTopLevelField) {
  EXPECT_FALSE(parseFile(fx_, dir_, R"({"inputs": [], "layer": [], "outputs": ["x"]})"));
  expectError({"network", "unknown field 'layer'", "did you mean 'layers'"});
  expectError({"network", "missing required field 'layers'"});
}

TEST_F(NetworkJsonErrors, InvalidInputs) {
  EXPECT_FALSE(parseFile(fx_, dir_, R"({"inputs": [{"name": "x", "type": "float", "shape": [2]},
                                                   {"name": "x", "shape": [2]},
                                                   {"name": "z", "shape": [-2]}],
                                        "layers": [], "outputs": ["x"]})"));
  expectError({"inputs[0] 'x'", "field 'type'", "unknown value 'float'", "float32"});
  expectError({"inputs[1] 'x'", "another input is already named 'x'"});
  expectError({"inputs[2] 'z'", "field 'shape'"});
}

TEST_F(NetworkJsonErrors, SyntaxErrorGivesLineAndColumn) {
  EXPECT_FALSE(parseFile(fx_, dir_, "{\n  \"inputs\": [],\n  \"layers\": [}\n"));
  expectError({"line 3, column 14", "invalid JSON"});
}

TEST_F(NetworkJsonErrors, RepeatedKey) {
  EXPECT_FALSE(parseLayer(R"({"name": "c", "type": "convolution", "inputs": ["x"],
                              "outputs": ["y"], "num_output": 2, "kernel": [3, 3],
                              "stride": [1, 1], "stride": [2, 2]})"));
  expectError({"layers[0]", "key 'stride' appears twice"});
}

TEST_F(NetworkJsonErrors, MissingFile) {
  EXPECT_FALSE(parseNetworkJson(dir_.path() / "net.json", fx_.net(), fx_.logger));
  expectError({"cannot open"});
}

TEST_F(NetworkJsonErrors, RandomValuesNeedAFloatType) {
  EXPECT_FALSE(parseLayer(R"({"name": "k", "type": "constant", "shape": [2], "data_type": "int32",
                              "outputs": ["y"]})"));
  expectError({"layer 0 'k' (constant)", "field 'values'", "int32 values cannot be random"});
}

TEST_F(NetworkJsonErrors, RandomWeightsNeedAKnownChannelCount) {
  EXPECT_FALSE(parseFile(fx_, dir_, R"({"inputs": [{"name": "x", "shape": [1, -1, 4, 4]}],
    "layers": [{"name": "c", "type": "convolution", "inputs": ["x"], "num_output": 2,
                "kernel": [3, 3]}],
    "outputs": ["c"]})"));
  expectError({"layer 0 'c' (convolution)", "field 'weights.kernel'", "cannot size random values"});
}

TEST(NetworkJsonRobustness, DeepNestingFailsCleanly) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  NetworkFixture fx;
  EXPECT_FALSE(parseNetworkJsonString(deep, ".", fx.net(), fx.logger));
  NetworkFixture fx2;
  const std::string values = std::string(50, '[') + "1" + std::string(50, ']');
  EXPECT_FALSE(parseNetworkJsonString(
      R"({"layers": [{"name": "k", "type": "constant", "shape": [1], "values": )" + values +
          R"(}], "outputs": ["k"]})",
      ".", fx2.net(), fx2.logger));
  EXPECT_TRUE(fx2.logger.hasError("nest deeper than 8 levels")) << fx2.logger.errors();
}

// Every prefix of a valid file, and some byte flips, fail cleanly: no throw, no crash.
TEST(NetworkJsonRobustness, TruncatedAndMangledFilesFailCleanly) {
  std::ifstream in(sourcePath("samples/lenet.json"));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(text.empty());
  for (std::size_t n = 0; n + 1 < text.size(); n += 13) {
    NetworkFixture fx;
    EXPECT_FALSE(parseNetworkJsonString(text.substr(0, n), ".", fx.net(), fx.logger));
    EXPECT_GT(fx.logger.errorCount(), 0);
  }
  const std::string replacements[] = {
      "-1", "1e300", "null", "[]", "{}", "\"\"", "true", "4294967296", "[[[[[[[[[[1]]]]]]]]]]"};
  std::size_t changed = 0;
  for (std::size_t pos = text.find(':'); pos != std::string::npos; pos = text.find(':', pos + 1)) {
    for (const auto& r : replacements) {
      // Replace the value after this colon up to the next ',' or '}'.
      const auto end = text.find_first_of(",}", pos);
      if (end == std::string::npos) continue;
      const std::string mangled = text.substr(0, pos + 1) + r + text.substr(end);
      NetworkFixture fx;
      parseNetworkJsonString(mangled, ".", fx.net(), fx.logger);  // must simply return
      ++changed;
    }
  }
  EXPECT_GT(changed, 100u);
}

}  // namespace
}  // namespace kiln::test
