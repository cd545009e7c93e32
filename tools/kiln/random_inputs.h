// Deterministic input data for tensors the user gives no file for (as trtexec does).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "kiln/types.h"

namespace kiln::cli {

//! Floating-point types: uniform in [-1, 1); integer and bool types: zero. The same
//! (seed, stream) always gives the same data; different streams give independent data.
void fillRandom(DataType type, std::span<std::byte> bytes, uint32_t seed, uint32_t stream);

}  // namespace kiln::cli
