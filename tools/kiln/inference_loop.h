// The warm-up and timed phases of kiln exec (trtexec's --warmUp, --iterations, --duration).
#pragma once

#include <cstdint>
#include <vector>

#include "kiln/runtime.h"

namespace kiln::cli {

//! One timed inference, in ms since the start of the timed phase.
struct InferenceTime {
  double startMs = 0;
  double endMs = 0;
  double ms() const { return endMs - startMs; }
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

//! Runs @p context as @p settings say; throws CliError when an inference fails.
RunResult runInference(ExecutionContext& context, const RunSettings& settings);

}  // namespace kiln::cli
