// kiln — Builder and BuilderConfig: turn a NetworkDefinition into an engine or a plan.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
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
}

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

  //! Target device of the engine (default: CPU while no GPU backend is built in).
  void setDeviceType(DeviceType type);
  DeviceType deviceType() const;

  //! Threads the build and the engine's CPU kernels use (0 = one per physical core).
  void setNbThreads(int32_t threads);
  int32_t nbThreads() const;

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

  //! Optimizes @p network for the target of @p config and returns the plan bytes;
  //! empty on failure (the reason is logged).
  std::vector<std::byte> buildSerializedNetwork(NetworkDefinition& network,
                                                const BuilderConfig& config);
  //! As buildSerializedNetwork, but returns the engine ready to run; null on failure.
  std::unique_ptr<Engine> buildEngine(NetworkDefinition& network, const BuilderConfig& config);

  void setErrorRecorder(ErrorRecorder* recorder) noexcept;
  Logger& logger() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln
