#include "report.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <numeric>
#include <ostream>
#include <string>
#include <utility>

#include "cli_error.h"

namespace kiln::cli {
namespace {

void printStats(std::ostream& out, const char* label, const Stats& s) {
  out << "[I] " << label << ": min = " << s.min << " ms, max = " << s.max
      << " ms, mean = " << s.mean << " ms, median = " << s.median
      << " ms, percentile(90%) = " << s.p90 << " ms, percentile(95%) = " << s.p95
      << " ms, percentile(99%) = " << s.p99 << " ms\n";
}

std::vector<double> durations(const RunResult& run) {
  std::vector<double> ms;
  ms.reserve(run.times.size());
  for (const InferenceTime& t : run.times) ms.push_back(t.ms());
  return ms;
}

void printTraceAverages(std::ostream& out, const RunResult& run, int64_t avgRuns) {
  out << "[I] === Trace details ===\n";
  out << "[I] Trace averages of " << avgRuns << " runs:\n";
  const std::size_t group = static_cast<std::size_t>(avgRuns);
  for (std::size_t first = 0; first < run.times.size(); first += group) {
    const std::size_t last = std::min(first + group, run.times.size());
    double sum = 0;
    for (std::size_t i = first; i < last; ++i) sum += run.times[i].ms();
    const double mean = sum / static_cast<double>(last - first);
    // One measurement serves all three: a CPU inference is its enqueue, with no copies.
    out << "[I] Average on " << (last - first) << " runs - Compute Time: " << mean
        << " ms - Latency: " << mean << " ms (enqueue " << mean << " ms)\n";
  }
}

}  // namespace

double nearestRankPercentile(std::span<const double> sorted, int32_t percent) {
  const int64_t n = static_cast<int64_t>(sorted.size());
  // Integer arithmetic: 0.9 * 10 in doubles is 9.000000000000002, whose ceiling is wrong.
  const int64_t rank = (static_cast<int64_t>(percent) * n + 99) / 100;
  return sorted[static_cast<std::size_t>(std::clamp<int64_t>(rank - 1, 0, n - 1))];
}

Stats computeStats(std::vector<double> values) {
  Stats s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  s.min = values.front();
  s.max = values.back();
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(n);
  s.median = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  s.p90 = nearestRankPercentile(values, 90);
  s.p95 = nearestRankPercentile(values, 95);
  s.p99 = nearestRankPercentile(values, 99);
  return s;
}

void printPerformanceReport(std::ostream& out, const RunResult& run,
                            const ReportSettings& settings) {
  std::vector<double> ms = durations(run);
  const std::size_t count = ms.size();
  const double walltimeS = run.walltimeMs() / 1000.0;
  const double computeS = std::accumulate(ms.begin(), ms.end(), 0.0) / 1000.0;

  out << "[I] Warm-up: " << run.warmUpRuns << " runs over " << run.warmUpMs << " ms\n";
  out << "[I] Timing trace has " << count << " queries over " << walltimeS << " s\n";
  if (settings.verbose) printTraceAverages(out, run, settings.avgRuns);

  const bool onGpu = !run.times.empty() && run.times.front().device.has_value();
  out << "[I] === Performance summary ===\n";
  out << "[I] Throughput: " << (walltimeS > 0 ? static_cast<double>(count) / walltimeS : 0.0)
      << " qps\n";
  if (onGpu) {
    // As trtexec: Latency = H2D + GPU compute + D2H, each measured with CUDA events.
    std::vector<double> latency, enqueue, h2d, compute, d2h;
    double computeTotalMs = 0;
    for (const InferenceTime& t : run.times) {
      const DeviceTimes& d = *t.device;
      latency.push_back(d.h2dMs + d.computeMs + d.d2hMs);
      enqueue.push_back(d.enqueueMs);
      h2d.push_back(d.h2dMs);
      compute.push_back(d.computeMs);
      d2h.push_back(d.d2hMs);
      computeTotalMs += d.computeMs;
    }
    printStats(out, "Latency", computeStats(std::move(latency)));
    printStats(out, "Enqueue Time", computeStats(std::move(enqueue)));
    printStats(out, "H2D Latency", computeStats(std::move(h2d)));
    printStats(out, "GPU Compute Time", computeStats(std::move(compute)));
    printStats(out, "D2H Latency", computeStats(std::move(d2h)));
    out << "[I] Total Host Walltime: " << walltimeS << " s\n";
    out << "[I] Total GPU Compute Time: " << computeTotalMs / 1000.0 << " s\n";
    if (settings.noDataTransfers) {
      out << "[I] --noDataTransfers: inputs were copied to the device once; H2D and D2H are "
             "not part of the timed runs.\n";
    }
    return;
  }
  const Stats stats = computeStats(std::move(ms));
  printStats(out, "Latency", stats);
  printStats(out, "Enqueue Time", stats);
  printStats(out, "Compute Time", stats);
  out << "[I] Total Host Walltime: " << walltimeS << " s\n";
  out << "[I] Total Compute Time: " << computeS << " s\n";
  out << "[I] CPU engine: enqueue runs the inference synchronously, so Enqueue Time equals "
         "Compute Time, and with no host-device copies Latency equals Compute Time.\n";
  if (settings.noDataTransfers) {
    out << "[I] --noDataTransfers: a CPU engine has no data transfers; nothing to disable.\n";
  }
}

void writeTimesJson(std::ostream& out, const RunResult& run) {
  out << "[\n";
  char line[320];
  for (std::size_t i = 0; i < run.times.size(); ++i) {
    const InferenceTime& t = run.times[i];
    const double ms = t.ms();
    std::snprintf(line, sizeof(line),
                  "  { \"startEnqMs\" : %.6f, \"endEnqMs\" : %.6f, \"startComputeMs\" : %.6f, "
                  "\"endComputeMs\" : %.6f, \"computeMs\" : %.6f, \"latencyMs\" : %.6f, "
                  "\"enqueueMs\" : %.6f }%s\n",
                  t.startMs, t.endMs, t.startMs, t.endMs, ms, ms, ms,
                  i + 1 < run.times.size() ? "," : "");
    out << line;
  }
  out << "]\n";
}

void exportTimes(const std::filesystem::path& path, const RunResult& run) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) {
    throw CliError("--exportTimes: cannot create '" + path.string() + "': " + std::strerror(errno));
  }
  writeTimesJson(file, run);
  file.flush();
  if (!file) {
    throw CliError("--exportTimes: cannot write '" + path.string() + "': " + std::strerror(errno));
  }
}

}  // namespace kiln::cli
