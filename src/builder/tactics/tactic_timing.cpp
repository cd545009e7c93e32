#include "builder/tactics/tactic_timing.h"

#include <algorithm>
#include <limits>

namespace kiln::builder {

std::optional<double> timingScore(std::vector<double> samples) {
  if (samples.empty()) return std::nullopt;
  const auto low = samples.begin() + static_cast<std::ptrdiff_t>((samples.size() - 1) / 10);
  std::nth_element(samples.begin(), low, samples.end());
  return *low;
}

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Round-robin rounds over @p group (indices into samples): one run each per round, the order
// rotated every round, until maxRounds are done, or after minRounds once the budget is spent, or
// once the hard limit passes. Members whose run fails leave the group.
void sampleRounds(std::vector<std::size_t>& group, std::vector<std::vector<double>>& samples,
                  const RunCandidate& run, const ClockUs& clock, int32_t minRounds,
                  int32_t maxRounds, double budgetUs, double hardLimitUs) {
  const double start = clock();
  for (int32_t round = 0; round < maxRounds && !group.empty(); ++round) {
    const std::size_t n = group.size();
    std::vector<std::size_t> failed;
    for (std::size_t j = 0; j < n; ++j) {
      const std::size_t i = group[(j + static_cast<std::size_t>(round)) % n];
      if (const auto us = run(i)) {
        samples[i].push_back(*us);
      } else {
        failed.push_back(i);
      }
    }
    std::erase_if(group, [&](std::size_t i) {
      return std::find(failed.begin(), failed.end(), i) != failed.end();
    });
    const double elapsed = clock() - start;
    if (elapsed > hardLimitUs) break;
    if (round + 1 >= minRounds && elapsed >= budgetUs) break;
  }
}

}  // namespace

TimingResult timeCandidates(std::size_t count, const std::vector<bool>& skip,
                            const RunCandidate& run, const ClockUs& clock,
                            const TimingPolicy& policy) {
  TimingResult result;
  result.scores.assign(count, std::nullopt);
  result.samples.assign(count, 0);
  // Warm-up: one run each. A slow first run gets a second chance before it rules its candidate
  // out — a burst of load, or a GPU module loaded on first launch, can make it many times the
  // kernel's cost — unless it is so slow (reloadFactor) that nothing explains it but the kernel.
  std::vector<std::optional<double>> warm(count);
  double bestWarm = kInf;
  for (std::size_t i = 0; i < count; ++i) {
    if (i < skip.size() && skip[i]) continue;
    warm[i] = run(i);
    if (warm[i]) bestWarm = std::min(bestWarm, *warm[i]);
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (!warm[i] || *warm[i] <= policy.pruneFactor * bestWarm ||
        *warm[i] >= policy.reloadFactor * bestWarm) {
      continue;
    }
    const auto again = run(i);
    warm[i] = again ? std::optional(std::min(*warm[i], *again)) : std::nullopt;
    if (warm[i]) bestWarm = std::min(bestWarm, *warm[i]);
  }
  std::vector<std::size_t> group;
  for (std::size_t i = 0; i < count; ++i) {
    if (!warm[i]) continue;
    if (*warm[i] > policy.pruneFactor * bestWarm) {
      result.scores[i] = warm[i];  // cannot win: its warm-up time stands
    } else {
      group.push_back(i);
    }
  }
  std::vector<std::vector<double>> samples(count);
  auto score = [&] {
    double best = kInf;
    result.best.reset();
    for (std::size_t i : group) {
      result.scores[i] = timingScore(samples[i]);
      if (result.scores[i] && *result.scores[i] < best) {
        best = *result.scores[i];
        result.best = i;
      }
    }
    return best;
  };
  // More rounds for the members of group within @p margin of the best score, among themselves;
  // a candidate that fails in them is out.
  auto moreRounds = [&](double margin, int32_t minRounds, int32_t maxRounds) {
    const double best = score();
    std::vector<std::size_t> subset;
    for (std::size_t i : group) {
      if (result.scores[i] && *result.scores[i] <= best * (1.0 + margin)) subset.push_back(i);
    }
    if (subset.size() < 2 || maxRounds <= 0) return;
    const std::vector<std::size_t> before = subset;
    const double budget = policy.roundsBudgetUs * static_cast<double>(subset.size());
    sampleRounds(subset, samples, run, clock, minRounds, maxRounds, budget,
                 budget * policy.hardLimitFactor);
    for (std::size_t i : before) {
      if (std::find(subset.begin(), subset.end(), i) != subset.end()) continue;
      std::erase(group, i);
      result.scores[i].reset();
    }
    score();
  };
  const double budget = policy.roundsBudgetUs * static_cast<double>(group.size());
  sampleRounds(group, samples, run, clock, policy.minRounds, policy.minRounds, budget,
               budget * policy.hardLimitFactor);
  // Contenders (not clearly slower) sample on up to maxRounds: on a busy machine a few samples
  // may all carry load. Then near ties, where noise decides, get more rounds among themselves.
  moreRounds(policy.contenderMargin, 0, policy.maxRounds - policy.minRounds);
  moreRounds(policy.tieMargin, std::min<int32_t>(3, policy.tieRounds), policy.tieRounds);
  score();
  if (result.best) {
    const double fastest = *result.scores[*result.best];
    for (std::size_t i : group) {
      if (result.scores[i] && *result.scores[i] <= fastest * (1.0 + policy.equalMargin)) {
        result.best = i;
        break;
      }
    }
  }
  for (std::size_t i = 0; i < count; ++i) {
    result.samples[i] = static_cast<int32_t>(samples[i].size());
  }
  return result;
}

}  // namespace kiln::builder
