// kiln_bench_peak: prints this CPU's measured FP32 FMA peak (GFLOP/s) per core and for N threads.
//   kiln_bench_peak [--threads=N] [--isa=avx512|avx2] [--seconds=S]
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/cpu_info.h"
#include "core/thread_pool.h"
#include "peak/peak.h"

int main(int argc, char** argv) {
  using namespace kiln;
  int32_t threads = kiln::ThreadPool().size();  // the runtime's default
  std::string isa;
  double seconds = 0.2;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--threads=")) {
      threads = std::atoi(argv[i] + 10);
    } else if (arg.starts_with("--isa=")) {
      isa = std::string(arg.substr(6));
    } else if (arg.starts_with("--seconds=")) {
      seconds = std::atof(argv[i] + 10);
    } else {
      std::fprintf(stderr, "usage: %s [--threads=N] [--isa=avx512|avx2] [--seconds=S]\n", argv[0]);
      return 2;
    }
  }
  std::printf("cpu: %s\n", hostCpu().name.c_str());
  std::vector<int32_t> counts{1};
  if (threads > 1) counts.push_back(threads);
  int printed = 0;
  for (const char* name : {"avx512", "avx2"}) {
    if (!isa.empty() && isa != name) continue;
    const bench::FmaVariant* v = bench::fmaVariant(name);
    if (v == nullptr) continue;
    for (int32_t t : counts) {
      const bench::PeakResult r = bench::measurePeak(*v, t, seconds);
      std::printf("peak %-6s (%d chains x %2d lanes) %d thread%s: %8.1f GFLOP/s (%.1f per core)\n",
                  r.isa.c_str(), v->chains, v->lanes, r.threads, r.threads == 1 ? " " : "s",
                  r.gflops, r.gflopsPerCore);
      ++printed;
    }
  }
  if (printed == 0) {
    std::fprintf(stderr, "no AVX-512 or AVX2+FMA on this CPU%s\n",
                 isa.empty() ? "" : " (or not the ISA asked for)");
    return 1;
  }
  return 0;
}
