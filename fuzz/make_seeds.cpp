// Writes the generated seed corpora of the fuzz targets: small .npy weight files (the JSON
// seeds refer to them, and they seed the .npy reader), and one plan per JSON network seed and
// per sample network. Seeds that cannot be built are an error: a broken seed fuzzes nothing.
//
//   make_seeds <source dir> <output dir> [ONNX node tests dir]
//   -> <output>/weights/*.npy, <output>/npy_reader/*.npy, <output>/plan_reader/*.plan,
//      <output>/plan_reader.dict (op names), <output>/network_json/*.json (the samples; the
//      committed seeds stay in fuzz/corpus), <output>/onnx_parser/*.onnx (fuzz/onnx_seeds.cpp)
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/onnx_seeds.h"
#include "ir/op_registry.h"
#include "kiln/kiln.h"
#include "kiln/parsers/network_json.h"

namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxSeedBytes = 64 << 10;

class StderrLogger final : public kiln::Logger {
 public:
  void log(kiln::Severity severity, std::string_view message) noexcept override {
    if (severity <= kiln::Severity::kERROR) {
      std::fprintf(stderr, "%.*s\n", static_cast<int>(message.size()), message.data());
    }
  }
};

void writeBytes(const fs::path& path, const void* data, std::size_t size) {
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
}

// A version 1.0 .npy file as numpy.save writes it (header padded to a multiple of 64).
std::string npy(const std::string& descr, const std::string& shape, const void* data,
                std::size_t bytes) {
  std::string header =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
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

void writeNpyFiles(const fs::path& dir) {
  fs::create_directories(dir);
  const double f8[] = {0.5, -1, 2, 0.25, 1, 0, -0.5, 3};
  const float f4[] = {0.125f, -2};
  const int64_t i8[] = {7, -3};
  const int32_t i4[] = {1, 2, 3, 4, 5, 6};
  const uint8_t b1[] = {1, 0};
  const std::pair<const char*, std::string> files[] = {
      {"f8_2x4.npy", npy("<f8", "(2, 4)", f8, sizeof(f8))},
      {"f4_2.npy", npy("<f4", "(2,)", f4, sizeof(f4))},
      {"i8_2.npy", npy("<i8", "(2,)", i8, sizeof(i8))},
      {"i4_2x3.npy", npy("<i4", "(2, 3)", i4, sizeof(i4))},
      {"b1_2.npy", npy("|b1", "(2,)", b1, sizeof(b1))},
      {"f4_scalar.npy", npy("<f4", "()", f4, sizeof(float))},
      {"f4_empty.npy", npy("<f4", "(0, 3)", nullptr, 0)},
  };
  for (const auto& [name, bytes] : files) writeBytes(dir / name, bytes.data(), bytes.size());
}

std::vector<fs::path> jsonFiles(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".json") out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Builds @p json (weights from @p weightsDir) and writes its plan; false when it does not build.
bool writePlan(const fs::path& json, const fs::path& weightsDir, const fs::path& out) {
  StderrLogger logger;
  kiln::Builder builder(logger);
  auto network = builder.createNetwork();
  std::ifstream in(json, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!kiln::parsers::parseNetworkJsonString(text, weightsDir, *network, logger)) {
    std::fprintf(stderr, "make_seeds: %s does not parse\n", json.c_str());
    return false;
  }
  auto config = builder.createBuilderConfig();
  config->setBuilderOptimizationLevel(0);
  const std::vector<std::byte> plan = builder.buildSerializedNetwork(*network, *config);
  if (plan.empty()) {
    std::fprintf(stderr, "make_seeds: %s does not build\n", json.c_str());
    return false;
  }
  // Big plans (LeNet's random weights) would only slow every execution down.
  if (plan.size() <= kMaxSeedBytes) {
    writeBytes(out / (json.stem().string() + ".plan"), plan.data(), plan.size());
  }
  return true;
}

// A libFuzzer dictionary of the op names as the plan stores them (u32 length, then the bytes),
// so that mutations can swap one op for another.
void writePlanDictionary(const fs::path& path) {
  std::ofstream out(path);
  out << "# Op names as plan strings (written by make_seeds).\n";
  for (const std::string& name : kiln::ir::OpRegistry::instance().names()) {
    char length[64];
    std::snprintf(length, sizeof(length), "\\x%02x\\x%02x\\x00\\x00",
                  static_cast<unsigned>(name.size() & 0xff),
                  static_cast<unsigned>(name.size() >> 8));
    out << '"' << length << name << "\"\n";
  }
  out << "\"cpu.reference\"\n\"KILNPLAN\"\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: make_seeds <source dir> <output dir> [ONNX node tests dir]\n");
    return 2;
  }
  const fs::path source = argv[1];
  const fs::path out = argv[2];
  const fs::path weights = out / "weights";
  writeNpyFiles(weights);
  writeNpyFiles(out / "npy_reader");
  fs::create_directories(out / "plan_reader");
  writePlanDictionary(out / "plan_reader.dict");
  fs::create_directories(out / "network_json");

  bool ok = true;
  for (const fs::path& json : jsonFiles(source / "fuzz" / "corpus" / "network_json")) {
    ok = writePlan(json, weights, out / "plan_reader") && ok;
  }
  for (const fs::path& json : jsonFiles(source / "samples")) {
    ok = writePlan(json, weights, out / "plan_reader") && ok;
    fs::copy_file(json, out / "network_json" / json.filename(),
                  fs::copy_options::overwrite_existing);
  }
  ok = kiln::fuzz::writeOnnxSeeds(out / "onnx_parser") && ok;
  if (argc == 4) kiln::fuzz::copyNodeTestSeeds(argv[3], out / "onnx_parser", 40);
  return ok ? 0 : 1;
}
