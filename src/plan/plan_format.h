// Constants of the plan file layout (docs/plan-format.md describes it in full).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace kiln::plan {

inline constexpr std::array<char, 8> kMagic = {'K', 'I', 'L', 'N', 'P', 'L', 'A', 'N'};
//! Bumped whenever the layout changes; readers reject newer versions.
inline constexpr uint32_t kFormatVersion = 2;
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
  kPrepared = 6,  //!< per node, where its prepared weights lie in the weights section
};

//! How the graph section stores a value: an activation, a constant with its bytes in the
//! weights section, or a constant absorbed into its readers' prepared weights (no bytes).
enum class ValueKind : uint8_t { kActivation = 0, kConstant = 1, kAbsorbed = 2 };

std::string_view sectionName(SectionId id) noexcept;

}  // namespace kiln::plan
