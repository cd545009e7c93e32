// The subcommands of kiln. Each returns the exit code, or throws CliError.
#pragma once

#include <iosfwd>

#include "cli_logger.h"
#include "options.h"

namespace kiln::cli {

int runBuild(const BuildOptions& options, CliLogger& logger, std::ostream& out);
int runExec(const ExecOptions& options, CliLogger& logger, std::ostream& out);
int runInspect(const InspectOptions& options, CliLogger& logger, std::ostream& out);

}  // namespace kiln::cli
