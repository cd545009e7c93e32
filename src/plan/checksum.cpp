#include <cstring>

#include "plan/byte_io.h"
#include "plan/plan_format.h"

namespace kiln::plan {

uint64_t checksum64(std::span<const std::byte> bytes) noexcept {
  constexpr uint64_t kPrime = 0x9e3779b97f4a7c15ull;  // odd: multiplication is a bijection
  uint64_t h = 0xcbf29ce484222325ull ^ (bytes.size() * kPrime);
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, bytes.data() + i, 8);
    h = (h ^ word) * kPrime;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  if (i < bytes.size()) std::memcpy(&tail, bytes.data() + i, bytes.size() - i);
  h = (h ^ tail) * kPrime;
  h ^= h >> 32;
  return h;
}

std::string_view sectionName(SectionId id) noexcept {
  switch (id) {
    case SectionId::kGraph:
      return "graph";
    case SectionId::kTactics:
      return "tactics";
    case SectionId::kMemory:
      return "memory";
    case SectionId::kWeights:
      return "weights";
    case SectionId::kProfiles:
      return "profiles";
    case SectionId::kPrepared:
      return "prepared weights";
  }
  return "unknown";
}

}  // namespace kiln::plan
