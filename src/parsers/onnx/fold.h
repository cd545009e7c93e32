// Parse-time evaluation of ops on known constants (shape arithmetic: Shape -> Gather -> Concat
// -> Reshape and friends), so that layers get their shape and axes arguments as constants.
// Results follow ONNX semantics with int64 integers and float32 floats (computed in double and
// rounded once, as kiln's reference kernels do).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/error.h"
#include "parsers/onnx/const_tensor.h"

namespace kiln::parsers::onnx_import {

enum class FoldOp {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kMax,
  kMin,
  kEqual,
  kGreater,
  kLess,
  kGreaterOrEqual,
  kLessOrEqual,
  kAnd,
  kOr,
  kXor,
};

enum class FoldUnary { kNeg, kAbs, kSqrt, kFloor, kCeil, kNot, kReciprocal, kSign, kExp, kLog };

// Every fold makes its result through ConstTensor::allocate with the @p limit given (the
// importer's foldLimit()), so a result larger than it is declined (see tryFold).

//! Binary op with numpy broadcasting. Throws kINVALID_MODEL (e.g. integer division by zero).
ConstTensor foldBinary(const ConstTensor& a, const ConstTensor& b, FoldOp op,
                       const ConstantLimit& limit);
ConstTensor foldUnary(const ConstTensor& x, FoldUnary op, const ConstantLimit& limit);
ConstTensor foldWhere(const ConstTensor& condition, const ConstTensor& a, const ConstTensor& b,
                      const ConstantLimit& limit);
//! Conversion to ONNX type @p to (float -> int truncates toward zero, as ONNX Cast).
ConstTensor foldCast(const ConstTensor& x, int32_t to, const ConstantLimit& limit);
//! ONNX Gather along @p axis (already normalized); indices may be negative.
ConstTensor foldGather(const ConstTensor& data, const ConstTensor& indices, int32_t axis,
                       const ConstantLimit& limit);
ConstTensor foldConcat(std::span<const ConstTensor* const> inputs, int32_t axis,
                       const ConstantLimit& limit);
//! output[i] = input[start + i * stride] per dimension (kiln Slice semantics).
ConstTensor foldSlice(const ConstTensor& x, const Dims& start, const Dims& size, const Dims& stride,
                      const ConstantLimit& limit);
ConstTensor foldTranspose(const ConstTensor& x, std::span<const int32_t> perm,
                          const ConstantLimit& limit);
//! Sum / product / max / min / mean over the dims of @p mask.
enum class FoldReduce { kSum, kProd, kMax, kMin, kMean };
ConstTensor foldReduce(const ConstTensor& x, FoldReduce op, uint32_t mask, bool keep,
                       const ConstantLimit& limit);

//! Runs a fold; nullopt when the fold declines (a result too large to keep as a constant, or an
//! op not folded for these types), so the caller adds layers instead.
template <typename Fold>
std::optional<ConstTensor> tryFold(Fold&& fold) {
  try {
    return fold();
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kUNSUPPORTED_STATE) throw;
  }
  return std::nullopt;
}

}  // namespace kiln::parsers::onnx_import
