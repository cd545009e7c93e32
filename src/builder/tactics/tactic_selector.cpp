#include "builder/tactics/tactic_selector.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <random>

#include "backends/device.h"
#include "backends/tactic.h"
#include "builder/tactics/tactic_timing.h"
#include "builder/tactics/timing_cache.h"
#include "core/aligned_buffer.h"
#include "core/async_errors.h"
#include "core/cpu_info.h"
#include "core/error.h"
#include "core/half.h"
#include "core/shape_util.h"
#include "core/thread_pool.h"
#include "runtime/engine_impl.h"

namespace kiln::builder {

namespace {

// Buffers with dummy data for timing one node, on the device the engine targets.
struct DummyTensors {
  std::vector<AlignedBuffer> hostBuffers;
  std::vector<backends::DeviceBuffer> deviceBuffers;
  std::vector<ir::TensorView> inputs;
  std::vector<ir::TensorView> outputs;
};

// Dummy inputs repeat a random block of this many elements: timing does not depend on the
// values, and drawing every element of batch-256 activations took most of a large engine's
// build.
constexpr std::size_t kPatternElements = std::size_t{1} << 16;

template <typename T, typename Next>
void fillRepeating(std::byte* bytes, std::size_t count, Next&& next) {
  auto* data = reinterpret_cast<T*>(bytes);
  const std::size_t first = std::min(count, kPatternElements);
  for (std::size_t i = 0; i < first; ++i) data[i] = next();
  for (std::size_t done = first; done < count;) {
    const std::size_t n = std::min(done, count - done);
    std::memcpy(data + done, data, n * sizeof(T));
    done += n;
  }
}

DummyTensors makeDummies(const ir::Graph& graph, const ir::Node& node,
                         const backends::DeviceRuntime& device) {
  DummyTensors t;
  t.hostBuffers.reserve(node.inputs.size() + node.outputs.size());
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  const bool onHost = device.type() == DeviceType::kCPU;
  // Outputs start as zeros (kernels write them; none should see garbage it might read).
  auto alloc = [&](const ir::Value& value, bool output) -> void* {
    const std::size_t bytes = checkedByteSize(value.dims, value.dtype, value.name);
    t.hostBuffers.emplace_back(bytes);
    auto& buf = t.hostBuffers.back();
    if (value.isConstant()) {
      if (bytes > 0) std::memcpy(buf.data(), value.constant->data(), bytes);
    } else if (!output && value.dtype == DataType::kFLOAT) {
      fillRepeating<float>(buf.data(), bytes / sizeof(float), [&] { return dist(rng); });
    } else if (!output && (value.dtype == DataType::kHALF || value.dtype == DataType::kBF16)) {
      const bool half = value.dtype == DataType::kHALF;
      fillRepeating<uint16_t>(buf.data(), bytes / sizeof(uint16_t), [&] {
        return half ? floatToHalf(dist(rng)) : floatToBFloat16(dist(rng));
      });
    } else {
      // Zeros are valid indices, conditions and counts for every integer op.
      if (bytes > 0) std::memset(buf.data(), 0, bytes);
    }
    if (onHost) return buf.data();
    t.deviceBuffers.emplace_back(device, std::max<std::size_t>(bytes, 1));
    device.copyAsync(t.deviceBuffers.back().data(), buf.data(), bytes,
                     backends::CopyKind::kHostToDevice, nullptr);
    return t.deviceBuffers.back().data();
  };
  for (ir::ValueId v : node.inputs) {
    if (v == ir::kNoValue) {
      t.inputs.push_back({DataType::kFLOAT, Dims{}, nullptr, false});
    } else {
      const auto& value = graph.value(v);
      t.inputs.push_back({value.dtype, value.dims, alloc(value, false), true});
    }
  }
  for (ir::ValueId v : node.outputs) {
    const auto& value = graph.value(v);
    t.outputs.push_back({value.dtype, value.dims, alloc(value, true), true});
  }
  device.synchronize(nullptr);
  return t;
}

// Layers whose tensors take more than this are not timed: the dummy tensors would take as much
// again at build time, and kernels of that size rank the same as on smaller ones.
constexpr std::size_t kMaxTimedBytes = std::size_t{1} << 31;

std::size_t nodeBytes(const ir::Graph& graph, const ir::Node& node) {
  std::size_t total = 0;
  auto add = [&](ir::ValueId v) {
    if (v == ir::kNoValue) return;
    const ir::Value& value = graph.value(v);
    total += checkedByteSize(value.dims, value.dtype, value.name);
  };
  for (ir::ValueId v : node.inputs) add(v);
  for (ir::ValueId v : node.outputs) add(v);
  return total;
}

// The candidates of one node set up for timing runs. They never run at the same time, so they
// share one workspace of the largest size, allocated once: no run pays for fresh pages, and a
// GPU holds one workspace, not one per candidate.
class TimedKernels {
 public:
  TimedKernels(const std::vector<std::unique_ptr<backends::Kernel>>& kernels, const ir::Node& node,
               DummyTensors& dummies, ThreadPool& threads, const backends::DeviceRuntime& device)
      : kernels_(kernels),
        node_(node),
        dummies_(dummies),
        threads_(threads),
        device_(device),
        workspace_(device, maxOf(kernels, &backends::Kernel::workspaceBytes)),
        hostWorkspace_(device, maxOf(kernels, &backends::Kernel::hostWorkspaceBytes),
                       /*host=*/true) {}

  //! One run of candidate @p i: its time in microseconds; throws kFAILED_EXECUTION with the
  //! kernel's error.
  double run(std::size_t i) {
    const backends::Kernel& kernel = *kernels_[i];
    const ir::KernelContext ctx{node_,
                                dummies_.inputs,
                                dummies_.outputs,
                                workspace_.data(),
                                kernel.workspaceBytes(),
                                &threads_,
                                nullptr,
                                hostWorkspace_.data(),
                                &errors_};
    double us = 0;
    if (device_.type() == DeviceType::kCPU) evictCaches();
    try {
      us = device_.timeUs([&] { kernel.execute(ctx); }, nullptr);
    } catch (...) {
      errors_.take();  // not the next candidate's
      throw;
    }
    if (auto error = errors_.take()) fail(ErrorCode::kFAILED_EXECUTION, *error);
    return us;
  }

 private:
  // Writes a buffer of twice a core's L2 on every thread of the pool before a CPU run, so that
  // the run finds its weights and input outside the cores' caches as it does in a network, where
  // the layers before it have filled them. Timed hot, kernels with larger footprints won layers
  // they then lost in the model: UNet's 16-channel 3x3 layers took Winograd (0.60 against the
  // direct kernel's 0.68 ms alone, 0.96 against 0.88 ms in the model); with the eviction the
  // direct kernel wins them, and the UNet and GoogLeNet plans run 1-4% faster. (The pool's
  // scratch lives as long as the selection's pool.)
  void evictCaches() {
    constexpr std::size_t kBytes = std::size_t{2} << 20;
    threads_.run(threads_.size(), [&](int64_t, int32_t worker) {
      auto* p = static_cast<char*>(threads_.scratch(worker, kBytes, 3));
      for (std::size_t i = 0; i < kBytes; i += 64) p[i] = static_cast<char>(i);
    });
  }

  static std::size_t maxOf(const std::vector<std::unique_ptr<backends::Kernel>>& kernels,
                           std::size_t (backends::Kernel::*bytes)() const) {
    std::size_t most = 0;
    for (const auto& kernel : kernels) most = std::max(most, ((*kernel).*bytes)());
    return most;
  }

  const std::vector<std::unique_ptr<backends::Kernel>>& kernels_;
  const ir::Node& node_;
  DummyTensors& dummies_;
  ThreadPool& threads_;
  const backends::DeviceRuntime& device_;
  backends::DeviceBuffer workspace_;
  backends::DeviceBuffer hostWorkspace_;
  AsyncErrors errors_;
};

double steadyClockUs() {
  return std::chrono::duration<double, std::micro>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Whether a tactic only runs an op's reference kernel: never faster, the fallback.
bool isFallback(std::string_view tactic) {
  return tactic == "cpu.reference" || tactic == "cuda.host";
}

}  // namespace

TacticChoice selectTactics(const ir::Graph& graph, const detail::BuilderConfigData& config,
                           const Reporter& reporter) {
  TacticChoice choice;
  // Candidates are timed on the threads the engine will have.
  ThreadPool threads(config.nbThreads);
  const auto& registry = backends::TacticRegistry::instance();
  const backends::DeviceRuntime& device = *backends::deviceRuntime(config.device);
  std::map<std::string, int32_t> onHost;  // GPU engines: layers left to the host, per op
  for (const ir::Node& node : graph.nodes) {
    const detail::NodeShapes shapes = detail::nodeShapes(graph, node);
    const backends::NodeSpec spec{node, shapes.inputs, shapes.outputs};
    std::vector<const backends::Tactic*> usable;
    std::vector<std::unique_ptr<backends::Kernel>> kernels;
    for (const backends::Tactic* tactic : registry.candidates(node.op, config.device)) {
      if (!backends::runsHere(*tactic) || !tactic->supports(spec)) continue;
      std::unique_ptr<backends::Kernel> kernel;
      try {
        kernel = tactic->instantiate(spec);
      } catch (const Error& e) {
        // A library may refuse a configuration only when asked for it (a cuDNN algorithm
        // without a kernel for these descriptors): that candidate is out.
        reporter.verbose("layer '" + node.name + "': tactic " + std::string(tactic->name()) +
                         " skipped: " + e.what());
        continue;
      }
      if (kernel->workspaceBytes() > config.workspaceLimit) {
        reporter.verbose("layer '" + node.name + "': tactic " + std::string(tactic->name()) +
                         " skipped: needs " + std::to_string(kernel->workspaceBytes()) +
                         " bytes of workspace, the limit is " +
                         std::to_string(config.workspaceLimit));
        continue;
      }
      usable.push_back(tactic);
      kernels.push_back(std::move(kernel));
    }
    if (usable.empty()) {
      fail(ErrorCode::kUNSUPPORTED_NODE, "layer '", node.name, "' (", node.op,
           "): no kernel of the ", config.device == DeviceType::kCPU ? "CPU" : "GPU",
           " backend supports it with these shapes and types");
    }
    std::size_t best = 0;
    bool cached = false;
    std::string key;
    detail::TimingCacheData* cache =
        config.timingCache != nullptr ? &config.timingCache->data() : nullptr;
    if (usable.size() > 1 && config.optimizationLevel > 0 && cache != nullptr) {
      key = detail::timingKey(graph, node, config);
      if (const auto hit = cache->find(key)) {
        for (std::size_t i = 0; i < usable.size(); ++i) {
          if (usable[i]->name() == hit->tactic) {
            best = i;
            cached = true;
            reporter.verbose("layer '" + node.name + "': tactic " + hit->tactic +
                             " from the timing cache");
            break;
          }
        }
      }
    }
    bool timed = usable.size() > 1 && config.optimizationLevel > 0 && !cached;
    if (timed && nodeBytes(graph, node) > kMaxTimedBytes) {
      reporter.verbose("layer '" + node.name + "': not timed: its tensors take " +
                       std::to_string(nodeBytes(graph, node)) +
                       " bytes; the first applicable tactic is used");
      timed = false;
    }
    if (timed) {
      DummyTensors dummies = makeDummies(graph, node, device);
      // Below level 4 the reference kernel is only the fallback: never faster, not timed.
      std::vector<bool> skip(usable.size());
      for (std::size_t i = 0; i < usable.size(); ++i) {
        skip[i] = config.optimizationLevel < 4 && isFallback(usable[i]->name());
      }
      TimedKernels runners(kernels, node, dummies, threads, device);
      const RunCandidate run = [&](std::size_t i) -> std::optional<double> {
        try {
          return runners.run(i);
        } catch (const Error& e) {
          // Dummy data may be invalid for the op (a zero divisor, say): time the others.
          reporter.verbose("layer '" + node.name + "': tactic " + std::string(usable[i]->name()) +
                           " not timed: " + e.what());
          return std::nullopt;
        }
      };
      const TimingResult timing = timeCandidates(usable.size(), skip, run, steadyClockUs);
      for (std::size_t i = 0; i < usable.size(); ++i) {
        if (!timing.scores[i]) continue;
        reporter.verbose("layer '" + node.name + "': tactic " + std::string(usable[i]->name()) +
                         " takes " + std::to_string(*timing.scores[i]) + " us" +
                         (timing.samples[i] == 0
                              ? std::string(" (warm-up only: cannot win)")
                              : " (" + std::to_string(timing.samples[i]) + " samples)"));
      }
      if (timing.best) {
        best = *timing.best;
        if (cache != nullptr) {
          cache->insert(key, {std::string(usable[best]->name()), *timing.scores[best]});
        }
      }
    }
    choice.tactics.emplace_back(usable[best]->name());
    if (config.device == DeviceType::kGPU && isFallback(usable[best]->name())) ++onHost[node.op];
    for (const auto& feature : usable[best]->requiredIsa()) {
      if (std::find(choice.requiredIsa.begin(), choice.requiredIsa.end(), feature) ==
          choice.requiredIsa.end()) {
        choice.requiredIsa.push_back(feature);
      }
    }
  }
  if (!onHost.empty()) {
    std::string ops;
    for (const auto& [op, count] : onHost) {
      ops += (ops.empty() ? "" : ", ") + op + " (" + std::to_string(count) + ")";
    }
    reporter.warning(
        "these layers have no CUDA kernel yet and run on the host, between copies "
        "on the stream: " +
        ops);
  }
  return choice;
}

}  // namespace kiln::builder
