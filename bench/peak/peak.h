// The measured peak FP32 FMA rate of this CPU: independent FMA chains in registers, on the widest
// vector ISA the CPU has, timed per core and over several cores at once. bench/gemm divides
// kiln's SGEMM rate by it, so "% of peak" is against what this machine does, not a data sheet.
#pragma once

#include <cstdint>
#include <string>

namespace kiln::bench {

//! One FMA loop: @p iterations passes over its independent accumulator chains; returns the
//! floating-point operations it did (2 per lane per FMA). Each variant lives in a file compiled
//! for its ISA.
using FmaLoopFn = double (*)(int64_t iterations, float seed);

struct FmaVariant {
  std::string isa;  //!< "avx512", "avx2"
  int32_t lanes = 0;
  int32_t chains = 0;  //!< independent accumulators (covers latency x FMA pipes)
  FmaLoopFn loop = nullptr;
};

//! The widest variant this CPU runs (null when it has neither AVX-512 nor AVX2+FMA), or the one
//! named @p isa when this CPU runs it.
const FmaVariant* widestFmaVariant();
const FmaVariant* fmaVariant(const std::string& isa);

struct PeakResult {
  std::string isa;
  int32_t threads = 0;
  double gflops = 0;         //!< all threads together
  double gflopsPerCore = 0;  //!< gflops / threads
};

//! Best of @p repeats timed runs of about @p seconds each with @p threads threads, each running
//! @p variant at the same time (threads > 1 measures the cores together: shared power and clock).
PeakResult measurePeak(const FmaVariant& variant, int32_t threads, double seconds = 0.2,
                       int32_t repeats = 3);

}  // namespace kiln::bench
