#include "engine_loading.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <ostream>
#include <span>

#include "cli_error.h"
#include "file_io.h"
#include "kiln/builder.h"
#include "kiln/parsers/network_json.h"
#include "kiln/parsers/onnx.h"

namespace kiln::cli {
namespace {

void parseNetwork(const std::string& path, NetworkDefinition& network, CliLogger& logger) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    // Opening it gives the precise reason (no such file, permission, a directory).
    (void)readFile(path, "network");
  }
  if (!parsers::parseNetworkJson(path, network, logger)) {
    throw CliError("cannot parse network '" + path + "'");
  }
}

void parseOnnx(const BuildOptions& options, NetworkDefinition& network, CliLogger& logger) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(options.onnx, ec)) (void)readFile(options.onnx, "model");
  parsers::OnnxParser parser(network, logger);
  // With profiles, --shapes is the shape to run, not one to build for.
  const std::vector<InputShape> fixed =
      hasProfileShapes(options) ? std::vector<InputShape>{} : parseShapes(options.shapes);
  for (const InputShape& shape : fixed) {
    Dims dims;
    dims.nbDims = static_cast<int32_t>(shape.dims.size());
    for (std::size_t i = 0; i < shape.dims.size(); ++i) dims.d[i] = shape.dims[i];
    parser.setInputShape(shape.tensor, dims);
  }
  if (!parser.parseFromFile(options.onnx)) {
    throw CliError("cannot parse ONNX model '" + options.onnx + "'");
  }
}

Dims toDims(const std::vector<int64_t>& extents) {
  Dims dims;
  dims.nbDims = static_cast<int32_t>(extents.size());
  for (std::size_t i = 0; i < extents.size(); ++i) dims.d[i] = extents[i];
  return dims;
}

// A shape-tensor input: an integer input of fixed rank-0/1 shape given values in a profile.
bool isShapeTensorInput(const NetworkDefinition& network, const std::string& name) {
  for (int32_t i = 0; i < network.nbInputs(); ++i) {
    const Tensor input = network.input(i);
    if (input.name() != name) continue;
    const Dims dims = input.dimensions();
    const DataType type = input.type();
    if ((type != DataType::kINT32 && type != DataType::kINT64) || dims.nbDims > 1) return false;
    for (int32_t d = 0; d < dims.nbDims; ++d) {
      if (dims[d] < 0) return false;
    }
    return true;
  }
  return false;
}

// The k-th --minShapes, --optShapes and --maxShapes make profile k; a missing opt is the max,
// a missing min or max the opt (as trtexec).
void addProfiles(const BuildOptions& options, Builder& builder, const NetworkDefinition& network,
                 BuilderConfig& config) {
  const std::size_t count =
      std::max({options.minShapes.size(), options.optShapes.size(), options.maxShapes.size()});
  for (std::size_t k = 0; k < count; ++k) {
    const auto flagShapes = [k](const std::vector<std::string>& specs, const std::string& flag) {
      return k < specs.size() ? parseShapes({specs[k]}, flag) : std::vector<InputShape>{};
    };
    const auto mins = flagShapes(options.minShapes, "--minShapes");
    const auto opts = flagShapes(options.optShapes, "--optShapes");
    const auto maxs = flagShapes(options.maxShapes, "--maxShapes");
    std::vector<std::string> names;
    for (const auto* list : {&mins, &opts, &maxs}) {
      for (const InputShape& s : *list) {
        if (std::find(names.begin(), names.end(), s.tensor) == names.end()) {
          names.push_back(s.tensor);
        }
      }
    }
    const auto find = [](const std::vector<InputShape>& list,
                         const std::string& name) -> const InputShape* {
      for (const InputShape& s : list) {
        if (s.tensor == name) return &s;
      }
      return nullptr;
    };
    OptimizationProfile* profile = builder.createOptimizationProfile();
    for (const std::string& name : names) {
      const InputShape* max = find(maxs, name);
      const InputShape* opt = find(opts, name);
      if (opt == nullptr) opt = max;
      if (max == nullptr) max = opt;
      const InputShape* min = find(mins, name);
      if (min == nullptr) min = opt;
      if (opt == nullptr) {
        throw CliError("profile " + std::to_string(k) + ": input '" + name +
                       "' has --minShapes but neither --optShapes nor --maxShapes");
      }
      const std::array<std::pair<OptProfileSelector, const InputShape*>, 3> all = {
          {{OptProfileSelector::kMIN, min},
           {OptProfileSelector::kOPT, opt},
           {OptProfileSelector::kMAX, max}}};
      const bool values = isShapeTensorInput(network, name);
      for (const auto& [which, shape] : all) {
        const bool ok = values ? profile->setShapeValues(name, which, shape->dims)
                               : profile->setDimensions(name, which, toDims(shape->dims));
        if (!ok) {
          throw CliError("profile " + std::to_string(k) + ": bad shape for input '" + name + "'");
        }
      }
    }
    if (config.addOptimizationProfile(profile) < 0) {
      throw CliError("profile " + std::to_string(k) + " is not valid (the reason is logged above)");
    }
  }
}

}  // namespace

std::string modelDescription(const BuildOptions& options) {
  return options.onnx.empty() ? "network '" + options.network + "'"
                              : "ONNX model '" + options.onnx + "'";
}

std::vector<std::byte> buildPlanFromNetwork(const BuildOptions& options, CliLogger& logger,
                                            std::ostream& out) {
  Builder builder(logger);
  std::unique_ptr<NetworkDefinition> network = builder.createNetwork();
  std::unique_ptr<BuilderConfig> config = builder.createBuilderConfig();
  if (!network || !config) throw CliError("cannot create a network to build");
  if (options.onnx.empty()) {
    parseNetwork(options.network, *network, logger);
  } else {
    parseOnnx(options, *network, logger);
  }

  if (const std::optional<std::size_t> limit = workspaceLimitBytes(options)) {
    config->setMemoryPoolLimit(MemoryPoolType::kWORKSPACE, *limit);
  }
  if (options.optimizationLevel) config->setBuilderOptimizationLevel(*options.optimizationLevel);
  config->setNbThreads(options.threads);
  const DeviceChoice device = parseDevice(options.device);
  if (device.type) config->setDeviceType(*device.type);
  config->setGpuDevice(device.gpu);
  if (options.tf32) config->setFlag(BuilderFlag::kTF32);
  if (options.fp16) config->setFlag(BuilderFlag::kFP16);
  if (options.bf16) config->setFlag(BuilderFlag::kBF16);
  addProfiles(options, builder, *network, *config);
  for (const std::string& pass : disabledPasses(options)) (void)config->setPassEnabled(pass, false);
  std::unique_ptr<TimingCache> timingCache;
  if (!options.timingCacheFile.empty()) {
    std::vector<std::byte> blob;
    if (std::filesystem::exists(options.timingCacheFile)) {
      blob = readFile(options.timingCacheFile, "timing cache");
    }
    timingCache = config->createTimingCache(blob);
    if (!timingCache) {
      throw CliError("'" + options.timingCacheFile + "' is not a usable timing cache");
    }
    config->setTimingCache(*timingCache, false);
  }

  const auto start = std::chrono::steady_clock::now();
  std::vector<std::byte> plan = builder.buildSerializedNetwork(*network, *config);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (plan.empty()) throw CliError("cannot build an engine from " + modelDescription(options));
  out << "[I] Engine built from '" << (options.onnx.empty() ? options.network : options.onnx)
      << "' in " << seconds << " s (" << plan.size() << " bytes)\n";
  if (timingCache) {
    writeFile(options.timingCacheFile, timingCache->serialize(), "timing cache");
    out << "[I] Timing cache (" << timingCache->size() << " layers) saved to '"
        << options.timingCacheFile << "'\n";
  }

  if (!options.saveEngine.empty()) {
    writeFile(options.saveEngine, plan, "engine");
    out << "[I] Engine saved to '" << options.saveEngine << "'\n";
  }
  if (!options.exportLayerInfo.empty()) {
    Runtime runtime(logger);
    const std::unique_ptr<Engine> engine = runtime.deserialize(plan);
    if (!engine) throw CliError("cannot load the engine built from " + modelDescription(options));
    const std::string info = engine->engineInformation(LayerInformationFormat::kJSON);
    writeFile(options.exportLayerInfo, std::as_bytes(std::span(info.data(), info.size())),
              "layer information");
    out << "[I] Layer information exported to '" << options.exportLayerInfo << "'\n";
  }
  return plan;
}

std::unique_ptr<Engine> deserializePlan(Runtime& runtime, CliLogger& logger,
                                        std::span<const std::byte> plan,
                                        const std::string& source) {
  std::unique_ptr<Engine> engine;
  std::string reason;
  {
    HeldErrors held(logger);
    engine = runtime.deserialize(plan);
    reason = held.take();
  }
  if (!engine) {
    throw CliError(source + ": " + (reason.empty() ? "cannot load plan" : reason));
  }
  return engine;
}

}  // namespace kiln::cli
