// Timing statistics and the trtexec-style performance report of kiln exec.
#pragma once

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <span>
#include <vector>

#include "inference_loop.h"

namespace kiln::cli {

struct Stats {
  double min = 0;
  double max = 0;
  double mean = 0;
  double median = 0;  //!< mean of the two middle values for an even count
  double p90 = 0;
  double p95 = 0;
  double p99 = 0;
};

//! Nearest-rank percentile (as trtexec): the smallest value with at least @p percent of the
//! values at or below it. @p sorted is ascending and not empty.
double nearestRankPercentile(std::span<const double> sorted, int32_t percent);

//! Statistics of @p values (all zero when empty).
Stats computeStats(std::vector<double> values);

struct ReportSettings {
  int64_t avgRuns = 10;
  bool verbose = false;          //!< adds the per-avgRuns trace averages
  bool noDataTransfers = false;  //!< the user asked; say why it changes nothing
};

void printPerformanceReport(std::ostream& out, const RunResult& run,
                            const ReportSettings& settings);

//! trtexec's --exportTimes format: a JSON array with one object per timed inference.
void writeTimesJson(std::ostream& out, const RunResult& run);
void exportTimes(const std::filesystem::path& path, const RunResult& run);

}  // namespace kiln::cli
