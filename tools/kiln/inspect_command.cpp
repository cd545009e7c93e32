// kiln inspect: describe a plan without running it.
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli_error.h"
#include "commands.h"
#include "engine_info.h"
#include "engine_loading.h"
#include "file_io.h"

namespace kiln::cli {

namespace {

// The planned arena beside its lower bound (the most bytes alive at once), which show how well
// the memory planner did; the engine inspector's JSON has them.
void printMemoryPlan(std::ostream& out, const Engine& engine) {
  const auto info = nlohmann::json::parse(engine.engineInformation(LayerInformationFormat::kJSON),
                                          nullptr, /*allow_exceptions=*/false);
  if (!info.is_object() || !info.contains("memory")) return;
  const auto& memory = info["memory"];
  const auto arena = memory.value("arena_bytes", uint64_t{0});
  const auto lowerBound = memory.value("lower_bound_bytes", uint64_t{0});
  char ratio[32] = "-";
  if (lowerBound > 0) {
    std::snprintf(ratio, sizeof(ratio), "%.3f",
                  static_cast<double>(arena) / static_cast<double>(lowerBound));
  }
  out << "[I] Arena: " << arena << " bytes planned, lower bound " << lowerBound << " bytes (ratio "
      << ratio << ")\n";
}

}  // namespace

int runInspect(const InspectOptions& options, CliLogger& logger, std::ostream& out) {
  if (!options.plan.empty() && !options.loadEngine.empty() && options.plan != options.loadEngine) {
    throw CliError("give one plan: '" + options.plan + "' and --loadEngine='" + options.loadEngine +
                   "' differ");
  }
  const std::string path = options.plan.empty() ? options.loadEngine : options.plan;
  if (path.empty()) throw CliError("give the plan to inspect: kiln inspect FILE");

  const std::vector<std::byte> plan = readFile(path, "plan");
  if (plan.empty()) throw CliError("plan '" + path + "' is empty");
  Runtime runtime(logger);
  const std::unique_ptr<Engine> engine =
      deserializePlan(runtime, logger, plan, "plan '" + path + "'");
  if (options.json) {
    out << engine->engineInformation(LayerInformationFormat::kJSON);
    return 0;
  }
  printEngineInfo(out, *engine, {"plan '" + path + "'", plan.size()});
  printMemoryPlan(out, *engine);
  out << "[I] === Layers ===\n";
  for (int32_t i = 0; i < engine->nbLayers(); ++i) {
    out << "[I] " << engine->layerInformation(i, LayerInformationFormat::kONELINE) << "\n";
  }
  return 0;
}

}  // namespace kiln::cli
