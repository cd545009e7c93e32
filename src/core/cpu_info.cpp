#include "core/cpu_info.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <set>
#include <thread>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace kiln {

bool CpuInfo::has(std::string_view feature) const {
  return std::find(features.begin(), features.end(), feature) != features.end();
}

namespace {

#if defined(__x86_64__) || defined(__i386__)
struct Regs {
  unsigned a = 0, b = 0, c = 0, d = 0;
};

Regs cpuid(unsigned leaf, unsigned sub) {
  Regs r;
  __cpuid_count(leaf, sub, r.a, r.b, r.c, r.d);
  return r;
}

uint64_t xgetbv0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

CpuInfo detect() {
  CpuInfo info;
  const unsigned maxLeaf = cpuid(0, 0).a;
  const Regs l1 = cpuid(1, 0);
  const bool osxsave = (l1.c >> 27) & 1u;
  const uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  const bool osAvx = (xcr0 & 0x6) == 0x6;
  const bool osAvx512 = (xcr0 & 0xe6) == 0xe6;
  const bool osAmx = (xcr0 & (3u << 17)) == (3u << 17);
  auto add = [&](bool present, const char* name) {
    if (present) info.features.emplace_back(name);
  };
  add((l1.c >> 19) & 1u, "sse4.1");
  add((l1.c >> 20) & 1u, "sse4.2");
  add(osAvx && ((l1.c >> 28) & 1u), "avx");
  add(osAvx && ((l1.c >> 12) & 1u), "fma");
  add(osAvx && ((l1.c >> 29) & 1u), "f16c");
  if (maxLeaf >= 7) {
    const Regs l7 = cpuid(7, 0);
    const Regs l71 = cpuid(7, 1);
    add(osAvx && ((l7.b >> 5) & 1u), "avx2");
    add(osAvx512 && ((l7.b >> 16) & 1u), "avx512f");
    add(osAvx512 && ((l7.b >> 17) & 1u), "avx512dq");
    add(osAvx512 && ((l7.b >> 30) & 1u), "avx512bw");
    add(osAvx512 && ((l7.b >> 31) & 1u), "avx512vl");
    add(osAvx512 && ((l7.c >> 11) & 1u), "avx512vnni");
    add(osAvx512 && ((l71.a >> 5) & 1u), "avx512bf16");
    add(osAvx512 && ((l7.d >> 23) & 1u), "avx512fp16");
    add(osAmx && ((l7.d >> 22) & 1u), "amx-bf16");
    add(osAmx && ((l7.d >> 24) & 1u), "amx-tile");
    add(osAmx && ((l7.d >> 25) & 1u), "amx-int8");
  }
  char brand[49] = {};
  if (cpuid(0x80000000u, 0).a >= 0x80000004u) {
    for (std::size_t i = 0; i < 3; ++i) {
      const Regs r = cpuid(0x80000002u + static_cast<unsigned>(i), 0);
      std::memcpy(brand + i * 16 + 0, &r.a, 4);
      std::memcpy(brand + i * 16 + 4, &r.b, 4);
      std::memcpy(brand + i * 16 + 8, &r.c, 4);
      std::memcpy(brand + i * 16 + 12, &r.d, 4);
    }
  }
  info.name = brand;
  const auto first = info.name.find_first_not_of(' ');
  info.name = first == std::string::npos ? "x86-64 CPU" : info.name.substr(first);
  while (!info.name.empty() && info.name.back() == ' ') info.name.pop_back();
  return info;
}
#else
CpuInfo detect() {
  return CpuInfo{"CPU", {}};
}
#endif

}  // namespace

const CpuInfo& hostCpu() {
  static const CpuInfo info = detect();
  return info;
}

int physicalCoreCount() {
  static const int count = [] {
    // Distinct (physical id, core id) pairs of /proc/cpuinfo.
    std::ifstream in("/proc/cpuinfo");
    std::set<std::pair<int, int>> cores;
    std::string line;
    int physical = 0;
    while (std::getline(in, line)) {
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      if (line.rfind("physical id", 0) == 0) physical = std::atoi(line.c_str() + colon + 1);
      if (line.rfind("core id", 0) == 0)
        cores.insert({physical, std::atoi(line.c_str() + colon + 1)});
    }
    const int logical = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    return cores.empty() ? logical : std::min(logical, static_cast<int>(cores.size()));
  }();
  return count;
}

int64_t l2CacheBytes() {
  static const int64_t bytes = [] {
    constexpr int64_t kFallback = int64_t{1} << 20;
#ifdef _SC_LEVEL2_CACHE_SIZE
    const long reported = sysconf(_SC_LEVEL2_CACHE_SIZE);
    if (reported > 0) return static_cast<int64_t>(reported);
#endif
    return kFallback;
  }();
  return bytes;
}

}  // namespace kiln
