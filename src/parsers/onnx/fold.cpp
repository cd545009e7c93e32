#include "parsers/onnx/fold.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"

namespace kiln::parsers::onnx_import {

namespace {

Dims stridesOf(const Dims& dims) {
  Dims s;
  s.nbDims = dims.nbDims;
  // Wrapping: an empty tensor's extents may pass 2^63 together, and its strides are never used.
  uint64_t stride = 1;
  for (int32_t i = dims.nbDims - 1; i >= 0; --i) {
    s[i] = static_cast<int64_t>(stride);
    stride *= static_cast<uint64_t>(dims[i]);
  }
  return s;
}

// Walks every position of @p dims in row-major order.
class Position {
 public:
  explicit Position(const Dims& dims) : dims_(dims) {}
  int64_t operator[](int32_t i) const { return index_[static_cast<std::size_t>(i)]; }
  void next() {
    for (int32_t i = dims_.nbDims - 1; i >= 0; --i) {
      if (++index_[static_cast<std::size_t>(i)] < dims_[i]) return;
      index_[static_cast<std::size_t>(i)] = 0;
    }
  }

 private:
  Dims dims_;
  std::array<int64_t, Dims::kMaxRank> index_{};
};

Dims broadcast(const Dims& a, const Dims& b) {
  Dims out;
  out.nbDims = std::max(a.nbDims, b.nbDims);
  for (int32_t i = 0; i < out.nbDims; ++i) {
    const int32_t ia = a.nbDims - out.nbDims + i;
    const int32_t ib = b.nbDims - out.nbDims + i;
    const int64_t ea = ia >= 0 ? a[ia] : 1;
    const int64_t eb = ib >= 0 ? b[ib] : 1;
    if (ea != eb && ea != 1 && eb != 1) {
      fail(ErrorCode::kINVALID_MODEL, "shapes ", toString(a), " and ", toString(b),
           " do not broadcast");
    }
    out[i] = ea == 1 ? eb : ea;
  }
  return out;
}

// Linear index into @p in (broadcast to @p out) of output position @p p.
int64_t broadcastIndex(const Position& p, const Dims& out, const Dims& in, const Dims& strides) {
  int64_t index = 0;
  const int32_t shift = out.nbDims - in.nbDims;
  for (int32_t d = 0; d < in.nbDims; ++d) {
    if (in[d] != 1) index += p[d + shift] * strides[d];
  }
  return index;
}

bool isComparison(FoldOp op) {
  return op == FoldOp::kEqual || op == FoldOp::kGreater || op == FoldOp::kLess ||
         op == FoldOp::kGreaterOrEqual || op == FoldOp::kLessOrEqual;
}
bool isLogical(FoldOp op) {
  return op == FoldOp::kAnd || op == FoldOp::kOr || op == FoldOp::kXor;
}

double floatOp(FoldOp op, double a, double b) {
  switch (op) {
    case FoldOp::kAdd:
      return a + b;
    case FoldOp::kSub:
      return a - b;
    case FoldOp::kMul:
      return a * b;
    case FoldOp::kDiv:
      return a / b;
    case FoldOp::kMod:
      return std::fmod(a, b);
    case FoldOp::kPow:
      return std::pow(a, b);
    case FoldOp::kMax:
      return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
    case FoldOp::kMin:
      return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b);
    case FoldOp::kEqual:
      return a == b;
    case FoldOp::kGreater:
      return a > b;
    case FoldOp::kLess:
      return a < b;
    case FoldOp::kGreaterOrEqual:
      return a >= b;
    case FoldOp::kLessOrEqual:
      return a <= b;
    default:
      return 0;
  }
}

int64_t intOp(FoldOp op, int64_t a, int64_t b) {
  // Wrapping arithmetic, as two's complement hardware (and numpy) does.
  const auto ua = static_cast<uint64_t>(a), ub = static_cast<uint64_t>(b);
  switch (op) {
    case FoldOp::kAdd:
      return static_cast<int64_t>(ua + ub);
    case FoldOp::kSub:
      return static_cast<int64_t>(ua - ub);
    case FoldOp::kMul:
      return static_cast<int64_t>(ua * ub);
    case FoldOp::kDiv:
    case FoldOp::kMod:
      if (b == 0) fail(ErrorCode::kINVALID_MODEL, "integer division by zero in shape arithmetic");
      if (a == std::numeric_limits<int64_t>::min() && b == -1) return op == FoldOp::kDiv ? a : 0;
      if (op == FoldOp::kDiv) return a / b;
      {
        // ONNX Mod (fmod = 0) takes the sign of the divisor, as Python's %.
        const int64_t r = a % b;
        return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
      }
    case FoldOp::kPow: {
      if (b < 0) return a == 1 ? 1 : (a == -1 ? (b % 2 == 0 ? 1 : -1) : 0);
      uint64_t result = 1, base = ua;
      for (int64_t e = b; e > 0; e >>= 1) {
        if (e & 1) result *= base;
        base *= base;
      }
      return static_cast<int64_t>(result);
    }
    case FoldOp::kMax:
      return std::max(a, b);
    case FoldOp::kMin:
      return std::min(a, b);
    case FoldOp::kEqual:
      return a == b;
    case FoldOp::kGreater:
      return a > b;
    case FoldOp::kLess:
      return a < b;
    case FoldOp::kGreaterOrEqual:
      return a >= b;
    case FoldOp::kLessOrEqual:
      return a <= b;
    case FoldOp::kAnd:
      return (a != 0) && (b != 0);
    case FoldOp::kOr:
      return (a != 0) || (b != 0);
    case FoldOp::kXor:
      return (a != 0) != (b != 0);
  }
  return 0;
}

}  // namespace

ConstTensor foldBinary(const ConstTensor& a, const ConstTensor& b, FoldOp op,
                       const ConstantLimit& limit) {
  const Dims out = broadcast(a.dims(), b.dims());
  const Dims sa = stridesOf(a.dims()), sb = stridesOf(b.dims());
  const bool floating = (a.isFloat() || b.isFloat()) && !isLogical(op);
  const int32_t type =
      isComparison(op) || isLogical(op)
          ? kOnnxBool
          : (floating ? (a.isFloat() ? a.onnxType() : b.onnxType()) : a.onnxType());
  ConstTensor result = ConstTensor::allocate(out, type, limit);
  const int64_t n = result.count();
  Position p(out);
  if (floating) {
    const std::span<float> f = result.floatData();
    const std::span<int64_t> flags = result.intData();
    for (int64_t k = 0; k < n; ++k, p.next()) {
      const double x = a.asDouble(broadcastIndex(p, out, a.dims(), sa));
      const double y = b.asDouble(broadcastIndex(p, out, b.dims(), sb));
      const double r = floatOp(op, x, y);
      if (isComparison(op)) {
        flags[static_cast<std::size_t>(k)] = r != 0 ? 1 : 0;
      } else {
        f[static_cast<std::size_t>(k)] = static_cast<float>(r);
      }
    }
    return result;
  }
  const std::span<int64_t> v = result.intData();
  for (int64_t k = 0; k < n; ++k, p.next()) {
    const int64_t x = a.asInt(broadcastIndex(p, out, a.dims(), sa));
    const int64_t y = b.asInt(broadcastIndex(p, out, b.dims(), sb));
    const int64_t r = intOp(op, x, y);
    v[static_cast<std::size_t>(k)] = result.isBool() ? (r != 0 ? 1 : 0) : r;
  }
  return result;
}

ConstTensor foldUnary(const ConstTensor& x, FoldUnary op, const ConstantLimit& limit) {
  const auto n = static_cast<std::size_t>(x.count());
  ConstTensor result = ConstTensor::allocate(x.dims(), x.onnxType(), limit);
  if (x.isFloat()) {
    const std::span<float> f = result.floatData();
    for (std::size_t k = 0; k < n; ++k) {
      const double v = x.floatValues()[k];
      double r = v;
      switch (op) {
        case FoldUnary::kNeg:
          r = -v;
          break;
        case FoldUnary::kAbs:
          r = std::fabs(v);
          break;
        case FoldUnary::kSqrt:
          r = std::sqrt(v);
          break;
        case FoldUnary::kFloor:
          r = std::floor(v);
          break;
        case FoldUnary::kCeil:
          r = std::ceil(v);
          break;
        case FoldUnary::kReciprocal:
          r = 1.0 / v;
          break;
        case FoldUnary::kSign:
          r = v > 0 ? 1.0 : (v < 0 ? -1.0 : v);
          break;
        case FoldUnary::kExp:
          r = std::exp(v);
          break;
        case FoldUnary::kLog:
          r = std::log(v);
          break;
        case FoldUnary::kNot:
          r = v == 0 ? 1.0 : 0.0;
          break;
      }
      f[k] = static_cast<float>(r);
    }
    return result;
  }
  const std::span<int64_t> v = result.intData();
  for (std::size_t k = 0; k < n; ++k) {
    const int64_t a = x.intValues()[k];
    int64_t r = a;
    switch (op) {
      case FoldUnary::kNeg:
        r = static_cast<int64_t>(0 - static_cast<uint64_t>(a));
        break;
      case FoldUnary::kAbs:
        r = a < 0 ? static_cast<int64_t>(0 - static_cast<uint64_t>(a)) : a;
        break;
      case FoldUnary::kSign:
        r = a > 0 ? 1 : (a < 0 ? -1 : 0);
        break;
      case FoldUnary::kNot:
        r = a == 0 ? 1 : 0;
        break;
      case FoldUnary::kFloor:
      case FoldUnary::kCeil:
        break;
      default:
        fail(ErrorCode::kUNSUPPORTED_STATE, "not foldable on integers");
    }
    v[k] = x.isBool() ? (r != 0 ? 1 : 0) : r;
  }
  return result;
}

ConstTensor foldWhere(const ConstTensor& condition, const ConstTensor& a, const ConstTensor& b,
                      const ConstantLimit& limit) {
  const Dims out = broadcast(broadcast(condition.dims(), a.dims()), b.dims());
  ConstTensor result = ConstTensor::allocate(out, a.onnxType(), limit);
  const Dims sc = stridesOf(condition.dims()), sa = stridesOf(a.dims()), sb = stridesOf(b.dims());
  const int64_t n = result.count();
  Position p(out);
  if (a.isFloat()) {
    const std::span<float> f = result.floatData();
    for (int64_t k = 0; k < n; ++k, p.next()) {
      const bool c = condition.asInt(broadcastIndex(p, out, condition.dims(), sc)) != 0;
      f[static_cast<std::size_t>(k)] =
          static_cast<float>(c ? a.asDouble(broadcastIndex(p, out, a.dims(), sa))
                               : b.asDouble(broadcastIndex(p, out, b.dims(), sb)));
    }
    return result;
  }
  const std::span<int64_t> v = result.intData();
  for (int64_t k = 0; k < n; ++k, p.next()) {
    const bool c = condition.asInt(broadcastIndex(p, out, condition.dims(), sc)) != 0;
    v[static_cast<std::size_t>(k)] = c ? a.asInt(broadcastIndex(p, out, a.dims(), sa))
                                       : b.asInt(broadcastIndex(p, out, b.dims(), sb));
  }
  return result;
}

ConstTensor foldCast(const ConstTensor& x, int32_t to, const ConstantLimit& limit) {
  const auto n = static_cast<std::size_t>(x.count());
  ConstTensor result = ConstTensor::allocate(x.dims(), to, limit);
  if (isOnnxFloating(to)) {
    const std::span<float> f = result.floatData();
    for (std::size_t k = 0; k < n; ++k)
      f[k] = static_cast<float>(x.asDouble(static_cast<int64_t>(k)));
    return result;
  }
  const std::span<int64_t> v = result.intData();
  for (std::size_t k = 0; k < n; ++k) {
    if (to == kOnnxBool) {
      v[k] = x.asDouble(static_cast<int64_t>(k)) != 0 ? 1 : 0;
    } else {
      v[k] = x.asInt(static_cast<int64_t>(k));
    }
  }
  return result;
}

namespace {
// A result of @p dims with the element type of @p like, filled element by element.
struct Builder {
  ConstTensor out;
  Builder(const ConstTensor& like, const Dims& dims, const ConstantLimit& limit)
      : out(ConstTensor::allocate(dims, like.onnxType(), limit)) {}
  //! Copies element @p from of @p x to position @p to.
  void copy(const ConstTensor& x, int64_t from, int64_t to) {
    if (out.isFloat()) {
      out.floatData()[static_cast<std::size_t>(to)] = static_cast<float>(x.asDouble(from));
    } else {
      out.intData()[static_cast<std::size_t>(to)] = x.asInt(from);
    }
  }
  ConstTensor finish() { return std::move(out); }
};
}  // namespace

ConstTensor foldGather(const ConstTensor& data, const ConstTensor& indices, int32_t axis,
                       const ConstantLimit& limit) {
  const Dims& d = data.dims();
  const Dims& q = indices.dims();
  if (d.nbDims + q.nbDims - 1 > Dims::kMaxRank) {
    fail(ErrorCode::kUNSUPPORTED_STATE, "gather result rank exceeds ", Dims::kMaxRank);
  }
  Dims out;
  for (int32_t k = 0; k < axis; ++k) out[out.nbDims++] = d[k];
  for (int32_t k = 0; k < q.nbDims; ++k) out[out.nbDims++] = q[k];
  for (int32_t k = axis + 1; k < d.nbDims; ++k) out[out.nbDims++] = d[k];
  Builder b(data, out, limit);
  int64_t outer = 1, inner = 1;
  for (int32_t k = 0; k < axis; ++k) outer *= d[k];
  for (int32_t k = axis + 1; k < d.nbDims; ++k) inner *= d[k];
  const int64_t extent = d[axis];
  const int64_t count = indices.count();
  int64_t to = 0;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < count; ++j) {
      int64_t index = indices.asInt(j);
      if (index < -extent || index >= extent) {
        fail(ErrorCode::kINVALID_MODEL, "gather index ", index, " is outside [", -extent, ", ",
             extent - 1, "] of the data of shape ", toString(d));
      }
      if (index < 0) index += extent;
      for (int64_t k = 0; k < inner; ++k) b.copy(data, (o * extent + index) * inner + k, to++);
    }
  }
  return b.finish();
}

ConstTensor foldConcat(std::span<const ConstTensor* const> inputs, int32_t axis,
                       const ConstantLimit& limit) {
  KILN_ASSERT(!inputs.empty());
  Dims out = inputs[0]->dims();
  out[axis] = 0;
  for (const ConstTensor* in : inputs) {
    const Dims& d = in->dims();
    if (d.nbDims != out.nbDims) {
      fail(ErrorCode::kINVALID_MODEL, "concatenated tensors have ranks ", out.nbDims, " and ",
           d.nbDims);
    }
    for (int32_t k = 0; k < d.nbDims; ++k) {
      if (k != axis && d[k] != out[k]) {
        fail(ErrorCode::kINVALID_MODEL, "concatenated tensors have shapes ",
             toString(inputs[0]->dims()), " and ", toString(d), " (they may differ only in axis ",
             axis, ")");
      }
    }
    if (__builtin_add_overflow(out[axis], d[axis], &out[axis])) {
      fail(ErrorCode::kUNSUPPORTED_STATE, "the concatenation is longer than 2^63");
    }
  }
  Builder b(*inputs[0], out, limit);
  int64_t outer = 1, inner = 1;
  for (int32_t k = 0; k < axis; ++k) outer *= out[k];
  for (int32_t k = axis + 1; k < out.nbDims; ++k) inner *= out[k];
  int64_t to = 0;
  for (int64_t o = 0; o < outer; ++o) {
    for (const ConstTensor* in : inputs) {
      const int64_t block = in->dims()[axis] * inner;
      for (int64_t k = 0; k < block; ++k) b.copy(*in, o * block + k, to++);
    }
  }
  return b.finish();
}

ConstTensor foldSlice(const ConstTensor& x, const Dims& start, const Dims& size, const Dims& stride,
                      const ConstantLimit& limit) {
  Builder b(x, size, limit);
  const Dims strides = stridesOf(x.dims());
  Position p(size);
  const int64_t n = elementCount(size);
  for (int64_t k = 0; k < n; ++k, p.next()) {
    int64_t from = 0;
    for (int32_t d = 0; d < size.nbDims; ++d) from += (start[d] + p[d] * stride[d]) * strides[d];
    b.copy(x, from, k);
  }
  return b.finish();
}

ConstTensor foldTranspose(const ConstTensor& x, std::span<const int32_t> perm,
                          const ConstantLimit& limit) {
  const Dims& in = x.dims();
  Dims out;
  out.nbDims = in.nbDims;
  for (int32_t k = 0; k < in.nbDims; ++k) out[k] = in[perm[static_cast<std::size_t>(k)]];
  const Dims strides = stridesOf(in);
  Builder b(x, out, limit);
  Position p(out);
  const int64_t n = elementCount(out);
  for (int64_t k = 0; k < n; ++k, p.next()) {
    int64_t from = 0;
    for (int32_t d = 0; d < out.nbDims; ++d)
      from += p[d] * strides[perm[static_cast<std::size_t>(d)]];
    b.copy(x, from, k);
  }
  return b.finish();
}

ConstTensor foldReduce(const ConstTensor& x, FoldReduce op, uint32_t mask, bool keep,
                       const ConstantLimit& limit) {
  const Dims& in = x.dims();
  Dims kept = in;
  for (int32_t d = 0; d < in.nbDims; ++d) {
    if ((mask >> d) & 1u) kept[d] = 1;
  }
  const int64_t n = elementCount(kept);
  const Dims keptStrides = stridesOf(kept);
  std::vector<double> acc(static_cast<std::size_t>(n));
  std::vector<int64_t> iacc(static_cast<std::size_t>(n));
  std::vector<bool> seen(static_cast<std::size_t>(n), false);
  int64_t reducedCount = 1;
  for (int32_t d = 0; d < in.nbDims; ++d) {
    if ((mask >> d) & 1u) reducedCount *= in[d];
  }
  Position p(in);
  for (int64_t k = 0; k < x.count(); ++k, p.next()) {
    int64_t o = 0;
    for (int32_t d = 0; d < in.nbDims; ++d) {
      if (!((mask >> d) & 1u)) o += p[d] * keptStrides[d];
    }
    const auto u = static_cast<std::size_t>(o);
    const double v = x.asDouble(k);
    const int64_t iv = x.asInt(k);
    if (!seen[u]) {
      acc[u] = v;
      iacc[u] = iv;
      seen[u] = true;
      continue;
    }
    switch (op) {
      case FoldReduce::kSum:
      case FoldReduce::kMean:
        acc[u] += v;
        iacc[u] = static_cast<int64_t>(static_cast<uint64_t>(iacc[u]) + static_cast<uint64_t>(iv));
        break;
      case FoldReduce::kProd:
        acc[u] *= v;
        iacc[u] = static_cast<int64_t>(static_cast<uint64_t>(iacc[u]) * static_cast<uint64_t>(iv));
        break;
      case FoldReduce::kMax:
        acc[u] = std::max(acc[u], v);
        iacc[u] = std::max(iacc[u], iv);
        break;
      case FoldReduce::kMin:
        acc[u] = std::min(acc[u], v);
        iacc[u] = std::min(iacc[u], iv);
        break;
    }
  }
  Dims out = kept;
  if (!keep) {
    out.nbDims = 0;
    for (int32_t d = 0; d < in.nbDims; ++d) {
      if (!((mask >> d) & 1u)) out[out.nbDims++] = in[d];
    }
  }
  if (x.count() == 0 || reducedCount == 0) {
    fail(ErrorCode::kUNSUPPORTED_STATE, "reduction of an empty tensor is not folded");
  }
  ConstTensor result = ConstTensor::allocate(out, x.onnxType(), limit);
  if (x.isFloat()) {
    const std::span<float> f = result.floatData();
    for (std::size_t k = 0; k < f.size(); ++k) {
      f[k] = static_cast<float>(op == FoldReduce::kMean ? acc[k] / static_cast<double>(reducedCount)
                                                        : acc[k]);
    }
    return result;
  }
  if (op == FoldReduce::kMean) {
    for (auto& v : iacc) v /= reducedCount;
  }
  std::copy(iacc.begin(), iacc.end(), result.intData().begin());
  return result;
}

}  // namespace kiln::parsers::onnx_import
