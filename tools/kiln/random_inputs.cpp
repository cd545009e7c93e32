#include "random_inputs.h"

#include <algorithm>
#include <cstring>
#include <random>

#include "numeric_convert.h"

namespace kiln::cli {
namespace {

// Uniform in [-1, 1) from 24 random bits: exact in float, and never 1 (which
// std::uniform_real_distribution<float> can return through rounding).
float uniformMinusOneToOne(std::mt19937& rng) {
  const auto bits = static_cast<float>(rng() >> 8);
  return bits * (2.0f / 16777216.0f) - 1.0f;
}

template <typename Bits, typename Convert>
void fillConverted(std::span<std::byte> bytes, std::mt19937& rng, Convert convert) {
  const std::size_t count = bytes.size() / sizeof(Bits);
  for (std::size_t i = 0; i < count; ++i) {
    const Bits value = convert(uniformMinusOneToOne(rng));
    std::memcpy(bytes.data() + i * sizeof(Bits), &value, sizeof(Bits));
  }
}

}  // namespace

void fillRandom(DataType type, std::span<std::byte> bytes, uint32_t seed, uint32_t stream) {
  std::seed_seq sequence{seed, stream};
  std::mt19937 rng(sequence);
  switch (type) {
    case DataType::kFLOAT:
      fillConverted<float>(bytes, rng, [](float v) { return v; });
      return;
    case DataType::kHALF:
      fillConverted<uint16_t>(bytes, rng, floatToHalf);
      return;
    case DataType::kBF16:
      fillConverted<uint16_t>(bytes, rng, floatToBfloat16);
      return;
    case DataType::kINT8:
    case DataType::kINT32:
    case DataType::kBOOL:
    case DataType::kUINT8:
    case DataType::kINT64:
    case DataType::kINT16:
    case DataType::kUINT16:
    case DataType::kUINT32:
    case DataType::kUINT64:
      std::fill(bytes.begin(), bytes.end(), std::byte{0});
      return;
  }
  std::fill(bytes.begin(), bytes.end(), std::byte{0});
}

}  // namespace kiln::cli
