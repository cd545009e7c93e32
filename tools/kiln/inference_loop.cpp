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

void enqueue(ExecutionContext& context, const char* phase, int64_t index) {
  if (!context.enqueueV3(nullptr)) {
    throw CliError(std::string("inference failed (") + phase + " run " + std::to_string(index + 1) +
                   ")");
  }
}

}  // namespace

RunResult runInference(ExecutionContext& context, const RunSettings& settings) {
  RunResult result;
  const Clock::time_point warmUpStart = Clock::now();
  Clock::time_point now = warmUpStart;
  while (msBetween(warmUpStart, now) < settings.warmUpMs) {
    enqueue(context, "warm-up", result.warmUpRuns);
    ++result.warmUpRuns;
    now = Clock::now();
  }
  result.warmUpMs = msBetween(warmUpStart, now);

  const double durationMs = settings.durationS * 1000.0;
  result.times.reserve(static_cast<std::size_t>(std::min<int64_t>(settings.iterations, 1 << 20)));
  const Clock::time_point origin = Clock::now();
  for (int64_t i = 0;; ++i) {
    const Clock::time_point start = Clock::now();
    enqueue(context, "timed", i);
    const Clock::time_point end = Clock::now();
    result.times.push_back({msBetween(origin, start), msBetween(origin, end)});
    if (i + 1 >= settings.iterations && msBetween(origin, end) >= durationMs) break;
  }
  return result;
}

}  // namespace kiln::cli
