// kiln: build, run and inspect engines from the command line, with trtexec's flag names.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

#include "cli_error.h"
#include "cli_logger.h"
#include "commands.h"
#include "kiln/logger.h"

namespace {

// Every failure is one line, so scripts and people see what went wrong at a glance.
int reportError(std::string message) {
  for (char& c : message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!message.empty() && message.back() == ' ') message.pop_back();
  std::cout.flush();
  std::fprintf(stderr, "kiln: error: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kiln::cli;

  CLI::App app{"kiln: build, run and inspect kiln engines (trtexec-compatible flags)", "kiln"};
  app.set_version_flag("--version", std::string(kiln::versionString()));
  app.require_subcommand(0, 1);

  BuildOptions buildOptions;
  CLI::App* build =
      app.add_subcommand("build", "Build a JSON network or an ONNX model into a plan file");
  addBuildOptions(*build, buildOptions);

  ExecOptions execOptions;
  CLI::App* exec = app.add_subcommand("exec", "Run an engine and report its performance");
  exec->alias("run");
  addExecOptions(*exec, execOptions);

  InspectOptions inspectOptions;
  CLI::App* inspect = app.add_subcommand("inspect", "Describe a plan file");
  addInspectOptions(*inspect, inspectOptions);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    return reportError(e.what());
  }

  CliLogger logger;
  try {
    if (build->parsed()) {
      if (buildOptions.verbose) logger.setThreshold(kiln::Severity::kVERBOSE);
      return runBuild(buildOptions, logger, std::cout);
    }
    if (exec->parsed()) {
      if (execOptions.build.verbose) logger.setThreshold(kiln::Severity::kVERBOSE);
      return runExec(execOptions, logger, std::cout);
    }
    if (inspect->parsed()) {
      if (inspectOptions.verbose) logger.setThreshold(kiln::Severity::kVERBOSE);
      return runInspect(inspectOptions, logger, std::cout);
    }
  } catch (const CliError& e) {
    return reportError(e.what());
  } catch (const std::filesystem::filesystem_error& e) {
    return reportError(e.what());
  } catch (const std::bad_alloc&) {
    return reportError("out of memory");
  } catch (const std::exception& e) {
    return reportError(std::string("internal error: ") + e.what());
  }
  return reportError("give a command: build, exec (or run), inspect; see kiln --help");
}
