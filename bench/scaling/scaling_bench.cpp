// kiln_bench_scaling: one plan at several thread counts in one process, inference by inference in
// rotating order, so every thread count meets the same moments of a shared machine (separate
// runs minutes apart on these VMs differ by more than the effect measured). Prints each count's
// fastest and median latency and, with --profile, every layer's median time and its speedup
// over the first count.
//   kiln_bench_scaling PLAN [--threads=1,2] [--iterations=N] [--profile]
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/kiln.h"

namespace {

// Every layer time of the inferences it is enabled for, by layer, in the engine's order.
class LayerTimes final : public kiln::Profiler {
 public:
  void reportLayerTime(std::string_view layerName, float ms) noexcept override {
    if (!recording) return;
    std::string name(layerName);
    auto [it, added] = times_.try_emplace(name);
    if (added) order_.push_back(name);
    it->second.push_back(ms);
  }
  const std::vector<std::string>& order() const { return order_; }
  std::vector<double> of(const std::string& name) const {
    const auto it = times_.find(name);
    return it == times_.end() ? std::vector<double>{}
                              : std::vector<double>(it->second.begin(), it->second.end());
  }
  bool recording = false;

 private:
  std::vector<std::string> order_;
  std::map<std::string, std::vector<float>> times_;
};

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// One thread count: its runtime, engine, context and buffers.
struct Setup {
  int32_t threads = 1;
  std::unique_ptr<kiln::Runtime> runtime;
  std::unique_ptr<kiln::Engine> engine;
  std::unique_ptr<kiln::ExecutionContext> context;
  std::vector<std::vector<std::byte>> buffers;
  LayerTimes layers;
  std::vector<double> latencies;
};

bool prepare(Setup& s, kiln::Logger& logger, const std::vector<std::byte>& plan, bool profile) {
  s.runtime = std::make_unique<kiln::Runtime>(logger);
  s.runtime->setNbThreads(s.threads);
  s.engine = s.runtime->deserialize(plan);
  if (!s.engine) return false;
  s.context = s.engine->createExecutionContext();
  if (!s.context) return false;
  for (int32_t i = 0; i < s.engine->nbIOTensors(); ++i) {
    const std::string name(s.engine->ioTensorName(i));
    const kiln::Dims dims = s.engine->tensorShape(name);
    std::size_t count = 1;
    for (int32_t d = 0; d < dims.nbDims; ++d) {
      if (dims.d[d] < 0) {
        std::fprintf(stderr, "tensor '%s' has a dynamic shape: build the plan for one shape\n",
                     name.c_str());
        return false;
      }
      count *= static_cast<std::size_t>(dims.d[d]);
    }
    // 8 bytes an element covers every type; zeros are a valid input of every model.
    s.buffers.emplace_back(count * 8 + 64);
    void* data = s.buffers.back().data();
    const bool ok = s.engine->tensorIOMode(name) == kiln::TensorIOMode::kINPUT
                        ? s.context->setInputTensorAddress(name, data)
                        : s.context->setTensorAddress(name, data);
    if (!ok) return false;
  }
  if (profile) s.context->setProfiler(&s.layers);
  return true;
}

std::vector<int32_t> parseThreads(std::string_view list) {
  std::vector<int32_t> out;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const int32_t n = std::atoi(std::string(list.substr(0, comma)).c_str());
    if (n < 1) return {};
    out.push_back(n);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string planPath;
  std::vector<int32_t> threads = {1, 2};
  int32_t iterations = 50;
  bool profile = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.rfind("--threads=", 0) == 0) {
      threads = parseThreads(arg.substr(10));
    } else if (arg.rfind("--iterations=", 0) == 0) {
      iterations = std::atoi(argv[i] + 13);
    } else if (arg == "--profile") {
      profile = true;
    } else if (arg.rfind("--", 0) != 0 && planPath.empty()) {
      planPath = arg;
    } else {
      std::fprintf(stderr, "kiln_bench_scaling: unknown argument '%s'\n", argv[i]);
      return 2;
    }
  }
  if (planPath.empty() || threads.empty() || iterations < 1) {
    std::fprintf(stderr,
                 "usage: kiln_bench_scaling PLAN [--threads=1,2] [--iterations=N] [--profile]\n");
    return 2;
  }
  std::ifstream file(planPath, std::ios::binary);
  if (!file) {
    std::fprintf(stderr, "kiln_bench_scaling: cannot read '%s'\n", planPath.c_str());
    return 1;
  }
  const std::vector<char> raw((std::istreambuf_iterator<char>(file)), {});
  std::vector<std::byte> plan(raw.size());
  std::transform(raw.begin(), raw.end(), plan.begin(), [](char c) { return std::byte(c); });

  kiln::ConsoleLogger logger;
  std::vector<Setup> setups(threads.size());
  for (std::size_t i = 0; i < setups.size(); ++i) {
    setups[i].threads = threads[i];
    if (!prepare(setups[i], logger, plan, profile)) {
      std::fprintf(stderr, "kiln_bench_scaling: cannot run '%s' on %d threads\n", planPath.c_str(),
                   threads[i]);
      return 1;
    }
  }
  constexpr int32_t kWarmUp = 3;
  const std::size_t modes = setups.size();
  for (int32_t round = 0; round < kWarmUp + iterations; ++round) {
    // Each round starts with the next count, so no count always follows the same other one.
    for (std::size_t j = 0; j < modes; ++j) {
      Setup& s = setups[(static_cast<std::size_t>(round) + j) % modes];
      s.layers.recording = round >= kWarmUp;
      const auto start = std::chrono::steady_clock::now();
      if (!s.context->enqueueV3()) {
        std::fprintf(stderr, "kiln_bench_scaling: inference failed on %d threads\n", s.threads);
        return 1;
      }
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      if (round >= kWarmUp) s.latencies.push_back(ms);
    }
  }

  if (profile) {
    std::printf("%-48s", "layer (median ms)");
    for (const Setup& s : setups) std::printf(" %7dT", s.threads);
    for (std::size_t i = 1; i < modes; ++i)
      std::printf(" %5dT/%dT", setups[0].threads, setups[i].threads);
    std::printf("\n");
    for (const std::string& name : setups[0].layers.order()) {
      std::printf("%-48.48s", name.c_str());
      std::vector<double> m(modes);
      for (std::size_t i = 0; i < modes; ++i) m[i] = median(setups[i].layers.of(name));
      for (double v : m) std::printf(" %8.3f", v);
      for (std::size_t i = 1; i < modes; ++i) std::printf(" %9.2f", m[i] > 0 ? m[0] / m[i] : 0.0);
      std::printf("\n");
    }
  }
  for (const Setup& s : setups) {
    std::printf("%d thread%s: fastest %.3f ms, median %.3f ms (%d inferences)\n", s.threads,
                s.threads == 1 ? "" : "s",
                *std::min_element(s.latencies.begin(), s.latencies.end()), median(s.latencies),
                iterations);
  }
  return 0;
}
