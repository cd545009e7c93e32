// The settings behind a BuilderConfig.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "core/reporter.h"
#include "kiln/builder.h"
#include "plan/engine_plan.h"

namespace kiln::detail {

struct BuilderConfigData {
  uint64_t flags = 0;  //!< bit i = BuilderFlag i
  std::size_t workspaceLimit = std::numeric_limits<std::size_t>::max();
  int32_t optimizationLevel = 3;
  DeviceType device = DeviceType::kCPU;  //!< Builder::createBuilderConfig picks the default
  int32_t gpuDevice = 0;
  int32_t nbThreads = 0;
  std::vector<std::string> disabledPasses;  //!< names of optimization passes not to run
  TimingCache* timingCache = nullptr;       //!< set by BuilderConfig::setTimingCache
  std::optional<Reporter> reporter;         //!< the creating builder's, for config errors
  std::vector<std::vector<plan::InputRange>> profiles;  //!< by addOptimizationProfile

  bool flag(BuilderFlag f) const noexcept { return (flags >> static_cast<uint32_t>(f)) & 1u; }
};

}  // namespace kiln::detail
