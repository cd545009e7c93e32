// All passes on vs all passes off over the reference models (KILN_MODELS_DIR; skipped when
// unset): the outputs agree to FP32 rounding, and the layer counts before/after are printed.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "builder/pass_test_util.h"
#include "kiln/parsers/onnx.h"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;

// A little-endian .npy of float32/int32/int64 (what make_models.py writes); false otherwise.
bool readNpy(const fs::path& path, HostTensor& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || bytes.compare(1, 5, "NUMPY") != 0) return false;
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t headerLength = 0, start = 0;
  if (major == 1) {
    headerLength = static_cast<unsigned char>(bytes[8]) |
                   (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    start = 10;
  } else {
    headerLength = 0;
    for (int i = 0; i < 4; ++i) {
      headerLength |= static_cast<std::size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    }
    start = 12;
  }
  const std::string header = bytes.substr(start, headerLength);
  if (header.find("'<f4'") != std::string::npos) {
    out.dtype = DataType::kFLOAT;
  } else if (header.find("'<i4'") != std::string::npos) {
    out.dtype = DataType::kINT32;
  } else if (header.find("'<i8'") != std::string::npos) {
    out.dtype = DataType::kINT64;
  } else if (header.find("'|b1'") != std::string::npos) {
    out.dtype = DataType::kBOOL;
  } else {
    return false;
  }
  const auto open = header.find('(', header.find("shape"));
  const auto close = header.find(')', open);
  out.dims = Dims{};
  std::string shape = header.substr(open + 1, close - open - 1);
  std::size_t pos = 0;
  while (pos < shape.size()) {
    const auto comma = shape.find(',', pos);
    const std::string item =
        shape.substr(pos, comma == std::string::npos ? shape.npos : comma - pos);
    if (item.find_first_of("0123456789") != std::string::npos) {
      out.dims[out.dims.nbDims++] = std::stoll(item);
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  out.bytes.resize(bytes.size() - start - headerLength);
  std::memcpy(out.bytes.data(), bytes.data() + start + headerLength, out.bytes.size());
  return true;
}

class ReferenceModels : public ::testing::TestWithParam<const char*> {};

TEST_P(ReferenceModels, SameOutputsWithAndWithoutPasses) {
  const std::string name = GetParam();
  const char* dir = std::getenv("KILN_MODELS_DIR");
  if (dir == nullptr || *dir == '\0') GTEST_SKIP() << "KILN_MODELS_DIR is not set";
  const fs::path model = fs::path(dir) / (name + ".onnx");
  if (!fs::exists(model)) GTEST_SKIP() << model << " is absent";

  CapturingLogger logger;
  Builder builder(logger);
  auto network = builder.createNetwork();
  parsers::OnnxParser parser(*network, logger);
  ASSERT_TRUE(parser.parseFromFile(model)) << logger.errors();
  std::vector<HostTensor> inputs;
  for (int32_t i = 0; i < network->nbInputs(); ++i) {
    HostTensor t;
    const fs::path file =
        fs::path(dir) / (name + "." + std::string(network->input(i).name()) + ".npy");
    ASSERT_TRUE(readNpy(file, t)) << "cannot read " << file;
    inputs.push_back(std::move(t));
  }
  const PassRun off = runWithPasses(builder, *network, inputs, kNoPasses);
  const PassRun on = runWithPasses(builder, *network, inputs, kAllPasses);
  ASSERT_EQ(off.outputs.size(), on.outputs.size()) << logger.errors();

  std::map<std::string, int32_t> fused;
  for (const auto& op : on.ops) ++fused[op];
  std::string kinds;
  for (const auto& [op, n] : fused) kinds += " " + op + "=" + std::to_string(n);
  std::cout << "[ layers   ] " << name << ": " << off.layers << " -> " << on.layers << " (" << kinds
            << " )\n";

  if (std::getenv("KILN_DUMP_LAYERS") != nullptr) {
    for (std::size_t i = 0; i < on.ops.size(); ++i) {
      std::cout << "  " << on.ops[i] << " <-";
      for (const auto& f : on.fusedFrom[i]) std::cout << " " << f;
      std::cout << "\n";
    }
  }

  // The targets (#5): engine layer counts, and the transformer's fused nodes. The
  // reformats of the CPU's channel-blocked layout (which runs where the host has AVX2 and no
  // AVX-512) are layout, not unfused layers: TensorRT reports its reformatting layers apart too.
  const int32_t layers = on.layers - on.count("BlockChannels") - on.count("UnblockChannels");
  if (name == "resnet18") {
    EXPECT_LE(layers, 25);
  }
  if (name == "mobilenet_v2") {
    EXPECT_LE(layers, 60);
  }
  if (name.rfind("bert_small", 0) == 0) {
    EXPECT_GT(on.count("Attention"), 0);
    EXPECT_GT(on.count("LayerNorm"), 0);
    bool gelu = false;
    for (const auto& names : on.fusedFrom) {
      for (const auto& layer : names) gelu = gelu || layer.find("Erf") != std::string::npos;
    }
    EXPECT_TRUE(gelu) << "no engine layer contains the GELU's Erf";
    EXPECT_EQ(on.count("Unary"), 0) << "the Erf of GELU should be fused";
  }

  HostTensor expected;
  const bool haveReference = readNpy(fs::path(dir) / (name + ".output.npy"), expected);
  for (std::size_t i = 0; i < on.outputs.size(); ++i) {
    const auto a = on.outputs[i].floats();
    expectClose(a, off.outputs[i].floats(), 1e-4, 1e-3, name + " passes on vs off");
    if (haveReference && i == 0 && expected.dtype == DataType::kFLOAT) {
      expectClose(a, expected.floats(), 1e-4, 1e-3, name + " vs PyTorch");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Models, ReferenceModels,
                         ::testing::Values("lenet", "resnet18", "mobilenet_v2", "squeezenet1_1",
                                           "googlenet", "unet_small", "bert_small",
                                           "bert_small_op17", "lstm", "gru"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace kiln::test
