// Unary: one pointwise function selected by "op" (UnaryOperation).
//
// Types: every op takes float32 (computed in double, rounded once); ABS, NEG and SIGN also take
// int32 (ABS and NEG of INT32_MIN wrap to INT32_MIN, as numpy's int32 does); NOT takes bool
// only; ISINF and ISNAN produce bool. ROUND is half to even (std::nearbyint under the default
// rounding mode); SIGN is -1, 0 or 1, keeps the sign of a zero and passes NaN through.
#include <array>
#include <cmath>
#include <cstdint>
#include <string_view>

#include "ir/op_registry.h"
#include "kiln/network.h"
#include "ops/op_families.h"

namespace kiln::ops {

namespace {

using Op = UnaryOperation;

constexpr std::array<std::string_view, 25> kOpNames = {
    "EXP",   "LOG",  "SQRT", "RECIP", "ABS",   "NEG",   "SIN",   "COS",   "TAN",
    "SINH",  "COSH", "ASIN", "ACOS",  "ATAN",  "ASINH", "ACOSH", "ATANH", "CEIL",
    "FLOOR", "ERF",  "NOT",  "SIGN",  "ROUND", "ISINF", "ISNAN"};

std::string_view nameOf(Op op) {
  return kOpNames[static_cast<std::size_t>(op)];
}

bool takesInt(Op op) {
  return op == Op::kABS || op == Op::kNEG || op == Op::kSIGN;
}

void inferUnary(ir::InferContext& ctx) {
  const int64_t raw = ctx.attrs().getInt("op", 0);
  if (raw < 0 || raw >= static_cast<int64_t>(kOpNames.size())) {
    ctx.fail("unknown unary operation ", raw, " (expected 0 to ", kOpNames.size() - 1, ")");
  }
  const auto op = static_cast<Op>(raw);
  const auto& in = ctx.input(0);
  if (op == Op::kNOT) {
    if (in.dtype != DataType::kBOOL) ctx.fail("NOT needs a bool input, not ", toString(in.dtype));
  } else if (takesInt(op)) {
    if (in.dtype != DataType::kFLOAT && in.dtype != DataType::kINT32) {
      ctx.fail(nameOf(op), " needs a float32 or int32 input, not ", toString(in.dtype));
    }
  } else if (in.dtype != DataType::kFLOAT) {
    ctx.fail(nameOf(op), " needs a float32 input, not ", toString(in.dtype),
             " (convert with addCast)");
  }
  const bool boolOut = op == Op::kNOT || op == Op::kISINF || op == Op::kISNAN;
  ctx.setOutput(0, boolOut ? DataType::kBOOL : in.dtype, in.dims);
}

double applyFloat(Op op, double x) {
  switch (op) {
    case Op::kEXP:
      return std::exp(x);
    case Op::kLOG:
      return std::log(x);
    case Op::kSQRT:
      return std::sqrt(x);
    case Op::kRECIP:
      return 1.0 / x;
    case Op::kABS:
      return std::fabs(x);
    case Op::kNEG:
      return -x;
    case Op::kSIN:
      return std::sin(x);
    case Op::kCOS:
      return std::cos(x);
    case Op::kTAN:
      return std::tan(x);
    case Op::kSINH:
      return std::sinh(x);
    case Op::kCOSH:
      return std::cosh(x);
    case Op::kASIN:
      return std::asin(x);
    case Op::kACOS:
      return std::acos(x);
    case Op::kATAN:
      return std::atan(x);
    case Op::kASINH:
      return std::asinh(x);
    case Op::kACOSH:
      return std::acosh(x);
    case Op::kATANH:
      return std::atanh(x);
    case Op::kCEIL:
      return std::ceil(x);
    case Op::kFLOOR:
      return std::floor(x);
    case Op::kERF:
      return std::erf(x);
    case Op::kSIGN:
      return x > 0 ? 1.0 : (x < 0 ? -1.0 : x);
    case Op::kROUND:
      return std::nearbyint(x);
    default:
      break;
  }
  fail(ErrorCode::kINTERNAL_ERROR, nameOf(op), " has no float32 kernel");
}

int32_t applyInt(Op op, int32_t x) {
  const auto u = static_cast<uint32_t>(x);
  switch (op) {
    case Op::kABS:
      return x < 0 ? static_cast<int32_t>(0u - u) : x;
    case Op::kNEG:
      return static_cast<int32_t>(0u - u);
    case Op::kSIGN:
      return x > 0 ? 1 : (x < 0 ? -1 : 0);
    default:
      break;
  }
  fail(ErrorCode::kINTERNAL_ERROR, nameOf(op), " has no int32 kernel");
}

void runUnary(const ir::KernelContext& ctx) {
  const auto op = ctx.attrs().getEnum("op", Op::kEXP);
  const auto& in = ctx.input(0);
  const auto& out = ctx.output(0);
  const int64_t n = out.count();
  if (op == Op::kNOT) {
    const auto* x = in.as<uint8_t>();
    auto* y = out.as<uint8_t>();
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] == 0 ? 1 : 0;
  } else if (op == Op::kISINF || op == Op::kISNAN) {
    const float* x = in.as<float>();
    auto* y = out.as<uint8_t>();
    const bool inf = op == Op::kISINF;
    for (int64_t i = 0; i < n; ++i) y[i] = (inf ? std::isinf(x[i]) : std::isnan(x[i])) ? 1 : 0;
  } else if (in.dtype == DataType::kINT32) {
    const auto* x = in.as<int32_t>();
    auto* y = out.as<int32_t>();
    for (int64_t i = 0; i < n; ++i) y[i] = applyInt(op, x[i]);
  } else {
    const float* x = in.as<float>();
    float* y = out.as<float>();
    for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(applyFloat(op, x[i]));
  }
}

}  // namespace

void registerUnaryOps(ir::OpRegistry& registry) {
  registry.add({.name = "Unary",
                .minInputs = 1,
                .maxInputs = 1,
                .nbOutputs = 1,
                .infer = inferUnary,
                .reference = runUnary});
}

}  // namespace kiln::ops
