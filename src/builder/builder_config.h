// The settings behind a BuilderConfig.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "kiln/builder.h"

namespace kiln::detail {

struct BuilderConfigData {
  uint64_t flags = 0;  //!< bit i = BuilderFlag i
  std::size_t workspaceLimit = std::numeric_limits<std::size_t>::max();
  int32_t optimizationLevel = 3;
  DeviceType device = DeviceType::kCPU;
  int32_t nbThreads = 0;

  bool flag(BuilderFlag f) const noexcept { return (flags >> static_cast<uint32_t>(f)) & 1u; }
};

}  // namespace kiln::detail
