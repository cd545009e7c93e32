#include "peak/peak.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/cpu_info.h"
#include "peak/peak_kernels.h"

namespace kiln::bench {

namespace {

const FmaVariant kAvx512{"avx512", 16, 16, fmaLoopAvx512};
const FmaVariant kAvx2{"avx2", 8, 12, fmaLoopAvx2};

bool runs(const FmaVariant& v) {
  const CpuInfo& cpu = hostCpu();
  if (v.isa == "avx512") return cpu.has("avx512f");
  return cpu.has("avx2") && cpu.has("fma");
}

double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// All threads start together (spinning on a flag) so the cores are measured while all are busy.
double timedRun(const FmaVariant& v, int32_t threads, int64_t iterations) {
  std::atomic<int32_t> ready{0};
  std::atomic<bool> go{false};
  std::vector<double> flops(static_cast<std::size_t>(threads), 0.0);
  std::vector<double> seconds(static_cast<std::size_t>(threads), 0.0);
  auto body = [&](int32_t t) {
    ready.fetch_add(1);
    while (!go.load(std::memory_order_acquire)) {
    }
    const auto t0 = std::chrono::steady_clock::now();
    flops[static_cast<std::size_t>(t)] = v.loop(iterations, 1.0f + static_cast<float>(t));
    seconds[static_cast<std::size_t>(t)] = secondsSince(t0);
  };
  std::vector<std::thread> workers;
  for (int32_t t = 1; t < threads; ++t) workers.emplace_back(body, t);
  while (ready.load() < threads - 1) std::this_thread::yield();
  go.store(true, std::memory_order_release);
  body(0);
  for (std::thread& w : workers) w.join();
  // Each thread's own rate, summed: a thread the OS delayed does not drag the others down.
  double gflops = 0;
  for (std::size_t t = 0; t < flops.size(); ++t) gflops += flops[t] / seconds[t] * 1e-9;
  return gflops;
}

}  // namespace

const FmaVariant* fmaVariant(const std::string& isa) {
  for (const FmaVariant* v : {&kAvx512, &kAvx2}) {
    if (v->isa == isa && runs(*v)) return v;
  }
  return nullptr;
}

const FmaVariant* widestFmaVariant() {
  for (const FmaVariant* v : {&kAvx512, &kAvx2}) {
    if (runs(*v)) return v;
  }
  return nullptr;
}

PeakResult measurePeak(const FmaVariant& v, int32_t threads, double seconds, int32_t repeats) {
  threads = std::max(threads, 1);
  // Calibrate the iteration count on one thread, then time full runs.
  int64_t iterations = 1 << 16;
  for (;;) {
    const auto t0 = std::chrono::steady_clock::now();
    v.loop(iterations, 1.0f);
    const double s = secondsSince(t0);
    if (s > 0.02) {
      iterations = std::max<int64_t>(1, static_cast<int64_t>(iterations * (seconds / s)));
      break;
    }
    iterations *= 4;
  }
  PeakResult r;
  r.isa = v.isa;
  r.threads = threads;
  for (int32_t i = 0; i < std::max(repeats, 1); ++i) {
    r.gflops = std::max(r.gflops, timedRun(v, threads, iterations));
  }
  r.gflopsPerCore = r.gflops / threads;
  return r;
}

}  // namespace kiln::bench
