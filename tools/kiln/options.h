// The flags of each command (trtexec's names and meanings) and the parsers of their values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kiln/types.h"

namespace CLI {
class App;
}

namespace kiln::cli {

struct BuildOptions {
  std::string network;                       //!< --network: JSON network description
  std::string onnx;                          //!< --onnx: ONNX model
  std::vector<std::string> shapes;           //!< --shapes=name:1x3x224x224 (see options.cpp)
  std::vector<std::string> minShapes;        //!< --minShapes: the k-th flag is profile k's
  std::vector<std::string> optShapes;        //!< --optShapes
  std::vector<std::string> maxShapes;        //!< --maxShapes
  std::string saveEngine;                    //!< --saveEngine: where the plan goes
  std::optional<double> workspaceMiB;        //!< --workspace (trtexec's older spelling)
  std::vector<std::string> memPoolSize;      //!< --memPoolSize=workspace:1024M,...
  std::optional<int32_t> optimizationLevel;  //!< --builderOptimizationLevel
  int32_t threads = 0;                       //!< --threads (0: one per physical core)
  std::vector<std::string> disablePasses;    //!< --disablePasses=a,b: optimization passes off
  std::string exportLayerInfo;               //!< --exportLayerInfo: engine layers as JSON
  std::string timingCacheFile;               //!< --timingCacheFile: read if present, then saved
  std::string device;  //!< --device=cpu|cuda[:N] (default: the GPU when one is present)
  bool tf32 = false;   //!< --tf32: GPU matrix layers may use TF32 tensor cores
  bool fp16 = false;   //!< --fp16: layers may run in FP16
  bool bf16 = false;   //!< --bf16: layers may run in BF16
  bool verbose = false;
};

struct ExecOptions {
  BuildOptions build;      //!< used with --network
  std::string loadEngine;  //!< --loadEngine
  int64_t iterations = 10;
  double warmUpMs = 200;
  double durationS = 3;
  int64_t avgRuns = 10;
  bool noDataTransfers = false;
  std::vector<std::string> loadInputs;  //!< name:file.npy entries
  std::string saveOutputs;              //!< directory
  std::string exportTimes;              //!< JSON file
  uint32_t seed = 1;                    //!< random inputs
  bool dumpProfile = false;             //!< --dumpProfile: per-layer time table
  std::string exportProfile;            //!< --exportProfile: per-layer times as JSON
  int32_t profile = 0;                  //!< --profile: the optimization profile to run
  bool useCudaGraph = false;            //!< --useCudaGraph: replay the enqueue as a CUDA graph
};

struct InspectOptions {
  std::string plan;        //!< positional
  std::string loadEngine;  //!< --loadEngine
  bool json = false;       //!< --json: the layers as JSON (Engine::engineInformation)
  bool verbose = false;
};

void addBuildOptions(CLI::App& command, BuildOptions& options);
void addExecOptions(CLI::App& command, ExecOptions& options);
void addInspectOptions(CLI::App& command, InspectOptions& options);

//! Checks value ranges and combinations that CLI11 cannot express; throws CliError naming
//! the flag.
void validate(const BuildOptions& options);
void validate(const ExecOptions& options);

//! The pass names of --disablePasses (comma separated, several flags allowed); throws CliError
//! naming an unknown pass and listing the known ones.
std::vector<std::string> disabledPasses(const BuildOptions& options);

//! Workspace limit in bytes from --workspace / --memPoolSize; nullopt when neither is given.
std::optional<std::size_t> workspaceLimitBytes(const BuildOptions& options);

//! One entry of --loadInputs.
struct InputFile {
  std::string tensor;
  std::string path;
};
//! Parses "name:file" entries (several per argument, comma separated, as trtexec). A name may
//! be quoted ('input:0':file.npy); an unquoted name ends at the last ':'.
std::vector<InputFile> parseLoadInputs(const std::vector<std::string>& specs);

//! One entry of --shapes.
struct InputShape {
  std::string tensor;
  std::vector<int64_t> dims;
};
//! Parses "name:1x3x224x224" entries (several per argument, comma separated, as trtexec); a
//! name may be quoted. For a shape-tensor input the numbers are its values, which may be
//! negative; extents are checked where they are used. Throws CliError naming @p flag.
std::vector<InputShape> parseShapes(const std::vector<std::string>& specs,
                                    const std::string& flag = "--shapes");

//! The target of --device: a type (none: the library's default) and the CUDA device index.
struct DeviceChoice {
  std::optional<DeviceType> type;
  int32_t gpu = 0;
};
//! Parses --device ("", "cpu", "gpu", "cuda", "cuda:N"); throws CliError naming the flag.
DeviceChoice parseDevice(const std::string& text);

//! True when the build makes optimization profiles (--minShapes, --optShapes, --maxShapes).
bool hasProfileShapes(const BuildOptions& options);

//! "1024" (MiB), "512K", "2G", "1.5M" -> bytes; throws CliError naming @p flag.
std::size_t parseMemorySize(const std::string& text, const std::string& flag);

}  // namespace kiln::cli
