#include "core/shape_util.h"

#include <algorithm>
#include <limits>
#include <string>

#include "core/error.h"

namespace kiln {

int64_t checkedMul(int64_t a, int64_t b, std::string_view what) {
  if (a < 0 || b < 0) fail(ErrorCode::kINVALID_ARGUMENT, what, ": negative size in ", a, " * ", b);
  int64_t result = 0;
  if (__builtin_mul_overflow(a, b, &result)) {
    fail(ErrorCode::kINVALID_ARGUMENT, what, ": size overflows 64 bits (", a, " * ", b, ")");
  }
  return result;
}

int64_t checkedAdd(int64_t a, int64_t b, std::string_view what) {
  int64_t result = 0;
  if (__builtin_add_overflow(a, b, &result)) {
    fail(ErrorCode::kINVALID_ARGUMENT, what, ": size overflows 64 bits (", a, " + ", b, ")");
  }
  return result;
}

int64_t checkedVolume(const Dims& dims, std::string_view what) {
  if (dims.nbDims < 0 || dims.nbDims > Dims::kMaxRank) {
    fail(ErrorCode::kINVALID_ARGUMENT, what, ": rank ", dims.nbDims, " is outside [0, ",
         Dims::kMaxRank, "]");
  }
  int64_t count = 1;
  for (int32_t i = 0; i < dims.nbDims; ++i) {
    if (dims[i] < 0) {
      fail(ErrorCode::kINVALID_ARGUMENT, what, ": dimension ", i, " of ", toString(dims),
           " is not a known non-negative extent");
    }
    count = checkedMul(count, dims[i], what);
    if (count > kMaxTensorElements) {
      fail(ErrorCode::kINVALID_ARGUMENT, what, ": shape ", toString(dims), " has more than 2^40 ",
           "elements");
    }
  }
  return count;
}

std::size_t checkedByteSize(const Dims& dims, DataType type, std::string_view what) {
  const int64_t count = checkedVolume(dims, what);
  return static_cast<std::size_t>(checkedMul(count, static_cast<int64_t>(elementSize(type)), what));
}

Dims broadcastShapes(const Dims& a, const Dims& b, std::string_view what) {
  Dims out;
  out.nbDims = std::max(a.nbDims, b.nbDims);
  for (int32_t i = 0; i < out.nbDims; ++i) {
    const int32_t ia = a.nbDims - out.nbDims + i;
    const int32_t ib = b.nbDims - out.nbDims + i;
    const int64_t da = ia >= 0 ? a[ia] : 1;
    const int64_t db = ib >= 0 ? b[ib] : 1;
    if (da == db || db == 1) {
      out[i] = da;
    } else if (da == 1) {
      out[i] = db;
    } else {
      fail(ErrorCode::kINVALID_ARGUMENT, what, ": shapes ", toString(a), " and ", toString(b),
           " do not broadcast (dimension ", i, ": ", da, " vs ", db, ")");
    }
  }
  return out;
}

int32_t normalizeAxis(int64_t axis, int32_t rank, std::string_view what) {
  const int64_t normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= std::max(rank, 1)) {
    fail(ErrorCode::kINVALID_ARGUMENT, what, ": axis ", axis, " is out of range for rank ", rank);
  }
  return static_cast<int32_t>(normalized);
}

Dims contiguousStrides(const Dims& dims) {
  Dims strides;
  strides.nbDims = dims.nbDims;
  int64_t stride = 1;
  for (int32_t i = dims.nbDims - 1; i >= 0; --i) {
    strides[i] = stride;
    stride *= std::max<int64_t>(dims[i], 1);
  }
  return strides;
}

bool isFullyKnown(const Dims& dims) noexcept {
  for (int32_t i = 0; i < dims.nbDims; ++i) {
    if (dims[i] < 0) return false;
  }
  return true;
}

}  // namespace kiln
