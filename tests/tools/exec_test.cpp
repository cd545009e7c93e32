// The kiln command end to end: a plan built here through the public API, run by the tool as a
// separate process; exit codes, report lines, saved outputs, loaded inputs, exported times, and
// one-line errors (never a signal) for bad plans and bad flags.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "kiln/kiln.h"
#include "npy.h"
#include "run_kiln.h"
#include "support/test_util.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

const Dims kXShape{2, 3, 4};
const Dims kYShape{5};

using test::CommandResult;
using test::readText;

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> result;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) result.push_back(line);
  return result;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class KilnTool : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("kiln_tool_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);

    // x -> relu -> "out/relu" (a '/' in the name, as ONNX models have) and y -> sigmoid.
    test::CapturingLogger logger;
    Builder builder(logger);
    auto network = builder.createNetwork();
    Tensor x = network->addInput("x", DataType::kFLOAT, kXShape);
    Tensor y = network->addInput("y", DataType::kFLOAT, kYShape);
    ActivationLayer relu = network->addActivation(x, ActivationType::kRELU);
    relu.output(0).setName("out/relu");
    network->markOutput(relu.output(0));
    ActivationLayer sigmoid = network->addActivation(y, ActivationType::kSIGMOID);
    sigmoid.output(0).setName("y_sig");
    network->markOutput(sigmoid.output(0));
    auto config = builder.createBuilderConfig();
    const std::vector<std::byte> plan = builder.buildSerializedNetwork(*network, *config);
    ASSERT_FALSE(plan.empty()) << logger.errors();
    plan_ = plan;
    std::ofstream(dir_ / "model.plan", std::ios::binary)
        .write(reinterpret_cast<const char*>(plan.data()),
               static_cast<std::streamsize>(plan.size()));
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static fs::path path(const std::string& name) { return dir_ / name; }
  static std::string planPath() { return path("model.plan").string(); }

  static void writeBytes(const std::string& name, const std::vector<std::byte>& bytes) {
    std::ofstream(path(name), std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
  }

  static CommandResult run(const std::vector<std::string>& args) {
    return test::runKiln(args, dir_);
  }

  // Quick runs: no warm-up, no minimum duration.
  static CommandResult exec(std::vector<std::string> args) {
    args.insert(args.begin(), {"exec", "--warmUp=0", "--duration=0"});
    return run(args);
  }

  static void expectOneLineError(const CommandResult& r, const std::string& mustName) {
    EXPECT_EQ(r.signal, 0) << "killed by signal " << r.signal;
    EXPECT_EQ(r.exitCode, 1) << r.err;
    const std::vector<std::string> errLines = lines(r.err);
    ASSERT_EQ(errLines.size(), 1u) << "stderr:\n" << r.err;
    EXPECT_EQ(errLines[0].rfind("kiln: error: ", 0), 0u) << errLines[0];
    EXPECT_TRUE(contains(errLines[0], mustName)) << errLines[0] << "\nshould name " << mustName;
  }

  static fs::path dir_;
  static std::vector<std::byte> plan_;
};

fs::path KilnTool::dir_;
std::vector<std::byte> KilnTool::plan_;

TEST_F(KilnTool, ReportHasTheTrtexecSections) {
  const CommandResult r = exec({"--loadEngine=" + planPath(), "--iterations=5", "--threads=1"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  for (const char* line :
       {"[I] === Engine ===", "[I]   Input 'x': float32 2x3x4", "[I]   Input 'y': float32 5",
        "[I]   Output 'out/relu': float32 2x3x4", "[I] Layers: 2", "[I] Activation memory: ",
        "[I] === Performance summary ===", "[I] Throughput: ", " qps\n", "[I] Latency: min = ",
        "[I] Enqueue Time: min = ", "[I] Compute Time: min = ", "percentile(90%) = ",
        "percentile(95%) = ", "percentile(99%) = ", "median = ", "[I] Total Host Walltime: ",
        "[I] Total Compute Time: ", "enqueue runs the inference synchronously"}) {
    EXPECT_TRUE(contains(r.out, line)) << "missing '" << line << "' in:\n" << r.out;
  }
  EXPECT_FALSE(contains(r.out, "Trace averages")) << "trace averages are for --verbose only";
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST_F(KilnTool, RunAliasNoDataTransfersAndVerboseAverages) {
  const CommandResult r = run({"run", "--loadEngine=" + planPath(), "--warmUp=0", "--duration=0",
                               "--iterations=7", "--avgRuns=3", "--verbose", "--noDataTransfers"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "a CPU engine has no data transfers")) << r.out;
  EXPECT_TRUE(contains(r.out, "Trace averages of 3 runs:")) << r.out;
  EXPECT_TRUE(contains(r.out, "[I] Average on 3 runs - Compute Time: ")) << r.out;
}

TEST_F(KilnTool, LoadInputsAndSaveOutputs) {
  std::vector<float> x(24);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) - 11.5f;
  const std::vector<int64_t> xShape = {2, 3, 4};
  std::vector<std::byte> xBytes(x.size() * 4);
  std::memcpy(xBytes.data(), x.data(), xBytes.size());
  cli::writeNpy(path("x.npy"), DataType::kFLOAT, xShape, xBytes);

  const fs::path outDir = path("outputs/nested");
  const CommandResult r =
      exec({"--loadEngine=" + planPath(), "--iterations=2",
            "--loadInputs=x:" + path("x.npy").string(), "--saveOutputs=" + outDir.string()});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "Input 'y': random values")) << r.out;

  // '/' in a tensor name becomes '_' in its file name.
  const cli::NpyArray relu = cli::readNpy(outDir / "out_relu.npy");
  ASSERT_EQ(relu.dtype, DataType::kFLOAT);
  ASSERT_EQ(relu.shape, xShape);
  std::vector<float> got(24);
  std::memcpy(got.data(), relu.data.data(), relu.data.size());
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_EQ(got[i], std::max(x[i], 0.0f)) << i;

  // y is random in [-1, 1), so sigmoid(y) lies in [sigmoid(-1), sigmoid(1)).
  const cli::NpyArray sig = cli::readNpy(outDir / "y_sig.npy");
  ASSERT_EQ(sig.shape, (std::vector<int64_t>{5}));
  std::vector<float> s(5);
  std::memcpy(s.data(), sig.data.data(), sig.data.size());
  for (float v : s) {
    EXPECT_GE(v, 1.0f / (1.0f + std::exp(1.0f)) - 1e-6f);
    EXPECT_LT(v, 1.0f / (1.0f + std::exp(-1.0f)) + 1e-6f);
  }
  EXPECT_NE(s[0], s[1]) << "random inputs should not be constant";
}

TEST_F(KilnTool, LoadInputsRejectsAWrongShapeNamingTensorAndFile) {
  const std::vector<int64_t> shape = {2, 3, 5};
  cli::writeNpy(path("wrong_shape.npy"), DataType::kFLOAT, shape, std::vector<std::byte>(120));
  const CommandResult r =
      exec({"--loadEngine=" + planPath(), "--loadInputs=x:" + path("wrong_shape.npy").string()});
  expectOneLineError(r, "'x'");
  EXPECT_TRUE(contains(r.err, "wrong_shape.npy")) << r.err;
  EXPECT_TRUE(contains(r.err, "expected float32 ('<f4') (2, 3, 4)")) << r.err;
  EXPECT_TRUE(contains(r.err, "got float32 ('<f4') (2, 3, 5)")) << r.err;
}

TEST_F(KilnTool, LoadInputsRejectsAWrongDtypeUnknownNameAndMissingFile) {
  const std::vector<int64_t> shape = {5};
  cli::writeNpy(path("ints.npy"), DataType::kINT32, shape, std::vector<std::byte>(20));
  CommandResult r =
      exec({"--loadEngine=" + planPath(), "--loadInputs=y:" + path("ints.npy").string()});
  expectOneLineError(r, "'y'");
  EXPECT_TRUE(contains(r.err, "got int32")) << r.err;

  r = exec({"--loadEngine=" + planPath(), "--loadInputs=nope:" + path("ints.npy").string()});
  expectOneLineError(r, "'nope'");
  EXPECT_TRUE(contains(r.err, "'x', 'y'")) << "lists the inputs: " << r.err;

  r = exec({"--loadEngine=" + planPath(), "--loadInputs=x:" + path("absent.npy").string()});
  expectOneLineError(r, "absent.npy");

  r = exec({"--loadEngine=" + planPath(), "--loadInputs=x"});
  expectOneLineError(r, "--loadInputs");
}

TEST_F(KilnTool, ExportTimesWritesOneObjectPerInference) {
  const fs::path times = path("times.json");
  const CommandResult r =
      exec({"--loadEngine=" + planPath(), "--iterations=9", "--exportTimes=" + times.string()});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const nlohmann::json json = nlohmann::json::parse(readText(times));
  ASSERT_TRUE(json.is_array());
  EXPECT_GE(json.size(), 9u);
  double previousEnd = 0;
  for (const auto& entry : json) {
    for (const char* key :
         {"startComputeMs", "endComputeMs", "computeMs", "latencyMs", "enqueueMs"}) {
      ASSERT_TRUE(entry.contains(key) && entry[key].is_number()) << key << " in " << entry;
    }
    const double start = entry["startComputeMs"].get<double>();
    const double end = entry["endComputeMs"].get<double>();
    EXPECT_GE(start, previousEnd);
    EXPECT_GE(end, start);
    EXPECT_NEAR(entry["computeMs"].get<double>(), end - start, 1e-5);
    previousEnd = end;
  }
}

TEST_F(KilnTool, BadPlansFailWithOneLineNeverASignal) {
  ASSERT_GT(plan_.size(), 64u);
  std::vector<std::byte> truncated(plan_.begin(), plan_.begin() + plan_.size() / 2);
  writeBytes("truncated.plan", truncated);
  std::vector<std::byte> flipped = plan_;
  flipped[flipped.size() / 2] ^= std::byte{0xff};
  writeBytes("flipped.plan", flipped);
  std::vector<std::byte> magic = plan_;
  magic[0] ^= std::byte{0x20};
  writeBytes("magic.plan", magic);
  writeBytes("empty.plan", {});

  for (const char* name :
       {"truncated.plan", "flipped.plan", "magic.plan", "empty.plan", "missing.plan"}) {
    SCOPED_TRACE(name);
    const std::string file = path(name).string();
    expectOneLineError(exec({"--loadEngine=" + file}), name);
    expectOneLineError(run({"inspect", file}), name);
  }
}

TEST_F(KilnTool, CorruptionAnywhereIsCaught) {
  // A byte flipped at any of a spread of positions, and cuts at several lengths.
  const std::size_t n = plan_.size();
  for (std::size_t k = 1; k < 16; ++k) {
    const std::size_t at = n * k / 16;
    std::vector<std::byte> bad = plan_;
    bad[at] ^= std::byte{0x5a};
    writeBytes("bad.plan", bad);
    const CommandResult r = run({"inspect", path("bad.plan").string()});
    SCOPED_TRACE("byte " + std::to_string(at) + " of " + std::to_string(n));
    expectOneLineError(r, "bad.plan");

    writeBytes("cut.plan", std::vector<std::byte>(plan_.begin(), plan_.begin() + at));
    expectOneLineError(run({"inspect", path("cut.plan").string()}), "cut.plan");
  }
}

TEST_F(KilnTool, InspectDescribesThePlan) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"inspect", planPath()},
        std::vector<std::string>{"inspect", "--loadEngine=" + planPath()}}) {
    const CommandResult r = run(args);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_TRUE(contains(r.out, "[I] Layers: 2")) << r.out;
    EXPECT_TRUE(contains(r.out, "[I]   Output 'y_sig': float32 5")) << r.out;
    EXPECT_TRUE(contains(r.out, "[I] Activation memory: ")) << r.out;
    EXPECT_FALSE(contains(r.out, "Performance summary"));
  }
}

TEST_F(KilnTool, VersionHelpAndFlagErrors) {
  CommandResult r = run({"--version"});
  EXPECT_EQ(r.exitCode, 0);
  EXPECT_TRUE(contains(r.out, std::string(versionString()))) << r.out;

  r = run({"--help"});
  EXPECT_EQ(r.exitCode, 0);
  EXPECT_TRUE(contains(r.out, "exec")) << r.out;
  r = run({"exec", "--help"});
  EXPECT_EQ(r.exitCode, 0);
  EXPECT_TRUE(contains(r.out, "--loadInputs")) << r.out;

  expectOneLineError(run({"exec", "--loadEngine=" + planPath(), "--bogusFlag=1"}), "--bogusFlag");
  expectOneLineError(run({"exec", "--loadEngine=" + planPath(), "--iterations=0"}), "--iterations");
  expectOneLineError(run({"exec", "--loadEngine=" + planPath(), "--iterations=ten"}),
                     "--iterations");
  expectOneLineError(run({"exec", "--loadEngine=" + planPath(), "--avgRuns=0"}), "--avgRuns");
  expectOneLineError(run({"exec"}), "--loadEngine");
  expectOneLineError(run({"exec", "--loadEngine=a.plan", "--network=n.json"}), "--network");
  expectOneLineError(run({"build"}), "--network");
  expectOneLineError(run({"build", "--network=n.json", "--memPoolSize=dla:4"}), "dla");
  expectOneLineError(run({"build", "--network=n.json", "--builderOptimizationLevel=9"}),
                     "--builderOptimizationLevel");
  expectOneLineError(run({"frobnicate"}), "frobnicate");
  expectOneLineError(run({}), "command");
}

TEST_F(KilnTool, BuildsAJsonNetworkAndRunsIt) {
  std::ofstream(path("net.json")) << R"({
    "name": "tiny",
    "inputs": [{"name": "x", "type": "float32", "shape": [2, 3]}],
    "layers": [{"name": "act", "type": "activation", "inputs": ["x"], "activation_type": "relu"}],
    "outputs": ["act"]
  })";
  const std::string net = path("net.json").string();
  const std::string built = path("built.plan").string();
  CommandResult r = run({"build", "--network=" + net, "--saveEngine=" + built,
                         "--memPoolSize=workspace:16M", "--builderOptimizationLevel=1"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_TRUE(fs::file_size(built) > 0);
  r = run({"inspect", built});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "[I]   Output 'act': float32 2x3")) << r.out;

  const std::string saved = path("saved_by_exec.plan").string();
  r = exec({"--network=" + net, "--saveEngine=" + saved, "--workspace=1"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "[I] === Performance summary ===")) << r.out;
  EXPECT_TRUE(fs::exists(saved));

  std::ofstream(path("broken.json")) << R"({"inputs": [], "layers": [{"type": "nosuch"}]})";
  r = run({"build", "--network=" + path("broken.json").string()});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_EQ(r.signal, 0);
  const std::vector<std::string> errLines = lines(r.err);
  ASSERT_FALSE(errLines.empty());
  EXPECT_EQ(errLines.back(),
            "kiln: error: cannot parse network '" + path("broken.json").string() + "'");

  expectOneLineError(run({"build", "--network=" + path("absent.json").string()}), "absent.json");
}

}  // namespace
}  // namespace kiln
