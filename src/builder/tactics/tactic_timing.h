// How the tactic selector times a node's candidates, apart from running kernels: the sampling
// schedule and the score, so they are testable with a scripted clock.
//
// Samples of different candidates are interleaved (round-robin, one run each per round, the
// order rotating between rounds), so a burst of load from other processes lands on all of them
// alike instead of on whichever happened to be timed then. The score is a low quantile of the
// samples (load only ever adds time, and on a busy machine most samples carry some: the 10th
// percentile is the kernel's own cost, the minimum of a few samples, the second smallest of 11 to
// 20, so not one lucky run of many). After minRounds rounds, only contenders (within
// contenderMargin of the best score) go on, up to maxRounds within the budget — on a busy
// machine a few samples may all carry load —, and then those within tieMargin get further rounds
// among themselves: that is where noise flips the pick from one build to the next. Clear losers
// cost no more build time.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace kiln::builder {

struct TimingPolicy {
  int32_t minRounds = 5;           //!< samples every surviving candidate gets
  int32_t maxRounds = 20;          //!< samples contenders get at most before the tie rounds
  double contenderMargin = 0.25;   //!< after minRounds, scores within this of the best go on
  double roundsBudgetUs = 50'000;  //!< per candidate and phase: rounds stop once past this,
  double hardLimitFactor = 4.0;    //!< or, before minRounds, past this times it
  double pruneFactor = 2.0;        //!< warm-up this much slower than the best: not sampled
  double reloadFactor = 50.0;      //!< a first run slower than this is not retried (see below)
  double tieMargin = 0.08;         //!< scores within this fraction of the best are re-timed
  int32_t tieRounds = 15;          //!< most extra samples each tied candidate gets
  //! Scores this close to the best are equal: the first such candidate (registration order) is
  //! taken, so rebuilds do not flip between equivalent kernels.
  double equalMargin = 0.02;
};

//! One timing run of candidate i: its time in microseconds, or nullopt when it cannot run
//! (then it is out).
using RunCandidate = std::function<std::optional<double>(std::size_t)>;
//! Microseconds on a monotonic clock.
using ClockUs = std::function<double()>;

struct TimingResult {
  //! Per candidate: its score in microseconds (the warm-up time for pruned ones), or nullopt for
  //! one that could not run or was skipped.
  std::vector<std::optional<double>> scores;
  std::vector<int32_t> samples;  //!< per candidate: timed runs after the warm-up
  //! The fastest candidate, or nullopt when none ran.
  std::optional<std::size_t> best;
};

//! Times candidates [0, count) with @p run on @p clock; those with @p skip[i] set are not run.
TimingResult timeCandidates(std::size_t count, const std::vector<bool>& skip,
                            const RunCandidate& run, const ClockUs& clock,
                            const TimingPolicy& policy = {});

//! The score of a set of samples: their 10th percentile, rounded down (nullopt for none).
std::optional<double> timingScore(std::vector<double> samples);

}  // namespace kiln::builder
