// kiln — Builder and BuilderConfig: turn a NetworkDefinition into an engine or a plan.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/logger.h"
#include "kiln/network.h"
#include "kiln/runtime.h"
#include "kiln/types.h"

namespace kiln {

namespace detail {
struct BuilderConfigData;
struct TimingCacheData;
struct ProfileData;
}  // namespace detail

//! The tactic choices of earlier builds (TensorRT's ITimingCache), keyed by layer signature (op,
//! attributes, input/output types and shapes), target ISA and thread count. A build whose config
//! has a cache takes a cached layer's tactic without timing it, and adds what it times.
//! Create one with BuilderConfig::createTimingCache.
class TimingCache {
 public:
  ~TimingCache();
  TimingCache(const TimingCache&) = delete;
  TimingCache& operator=(const TimingCache&) = delete;

  //! The bytes BuilderConfig::createTimingCache reads back (save them to a file).
  std::vector<std::byte> serialize() const;
  //! Adds the entries of @p other this cache lacks. True on success.
  bool combine(const TimingCache& other, bool ignoreMismatch);
  //! Removes every entry.
  bool reset();
  //! Number of layer signatures cached.
  std::size_t size() const;

  detail::TimingCacheData& data() noexcept { return *data_; }
  const detail::TimingCacheData& data() const noexcept { return *data_; }

 private:
  friend class BuilderConfig;
  TimingCache();
  std::unique_ptr<detail::TimingCacheData> data_;
};

//! Builder switches (TensorRT's BuilderFlag names).
enum class BuilderFlag : int32_t {
  kFP16 = 0,          //!< allow FP16 kernels
  kINT8 = 1,          //!< allow INT8 kernels
  kDEBUG = 2,         //!< check every layer's outputs for NaN/Inf at run time
  kTF32 = 3,          //!< allow TF32 on GPUs
  kBF16 = 4,          //!< allow BF16 kernels
  kSTRICT_TYPES = 5,  //!< layer precisions are requirements, not hints
};

enum class MemoryPoolType : int32_t {
  kWORKSPACE = 0,  //!< scratch memory a single kernel may use
};

//! Shapes a dynamic engine accepts (TensorRT's IOptimizationProfile): for every input with -1
//! extents, the smallest, tuned-for (opt) and largest shape; for every shape-tensor input (an
//! int32/int64 or float32 input whose values decide shapes, e.g. a Reshape's target shape or a
//! Resize's scales), the smallest,
//! tuned-for and largest values. The engine's kernels are tuned for the opt shapes and its
//! activation memory is sized for the largest. Create one with Builder::createOptimizationProfile
//! and add it to a BuilderConfig; an engine may have several.
class OptimizationProfile {
 public:
  ~OptimizationProfile();
  OptimizationProfile(const OptimizationProfile&) = delete;
  OptimizationProfile& operator=(const OptimizationProfile&) = delete;

  //! Shape @p which of input @p input. False (nothing changes) for an empty name, a rank
  //! outside [0, 8] or a negative extent.
  bool setDimensions(std::string_view input, OptProfileSelector which, const Dims& dims);
  //! nbDims = -1 when not set.
  Dims getDimensions(std::string_view input, OptProfileSelector which) const;

  //! Values @p which of shape-tensor input @p input (one per element).
  bool setShapeValues(std::string_view input, OptProfileSelector which,
                      std::span<const int64_t> values);
  //! Values @p which of a float32 shape-tensor input: one whose values decide shapes although
  //! they are not integers (a Resize's scales, a OneHot's depth; a kiln extension of TensorRT's
  //! int-only shape tensors). The engine is specialized to them like to int values.
  bool setShapeValues(std::string_view input, OptProfileSelector which,
                      std::span<const float> values);
  //! Empty when not set.
  std::vector<int64_t> getShapeValues(std::string_view input, OptProfileSelector which) const;
  //! The float32 values; empty when not set.
  std::vector<float> getFloatShapeValues(std::string_view input, OptProfileSelector which) const;

  //! True when every input given has all three shapes (or values) of one rank (length), with
  //! min <= opt <= max in every position.
  bool isValid() const;

  detail::ProfileData& data() noexcept { return *data_; }
  const detail::ProfileData& data() const noexcept { return *data_; }

 private:
  friend class Builder;
  OptimizationProfile();
  std::unique_ptr<detail::ProfileData> data_;
};

class BuilderConfig {
 public:
  ~BuilderConfig();
  BuilderConfig(const BuilderConfig&) = delete;
  BuilderConfig& operator=(const BuilderConfig&) = delete;

  void setFlag(BuilderFlag flag);
  void clearFlag(BuilderFlag flag);
  bool getFlag(BuilderFlag flag) const;

  //! Upper bound of a memory pool in bytes (default: workspace unlimited on the CPU).
  void setMemoryPoolLimit(MemoryPoolType pool, std::size_t bytes);
  std::size_t memoryPoolLimit(MemoryPoolType pool) const;

  //! 0 = heuristics only (fastest build) ... 5 = widest tactic search. Default 3.
  void setBuilderOptimizationLevel(int32_t level);
  int32_t builderOptimizationLevel() const;

  //! Target device of the engine. Default: the GPU when this build has the CUDA backend and a
  //! GPU is present, else the CPU.
  void setDeviceType(DeviceType type);
  DeviceType deviceType() const;
  //! Which CUDA device a GPU engine is built for and timed on (default 0).
  void setGpuDevice(int32_t index);
  int32_t gpuDevice() const;

  //! Threads the build and the engine's CPU kernels use (0 = one per physical core).
  void setNbThreads(int32_t threads);
  int32_t nbThreads() const;

  //! Switches an optimization pass off (or back on) by its name, for debugging a network or
  //! a pass: "dead-layer-elimination", "constant-folding", "conv-scale-fusion", ... (see
  //! optimizationPassNames). False, and nothing changes, for an unknown name.
  bool setPassEnabled(std::string_view pass, bool enabled);
  bool isPassEnabled(std::string_view pass) const;
  //! Every optimization pass, in the order the builder runs them.
  static std::vector<std::string> optimizationPassNames();

  //! A timing cache holding @p blob (from TimingCache::serialize); empty @p blob gives an empty
  //! cache. Null when the bytes are not a valid timing cache (the reason is logged).
  std::unique_ptr<TimingCache> createTimingCache(std::span<const std::byte> blob) const;
  //! Builds with this config read @p cache and add their timings to it; @p cache must outlive
  //! them. (@p ignoreMismatch is accepted for TensorRT compatibility: entries of another CPU
  //! never match a key here, so they are simply unused.)
  bool setTimingCache(TimingCache& cache, bool ignoreMismatch);
  //! The cache set by setTimingCache; null when none.
  const TimingCache* getTimingCache() const;

  //! Adds a copy of @p profile; returns its index, or -1 (the reason logged) when it is null or
  //! invalid. A network with dynamic inputs (-1 extents) or shape-tensor inputs needs at least
  //! one profile that covers every such input.
  int32_t addOptimizationProfile(const OptimizationProfile* profile);
  int32_t nbOptimizationProfiles() const;

  detail::BuilderConfigData& data() noexcept { return *data_; }
  const detail::BuilderConfigData& data() const noexcept { return *data_; }

 private:
  friend class Builder;
  BuilderConfig();
  std::unique_ptr<detail::BuilderConfigData> data_;
};

class Builder {
 public:
  //! @p logger must outlive the builder and every network it creates.
  explicit Builder(Logger& logger);
  ~Builder();
  Builder(const Builder&) = delete;
  Builder& operator=(const Builder&) = delete;

  std::unique_ptr<NetworkDefinition> createNetwork();
  std::unique_ptr<BuilderConfig> createBuilderConfig();
  //! A new, empty optimization profile, owned by the builder (valid while it lives).
  OptimizationProfile* createOptimizationProfile();

  //! Optimizes @p network for the target of @p config and returns the plan bytes;
  //! empty on failure (the reason is logged).
  std::vector<std::byte> buildSerializedNetwork(NetworkDefinition& network,
                                                const BuilderConfig& config);
  //! As buildSerializedNetwork, but returns the engine ready to run; null on failure.
  std::unique_ptr<Engine> buildEngine(NetworkDefinition& network, const BuilderConfig& config);

  //! Memory for the contexts of engines this builder returns from buildEngine (null: kiln's
  //! own).
  void setAllocator(Allocator* allocator) noexcept;

  void setErrorRecorder(ErrorRecorder* recorder) noexcept;
  Logger& logger() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln
