// IEEE half and bfloat16 conversions (round to nearest even), for casts and reference kernels.
#pragma once

#include <bit>
#include <cstdint>

namespace kiln {

inline uint16_t floatToHalf(float value) noexcept {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  const uint32_t sign = (bits >> 16) & 0x8000u;
  const uint32_t absBits = bits & 0x7fffffffu;
  if (absBits >= 0x7f800000u) {  // Inf or NaN
    return static_cast<uint16_t>(sign | 0x7c00u | (absBits > 0x7f800000u ? 0x200u : 0u));
  }
  if (absBits >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow
  if (absBits < 0x38800000u) {  // subnormal half or zero
    if (absBits < 0x33000000u) return static_cast<uint16_t>(sign);
    const uint32_t mantissa = (absBits & 0x7fffffu) | 0x800000u;
    // The value in units of 2^-24 (the smallest subnormal) is mantissa >> (126 - exponent).
    const int shift = 125 - static_cast<int>(absBits >> 23);
    const uint32_t halfMant = mantissa >> (shift + 1);
    const uint32_t rest = mantissa & ((1u << (shift + 1)) - 1u);
    const uint32_t halfway = 1u << shift;
    uint32_t rounded = halfMant;
    if (rest > halfway || (rest == halfway && (halfMant & 1u))) ++rounded;
    return static_cast<uint16_t>(sign | rounded);
  }
  uint32_t rounded = absBits - 0x38000000u;  // rebias exponent 127 -> 15
  const uint32_t rest = rounded & 0x1fffu;
  rounded >>= 13;
  if (rest > 0x1000u || (rest == 0x1000u && (rounded & 1u))) ++rounded;
  return static_cast<uint16_t>(sign | rounded);
}

inline float halfToFloat(uint16_t value) noexcept {
  const uint32_t sign = static_cast<uint32_t>(value & 0x8000u) << 16;
  const uint32_t exponent = (value >> 10) & 0x1fu;
  uint32_t mantissa = value & 0x3ffu;
  uint32_t bits = 0;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {  // subnormal: normalize
      int e = -1;
      do {
        ++e;
        mantissa <<= 1;
      } while ((mantissa & 0x400u) == 0);
      bits = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((mantissa & 0x3ffu) << 13);
    }
  } else if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  return std::bit_cast<float>(bits);
}

inline uint16_t floatToBFloat16(float value) noexcept {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
  const uint32_t roundingBias = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + roundingBias) >> 16);
}

inline float bfloat16ToFloat(uint16_t value) noexcept {
  return std::bit_cast<float>(static_cast<uint32_t>(value) << 16);
}

}  // namespace kiln
