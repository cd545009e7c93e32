// String forms and helpers of the public value types, and the logger classes.
#include "kiln/types.h"

#include <cstdio>
#include <string>

#include "kiln/logger.h"

namespace kiln {

std::string toString(DataType type) {
  switch (type) {
    case DataType::kFLOAT:
      return "float32";
    case DataType::kHALF:
      return "float16";
    case DataType::kINT8:
      return "int8";
    case DataType::kINT32:
      return "int32";
    case DataType::kBOOL:
      return "bool";
    case DataType::kUINT8:
      return "uint8";
    case DataType::kBF16:
      return "bfloat16";
    case DataType::kINT64:
      return "int64";
    case DataType::kINT16:
      return "int16";
    case DataType::kUINT16:
      return "uint16";
    case DataType::kUINT32:
      return "uint32";
    case DataType::kUINT64:
      return "uint64";
  }
  return "unknown(" + std::to_string(static_cast<int32_t>(type)) + ")";
}

bool isValidDataType(int32_t value) noexcept {
  return (value >= 0 && value <= 5) || value == 7 || value == 8 || (value >= 12 && value <= 15);
}

std::string toString(const Dims& dims) {
  if (dims.nbDims < 0 || dims.nbDims > Dims::kMaxRank) {
    return "invalid(rank " + std::to_string(dims.nbDims) + ")";
  }
  if (dims.nbDims == 0) return "scalar";
  std::string out;
  for (int32_t i = 0; i < dims.nbDims; ++i) {
    if (i) out += 'x';
    out += std::to_string(dims[i]);
  }
  return out;
}

int64_t volume(const Dims& dims) noexcept {
  int64_t count = 1;
  for (int32_t i = 0; i < dims.nbDims; ++i) {
    if (dims[i] < 0) return -1;
    count *= dims[i];
  }
  return count;
}

std::string_view toString(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kSUCCESS:
      return "success";
    case ErrorCode::kUNSPECIFIED_ERROR:
      return "unspecified error";
    case ErrorCode::kINTERNAL_ERROR:
      return "internal error";
    case ErrorCode::kINVALID_ARGUMENT:
      return "invalid argument";
    case ErrorCode::kINVALID_CONFIG:
      return "invalid config";
    case ErrorCode::kFAILED_ALLOCATION:
      return "failed allocation";
    case ErrorCode::kFAILED_INITIALIZATION:
      return "failed initialization";
    case ErrorCode::kFAILED_EXECUTION:
      return "failed execution";
    case ErrorCode::kFAILED_COMPUTATION:
      return "failed computation";
    case ErrorCode::kINVALID_STATE:
      return "invalid state";
    case ErrorCode::kUNSUPPORTED_STATE:
      return "unsupported state";
    case ErrorCode::kINVALID_PLAN:
      return "invalid plan";
    case ErrorCode::kUNSUPPORTED_NODE:
      return "unsupported node";
    case ErrorCode::kINVALID_MODEL:
      return "invalid model";
  }
  return "unknown error";
}

void ConsoleLogger::log(Severity severity, std::string_view message) noexcept {
  if (severity > threshold_) return;
  const char* tag = "[V] ";
  switch (severity) {
    case Severity::kINTERNAL_ERROR:
      tag = "[F] ";
      break;
    case Severity::kERROR:
      tag = "[E] ";
      break;
    case Severity::kWARNING:
      tag = "[W] ";
      break;
    case Severity::kINFO:
      tag = "[I] ";
      break;
    case Severity::kVERBOSE:
      tag = "[V] ";
      break;
  }
  std::lock_guard lock(mutex_);
  std::fprintf(stderr, "%s%.*s\n", tag, static_cast<int>(message.size()), message.data());
}

void ErrorRecorder::reportError(ErrorCode code, std::string_view description) noexcept {
  try {
    std::lock_guard lock(mutex_);
    entries_.push_back({code, std::string(description)});
  } catch (...) {  // out of memory: the error is still logged
  }
}

int32_t ErrorRecorder::nbErrors() const {
  std::lock_guard lock(mutex_);
  return static_cast<int32_t>(entries_.size());
}

ErrorRecorder::Entry ErrorRecorder::error(int32_t index) const {
  std::lock_guard lock(mutex_);
  if (index < 0 || static_cast<std::size_t>(index) >= entries_.size()) {
    return {ErrorCode::kINVALID_ARGUMENT, "no error at that index"};
  }
  return entries_[static_cast<std::size_t>(index)];
}

void ErrorRecorder::clear() {
  std::lock_guard lock(mutex_);
  entries_.clear();
}

std::string_view versionString() noexcept {
  return "kiln " KILN_VERSION_STRING;
}

}  // namespace kiln
