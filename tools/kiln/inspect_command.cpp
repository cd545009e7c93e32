// kiln inspect: describe a plan without running it.
#include <ostream>

#include "cli_error.h"
#include "commands.h"
#include "engine_info.h"
#include "engine_loading.h"
#include "file_io.h"

namespace kiln::cli {

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
  out << "[I] === Layers ===\n";
  for (int32_t i = 0; i < engine->nbLayers(); ++i) {
    out << "[I] " << engine->layerInformation(i, LayerInformationFormat::kONELINE) << "\n";
  }
  return 0;
}

}  // namespace kiln::cli
