// The reference models of ../shared/models (made by ../shared/tools/make_models.py): each is
// parsed, built, run on its .npy input and compared with PyTorch's output at
// |a - b| <= 1e-4 + 1e-3 |b|. KILN_MODELS_DIR names the folder; without it (or without a model)
// the test skips, so a fresh clone passes.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "onnx_test_util.h"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using onnx_test::Npy;
using onnx_test::readNpy;

struct ModelCase {
  const char* name;
  const char* shapeInput;  //!< input whose shape the test fixes (nullptr: none)
  Dims shape;
};

// Deterministic test names for ctest (the default prints the struct's bytes, pointers included).
void PrintTo(const ModelCase& c, std::ostream* os) {
  *os << c.name;
}

class OnnxModels : public ::testing::TestWithParam<ModelCase> {};

TEST_P(OnnxModels, MatchesReference) {
  const ModelCase& c = GetParam();
  const char* dir = std::getenv("KILN_MODELS_DIR");
  if (dir == nullptr || *dir == '\0') GTEST_SKIP() << "KILN_MODELS_DIR is not set";
  const fs::path model = fs::path(dir) / (std::string(c.name) + ".onnx");
  if (!fs::exists(model)) GTEST_SKIP() << model << " is absent";

  const auto start = std::chrono::steady_clock::now();
  CapturingLogger logger;
  Builder builder(logger);
  auto network = builder.createNetwork();
  parsers::OnnxParser parser(*network, logger);
  if (c.shapeInput != nullptr) parser.setInputShape(c.shapeInput, c.shape);
  ASSERT_TRUE(parser.parseFromFile(model)) << onnx_test::parserErrors(parser);
  const auto parsed = std::chrono::steady_clock::now();

  std::vector<HostTensor> inputs;
  for (int32_t i = 0; i < network->nbInputs(); ++i) {
    const std::string name(network->input(i).name());
    Npy npy;
    const fs::path file = fs::path(dir) / (std::string(c.name) + "." + name + ".npy");
    ASSERT_TRUE(readNpy(file, npy)) << "cannot read " << file;
    ASSERT_EQ(npy.dtype, network->input(i).type()) << "input '" << name << "'";
    HostTensor t;
    t.dtype = npy.dtype;
    t.dims.nbDims = static_cast<int32_t>(npy.shape.size());
    for (std::size_t k = 0; k < npy.shape.size(); ++k) t.dims.d[k] = npy.shape[k];
    t.bytes = npy.data;
    ASSERT_EQ(t.dims, network->input(i).dimensions()) << "input '" << name << "'";
    inputs.push_back(std::move(t));
  }
  const auto outputs = buildAndRun(builder, *network, inputs);
  ASSERT_EQ(outputs.size(), 1u) << logger.errors();
  const auto ran = std::chrono::steady_clock::now();

  Npy expected;
  ASSERT_TRUE(readNpy(fs::path(dir) / (std::string(c.name) + ".output.npy"), expected));
  ASSERT_EQ(expected.dtype, DataType::kFLOAT);
  const std::vector<float> actual = outputs[0].floats();
  ASSERT_EQ(actual.size() * sizeof(float), expected.data.size());
  const auto* reference = reinterpret_cast<const float*>(expected.data.data());
  double maxError = 0;
  int64_t mismatches = 0;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const double a = actual[i], b = reference[i];
    const double error = std::fabs(a - b);
    maxError = std::max(maxError, error);
    if (!(error <= 1e-4 + 1e-3 * std::fabs(b))) ++mismatches;
  }
  const auto seconds = [](auto from, auto to) {
    return std::chrono::duration<double>(to - from).count();
  };
  RecordProperty("max_abs_error", std::to_string(maxError));
  std::printf("[ model    ] %s: %d layers, max |error| %.3g, parse %.2f s, build+run %.2f s\n",
              c.name, network->nbLayers(), maxError, seconds(start, parsed), seconds(parsed, ran));
  EXPECT_EQ(mismatches, 0) << mismatches << " of " << actual.size()
                           << " outputs outside the tolerance; max |error| " << maxError;
}

INSTANTIATE_TEST_SUITE_P(
    Reference, OnnxModels,
    ::testing::Values(ModelCase{"lenet", nullptr, {}}, ModelCase{"squeezenet1_1", nullptr, {}},
                      ModelCase{"mobilenet_v2", nullptr, {}}, ModelCase{"resnet18", nullptr, {}},
                      ModelCase{"resnet18_dynbatch", "input", Dims{3, 3, 224, 224}},
                      ModelCase{"googlenet", nullptr, {}}, ModelCase{"unet_small", nullptr, {}},
                      ModelCase{"bert_small", nullptr, {}},
                      ModelCase{"bert_small_op17", nullptr, {}}),
    [](const ::testing::TestParamInfo<ModelCase>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace kiln::test
