// The tactic selector's timing schedule (builder/tactics/tactic_timing.h) on a scripted clock:
// interleaved rounds, the low-quantile score, pruning after the warm-up, the second chance of a
// slow first run, extra rounds for near ties, and candidates that fail or are skipped. No real
// time is measured.
#include "builder/tactics/tactic_timing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

namespace kiln::builder {
namespace {

// Candidates with fixed costs on a simulated machine: each run takes its cost times the load
// factor of that moment, and the clock advances by the run's time.
struct Machine {
  explicit Machine(std::vector<double> costs) : cost(std::move(costs)) {}

  std::vector<double> cost;
  //! Load factor of the n-th run overall (1 when not given).
  std::function<double(int32_t)> load = [](int32_t) { return 1.0; };
  std::vector<bool> fails;  //!< candidates whose runs fail
  double now = 0;
  int32_t runs = 0;
  std::vector<int32_t> order;  //!< candidate of each run

  TimingResult time(const TimingPolicy& policy = {}, std::vector<bool> skip = {}) {
    const RunCandidate run = [&](std::size_t i) -> std::optional<double> {
      order.push_back(static_cast<int32_t>(i));
      if (i < fails.size() && fails[i]) return std::nullopt;
      const double us = cost[i] * load(runs++);
      now += us;
      return us;
    };
    return timeCandidates(
        cost.size(), skip, run, [&] { return now; }, policy);
  }
  int32_t runsOf(int32_t candidate) const {
    return static_cast<int32_t>(std::count(order.begin(), order.end(), candidate));
  }
};

TEST(TacticTiming, ScoreIsALowPercentile) {
  EXPECT_FALSE(timingScore({}).has_value());
  EXPECT_EQ(*timingScore({7}), 7);
  EXPECT_EQ(*timingScore({9, 3, 5, 4, 8}), 3);                          // the smallest of up to ten
  EXPECT_EQ(*timingScore({20, 1, 30, 2, 40, 3, 50, 4, 60, 5, 70}), 2);  // second smallest of 11
}

TEST(TacticTiming, PicksTheFastest) {
  Machine m{{300, 100, 200}};
  const TimingResult r = m.time();
  ASSERT_TRUE(r.best.has_value());
  EXPECT_EQ(*r.best, 1u);
  EXPECT_EQ(*r.scores[1], 100);
  EXPECT_EQ(*r.scores[2], 200);
  // 300 is more than twice the best warm-up: not sampled beyond it, but it has a score.
  EXPECT_EQ(r.samples[0], 0);
  EXPECT_EQ(*r.scores[0], 300);
  EXPECT_GE(r.samples[1], 5);
}

TEST(TacticTiming, RoundsInterleaveAndRotate) {
  Machine m{{100, 110, 120}};
  TimingPolicy policy;
  policy.tieRounds = 0;
  policy.minRounds = 3;
  policy.maxRounds = 3;
  m.time(policy);
  // Warm-ups 0, 1, 2, then three rounds with the starting candidate rotating.
  const std::vector<int32_t> expected = {0, 1, 2, 0, 1, 2, 1, 2, 0, 2, 0, 1};
  EXPECT_EQ(m.order, expected);
}

TEST(TacticTiming, ABurstOfLoadDoesNotDecide) {
  // Candidate 1 is 10% faster, but a burst of load (3x) covers runs 4 to 12: timed one after the
  // other, candidate 1's five samples would all fall into it (runs 7 to 11, after candidate 0's
  // warm-up and samples and its own warm-up). Interleaved, both see the burst alike, and the low
  // percentile is an unloaded run.
  Machine m{{100, 90}};
  m.load = [](int32_t n) { return n >= 4 && n < 13 ? 3.0 : 1.0; };
  const TimingResult r = m.time();
  ASSERT_TRUE(r.best.has_value());
  EXPECT_EQ(*r.best, 1u);
  EXPECT_EQ(*r.scores[1], 90);
  EXPECT_EQ(*r.scores[0], 100);
}

TEST(TacticTiming, ASlowWarmUpGetsASecondChance) {
  // Candidate 0's first run is hit by load (10x): it is run again before being ruled out, and
  // wins on its real cost.
  Machine m{{80, 100}};
  m.load = [](int32_t n) { return n == 0 ? 10.0 : 1.0; };
  const TimingResult r = m.time();
  ASSERT_TRUE(r.best.has_value());
  EXPECT_EQ(*r.best, 0u);
  EXPECT_GT(r.samples[0], 0);
}

TEST(TacticTiming, FarSlowerCandidatesRunOnce) {
  // More than reloadFactor x the best: one run, no second chance, no samples.
  Machine m{{100, 100 * 60.0}};
  const TimingResult r = m.time();
  EXPECT_EQ(m.runsOf(1), 1);
  EXPECT_EQ(*r.best, 0u);
}

TEST(TacticTiming, NearTiesGetMoreRounds) {
  TimingPolicy policy;
  policy.minRounds = 5;
  policy.maxRounds = 5;
  policy.tieRounds = 10;
  policy.tieMargin = 0.08;
  // 0 and 1 within 5% of each other; 2 is 30% slower: only the first two are re-timed.
  Machine m{{100, 105, 130}};
  const TimingResult r = m.time(policy);
  EXPECT_EQ(r.samples[0], 15);
  EXPECT_EQ(r.samples[1], 15);
  EXPECT_EQ(r.samples[2], 5);
  EXPECT_EQ(*r.best, 0u);

  Machine apart{{100, 120}};
  const TimingResult s = apart.time(policy);
  EXPECT_EQ(s.samples[0], 5);
  EXPECT_EQ(s.samples[1], 5);
}

TEST(TacticTiming, ContendersSampleOnLosersStop) {
  // After five rounds, 100 and 110 (within 25%) go on to 20 samples; 200 stops at five. 110 is
  // not within 8% of 100: no tie rounds.
  Machine m{{100, 110, 200}};
  const TimingResult r = m.time();
  EXPECT_EQ(r.samples[0], 20);
  EXPECT_EQ(r.samples[1], 20);
  EXPECT_EQ(r.samples[2], 5);
  EXPECT_EQ(*r.best, 0u);
}

TEST(TacticTiming, EqualScoresTakeTheFirstCandidate) {
  // Within equalMargin (2%) of the best, the first registered wins: rebuilds pick the same.
  Machine m{{200, 101, 100}};
  const TimingResult r = m.time();
  EXPECT_EQ(*r.best, 1u);
  Machine apart{{103, 100}};
  EXPECT_EQ(*apart.time().best, 1u);
}

TEST(TacticTiming, TheBudgetEndsTheTieRounds) {
  TimingPolicy policy;
  policy.minRounds = 5;
  policy.maxRounds = 5;
  policy.roundsBudgetUs = 1000;  // per candidate: 2000 us for the two
  policy.tieRounds = 15;
  Machine m{{100, 105}};
  const TimingResult r = m.time(policy);
  // 205 us per round: the budget of the extra rounds is spent after the 10th.
  EXPECT_EQ(r.samples[0], 15);
  EXPECT_EQ(r.samples[1], 15);

  // However slow, tied candidates get 3 extra rounds (unless the hard limit passes).
  policy.hardLimitFactor = 100;
  Machine slow{{5000, 5200}};
  const TimingResult t = slow.time(policy);
  EXPECT_EQ(t.samples[0], 8);
  EXPECT_EQ(t.samples[1], 8);
}

TEST(TacticTiming, TheHardLimitStopsBeforeMinRounds) {
  TimingPolicy policy;
  policy.minRounds = 5;
  policy.maxRounds = 5;
  policy.roundsBudgetUs = 1000;
  policy.hardLimitFactor = 4;  // 8000 us for the two
  policy.tieRounds = 0;
  Machine m{{3000, 3500}};
  const TimingResult r = m.time(policy);
  EXPECT_EQ(r.samples[0], 2);  // 6500 us after one round, 13000 after two
  EXPECT_EQ(*r.best, 0u);
}

TEST(TacticTiming, FailingAndSkippedCandidatesAreOut) {
  Machine m{{50, 100, 120}};
  m.fails = {true, false, false};
  const TimingResult r = m.time({}, {false, false, true});
  EXPECT_FALSE(r.scores[0].has_value());
  EXPECT_FALSE(r.scores[2].has_value());
  EXPECT_EQ(m.runsOf(2), 0);
  ASSERT_TRUE(r.best.has_value());
  EXPECT_EQ(*r.best, 1u);

  Machine none{{50, 60}};
  none.fails = {true, true};
  EXPECT_FALSE(none.time().best.has_value());
  Machine empty{std::vector<double>{}};
  EXPECT_FALSE(empty.time().best.has_value());
}

TEST(TacticTiming, ACandidateFailingInTheRoundsIsOut) {
  // Candidate 0 fails from its third run on (after the warm-up and one round).
  int32_t calls = 0;
  double now = 0;
  const RunCandidate run = [&](std::size_t i) -> std::optional<double> {
    if (i == 0 && ++calls > 2) return std::nullopt;
    const double us = i == 0 ? 50 : 100;
    now += us;
    return us;
  };
  const TimingResult r = timeCandidates(2, {}, run, [&] { return now; });
  EXPECT_FALSE(r.scores[0].has_value());
  ASSERT_TRUE(r.best.has_value());
  EXPECT_EQ(*r.best, 1u);
}

}  // namespace
}  // namespace kiln::builder
