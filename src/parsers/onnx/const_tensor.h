// Values the parser knows before anything runs: initializers, Constant nodes and the results of
// shape arithmetic folded at parse time. Integers are kept as int64 (ONNX's shape type) until
// they reach the network, where they are narrowed to int32 with a range check.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kiln/types.h"

namespace kiln::parsers::onnx_import {

//! ONNX TensorProto::DataType numbers (onnx.proto), so headers need no protobuf.
enum OnnxType : int32_t {
  kOnnxUndefined = 0,
  kOnnxFloat = 1,
  kOnnxUint8 = 2,
  kOnnxInt8 = 3,
  kOnnxUint16 = 4,
  kOnnxInt16 = 5,
  kOnnxInt32 = 6,
  kOnnxInt64 = 7,
  kOnnxString = 8,
  kOnnxBool = 9,
  kOnnxFloat16 = 10,
  kOnnxDouble = 11,
  kOnnxUint32 = 12,
  kOnnxUint64 = 13,
  kOnnxComplex64 = 14,
  kOnnxComplex128 = 15,
  kOnnxBfloat16 = 16,
};

//! Element count of @p dims, saturating at INT64_MAX instead of overflowing (hostile shapes).
int64_t elementCount(const Dims& dims) noexcept;

//! "float32", "int64", ...; "data type N" for numbers onnx.proto does not define.
std::string onnxTypeName(int32_t type);
bool isOnnxFloating(int32_t type) noexcept;
bool isOnnxInteger(int32_t type) noexcept;  //!< signed or unsigned, not bool
//! The kiln type a tensor of ONNX @p type has inside the network: float32 for floating types,
//! int32 for integers, bool for bool. False for types kiln cannot hold (strings, complex).
bool kilnTypeOf(int32_t type, DataType& out) noexcept;

class ConstTensor {
 public:
  ConstTensor() = default;
  static ConstTensor floats(const Dims& dims, std::vector<float> values,
                            int32_t onnxType = kOnnxFloat);
  static ConstTensor ints(const Dims& dims, std::vector<int64_t> values,
                          int32_t onnxType = kOnnxInt64);
  static ConstTensor bools(const Dims& dims, std::vector<int64_t> values);
  //! Rank-1 int64 tensor.
  static ConstTensor vector(std::vector<int64_t> values);

  //! The ONNX element type the values have.
  int32_t onnxType() const noexcept { return onnxType_; }
  const Dims& dims() const noexcept { return dims_; }
  int64_t count() const noexcept { return volume(dims_); }
  bool isFloat() const noexcept { return isOnnxFloating(onnxType_); }
  bool isBool() const noexcept { return onnxType_ == kOnnxBool; }
  //! Integers and bools both live in the int64 storage.
  bool isIntegral() const noexcept { return !isFloat(); }

  std::span<const float> floatValues() const noexcept { return f_; }
  std::span<const int64_t> intValues() const noexcept { return i_; }

  //! Element @p index converted: floats truncate toward zero when read as ints.
  double asDouble(int64_t index) const;
  int64_t asInt(int64_t index) const;
  //! All values as float32 (the layer weights of kiln are float).
  std::vector<float> toFloats() const;
  //! All values as int64; throws kINVALID_MODEL naming @p what unless the values are integral.
  std::vector<int64_t> toInts(std::string_view what) const;

  //! The same values with another shape of the same element count.
  ConstTensor reshaped(const Dims& dims) const;

  //! Bytes for a kiln constant of kilnType(): float32, int32 (narrowed; throws kINVALID_MODEL
  //! naming @p what at the first value outside int32) or bool.
  std::vector<std::byte> kilnBytes(std::string_view what) const;
  DataType kilnType() const noexcept;

 private:
  int32_t onnxType_ = kOnnxUndefined;
  Dims dims_;
  std::vector<float> f_;
  std::vector<int64_t> i_;
};

}  // namespace kiln::parsers::onnx_import
