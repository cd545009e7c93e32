// kiln exec (alias run): load or build an engine, run it as trtexec does, report timings.
#include <ostream>
#include <span>

#include "cli_error.h"
#include "commands.h"
#include "engine_info.h"
#include "engine_loading.h"
#include "file_io.h"
#include "gpu_runner.h"
#include "inference_loop.h"
#include "io_tensors.h"
#include "layer_profile.h"
#include "options.h"
#include "report.h"

namespace kiln::cli {

int runExec(const ExecOptions& options, CliLogger& logger, std::ostream& out) {
  validate(options);
  const std::vector<InputFile> inputFiles = parseLoadInputs(options.loadInputs);
  // Fail before a long run, not after it.
  if (!options.saveOutputs.empty()) createOutputDirectory(options.saveOutputs);

  std::vector<std::byte> plan;
  EngineSource source;
  if (!options.loadEngine.empty()) {
    plan = readFile(options.loadEngine, "plan");
    if (plan.empty()) throw CliError("plan '" + options.loadEngine + "' is empty");
    source.description = "plan '" + options.loadEngine + "'";
  } else {
    plan = buildPlanFromNetwork(options.build, logger, out);
    source.description = modelDescription(options.build);
  }
  source.planBytes = plan.size();

  Runtime runtime(logger);
  runtime.setNbThreads(options.build.threads);
  runtime.setGpuDevice(parseDevice(options.build.device).gpu);
  const std::unique_ptr<Engine> engine = deserializePlan(runtime, logger, plan, source.description);
  std::vector<std::byte>().swap(plan);  // the engine holds what it needs
  printEngineInfo(out, *engine, source);

  const std::unique_ptr<ExecutionContext> context = engine->createExecutionContext();
  if (!context) throw CliError("cannot create an execution context for " + source.description);
  if (options.profile >= engine->nbOptimizationProfiles()) {
    throw CliError("--profile=" + std::to_string(options.profile) + ": the engine has " +
                   std::to_string(engine->nbOptimizationProfiles()) + " optimization profile(s)");
  }
  if (!context->setOptimizationProfile(options.profile)) {
    throw CliError("cannot select optimization profile " + std::to_string(options.profile));
  }
  // --shapes fixed the ONNX inputs when the engine was built without profiles; otherwise it is
  // the shape to run.
  const bool shapesAreRunShapes = options.build.onnx.empty() || hasProfileShapes(options.build);
  const std::vector<InputShape> runShapes =
      shapesAreRunShapes ? parseShapes(options.build.shapes) : std::vector<InputShape>{};
  setInputShapes(*engine, *context, runShapes);
  std::vector<IoTensor> tensors = allocateIoTensors(*engine, *context, runShapes);
  fillInputs(tensors, inputFiles, options.seed);
  for (const IoTensor& t : tensors) {
    if (t.mode == TensorIOMode::kINPUT) {
      std::string source = "'" + t.source + "'";
      if (t.source == "random") {
        source = "random values in [-1, 1) (seed " + std::to_string(options.seed) + ")";
      } else if (t.source == "zeros") {
        source = "zeros (integer and bool inputs are not randomized)";
      }
      out << "[I] Input '" << t.name << "': " << source << "\n";
    }
  }

  bindTensors(*context, tensors);
  const bool onGpu = engine->deviceType() == DeviceType::kGPU;
  if (options.useCudaGraph && !onGpu) {
    throw CliError("--useCudaGraph: the engine runs on the CPU; CUDA graphs are for GPU engines");
  }
  std::unique_ptr<GpuRunner> gpuRunner;
  HostRunner hostRunner(*context);
  if (onGpu) {
    gpuRunner =
        makeGpuRunner(*engine, *context, tensors, !options.noDataTransfers, options.useCudaGraph);
  }
  InferenceRunner& runner = onGpu ? static_cast<InferenceRunner&>(*gpuRunner) : hostRunner;

  out << "[I] Starting inference\n" << std::flush;
  const RunResult run =
      runInference(runner, {options.iterations, options.warmUpMs, options.durationS});
  printPerformanceReport(out, run,
                         {options.avgRuns, options.build.verbose, options.noDataTransfers});
  if (gpuRunner) gpuRunner->downloadOutputs(tensors);
  for (const IoTensor& t : tensors) {
    if (t.dataDependent) {
      out << "[I] Output '" << t.name << "' (data-dependent shape): " << toString(t.dims) << "\n";
    }
  }

  if (options.dumpProfile || !options.exportProfile.empty()) {
    LayerProfile profile;
    runProfiled(*context, profile, options.iterations);
    if (options.dumpProfile) printProfile(out, profile);
    if (!options.exportProfile.empty()) {
      const std::string json = profileJson(profile);
      writeFile(options.exportProfile, std::as_bytes(std::span(json.data(), json.size())),
                "profile");
      out << "[I] Profile exported to '" << options.exportProfile << "'\n";
    }
  }

  if (!options.saveOutputs.empty()) {
    saveOutputs(tensors, options.saveOutputs);
    out << "[I] Outputs saved to '" << options.saveOutputs << "'\n";
  }
  if (!options.exportTimes.empty()) {
    exportTimes(options.exportTimes, run);
    out << "[I] Times exported to '" << options.exportTimes << "'\n";
  }
  return 0;
}

}  // namespace kiln::cli
