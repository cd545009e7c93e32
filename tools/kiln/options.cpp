#include "options.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include "cli_error.h"
#include "kiln/builder.h"

namespace kiln::cli {
namespace {

// Splits at commas outside single quotes.
std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> parts(1);
  bool quoted = false;
  for (char c : text) {
    if (c == '\'') quoted = !quoted;
    if (c == ',' && !quoted) {
      parts.emplace_back();
    } else {
      parts.back() += c;
    }
  }
  return parts;
}

}  // namespace

void addBuildOptions(CLI::App& command, BuildOptions& options) {
  command.add_option("--network", options.network, "JSON network description to build")
      ->option_text("FILE");
  command.add_option("--onnx", options.onnx, "ONNX model to build")->option_text("FILE");
  command
      .add_option("--shapes", options.shapes,
                  "Shapes of inputs with dynamic dimensions (values of shape-tensor inputs): "
                  "name:1x3x224x224[,name:...]. Without --minShapes/--optShapes/--maxShapes it "
                  "fixes an ONNX model's dynamic inputs at build time; with them, and for a "
                  "loaded dynamic engine, it is the shape to run")
      ->option_text("SPEC");
  command
      .add_option("--minShapes", options.minShapes,
                  "Smallest shapes of an optimization profile: name:1x3x224x224[,...]; give the "
                  "flag again for a further profile")
      ->option_text("SPEC");
  command
      .add_option("--optShapes", options.optShapes,
                  "Shapes kernels are tuned for, per profile (default: the max shapes)")
      ->option_text("SPEC");
  command
      .add_option("--maxShapes", options.maxShapes,
                  "Largest shapes of an optimization profile (default: the opt shapes)")
      ->option_text("SPEC");
  command.add_option("--saveEngine", options.saveEngine, "Save the built engine (plan) to FILE")
      ->option_text("FILE");
  command
      .add_option("--workspace", options.workspaceMiB,
                  "Workspace limit in MiB (deprecated in trtexec; same as "
                  "--memPoolSize=workspace:N)")
      ->option_text("MiB");
  command
      .add_option("--memPoolSize", options.memPoolSize,
                  "Memory pool limits, pool:size[,pool:size]; pools: workspace; size in MiB, "
                  "or with a K/M/G suffix")
      ->option_text("SPEC");
  command
      .add_option("--builderOptimizationLevel", options.optimizationLevel,
                  "0 = fastest build ... 5 = widest tactic search (default 3)")
      ->option_text("N");
  command
      .add_option("--threads", options.threads,
                  "Threads for build and inference (0 = one per core)")
      ->option_text("N");
  command
      .add_option("--timingCacheFile", options.timingCacheFile,
                  "Timing cache: tactic timings are read from FILE if it exists, and the "
                  "updated cache is written back after the build")
      ->option_text("FILE");
  command
      .add_option("--disablePasses", options.disablePasses,
                  "Optimization passes not to run, by name: pass[,pass] (--verbose lists every "
                  "rewrite the passes make)")
      ->option_text("LIST");
  command
      .add_option("--exportLayerInfo", options.exportLayerInfo,
                  "Write the engine's layers (kind, fused layers, tactic, precision, shapes) to "
                  "FILE as JSON")
      ->option_text("FILE");
  command
      .add_option("--device", options.device,
                  "Target: cpu, or cuda[:N] (CUDA device N, default 0); default: the GPU when "
                  "one is present")
      ->option_text("DEV");
  command.add_flag("--tf32,!--noTF32", options.tf32,
                   "GPU engines: let convolutions and matrix products use TF32 tensor cores "
                   "(default off: exact FP32)");
  command.add_flag("--fp16", options.fp16,
                   "GPU engines: let layers run in FP16 where a kernel has it (FP32 accumulation; "
                   "inputs and outputs stay FP32)");
  command.add_flag("--bf16", options.bf16,
                   "GPU engines: let layers run in BF16 where a kernel has it (with --fp16, "
                   "layers without a precision of their own take FP16)");
  command.add_flag("--verbose,-v", options.verbose, "Show verbose messages");
}

void addExecOptions(CLI::App& command, ExecOptions& options) {
  addBuildOptions(command, options.build);
  command.add_option("--loadEngine", options.loadEngine, "Plan file to run")->option_text("FILE");
  command
      .add_option("--iterations", options.iterations,
                  "Run at least N inferences in the timed phase (default 10)")
      ->option_text("N");
  command
      .add_option("--warmUp", options.warmUpMs,
                  "Run inferences for this long before timing (ms, default 200)")
      ->option_text("ms");
  command
      .add_option("--duration", options.durationS,
                  "Minimum length of the timed phase (s, default 3)")
      ->option_text("s");
  command
      .add_option("--avgRuns", options.avgRuns,
                  "Report averages over N consecutive runs in verbose mode (default 10)")
      ->option_text("N");
  command.add_flag("--noDataTransfers", options.noDataTransfers,
                   "Disable host/device copies (a CPU engine has none)");
  command
      .add_option("--loadInputs", options.loadInputs,
                  "Input values from .npy files: name:file.npy[,name:file.npy] (others random)")
      ->option_text("SPEC");
  command
      .add_option("--saveOutputs", options.saveOutputs,
                  "Write DIR/<output name>.npy for each output after the run")
      ->option_text("DIR");
  command
      .add_option("--exportTimes", options.exportTimes,
                  "Write the per-inference timings to FILE as JSON")
      ->option_text("FILE");
  command.add_option("--seed", options.seed, "Seed of the random inputs (default 1)")
      ->option_text("N");
  command.add_flag("--dumpProfile", options.dumpProfile,
                   "Print each layer's time and share of the total (a separate profiled run)");
  command
      .add_option("--exportProfile", options.exportProfile,
                  "Write each layer's time to FILE as JSON (a separate profiled run)")
      ->option_text("FILE");
  command.add_flag("--useCudaGraph", options.useCudaGraph,
                   "GPU engines: capture the enqueue into a CUDA graph once and replay it");
  command
      .add_option("--profile", options.profile,
                  "Optimization profile to run (of an engine with several; default 0)")
      ->option_text("N");
}

void addInspectOptions(CLI::App& command, InspectOptions& options) {
  command.add_option("plan", options.plan, "Plan file")->option_text("FILE");
  command.add_option("--loadEngine", options.loadEngine, "Plan file")->option_text("FILE");
  command.add_flag("--json", options.json,
                   "Print the layers as JSON: {\"layers\": [{name, kind, fused_from, tactic, "
                   "elided, precision, inputs, outputs}, ...]}");
  command.add_flag("--verbose,-v", options.verbose, "Show verbose messages");
}

void validate(const BuildOptions& options) {
  if (!options.network.empty() && !options.onnx.empty()) {
    throw CliError("--network and --onnx exclude each other");
  }
  (void)parseShapes(options.shapes);
  // Each flag occurrence is one profile's shapes.
  for (const auto& spec : options.minShapes) (void)parseShapes({spec}, "--minShapes");
  for (const auto& spec : options.optShapes) (void)parseShapes({spec}, "--optShapes");
  for (const auto& spec : options.maxShapes) (void)parseShapes({spec}, "--maxShapes");
  if (hasProfileShapes(options) && options.optShapes.empty() && options.maxShapes.empty()) {
    throw CliError("--minShapes needs --optShapes or --maxShapes");
  }
  if (options.threads < 0) {
    throw CliError("--threads must be 0 or more, got " + std::to_string(options.threads));
  }
  if (options.optimizationLevel &&
      (*options.optimizationLevel < 0 || *options.optimizationLevel > 5)) {
    throw CliError("--builderOptimizationLevel must be in [0, 5], got " +
                   std::to_string(*options.optimizationLevel));
  }
  (void)workspaceLimitBytes(options);  // throws on a malformed size
  (void)disabledPasses(options);
  (void)parseDevice(options.device);
}

DeviceChoice parseDevice(const std::string& text) {
  DeviceChoice choice;
  if (text.empty()) return choice;
  if (text == "cpu") {
    choice.type = DeviceType::kCPU;
    return choice;
  }
  choice.type = DeviceType::kGPU;
  if (text == "cuda" || text == "gpu") return choice;
  const std::string prefix = "cuda:";
  if (text.rfind(prefix, 0) == 0 && text.size() > prefix.size() &&
      text.size() <= prefix.size() + 4 &&
      std::all_of(text.begin() + static_cast<std::ptrdiff_t>(prefix.size()), text.end(),
                  [](char c) { return c >= '0' && c <= '9'; })) {
    choice.gpu = std::stoi(text.substr(prefix.size()));
    return choice;
  }
  throw CliError("--device: expected cpu, cuda or cuda:N, got '" + text + "'");
}

std::vector<std::string> disabledPasses(const BuildOptions& options) {
  const std::vector<std::string> known = BuilderConfig::optimizationPassNames();
  std::vector<std::string> names;
  for (const std::string& argument : options.disablePasses) {
    for (const std::string& name : splitList(argument)) {
      if (name.empty()) continue;
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        throw CliError("--disablePasses: unknown pass '" + name + "' (passes: " + list + ")");
      }
      names.push_back(name);
    }
  }
  return names;
}

void validate(const ExecOptions& options) {
  const int sources = (options.loadEngine.empty() ? 0 : 1) +
                      (options.build.network.empty() ? 0 : 1) +
                      (options.build.onnx.empty() ? 0 : 1);
  if (sources != 1) {
    throw CliError(sources == 0
                       ? "give the engine to run: --loadEngine=FILE, --network=FILE or --onnx=FILE"
                       : "--loadEngine, --network and --onnx exclude each other");
  }
  if (!options.loadEngine.empty()) {
    const BuildOptions& b = options.build;
    if (!b.saveEngine.empty() || b.workspaceMiB || !b.memPoolSize.empty() || b.optimizationLevel) {
      throw CliError(
          "--saveEngine, --workspace, --memPoolSize and --builderOptimizationLevel need "
          "--network or --onnx (a loaded engine is already built)");
    }
  }
  validate(options.build);
  if (options.profile < 0) {
    throw CliError("--profile must be 0 or more, got " + std::to_string(options.profile));
  }
  if (options.iterations < 1) {
    throw CliError("--iterations must be 1 or more, got " + std::to_string(options.iterations));
  }
  if (!(options.warmUpMs >= 0) || !std::isfinite(options.warmUpMs)) {
    throw CliError("--warmUp must be a time in ms, 0 or more");
  }
  if (!(options.durationS >= 0) || !std::isfinite(options.durationS)) {
    throw CliError("--duration must be a time in seconds, 0 or more");
  }
  if (options.avgRuns < 1) {
    throw CliError("--avgRuns must be 1 or more, got " + std::to_string(options.avgRuns));
  }
  (void)parseLoadInputs(options.loadInputs);
}

std::size_t parseMemorySize(const std::string& text, const std::string& flag) {
  double scale = 1024.0 * 1024.0;  // plain numbers are MiB, as in trtexec
  std::string number = text;
  if (!number.empty() && std::isalpha(static_cast<unsigned char>(number.back()))) {
    switch (std::toupper(static_cast<unsigned char>(number.back()))) {
      case 'K':
        scale = 1024.0;
        break;
      case 'M':
        scale = 1024.0 * 1024.0;
        break;
      case 'G':
        scale = 1024.0 * 1024.0 * 1024.0;
        break;
      default:
        throw CliError(flag + ": bad size '" + text +
                       "' (a number of MiB, or with a K/M/G suffix)");
    }
    number.pop_back();
  }
  std::size_t used = 0;
  double value = -1;
  try {
    value = std::stod(number, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (number.empty() || used != number.size() || !(value >= 0) || !std::isfinite(value) ||
      value * scale > static_cast<double>(std::numeric_limits<std::size_t>::max()) / 2) {
    throw CliError(flag + ": bad size '" + text + "' (a number of MiB, or with a K/M/G suffix)");
  }
  return static_cast<std::size_t>(std::llround(value * scale));
}

std::optional<std::size_t> workspaceLimitBytes(const BuildOptions& options) {
  std::optional<std::size_t> limit;
  if (options.workspaceMiB) {
    if (!(*options.workspaceMiB >= 0) || !std::isfinite(*options.workspaceMiB)) {
      throw CliError("--workspace must be a size in MiB, 0 or more");
    }
    limit = static_cast<std::size_t>(std::llround(*options.workspaceMiB * 1024.0 * 1024.0));
  }
  for (const std::string& argument : options.memPoolSize) {
    for (const std::string& entry : splitList(argument)) {
      const std::size_t colon = entry.find(':');
      if (colon == std::string::npos) {
        throw CliError("--memPoolSize: expected pool:size, got '" + entry + "'");
      }
      const std::string pool = entry.substr(0, colon);
      if (pool != "workspace") {
        throw CliError("--memPoolSize: unknown or unsupported pool '" + pool +
                       "' (kiln has: workspace)");
      }
      limit = parseMemorySize(entry.substr(colon + 1), "--memPoolSize");
    }
  }
  return limit;
}

bool hasProfileShapes(const BuildOptions& options) {
  return !options.minShapes.empty() || !options.optShapes.empty() || !options.maxShapes.empty();
}

std::vector<InputShape> parseShapes(const std::vector<std::string>& specs,
                                    const std::string& flag) {
  std::vector<InputShape> shapes;
  for (const std::string& argument : specs) {
    for (const std::string& entry : splitList(argument)) {
      InputShape shape;
      std::size_t colon = std::string::npos;
      if (!entry.empty() && entry.front() == '\'') {
        const std::size_t close = entry.find('\'', 1);
        if (close == std::string::npos) {
          throw CliError(flag + ": unterminated quote in '" + entry + "'");
        }
        shape.tensor = entry.substr(1, close - 1);
        if (close + 1 < entry.size() && entry[close + 1] == ':') colon = close + 1;
      } else {
        colon = entry.rfind(':');
        if (colon != std::string::npos) shape.tensor = entry.substr(0, colon);
      }
      if (colon == std::string::npos || shape.tensor.empty()) {
        throw CliError(flag + ": expected name:1x3x224x224, got '" + entry + "'");
      }
      // trtexec spells a scalar as an empty shape ("name:").
      const std::string text = entry.substr(colon + 1);
      std::size_t pos = 0;
      while (pos < text.size()) {
        const std::size_t next = std::min(text.find('x', pos), text.size());
        const std::string extent = text.substr(pos, next - pos);
        std::size_t used = 0;
        long long value = -1;
        try {
          value = std::stoll(extent, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (extent.empty() || used != extent.size()) {
          throw CliError(flag + ": bad extent '" + extent + "' in '" + entry +
                         "' (expected name:1x3x224x224)");
        }
        shape.dims.push_back(value);
        pos = next + 1;
        if (next + 1 == text.size()) {
          throw CliError(flag + ": '" + entry + "' ends with 'x'");
        }
      }
      if (shape.dims.size() > 8) {
        throw CliError(flag + ": '" + entry + "' has more than 8 dimensions");
      }
      for (const InputShape& earlier : shapes) {
        if (earlier.tensor == shape.tensor) {
          throw CliError(flag + ": tensor '" + shape.tensor + "' is given twice");
        }
      }
      shapes.push_back(std::move(shape));
    }
  }
  return shapes;
}

std::vector<InputFile> parseLoadInputs(const std::vector<std::string>& specs) {
  std::vector<InputFile> files;
  for (const std::string& argument : specs) {
    for (const std::string& entry : splitList(argument)) {
      InputFile file;
      std::size_t colon = std::string::npos;
      if (!entry.empty() && entry.front() == '\'') {
        const std::size_t close = entry.find('\'', 1);
        if (close == std::string::npos) {
          throw CliError("--loadInputs: unterminated quote in '" + entry + "'");
        }
        file.tensor = entry.substr(1, close - 1);
        if (close + 1 < entry.size() && entry[close + 1] == ':') colon = close + 1;
      } else {
        colon = entry.rfind(':');
        if (colon != std::string::npos) file.tensor = entry.substr(0, colon);
      }
      if (colon == std::string::npos || file.tensor.empty() || colon + 1 >= entry.size()) {
        throw CliError("--loadInputs: expected name:file.npy, got '" + entry + "'");
      }
      file.path = entry.substr(colon + 1);
      for (const InputFile& earlier : files) {
        if (earlier.tensor == file.tensor) {
          throw CliError("--loadInputs: tensor '" + file.tensor + "' is given twice");
        }
      }
      files.push_back(std::move(file));
    }
  }
  return files;
}

}  // namespace kiln::cli
