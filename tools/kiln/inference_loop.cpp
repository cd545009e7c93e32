#include "inference_loop.h"

#include <algorithm>
#include <chrono>
#include <string>

#include "cli_error.h"

namespace kiln::cli {
namespace {

using Clock = std::chrono::steady_clock;

double msBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

std::optional<DeviceTimes> runOnce(InferenceRunner& runner, const char* phase, int64_t index) {
  try {
    return runner.runOnce();
  } catch (const CliError& e) {
    throw CliError(std::string(e.what()) + " (" + phase + " run " + std::to_string(index + 1) +
                   ")");
  }
}

}  // namespace

std::optional<DeviceTimes> HostRunner::runOnce() {
  if (!context_.enqueueV3(nullptr)) throw CliError("inference failed");
  return std::nullopt;
}

RunResult runInference(InferenceRunner& runner, const RunSettings& settings) {
  RunResult result;
  const Clock::time_point warmUpStart = Clock::now();
  Clock::time_point now = warmUpStart;
  while (msBetween(warmUpStart, now) < settings.warmUpMs) {
    runOnce(runner, "warm-up", result.warmUpRuns);
    ++result.warmUpRuns;
    now = Clock::now();
  }
  result.warmUpMs = msBetween(warmUpStart, now);

  const double durationMs = settings.durationS * 1000.0;
  result.times.reserve(static_cast<std::size_t>(std::min<int64_t>(settings.iterations, 1 << 20)));
  const Clock::time_point origin = Clock::now();
  for (int64_t i = 0;; ++i) {
    const Clock::time_point start = Clock::now();
    std::optional<DeviceTimes> device = runOnce(runner, "timed", i);
    const Clock::time_point end = Clock::now();
    result.times.push_back({msBetween(origin, start), msBetween(origin, end), device});
    if (i + 1 >= settings.iterations && msBetween(origin, end) >= durationMs) break;
  }
  return result;
}

}  // namespace kiln::cli
