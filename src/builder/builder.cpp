// The public Builder and BuilderConfig API.
#include "kiln/builder.h"

#include <algorithm>

#include "backends/device.h"
#include "builder/build_plan.h"
#include "builder/builder_config.h"
#include "builder/passes/pass_manager.h"
#include "builder/profile_data.h"
#include "builder/tactics/timing_cache.h"
#include "core/error.h"
#include "network/network_impl.h"
#include "plan/plan_io.h"
#include "runtime/engine_impl.h"

namespace kiln {

// ---------------------------------------------------------------------------------------------
// BuilderConfig

BuilderConfig::BuilderConfig() : data_(std::make_unique<detail::BuilderConfigData>()) {}
BuilderConfig::~BuilderConfig() = default;

void BuilderConfig::setFlag(BuilderFlag flag) {
  data_->flags |= uint64_t{1} << static_cast<uint32_t>(flag);
}
void BuilderConfig::clearFlag(BuilderFlag flag) {
  data_->flags &= ~(uint64_t{1} << static_cast<uint32_t>(flag));
}
bool BuilderConfig::getFlag(BuilderFlag flag) const {
  return data_->flag(flag);
}

void BuilderConfig::setMemoryPoolLimit(MemoryPoolType pool, std::size_t bytes) {
  if (pool == MemoryPoolType::kWORKSPACE) data_->workspaceLimit = bytes;
}
std::size_t BuilderConfig::memoryPoolLimit(MemoryPoolType pool) const {
  return pool == MemoryPoolType::kWORKSPACE ? data_->workspaceLimit : 0;
}

void BuilderConfig::setBuilderOptimizationLevel(int32_t level) {
  data_->optimizationLevel = std::clamp(level, 0, 5);
}
int32_t BuilderConfig::builderOptimizationLevel() const {
  return data_->optimizationLevel;
}

void BuilderConfig::setDeviceType(DeviceType type) {
  data_->device = type;
}
DeviceType BuilderConfig::deviceType() const {
  return data_->device;
}
void BuilderConfig::setGpuDevice(int32_t index) {
  data_->gpuDevice = index;
}
int32_t BuilderConfig::gpuDevice() const {
  return data_->gpuDevice;
}

void BuilderConfig::setNbThreads(int32_t threads) {
  data_->nbThreads = std::max(threads, 0);
}
int32_t BuilderConfig::nbThreads() const {
  return data_->nbThreads;
}

bool BuilderConfig::setPassEnabled(std::string_view pass, bool enabled) {
  if (!builder::isPassName(pass)) return false;
  auto& disabled = data_->disabledPasses;
  const auto it = std::find(disabled.begin(), disabled.end(), pass);
  if (enabled && it != disabled.end()) disabled.erase(it);
  if (!enabled && it == disabled.end()) disabled.emplace_back(pass);
  return true;
}
bool BuilderConfig::isPassEnabled(std::string_view pass) const {
  const auto& disabled = data_->disabledPasses;
  return builder::isPassName(pass) &&
         std::find(disabled.begin(), disabled.end(), pass) == disabled.end();
}
std::vector<std::string> BuilderConfig::optimizationPassNames() {
  std::vector<std::string> names;
  for (const auto& pass : builder::allPasses()) names.emplace_back(pass.name);
  return names;
}

std::unique_ptr<TimingCache> BuilderConfig::createTimingCache(
    std::span<const std::byte> blob) const {
  try {
    auto cache = std::unique_ptr<TimingCache>(new TimingCache());
    if (!blob.empty()) cache->data().deserialize(blob);
    return cache;
  } catch (const Error& e) {
    if (data_->reporter) {
      data_->reporter->error(e.code(), std::string("createTimingCache: ") + e.what());
    }
  } catch (const std::bad_alloc&) {
    if (data_->reporter) {
      data_->reporter->error(ErrorCode::kFAILED_ALLOCATION, "createTimingCache: out of memory");
    }
  }
  return nullptr;
}

bool BuilderConfig::setTimingCache(TimingCache& cache, bool /*ignoreMismatch*/) {
  data_->timingCache = &cache;
  return true;
}

const TimingCache* BuilderConfig::getTimingCache() const {
  return data_->timingCache;
}

int32_t BuilderConfig::addOptimizationProfile(const OptimizationProfile* profile) {
  const auto reject = [this](const std::string& why) {
    if (data_->reporter) {
      data_->reporter->error(ErrorCode::kINVALID_ARGUMENT, "addOptimizationProfile: " + why);
    }
    return -1;
  };
  if (profile == nullptr) return reject("null profile");
  if (profile->data().inputs.empty()) return reject("the profile gives no input shapes");
  for (const plan::InputRange& range : profile->data().inputs) {
    const std::string where = "input '" + range.name + "': ";
    if (range.shapeTensor) {
      const auto& [min, opt, max] = range.values;
      if (min.size() != opt.size() || opt.size() != max.size()) {
        return reject(where + "min, opt and max need the same number of values");
      }
      for (std::size_t i = 0; i < min.size(); ++i) {
        if (min[i] > opt[i] || opt[i] > max[i]) {
          return reject(where + "values must satisfy min <= opt <= max (position " +
                        std::to_string(i) + ")");
        }
      }
      continue;
    }
    const auto& [min, opt, max] = range.dims;
    if (min.nbDims < 0 || opt.nbDims < 0 || max.nbDims < 0) {
      return reject(where + "min, opt and max shapes must all be set");
    }
    if (min.nbDims != opt.nbDims || opt.nbDims != max.nbDims) {
      return reject(where + "min " + toString(min) + ", opt " + toString(opt) + " and max " +
                    toString(max) + " differ in rank");
    }
    for (int32_t i = 0; i < min.nbDims; ++i) {
      if (min[i] > opt[i] || opt[i] > max[i]) {
        return reject(where + "min " + toString(min) + ", opt " + toString(opt) + ", max " +
                      toString(max) + ": need min <= opt <= max in every dimension");
      }
    }
  }
  data_->profiles.push_back(profile->data().inputs);
  return static_cast<int32_t>(data_->profiles.size()) - 1;
}

int32_t BuilderConfig::nbOptimizationProfiles() const {
  return static_cast<int32_t>(data_->profiles.size());
}

// ---------------------------------------------------------------------------------------------
// TimingCache

TimingCache::TimingCache() : data_(std::make_unique<detail::TimingCacheData>()) {}
TimingCache::~TimingCache() = default;

std::vector<std::byte> TimingCache::serialize() const {
  try {
    return data_->serialize();
  } catch (const std::exception&) {
    return {};
  }
}

bool TimingCache::combine(const TimingCache& other, bool /*ignoreMismatch*/) {
  try {
    data_->merge(*other.data_);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

bool TimingCache::reset() {
  data_->clear();
  return true;
}

std::size_t TimingCache::size() const {
  return data_->size();
}

// ---------------------------------------------------------------------------------------------
// Builder

struct Builder::Impl {
  explicit Impl(Logger& logger) : reporter(logger) {}
  Reporter reporter;
  Allocator* allocator = nullptr;
  std::vector<std::unique_ptr<OptimizationProfile>> profiles;

  // Runs the build, reporting any error; nullopt on failure.
  std::optional<plan::EnginePlan> build(NetworkDefinition& network, const BuilderConfig& config) {
    try {
      return builder::buildPlan(network.impl().graph(), config.data(), reporter);
    } catch (const Error& e) {
      reporter.error(e.code(), std::string("build failed: ") + e.what());
    } catch (const std::bad_alloc&) {
      reporter.error(ErrorCode::kFAILED_ALLOCATION, "build failed: out of memory");
    } catch (const std::exception& e) {
      reporter.error(ErrorCode::kINTERNAL_ERROR, std::string("build failed: ") + e.what());
    }
    return std::nullopt;
  }
};

Builder::Builder(Logger& logger) : impl_(std::make_unique<Impl>(logger)) {}
Builder::~Builder() = default;

std::unique_ptr<NetworkDefinition> Builder::createNetwork() {
  return std::unique_ptr<NetworkDefinition>(
      new NetworkDefinition(std::make_unique<detail::NetworkImpl>(impl_->reporter)));
}

OptimizationProfile* Builder::createOptimizationProfile() {
  impl_->profiles.push_back(std::unique_ptr<OptimizationProfile>(new OptimizationProfile()));
  return impl_->profiles.back().get();
}

void Builder::setAllocator(Allocator* allocator) noexcept {
  impl_->allocator = allocator;
}

std::unique_ptr<BuilderConfig> Builder::createBuilderConfig() {
  auto config = std::unique_ptr<BuilderConfig>(new BuilderConfig());
  config->data_->reporter = impl_->reporter;
  config->data_->device = backends::gpuPresent() ? DeviceType::kGPU : DeviceType::kCPU;
  return config;
}

std::vector<std::byte> Builder::buildSerializedNetwork(NetworkDefinition& network,
                                                       const BuilderConfig& config) {
  auto plan = impl_->build(network, config);
  if (!plan) return {};
  try {
    return plan::writePlan(*plan);
  } catch (const Error& e) {
    impl_->reporter.error(e.code(), std::string("build failed: ") + e.what());
  }
  return {};
}

std::unique_ptr<Engine> Builder::buildEngine(NetworkDefinition& network,
                                             const BuilderConfig& config) {
  auto plan = impl_->build(network, config);
  if (!plan) return nullptr;
  try {
    return std::make_unique<Engine>(std::make_shared<detail::EngineImpl>(
        std::move(*plan), impl_->reporter, std::make_shared<ThreadPool>(config.nbThreads()),
        impl_->allocator));
  } catch (const Error& e) {
    impl_->reporter.error(e.code(), std::string("build failed: ") + e.what());
  }
  return nullptr;
}

void Builder::setErrorRecorder(ErrorRecorder* recorder) noexcept {
  impl_->reporter.setRecorder(recorder);
}
Logger& Builder::logger() noexcept {
  return impl_->reporter.logger();
}

}  // namespace kiln
