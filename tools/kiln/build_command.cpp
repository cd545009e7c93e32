// kiln build: JSON network or ONNX model -> plan file.
#include <ostream>

#include "cli_error.h"
#include "commands.h"
#include "engine_loading.h"

namespace kiln::cli {

int runBuild(const BuildOptions& options, CliLogger& logger, std::ostream& out) {
  if (options.network.empty() && options.onnx.empty()) {
    throw CliError("give the network to build: --network=FILE or --onnx=FILE");
  }
  validate(options);
  (void)buildPlanFromNetwork(options, logger, out);
  if (options.saveEngine.empty()) {
    logger.log(Severity::kWARNING, "no --saveEngine given: the built engine was discarded");
  }
  return 0;
}

}  // namespace kiln::cli
