// Shape arithmetic with overflow checks: every size is validated before memory is allocated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kiln/types.h"

namespace kiln {

//! Largest element count of one tensor (2^40): beyond it sizes are treated as hostile.
inline constexpr int64_t kMaxTensorElements = int64_t{1} << 40;

//! a * b, throwing kINVALID_ARGUMENT naming @p what on overflow or negative operands.
int64_t checkedMul(int64_t a, int64_t b, std::string_view what);
int64_t checkedAdd(int64_t a, int64_t b, std::string_view what);

//! Element count of fully known dims; throws naming @p what for -1, negative extents,
//! or more than kMaxTensorElements elements.
int64_t checkedVolume(const Dims& dims, std::string_view what);

//! Bytes of a tensor of @p dims and @p type (checked as checkedVolume).
std::size_t checkedByteSize(const Dims& dims, DataType type, std::string_view what);

//! Numpy broadcast of two shapes; throws naming @p what when they do not broadcast.
Dims broadcastShapes(const Dims& a, const Dims& b, std::string_view what);

//! Maps a possibly negative axis into [0, rank); throws naming @p what when out of range.
int32_t normalizeAxis(int64_t axis, int32_t rank, std::string_view what);

//! Row-major strides of @p dims (in elements).
Dims contiguousStrides(const Dims& dims);

//! True when every extent is known (no -1).
bool isFullyKnown(const Dims& dims) noexcept;

}  // namespace kiln
