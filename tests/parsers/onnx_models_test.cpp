// The reference models of ../shared/models (made by ../shared/tools/make_models.py): each is
// parsed, built, run on its .npy input and compared with PyTorch's output at
// |a - b| <= 1e-4 + 1e-3 |b|; on a GPU also with FP16 and BF16 allowed. KILN_MODELS_DIR names the
// folder; without it (or without a model) the test skips, so a fresh clone passes.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "backends/device.h"
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

struct ModelRun {
  std::vector<float> actual;
  std::vector<float> expected;
};

// Parses, builds (with @p flags) and runs the model of @p c on its input; nullopt after a
// skip or a failure (recorded).
std::optional<ModelRun> runModel(const ModelCase& c, const std::vector<BuilderFlag>& flags) {
  const char* dir = std::getenv("KILN_MODELS_DIR");
  if (dir == nullptr || *dir == '\0') {
    [] { GTEST_SKIP() << "KILN_MODELS_DIR is not set"; }();
    return std::nullopt;
  }
  const fs::path model = fs::path(dir) / (std::string(c.name) + ".onnx");
  if (!fs::exists(model)) {
    [&] { GTEST_SKIP() << model << " is absent"; }();
    return std::nullopt;
  }
  const auto start = std::chrono::steady_clock::now();
  CapturingLogger logger;
  Builder builder(logger);
  auto network = builder.createNetwork();
  parsers::OnnxParser parser(*network, logger);
  if (c.shapeInput != nullptr) parser.setInputShape(c.shapeInput, c.shape);
  if (!parser.parseFromFile(model)) {
    ADD_FAILURE() << onnx_test::parserErrors(parser);
    return std::nullopt;
  }
  const auto parsed = std::chrono::steady_clock::now();

  std::vector<HostTensor> inputs;
  for (int32_t i = 0; i < network->nbInputs(); ++i) {
    const std::string name(network->input(i).name());
    Npy npy;
    const fs::path file = fs::path(dir) / (std::string(c.name) + "." + name + ".npy");
    if (!readNpy(file, npy)) {
      ADD_FAILURE() << "cannot read " << file;
      return std::nullopt;
    }
    EXPECT_EQ(npy.dtype, network->input(i).type()) << "input '" << name << "'";
    HostTensor t;
    t.dtype = npy.dtype;
    t.dims.nbDims = static_cast<int32_t>(npy.shape.size());
    for (std::size_t k = 0; k < npy.shape.size(); ++k) t.dims.d[k] = npy.shape[k];
    t.bytes = npy.data;
    EXPECT_EQ(t.dims, network->input(i).dimensions()) << "input '" << name << "'";
    inputs.push_back(std::move(t));
  }
  const auto outputs = buildAndRun(builder, *network, inputs, flags);
  if (outputs.size() != 1u) {
    ADD_FAILURE() << logger.errors();
    return std::nullopt;
  }
  const auto ran = std::chrono::steady_clock::now();

  Npy expected;
  if (!readNpy(fs::path(dir) / (std::string(c.name) + ".output.npy"), expected) ||
      expected.dtype != DataType::kFLOAT) {
    ADD_FAILURE() << "cannot read the float output of " << c.name;
    return std::nullopt;
  }
  ModelRun run{outputs[0].floats(), std::vector<float>(expected.data.size() / sizeof(float))};
  std::memcpy(run.expected.data(), expected.data.data(), expected.data.size());
  if (run.actual.size() != run.expected.size()) {
    ADD_FAILURE() << run.actual.size() << " outputs, the reference has " << run.expected.size();
    return std::nullopt;
  }
  const auto seconds = [](auto from, auto to) {
    return std::chrono::duration<double>(to - from).count();
  };
  std::printf("[ model    ] %s: %d layers, parse %.2f s, build+run %.2f s\n", c.name,
              network->nbLayers(), seconds(start, parsed), seconds(parsed, ran));
  return run;
}

TEST_P(OnnxModels, MatchesReference) {
  const ModelCase& c = GetParam();
  const auto run = runModel(c, {});
  if (!run) return;
  double maxError = 0;
  int64_t mismatches = 0;
  for (std::size_t i = 0; i < run->actual.size(); ++i) {
    const double a = run->actual[i], b = run->expected[i];
    const double error = std::fabs(a - b);
    maxError = std::max(maxError, error);
    if (!(error <= 1e-4 + 1e-3 * std::fabs(b))) ++mismatches;
  }
  RecordProperty("max_abs_error", std::to_string(maxError));
  std::printf("[ model    ] %s: max |error| %.3g\n", c.name, maxError);
  EXPECT_EQ(mismatches, 0) << mismatches << " of " << run->actual.size()
                           << " outputs outside the tolerance; max |error| " << maxError;
}

// GPU engines with FP16 (and BF16) allowed: ||a - b|| / ||b|| <= 1e-2 for FP16 (issue #8);
// BF16, with 8 bits of mantissa, within 5e-2. CPU engines have no reduced kernels: skipped.
TEST_P(OnnxModels, MatchesReferenceInReducedPrecision) {
  if (!backends::gpuPresent()) GTEST_SKIP() << "no CUDA GPU here";
  const ModelCase& c = GetParam();
  const auto fp16 = runModel(c, {BuilderFlag::kFP16});
  if (!fp16) return;
  const double fp16Error = relativeError(fp16->actual, fp16->expected);
  const auto bf16 = runModel(c, {BuilderFlag::kBF16});
  if (!bf16) return;
  const double bf16Error = relativeError(bf16->actual, bf16->expected);
  RecordProperty("fp16_relative_error", std::to_string(fp16Error));
  RecordProperty("bf16_relative_error", std::to_string(bf16Error));
  std::printf("[ model    ] %s: FP16 ||a-b||/||b|| %.3g, BF16 %.3g\n", c.name, fp16Error,
              bf16Error);
  EXPECT_LE(fp16Error, 1e-2) << c.name << " in FP16";
  EXPECT_LE(bf16Error, 5e-2) << c.name << " in BF16";
}

INSTANTIATE_TEST_SUITE_P(
    Reference, OnnxModels,
    ::testing::Values(ModelCase{"lenet", nullptr, {}}, ModelCase{"squeezenet1_1", nullptr, {}},
                      ModelCase{"mobilenet_v2", nullptr, {}}, ModelCase{"resnet18", nullptr, {}},
                      ModelCase{"resnet18_dynbatch", "input", Dims{3, 3, 224, 224}},
                      ModelCase{"googlenet", nullptr, {}}, ModelCase{"unet_small", nullptr, {}},
                      ModelCase{"bert_small", nullptr, {}},
                      ModelCase{"bert_small_op17", nullptr, {}}, ModelCase{"lstm", nullptr, {}},
                      ModelCase{"gru", nullptr, {}}),
    [](const ::testing::TestParamInfo<ModelCase>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace kiln::test
