// kiln build: JSON network -> plan file.
#include <ostream>

#include "cli_error.h"
#include "commands.h"
#include "engine_loading.h"

namespace kiln::cli {

int runBuild(const BuildOptions& options, CliLogger& logger, std::ostream& out) {
  if (options.network.empty()) throw CliError("--network=FILE is required");
  validate(options);
  (void)buildPlanFromNetwork(options, logger, out);
  if (options.saveEngine.empty()) {
    logger.log(Severity::kWARNING, "no --saveEngine given: the built engine was discarded");
  }
  return 0;
}

}  // namespace kiln::cli
