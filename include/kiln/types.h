// kiln — value types shared by the whole public API: data types, dimensions, weights.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace kiln {

//! Element type of a tensor or of weights. Numbering follows TensorRT's DataType.
enum class DataType : int32_t {
  kFLOAT = 0,  //!< 32-bit IEEE float
  kHALF = 1,   //!< 16-bit IEEE float
  kINT8 = 2,   //!< signed 8-bit integer
  kINT32 = 3,  //!< signed 32-bit integer
  kBOOL = 4,   //!< one byte, 0 or 1
  kUINT8 = 5,  //!< unsigned 8-bit integer
  kBF16 = 7,   //!< bfloat16
  kINT64 = 8,  //!< signed 64-bit integer
  // kiln's own (TensorRT has no such types; 9 to 11 are TensorRT's INT4, FP4 and E8M0). Networks
  // compute in int32; these are engine input and output types, converted at the boundary.
  kINT16 = 12,   //!< signed 16-bit integer
  kUINT16 = 13,  //!< unsigned 16-bit integer
  kUINT32 = 14,  //!< unsigned 32-bit integer
  kUINT64 = 15,  //!< unsigned 64-bit integer
};

//! Size in bytes of one element of @p type.
constexpr std::size_t elementSize(DataType type) noexcept {
  switch (type) {
    case DataType::kFLOAT:
      return 4;
    case DataType::kHALF:
      return 2;
    case DataType::kINT8:
      return 1;
    case DataType::kINT32:
      return 4;
    case DataType::kBOOL:
      return 1;
    case DataType::kUINT8:
      return 1;
    case DataType::kBF16:
      return 2;
    case DataType::kINT64:
      return 8;
    case DataType::kINT16:
    case DataType::kUINT16:
      return 2;
    case DataType::kUINT32:
      return 4;
    case DataType::kUINT64:
      return 8;
  }
  return 0;
}

//! "float32", "float16", ...; "unknown(N)" for values outside the enum.
std::string toString(DataType type);

//! True when @p value names one of the DataType enumerators.
bool isValidDataType(int32_t value) noexcept;

//! Tensor dimensions: up to kMaxRank extents. -1 marks a dimension unknown until run time.
struct Dims {
  static constexpr int32_t kMaxRank = 8;

  int32_t nbDims = 0;
  std::array<int64_t, kMaxRank> d{};

  constexpr Dims() = default;
  constexpr Dims(std::initializer_list<int64_t> extents) {
    for (int64_t e : extents) {
      if (nbDims < kMaxRank) d[static_cast<std::size_t>(nbDims++)] = e;
    }
  }

  constexpr int32_t rank() const noexcept { return nbDims; }
  constexpr int64_t& operator[](int32_t i) { return d[static_cast<std::size_t>(i)]; }
  constexpr int64_t operator[](int32_t i) const { return d[static_cast<std::size_t>(i)]; }

  friend constexpr bool operator==(const Dims& a, const Dims& b) noexcept {
    if (a.nbDims != b.nbDims) return false;
    for (int32_t i = 0; i < a.nbDims; ++i) {
      if (a.d[static_cast<std::size_t>(i)] != b.d[static_cast<std::size_t>(i)]) return false;
    }
    return true;
  }
};

//! "1x3x224x224" (trtexec's spelling); "scalar" for rank 0.
std::string toString(const Dims& dims);

//! Number of elements; 1 for rank 0. Undefined for dims with -1 (returns -1).
int64_t volume(const Dims& dims) noexcept;

//! Which shape of an optimization profile (TensorRT's OptProfileSelector): the smallest, the
//! one kernels are tuned for, and the largest an engine accepts for a dynamic input.
enum class OptProfileSelector : int32_t {
  kMIN = 0,
  kOPT = 1,
  kMAX = 2,
};

//! Weights handed to the network API: type, pointer and element count.
//!
//! The network copies the values when the layer is created, so the caller's buffer need only
//! live until the call that takes it returns (a superset of TensorRT's "valid until build").
//! values == nullptr with count == 0 means "no weights" (e.g. no bias).
struct Weights {
  DataType type = DataType::kFLOAT;
  const void* values = nullptr;
  int64_t count = 0;
};

//! Severity of a message passed to a Logger, most severe first (as TensorRT's ILogger).
enum class Severity : int32_t {
  kINTERNAL_ERROR = 0,
  kERROR = 1,
  kWARNING = 2,
  kINFO = 3,
  kVERBOSE = 4,
};

//! Error categories reported through the Logger and the ErrorRecorder.
enum class ErrorCode : int32_t {
  kSUCCESS = 0,
  kUNSPECIFIED_ERROR = 1,
  kINTERNAL_ERROR = 2,
  kINVALID_ARGUMENT = 3,
  kINVALID_CONFIG = 4,
  kFAILED_ALLOCATION = 5,
  kFAILED_INITIALIZATION = 6,
  kFAILED_EXECUTION = 7,
  kFAILED_COMPUTATION = 8,
  kINVALID_STATE = 9,
  kUNSUPPORTED_STATE = 10,
  kINVALID_PLAN = 11,
  kUNSUPPORTED_NODE = 12,
  kINVALID_MODEL = 13,
};

std::string_view toString(ErrorCode code) noexcept;

//! Whether an engine IO tensor is read or written by inference.
enum class TensorIOMode : int32_t { kNONE = 0, kINPUT = 1, kOUTPUT = 2 };

//! The device an engine is built for and runs on.
enum class DeviceType : int32_t { kCPU = 0, kGPU = 1 };

}  // namespace kiln
