// The timing statistics of kiln exec (nearest-rank percentiles as trtexec) and its
// --exportTimes JSON.
#include "report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>
#include <vector>

namespace kiln::cli {
namespace {

std::vector<double> oneTo(int n) {
  std::vector<double> values(static_cast<std::size_t>(n));
  std::iota(values.begin(), values.end(), 1.0);
  return values;
}

TEST(Report, NearestRankPercentiles) {
  const std::vector<double> ten = oneTo(10);
  EXPECT_EQ(nearestRankPercentile(ten, 90), 9.0);  // ceil(0.9 * 10) = 9, not 10
  EXPECT_EQ(nearestRankPercentile(ten, 95), 10.0);
  EXPECT_EQ(nearestRankPercentile(ten, 99), 10.0);
  EXPECT_EQ(nearestRankPercentile(ten, 50), 5.0);
  EXPECT_EQ(nearestRankPercentile(ten, 0), 1.0);
  EXPECT_EQ(nearestRankPercentile(ten, 100), 10.0);

  const std::vector<double> hundred = oneTo(100);
  EXPECT_EQ(nearestRankPercentile(hundred, 90), 90.0);
  EXPECT_EQ(nearestRankPercentile(hundred, 99), 99.0);

  const std::vector<double> one = {7.0};
  EXPECT_EQ(nearestRankPercentile(one, 99), 7.0);
}

TEST(Report, StatsOfUnsortedValues) {
  const Stats odd = computeStats({5, 1, 4, 2, 3});
  EXPECT_EQ(odd.min, 1.0);
  EXPECT_EQ(odd.max, 5.0);
  EXPECT_EQ(odd.mean, 3.0);
  EXPECT_EQ(odd.median, 3.0);
  EXPECT_EQ(odd.p90, 5.0);

  const Stats even = computeStats({4, 1, 3, 2});
  EXPECT_EQ(even.median, 2.5);
  EXPECT_EQ(even.mean, 2.5);

  const Stats none = computeStats({});
  EXPECT_EQ(none.max, 0.0);
}

RunResult sampleRun() {
  RunResult run;
  run.warmUpRuns = 2;
  run.warmUpMs = 1.0;
  run.times = {{0.0, 1.0}, {1.0, 3.0}, {3.0, 6.0}, {6.0, 10.0}};
  return run;
}

TEST(Report, PerformanceSummary) {
  std::ostringstream out;
  printPerformanceReport(out, sampleRun(), {2, true, true});
  const std::string text = out.str();
  // 4 queries over 10 ms.
  EXPECT_NE(text.find("[I] Throughput: 400 qps\n"), std::string::npos) << text;
  EXPECT_NE(text.find("[I] Latency: min = 1 ms, max = 4 ms, mean = 2.5 ms, median = 2.5 ms, "
                      "percentile(90%) = 4 ms, percentile(95%) = 4 ms, percentile(99%) = 4 ms\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("[I] Total Host Walltime: 0.01 s\n"), std::string::npos) << text;
  EXPECT_NE(text.find("[I] Total Compute Time: 0.01 s\n"), std::string::npos) << text;
  EXPECT_NE(text.find("[I] Average on 2 runs - Compute Time: 1.5 ms"), std::string::npos) << text;
  EXPECT_NE(text.find("[I] Average on 2 runs - Compute Time: 3.5 ms"), std::string::npos) << text;
  EXPECT_NE(text.find("no data transfers"), std::string::npos) << text;
}

TEST(Report, TimesJson) {
  std::ostringstream out;
  writeTimesJson(out, sampleRun());
  const nlohmann::json json = nlohmann::json::parse(out.str());
  ASSERT_EQ(json.size(), 4u);
  EXPECT_DOUBLE_EQ(json[2]["startComputeMs"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(json[2]["endComputeMs"].get<double>(), 6.0);
  EXPECT_DOUBLE_EQ(json[2]["computeMs"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(json[2]["latencyMs"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(json[2]["enqueueMs"].get<double>(), 3.0);

  std::ostringstream empty;
  writeTimesJson(empty, RunResult{});
  EXPECT_TRUE(nlohmann::json::parse(empty.str()).empty());
}

}  // namespace
}  // namespace kiln::cli
