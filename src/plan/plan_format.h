// Constants of the plan file layout (docs/plan-format.md describes it in full).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace kiln::plan {

inline constexpr std::array<char, 8> kMagic = {'K', 'I', 'L', 'N', 'P', 'L', 'A', 'N'};
//! Bumped whenever the layout changes; readers reject newer versions.
inline constexpr uint32_t kFormatVersion = 1;
//! Sections start at multiples of this, so weights can be used in place after mmap.
inline constexpr uint64_t kSectionAlignment = 64;
//! A plan larger than this is refused before anything is read (hostile sizes).
inline constexpr uint64_t kMaxPlanBytes = uint64_t{1} << 40;

enum class SectionId : uint32_t {
  kGraph = 1,     //!< values (tensors), nodes (layers) and their attributes
  kTactics = 2,   //!< the tactic chosen for each node
  kMemory = 3,    //!< arena size and per-value offsets
  kWeights = 4,   //!< constant tensors, each 64-byte aligned
  kProfiles = 5,  //!< optimization profiles (dynamic engines only)
};

std::string_view sectionName(SectionId id) noexcept;

}  // namespace kiln::plan
