#include "parsers/onnx/const_tensor.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/error.h"

namespace kiln::parsers::onnx_import {

int64_t elementCount(const Dims& dims) noexcept {
  // Empty whatever the other extents are (which may pass 2^63 together).
  for (int32_t i = 0; i < dims.nbDims; ++i) {
    if (dims[i] == 0) return 0;
  }
  int64_t count = 1;
  for (int32_t i = 0; i < dims.nbDims; ++i) {
    if (dims[i] < 0 || __builtin_mul_overflow(count, dims[i], &count)) {
      return std::numeric_limits<int64_t>::max();
    }
  }
  return count;
}

std::string onnxTypeName(int32_t type) {
  switch (type) {
    case kOnnxFloat:
      return "float32";
    case kOnnxUint8:
      return "uint8";
    case kOnnxInt8:
      return "int8";
    case kOnnxUint16:
      return "uint16";
    case kOnnxInt16:
      return "int16";
    case kOnnxInt32:
      return "int32";
    case kOnnxInt64:
      return "int64";
    case kOnnxString:
      return "string";
    case kOnnxBool:
      return "bool";
    case kOnnxFloat16:
      return "float16";
    case kOnnxDouble:
      return "float64";
    case kOnnxUint32:
      return "uint32";
    case kOnnxUint64:
      return "uint64";
    case kOnnxComplex64:
      return "complex64";
    case kOnnxComplex128:
      return "complex128";
    case kOnnxBfloat16:
      return "bfloat16";
    default:
      return "data type " + std::to_string(type);
  }
}

bool isOnnxFloating(int32_t type) noexcept {
  return type == kOnnxFloat || type == kOnnxFloat16 || type == kOnnxDouble || type == kOnnxBfloat16;
}

bool isOnnxInteger(int32_t type) noexcept {
  switch (type) {
    case kOnnxUint8:
    case kOnnxInt8:
    case kOnnxUint16:
    case kOnnxInt16:
    case kOnnxInt32:
    case kOnnxInt64:
    case kOnnxUint32:
    case kOnnxUint64:
      return true;
    default:
      return false;
  }
}

bool kilnTypeOf(int32_t type, DataType& out) noexcept {
  if (isOnnxFloating(type)) {
    out = DataType::kFLOAT;
  } else if (isOnnxInteger(type)) {
    out = DataType::kINT32;
  } else if (type == kOnnxBool) {
    out = DataType::kBOOL;
  } else {
    return false;
  }
  return true;
}

uint64_t kilnElementBytes(int32_t type) noexcept {
  return type == kOnnxBool ? 1 : 4;
}

ConstTensor ConstTensor::allocate(const Dims& dims, int32_t onnxType, const ConstantLimit& limit) {
  KILN_ASSERT(dims.nbDims >= 0 && dims.nbDims <= Dims::kMaxRank);
  for (int32_t i = 0; i < dims.nbDims; ++i) {
    if (dims[i] < 0) {
      fail(ErrorCode::kINVALID_MODEL, "a constant of shape ", toString(dims),
           " has a negative extent");
    }
  }
  const int64_t count = elementCount(dims);
  const uint64_t elementBytes = kilnElementBytes(onnxType);
  const bool tooMany = static_cast<uint64_t>(count) > limit.maxBytes / elementBytes;
  if (tooMany && limit.fold) {
    fail(ErrorCode::kUNSUPPORTED_STATE, "folding would make a constant of shape ", toString(dims),
         ", more than ", limit.maxBytes, " bytes");
  }
  if (tooMany) {
    // elementCount saturates at INT64_MAX, and the bytes may pass 2^63.
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    const std::string bytes =
        static_cast<uint64_t>(count) > static_cast<uint64_t>(kMax) / elementBytes
            ? std::string("over 2^63 bytes")
            : std::to_string(static_cast<uint64_t>(count) * elementBytes) + " bytes";
    fail(ErrorCode::kINVALID_MODEL, "the constant would hold ",
         count == kMax ? std::to_string(kMax) + " or more" : std::to_string(count), " elements of ",
         onnxTypeName(onnxType), " (shape ", toString(dims), ", ", bytes,
         "), more than the model limit of ", limit.maxBytes,
         " bytes (ModelLimits::maxTensorBytes)");
  }
  ConstTensor t;
  t.onnxType_ = onnxType;
  t.dims_ = dims;
  if (isOnnxFloating(onnxType)) {
    t.f_.resize(static_cast<std::size_t>(count));
  } else {
    t.i_.resize(static_cast<std::size_t>(count));
  }
  return t;
}

ConstTensor ConstTensor::copyOf(const Dims& dims, std::span<const float> values, int32_t onnxType,
                                const ConstantLimit& limit) {
  ConstTensor t = allocate(dims, onnxType, limit);
  KILN_ASSERT(values.size() == static_cast<std::size_t>(t.count()));
  if (t.isFloat()) {
    std::copy(values.begin(), values.end(), t.f_.begin());
  } else {
    for (std::size_t k = 0; k < values.size(); ++k) t.i_[k] = static_cast<int64_t>(values[k]);
  }
  return t;
}

ConstTensor ConstTensor::copyOf(const Dims& dims, std::span<const int64_t> values, int32_t onnxType,
                                const ConstantLimit& limit) {
  ConstTensor t = allocate(dims, onnxType, limit);
  KILN_ASSERT(values.size() == static_cast<std::size_t>(t.count()));
  if (t.isFloat()) {
    for (std::size_t k = 0; k < values.size(); ++k) t.f_[k] = static_cast<float>(values[k]);
  } else if (t.isBool()) {
    for (std::size_t k = 0; k < values.size(); ++k) t.i_[k] = values[k] != 0 ? 1 : 0;
  } else {
    std::copy(values.begin(), values.end(), t.i_.begin());
  }
  return t;
}

ConstTensor ConstTensor::floats(const Dims& dims, std::vector<float> values, int32_t onnxType) {
  KILN_ASSERT(static_cast<int64_t>(values.size()) == elementCount(dims) &&
              isOnnxFloating(onnxType));
  KILN_ASSERT(values.size() <= kMaxSmall);
  ConstTensor t;
  t.onnxType_ = onnxType;
  t.dims_ = dims;
  t.f_ = std::move(values);
  return t;
}

ConstTensor ConstTensor::ints(const Dims& dims, std::vector<int64_t> values, int32_t onnxType) {
  KILN_ASSERT(static_cast<int64_t>(values.size()) == elementCount(dims) &&
              !isOnnxFloating(onnxType));
  KILN_ASSERT(values.size() <= kMaxSmall);
  ConstTensor t;
  t.onnxType_ = onnxType;
  t.dims_ = dims;
  t.i_ = std::move(values);
  return t;
}

ConstTensor ConstTensor::bools(const Dims& dims, std::vector<int64_t> values) {
  for (auto& v : values) v = v != 0 ? 1 : 0;
  return ints(dims, std::move(values), kOnnxBool);
}

ConstTensor ConstTensor::vector(std::vector<int64_t> values) {
  Dims dims;
  dims.nbDims = 1;
  dims[0] = static_cast<int64_t>(values.size());
  return ints(dims, std::move(values));
}

double ConstTensor::asDouble(int64_t index) const {
  const auto i = static_cast<std::size_t>(index);
  return isFloat() ? static_cast<double>(f_[i]) : static_cast<double>(i_[i]);
}

int64_t ConstTensor::asInt(int64_t index) const {
  const auto i = static_cast<std::size_t>(index);
  if (!isFloat()) return i_[i];
  const double v = std::trunc(static_cast<double>(f_[i]));
  if (!(v >= -9.2e18 && v <= 9.2e18))
    return v < 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(v);
}

std::vector<float> ConstTensor::toFloats() const {
  if (isFloat()) return f_;
  std::vector<float> out(i_.size());
  for (std::size_t k = 0; k < i_.size(); ++k) out[k] = static_cast<float>(i_[k]);
  return out;
}

std::vector<int64_t> ConstTensor::toInts(std::string_view what) const {
  if (isFloat()) {
    fail(ErrorCode::kINVALID_MODEL, what, " must hold integers, but it is ",
         onnxTypeName(onnxType_));
  }
  return i_;
}

ConstTensor ConstTensor::reshaped(const Dims& dims) const {
  KILN_ASSERT(elementCount(dims) == count());
  ConstTensor t = *this;
  t.dims_ = dims;
  return t;
}

DataType ConstTensor::kilnType() const noexcept {
  DataType type = DataType::kFLOAT;
  kilnTypeOf(onnxType_, type);
  return type;
}

std::vector<std::byte> ConstTensor::kilnBytes(std::string_view what) const {
  std::vector<std::byte> bytes;
  switch (kilnType()) {
    case DataType::kFLOAT:
      bytes.resize(f_.size() * sizeof(float));
      if (!f_.empty()) std::memcpy(bytes.data(), f_.data(), bytes.size());
      break;
    case DataType::kBOOL:
      bytes.resize(i_.size());
      for (std::size_t k = 0; k < i_.size(); ++k)
        bytes[k] = std::byte{i_[k] != 0 ? uint8_t{1} : uint8_t{0}};
      break;
    default: {
      std::vector<int32_t> narrowed(i_.size());
      for (std::size_t k = 0; k < i_.size(); ++k) {
        const int64_t v = i_[k];
        if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
          fail(ErrorCode::kINVALID_MODEL, what, " holds ", onnxTypeName(onnxType_), " value ", v,
               " (element ", k, "), which does not fit the int32 the network computes in; ",
               "kiln narrows integer tensors to int32");
        }
        narrowed[k] = static_cast<int32_t>(v);
      }
      bytes.resize(narrowed.size() * sizeof(int32_t));
      if (!narrowed.empty()) std::memcpy(bytes.data(), narrowed.data(), bytes.size());
      break;
    }
  }
  return bytes;
}

}  // namespace kiln::parsers::onnx_import
