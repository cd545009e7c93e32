// Values the parser knows before anything runs: initializers, Constant nodes and the results of
// shape arithmetic folded at parse time. Integers are kept as int64 (ONNX's shape type) until
// they reach the network, where they are narrowed to int32 with a range check.
//
// A model decides the size of most of these (a ConstantOfShape of [2^20, 2^20], a Range, a fold
// that broadcasts), so their storage is made in one place, ConstTensor::allocate, which checks the
// size against a ConstantLimit before allocating anything.
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

//! Element count of @p dims, saturating at INT64_MAX instead of overflowing (hostile shapes); 0
//! when an extent is 0, whatever the others.
int64_t elementCount(const Dims& dims) noexcept;

//! "float32", "int64", ...; "data type N" for numbers onnx.proto does not define.
std::string onnxTypeName(int32_t type);
bool isOnnxFloating(int32_t type) noexcept;
bool isOnnxInteger(int32_t type) noexcept;  //!< signed or unsigned, not bool
//! The kiln type a tensor of ONNX @p type has inside the network: float32 for floating types,
//! int32 for integers, bool for bool. False for types kiln cannot hold (strings, complex).
bool kilnTypeOf(int32_t type, DataType& out) noexcept;

//! Bytes one element of ONNX @p type takes in the network (float32 and int32: 4, bool: 1).
uint64_t kilnElementBytes(int32_t type) noexcept;

//! How large a constant ConstTensor::allocate makes, counted in the bytes the network holds
//! (kilnElementBytes per element; the parser keeps integers as int64 meanwhile, twice that).
struct ConstantLimit {
  uint64_t maxBytes = 0;
  //! Folds (parse-time evaluation of a node on constants) decline a larger result: allocate
  //! fails with kUNSUPPORTED_STATE, which tryFold turns into "add layers instead". Other
  //! constants are refused with kINVALID_MODEL naming the limit (ModelLimits::maxTensorBytes).
  bool fold = false;
};

//! Parse-time folds leave larger results to the network (which may fold them when building,
//! under the builder's own cap).
inline constexpr uint64_t kFoldLimitBytes = uint64_t{64} << 20;

class ConstTensor {
 public:
  ConstTensor() = default;
  //! The one place constant storage is made: zeros of @p dims and ONNX @p onnxType, filled by
  //! the caller through floatData() or intData() (bools as 0 and 1). Throws before allocating
  //! when the constant would take more than @p limit.maxBytes (see ConstantLimit::fold).
  static ConstTensor allocate(const Dims& dims, int32_t onnxType, const ConstantLimit& limit);
  //! allocate, then a copy of @p values (as many as @p dims holds; converted to the storage).
  static ConstTensor copyOf(const Dims& dims, std::span<const float> values, int32_t onnxType,
                            const ConstantLimit& limit);
  static ConstTensor copyOf(const Dims& dims, std::span<const int64_t> values, int32_t onnxType,
                            const ConstantLimit& limit);

  //! Small constants the parser makes itself (scalars, shapes: at most kMaxSmall values, which
  //! no limit can refuse); anything larger goes through allocate.
  static constexpr std::size_t kMaxSmall = Dims::kMaxRank;
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
  int64_t count() const noexcept { return elementCount(dims_); }
  bool isFloat() const noexcept { return isOnnxFloating(onnxType_); }
  bool isBool() const noexcept { return onnxType_ == kOnnxBool; }
  //! Integers and bools both live in the int64 storage.
  bool isIntegral() const noexcept { return !isFloat(); }

  std::span<const float> floatValues() const noexcept { return f_; }
  std::span<const int64_t> intValues() const noexcept { return i_; }
  //! The storage to fill after allocate (empty for the other kind).
  std::span<float> floatData() noexcept { return f_; }
  std::span<int64_t> intData() noexcept { return i_; }

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
