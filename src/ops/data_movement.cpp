// Byte-level helpers of the data-movement ops: permutations, transposes and type conversion.
#include "ops/data_movement.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "core/error.h"
#include "core/half.h"
#include "core/shape_util.h"

namespace kiln::ops {

std::string permutationProblem(std::span<const int64_t> perm) {
  if (perm.size() > static_cast<std::size_t>(Dims::kMaxRank)) {
    return detail::concat("it has ", perm.size(), " entries; at most ", Dims::kMaxRank,
                          " are allowed");
  }
  std::array<bool, Dims::kMaxRank> seen{};
  const auto n = static_cast<int64_t>(perm.size());
  for (int64_t p : perm) {
    if (p < 0 || p >= n) {
      return detail::concat("entry ", p, " is outside [0, ", n - 1, "]");
    }
    if (seen[static_cast<std::size_t>(p)]) return detail::concat("entry ", p, " appears twice");
    seen[static_cast<std::size_t>(p)] = true;
  }
  return {};
}

void copyStrided(const void* src, const Dims& dstDims, std::span<const int64_t> srcStrides,
                 void* dst, std::size_t elementBytes) {
  KILN_ASSERT(static_cast<int32_t>(srcStrides.size()) == dstDims.nbDims);
  // Size-1 dimensions dropped and neighbours that stay adjacent in the source merged: BERT's
  // head transposes become a walk over three dims with the last contiguous, copied in runs.
  Dims dims;
  std::array<int64_t, Dims::kMaxRank> stride{};
  int32_t n = 0;
  for (int32_t k = 0; k < dstDims.nbDims; ++k) {
    const int64_t extent = dstDims[k];
    const int64_t step = srcStrides[static_cast<std::size_t>(k)];
    if (extent == 0) return;
    if (extent == 1) continue;
    if (n > 0 && stride[static_cast<std::size_t>(n - 1)] == step * extent) {
      dims[n - 1] *= extent;
      stride[static_cast<std::size_t>(n - 1)] = step;
      continue;
    }
    dims[n] = extent;
    stride[static_cast<std::size_t>(n)] = step;
    ++n;
  }
  const auto* in = static_cast<const std::byte*>(src);
  auto* out = static_cast<std::byte*>(dst);
  if (n == 0) {  // one element
    std::memcpy(out, in, elementBytes);
    return;
  }
  // The innermost dimension in one go; the others walked.
  const int64_t inner = dims[n - 1];
  const int64_t innerStride = stride[static_cast<std::size_t>(n - 1)];
  const std::size_t runBytes = static_cast<std::size_t>(inner) * elementBytes;
  Dims outer;
  outer.nbDims = n - 1;
  for (int32_t k = 0; k + 1 < n; ++k) outer[k] = dims[k];
  for (Odometer it(outer); it.valid(); it.next()) {
    int64_t offset = 0;
    for (int32_t k = 0; k + 1 < n; ++k) offset += it[k] * stride[static_cast<std::size_t>(k)];
    const std::byte* from = in + offset * static_cast<int64_t>(elementBytes);
    if (innerStride == 1) {
      std::memcpy(out, from, runBytes);
    } else if (elementBytes == 4) {
      for (int64_t i = 0; i < inner; ++i) std::memcpy(out + i * 4, from + i * innerStride * 4, 4);
    } else {
      const auto esize = static_cast<int64_t>(elementBytes);
      for (int64_t i = 0; i < inner; ++i) {
        std::memcpy(out + i * esize, from + i * innerStride * esize, elementBytes);
      }
    }
    out += runBytes;
  }
}

void transposeBytes(const void* src, const Dims& srcDims, std::span<const int64_t> perm, void* dst,
                    std::size_t elementBytes) {
  const int32_t rank = srcDims.nbDims;
  KILN_ASSERT(static_cast<int32_t>(perm.size()) == rank);
  const Dims srcStrides = contiguousStrides(srcDims);
  // Output dimension k is source dimension perm[k]: its extent and source stride.
  Dims dstDims;
  dstDims.nbDims = rank;
  std::array<int64_t, Dims::kMaxRank> stride{};
  for (int32_t k = 0; k < rank; ++k) {
    const auto p = static_cast<int32_t>(perm[static_cast<std::size_t>(k)]);
    dstDims[k] = srcDims[p];
    stride[static_cast<std::size_t>(k)] = srcStrides[p];
  }
  copyStrided(src, dstDims, std::span<const int64_t>(stride.data(), static_cast<std::size_t>(rank)),
              dst, elementBytes);
}

namespace {

bool isFloating(DataType type) {
  return type == DataType::kFLOAT || type == DataType::kHALF || type == DataType::kBF16;
}

double loadFloating(const void* data, DataType type, int64_t i) {
  switch (type) {
    case DataType::kFLOAT:
      return static_cast<const float*>(data)[i];
    case DataType::kHALF:
      return halfToFloat(static_cast<const uint16_t*>(data)[i]);
    case DataType::kBF16:
      return bfloat16ToFloat(static_cast<const uint16_t*>(data)[i]);
    default:
      break;
  }
  KILN_ASSERT(false);
  return 0;
}

// Integers stay integers end to end, so INT64 values beyond 2^53 convert exactly.
int64_t loadInteger(const void* data, DataType type, int64_t i) {
  switch (type) {
    case DataType::kINT8:
      return static_cast<const int8_t*>(data)[i];
    case DataType::kUINT8:
      return static_cast<const uint8_t*>(data)[i];
    case DataType::kBOOL:
      return static_cast<const uint8_t*>(data)[i] != 0 ? 1 : 0;
    case DataType::kINT32:
      return static_cast<const int32_t*>(data)[i];
    case DataType::kINT64:
      return static_cast<const int64_t*>(data)[i];
    case DataType::kINT16:
      return static_cast<const int16_t*>(data)[i];
    case DataType::kUINT16:
      return static_cast<const uint16_t*>(data)[i];
    case DataType::kUINT32:
      return static_cast<const uint32_t*>(data)[i];
    case DataType::kUINT64: {
      // Beyond INT64_MAX saturates: every destination type is int64 or narrower.
      const uint64_t v = static_cast<const uint64_t*>(data)[i];
      return v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
                 ? std::numeric_limits<int64_t>::max()
                 : static_cast<int64_t>(v);
    }
    default:
      break;
  }
  KILN_ASSERT(false);
  return 0;
}

template <typename T>
T saturate(double value) {
  if (std::isnan(value)) return 0;
  const double t = std::trunc(value);
  // (double)max may round up (INT64: 2^63), so >= catches everything that would not fit.
  if (t >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
  if (t <= static_cast<double>(std::numeric_limits<T>::min())) return std::numeric_limits<T>::min();
  return static_cast<T>(t);
}

template <typename T>
T saturate(int64_t value) {
  // UINT64's maximum does not fit int64_t; every int64 value >= 0 fits it.
  if constexpr (std::numeric_limits<T>::digits <= 63) {
    if (value > static_cast<int64_t>(std::numeric_limits<T>::max())) {
      return std::numeric_limits<T>::max();
    }
  }
  if (value < static_cast<int64_t>(std::numeric_limits<T>::min())) {
    return std::numeric_limits<T>::min();
  }
  return static_cast<T>(value);
}

// Stores one element; Number is double (from a floating source) or int64_t (from an integer).
template <typename Number>
void store(Number value, DataType type, void* data, int64_t i) {
  switch (type) {
    case DataType::kFLOAT:
      static_cast<float*>(data)[i] = static_cast<float>(value);
      return;
    case DataType::kHALF:
      static_cast<uint16_t*>(data)[i] = floatToHalf(static_cast<float>(value));
      return;
    case DataType::kBF16:
      static_cast<uint16_t*>(data)[i] = floatToBFloat16(static_cast<float>(value));
      return;
    case DataType::kBOOL:
      static_cast<uint8_t*>(data)[i] = value != 0 ? 1 : 0;
      return;
    case DataType::kINT8:
      static_cast<int8_t*>(data)[i] = saturate<int8_t>(value);
      return;
    case DataType::kUINT8:
      static_cast<uint8_t*>(data)[i] = saturate<uint8_t>(value);
      return;
    case DataType::kINT32:
      static_cast<int32_t*>(data)[i] = saturate<int32_t>(value);
      return;
    case DataType::kINT64:
      static_cast<int64_t*>(data)[i] = saturate<int64_t>(value);
      return;
    case DataType::kINT16:
      static_cast<int16_t*>(data)[i] = saturate<int16_t>(value);
      return;
    case DataType::kUINT16:
      static_cast<uint16_t*>(data)[i] = saturate<uint16_t>(value);
      return;
    case DataType::kUINT32:
      static_cast<uint32_t*>(data)[i] = saturate<uint32_t>(value);
      return;
    case DataType::kUINT64:
      static_cast<uint64_t*>(data)[i] = saturate<uint64_t>(value);
      return;
  }
  KILN_ASSERT(false);
}

}  // namespace

void convertElements(const void* src, DataType srcType, void* dst, DataType dstType,
                     int64_t count) {
  if (count <= 0) return;
  if (srcType == dstType) {
    if (src != dst) {
      std::memcpy(dst, src, static_cast<std::size_t>(count) * elementSize(srcType));
    }
    return;
  }
  if (isFloating(srcType)) {
    for (int64_t i = 0; i < count; ++i) store(loadFloating(src, srcType, i), dstType, dst, i);
  } else {
    for (int64_t i = 0; i < count; ++i) store(loadInteger(src, srcType, i), dstType, dst, i);
  }
}

void storeScalar(double value, DataType type, void* dst) {
  store(value, type, dst, 0);
}

bool representable(double value, DataType type) {
  std::array<std::byte, 8> bytes{};
  storeScalar(value, type, bytes.data());
  double back = 0;
  if (isFloating(type)) {
    back = loadFloating(bytes.data(), type, 0);
    if (std::isnan(value)) return std::isnan(back);
  } else {
    back = static_cast<double>(loadInteger(bytes.data(), type, 0));
  }
  return back == value;
}

}  // namespace kiln::ops
