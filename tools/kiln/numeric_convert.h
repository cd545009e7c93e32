// float <-> float16 / bfloat16 bit patterns, for inputs and outputs of reduced-precision
// tensors (round to nearest even, as every framework does).
#pragma once

#include <cstdint>

namespace kiln::cli {

uint16_t floatToHalf(float value) noexcept;
float halfToFloat(uint16_t bits) noexcept;
uint16_t floatToBfloat16(float value) noexcept;
float bfloat16ToFloat(uint16_t bits) noexcept;

}  // namespace kiln::cli
