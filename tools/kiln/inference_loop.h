// The warm-up and timed phases of kiln exec (trtexec's --warmUp, --iterations, --duration).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "kiln/runtime.h"

namespace kiln::cli {

//! What the device measured of one inference of a GPU engine (CUDA events), in ms.
struct DeviceTimes {
  double h2dMs = 0;      //!< inputs copied to the device
  double computeMs = 0;  //!< the engine's work on the stream
  double d2hMs = 0;      //!< outputs copied back
  double enqueueMs = 0;  //!< host time to enqueue the engine's work
};

//! One timed inference, in ms since the start of the timed phase.
struct InferenceTime {
  double startMs = 0;
  double endMs = 0;
  std::optional<DeviceTimes> device;  //!< GPU engines only
  double ms() const { return endMs - startMs; }
};

//! Runs one inference and waits for it: a CPU engine's enqueue, or a GPU engine's copies,
//! enqueue (or CUDA graph launch) and stream synchronization.
class InferenceRunner {
 public:
  virtual ~InferenceRunner() = default;
  //! Throws CliError when the inference fails; device times for GPU engines.
  virtual std::optional<DeviceTimes> runOnce() = 0;
};

//! The runner of a CPU engine: enqueueV3 runs the inference synchronously.
class HostRunner final : public InferenceRunner {
 public:
  explicit HostRunner(ExecutionContext& context) : context_(context) {}
  std::optional<DeviceTimes> runOnce() override;

 private:
  ExecutionContext& context_;
};

struct RunSettings {
  int64_t iterations = 10;  //!< at least this many timed inferences
  double warmUpMs = 200;    //!< untimed inferences for at least this long first
  double durationS = 3;     //!< the timed phase lasts at least this long
};

struct RunResult {
  int64_t warmUpRuns = 0;
  double warmUpMs = 0;
  std::vector<InferenceTime> times;
  //! From the start of the first timed inference to the end of the last.
  double walltimeMs() const {
    return times.empty() ? 0 : times.back().endMs - times.front().startMs;
  }
};

//! Runs @p runner as @p settings say; throws CliError when an inference fails.
RunResult runInference(InferenceRunner& runner, const RunSettings& settings);

}  // namespace kiln::cli
