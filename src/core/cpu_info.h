// What this CPU is and which instruction-set extensions it (and the OS) supports.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

struct CpuInfo {
  std::string name;                   //!< brand string, e.g. "AMD EPYC 9B45"
  std::vector<std::string> features;  //!< "avx2", "fma", "avx512f", "avx512bw", "avx512vnni", ...

  bool has(std::string_view feature) const;
};

//! Detected once (cpuid + xgetbv), then cached.
const CpuInfo& hostCpu();

//! Number of physical cores (falls back to logical processors).
int physicalCoreCount();

//! Bytes of one core's L2 cache (the OS's answer, read once; 1 MiB where it gives none).
int64_t l2CacheBytes();

}  // namespace kiln
