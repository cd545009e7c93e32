// kiln_bench_gemm: kiln's packed SGEMM (backends/cpu/gemm.h) on square and ResNet-50 (batch 1)
// shapes, with 1 and N threads, as GFLOP/s and % of this CPU's FMA peak measured in the same run
// (bench/peak), so the two numbers always share the machine's load and clock.
//   kiln_bench_gemm [--threads=N] [--isa=avx512|avx2|portable] [--seconds=S] [--filter=TEXT]
//                   [--shape=MxNxK]... (only these MatMul shapes)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "backends/cpu/cpu_common.h"
#include "backends/cpu/gemm.h"
#include "core/cpu_info.h"
#include "core/thread_pool.h"
#include "peak/peak.h"

namespace {

using namespace kiln;
using namespace kiln::backends::cpu;

// How the operands reach the GEMM, as kiln's tactics pass them.
enum class Form {
  kMatMul,      // A and B strided, both packed per call (MatrixMultiply of two activations)
  kConv1x1,     // A = packed weights [Cout][Cin], B = the image [Cin][H*W] strided (pointwise conv)
  kConvIm2col,  // A = packed weights, B = implicit im2col of a padded 3x3 / 7x7 convolution
  kFc,          // M = batch rows, B = packed weights [K][N] (FullyConnected)
};

struct Case {
  std::string name;
  Form form;
  int64_t m, n, k;
  // Convolution geometry for kConvIm2col: input channels, input size, kernel, stride, pad.
  int64_t cin = 0, ih = 0, iw = 0, kh = 1, kw = 1, s = 1, pad = 0;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  for (int64_t d : {256, 512, 1024, 2048}) {
    out.push_back({"square " + std::to_string(d), Form::kMatMul, d, d, d});
  }
  // ResNet-50, batch 1: convolution GEMMs are M = output channels, N = output pixels,
  // K = input channels x taps (conv_tactics.cpp); the classifier is FC with M = 1.
  auto im2col = [&](const char* name, int64_t cout, int64_t cin, int64_t h, int64_t kern,
                    int64_t stride) {
    const int64_t pad = kern / 2;
    const int64_t oh = (h + 2 * pad - kern) / stride + 1;
    Case c{name, Form::kConvIm2col, cout, oh * oh, cin * kern * kern};
    c.cin = cin;
    c.ih = c.iw = h;
    c.kh = c.kw = kern;
    c.s = stride;
    c.pad = pad;
    out.push_back(c);
  };
  im2col("r50 conv1 7x7/2", 64, 3, 224, 7, 2);
  im2col("r50 3x3 64@56", 64, 64, 56, 3, 1);
  im2col("r50 3x3 128@28", 128, 128, 28, 3, 1);
  im2col("r50 3x3 256@14", 256, 256, 14, 3, 1);
  im2col("r50 3x3 512@7", 512, 512, 7, 3, 1);
  out.push_back({"r50 1x1 64->256@56", Form::kConv1x1, 256, 3136, 64});
  out.push_back({"r50 1x1 256->64@56", Form::kConv1x1, 64, 3136, 256});
  out.push_back({"r50 1x1 128->512@28", Form::kConv1x1, 512, 784, 128});
  out.push_back({"r50 1x1 512->128@28", Form::kConv1x1, 128, 784, 512});
  out.push_back({"r50 1x1 256->1024@14", Form::kConv1x1, 1024, 196, 256});
  out.push_back({"r50 1x1 1024->256@14", Form::kConv1x1, 256, 196, 1024});
  out.push_back({"r50 1x1 512->2048@7", Form::kConv1x1, 2048, 49, 512});
  out.push_back({"r50 1x1 2048->512@7", Form::kConv1x1, 512, 49, 2048});
  out.push_back({"r50 fc 2048->1000", Form::kFc, 1, 1000, 2048});
  return out;
}

std::vector<float> randomData(int64_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(static_cast<std::size_t>(std::max<int64_t>(count, 1)));
  for (float& x : v) x = dist(rng);
  return v;
}

double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Best time of one GEMM over repeated calls for about @p seconds (after one warm-up call).
double bestSeconds(const Case& c, const MicroKernel& mk, ThreadPool& pool, double seconds) {
  const std::vector<float> a = randomData(c.m * c.k, 1);
  const std::vector<float> bData =
      randomData(c.form == Form::kConvIm2col ? c.cin * c.ih * c.iw : c.k * c.n, 2);
  std::vector<float> out(static_cast<std::size_t>(c.m * c.n));
  PackedMatrix packedA;
  PackedMatrix packedB;
  Im2colSource source;
  GemmProblem p;
  p.m = c.m;
  p.n = c.n;
  p.k = c.k;
  p.c = out.data();
  p.ldc = c.n;
  switch (c.form) {
    case Form::kMatMul:
      p.a.strided = {a.data(), c.k, 1};
      p.b.strided = {bData.data(), c.n, 1};
      break;
    case Form::kConv1x1:
      packedA = packA({a.data(), c.k, 1}, c.m, c.k, mk.mr);
      p.a.packed = &packedA;
      p.b.strided = {bData.data(), c.n, 1};
      break;
    case Form::kConvIm2col: {
      packedA = packA({a.data(), c.k, 1}, c.m, c.k, mk.mr);
      p.a.packed = &packedA;
      const int64_t oh = (c.ih + 2 * c.pad - c.kh) / c.s + 1;
      source = {bData.data(), c.ih, c.iw, oh, oh, c.kh, c.kw, c.s, c.s, 1, 1, c.pad, c.pad};
      p.b.im2col = &source;
      break;
    }
    case Form::kFc:
      p.a.strided = {a.data(), c.k, 1};
      packedB = packB({bData.data(), c.n, 1}, c.k, c.n, mk.nr);
      p.b.packed = &packedB;
      break;
  }
  gemm(mk, p, pool);
  double best = 1e30;
  const auto start = std::chrono::steady_clock::now();
  int runs = 0;
  while (runs < 3 || (secondsSince(start) < seconds && runs < 100000)) {
    const auto t0 = std::chrono::steady_clock::now();
    gemm(mk, p, pool);
    best = std::min(best, secondsSince(t0));
    ++runs;
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int32_t threads = ThreadPool().size();
  std::string isa;
  std::string filter;
  double seconds = 0.3;
  std::vector<Case> extra;  // --shape: only these
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--threads=")) {
      threads = std::atoi(argv[i] + 10);
    } else if (arg.starts_with("--isa=")) {
      isa = std::string(arg.substr(6));
    } else if (arg.starts_with("--seconds=")) {
      seconds = std::atof(argv[i] + 10);
    } else if (arg.starts_with("--shape=")) {
      long long m = 0, n = 0, k = 0;
      if (std::sscanf(argv[i] + 8, "%lldx%lldx%lld", &m, &n, &k) != 3 || m < 1 || n < 1 || k < 1) {
        std::fprintf(stderr, "--shape wants MxNxK\n");
        return 2;
      }
      extra.push_back({"matmul " + std::string(arg.substr(8)), Form::kMatMul, m, n, k});
    } else if (arg.starts_with("--filter=")) {
      filter = std::string(arg.substr(9));
    } else {
      std::fprintf(stderr,
                   "usage: %s [--threads=N] [--isa=avx512|avx2|portable] [--seconds=S] "
                   "[--filter=TEXT] [--shape=MxNxK]...\n",
                   argv[0]);
      return 2;
    }
  }
  // The widest GEMM the CPU runs (or the one asked for), against the peak of the same width.
  const GemmIsa* chosen = nullptr;
  for (const GemmIsa& g : gemmIsas()) {
    const bool present = std::all_of(g.features.begin(), g.features.end(),
                                     [](const std::string& f) { return hostCpu().has(f); });
    if (present && (isa.empty() ? chosen == nullptr : g.suffix == isa)) chosen = &g;
  }
  if (chosen == nullptr) {
    std::fprintf(stderr, "GEMM ISA '%s' is not built in or not on this CPU\n", isa.c_str());
    return 1;
  }
  const bench::FmaVariant* peakVariant =
      bench::fmaVariant(chosen->suffix == "portable" ? "avx2" : chosen->suffix);
  if (peakVariant == nullptr) peakVariant = bench::widestFmaVariant();
  const MicroKernel& mk = chosen->kernel();
  std::vector<int32_t> counts{1};
  if (threads > 1) counts.push_back(threads);
  // Other processes share this machine: the peak is measured again between cases and the best
  // seen is kept, as the GEMM keeps its best time, so both are "what this CPU did when free".
  std::vector<double> peaks(counts.size(), 0.0);
  auto measurePeaks = [&](double seconds, int32_t repeats) {
    if (peakVariant == nullptr) return;
    for (std::size_t i = 0; i < counts.size(); ++i) {
      peaks[i] =
          std::max(peaks[i], bench::measurePeak(*peakVariant, counts[i], seconds, repeats).gflops);
    }
  };
  measurePeaks(0.2, 3);
  struct Row {
    const Case* c;
    std::vector<double> gflops;
  };
  std::vector<Row> rows;
  const std::vector<Case> all = extra.empty() ? cases() : extra;
  for (const Case& c : all) {
    if (!filter.empty() && c.name.find(filter) == std::string::npos) continue;
    Row row{&c, {}};
    for (int32_t t : counts) {
      ThreadPool pool(t);
      row.gflops.push_back(2.0 * c.m * c.n * c.k / bestSeconds(c, mk, pool, seconds) * 1e-9);
    }
    rows.push_back(row);
    measurePeaks(0.05, 2);
  }
  std::printf("cpu: %s; gemm.%s (%dx%d micro-kernel)\n", hostCpu().name.c_str(),
              chosen->suffix.c_str(), mk.mr, mk.nr);
  for (std::size_t i = 0; i < counts.size(); ++i) {
    std::printf("peak %s, %d thread%s: %.1f GFLOP/s\n",
                peakVariant != nullptr ? peakVariant->isa.c_str() : "-", counts[i],
                counts[i] == 1 ? "" : "s", peaks[i]);
  }
  std::printf("%-24s %5s %5s %5s", "case", "M", "N", "K");
  for (int32_t t : counts) std::printf("  %4dT GFLOP/s  %%peak", t);
  std::printf("\n");
  for (const Row& row : rows) {
    const Case& c = *row.c;
    std::printf("%-24s %5lld %5lld %5lld", c.name.c_str(), static_cast<long long>(c.m),
                static_cast<long long>(c.n), static_cast<long long>(c.k));
    for (std::size_t i = 0; i < counts.size(); ++i) {
      std::printf("  %13.1f %6.1f", row.gflops[i],
                  peaks[i] > 0 ? 100.0 * row.gflops[i] / peaks[i] : 0.0);
    }
    std::printf("\n");
  }
  return 0;
}
