// ElementWise: a binary operation ("op", ElementWiseOperation) with numpy broadcasting.
// Select: condition ? then : else, the three inputs broadcast together.
//
// Integer semantics (int32), chosen so that no input can crash the process:
// - SUM, SUB, PROD and POW wrap modulo 2^32 (two's complement), as numpy's int32 does.
// - DIV truncates toward zero, FLOOR_DIV rounds toward negative infinity; INT32_MIN / -1 wraps
//   to INT32_MIN. A zero divisor fails the inference with kFAILED_EXECUTION. MOD and FMOD are
//   the remainders of FLOOR_DIV and DIV (the divisor's and the dividend's sign); x mod -1 is 0.
// - SHIFT_LEFT and SHIFT_RIGHT (int32 only) shift the unsigned 32-bit pattern (ONNX BitShift is
//   defined on unsigned types, which networks hold as int32); counts outside [0, 31] give 0, as
//   numpy's shifts of unsigned types do.
// - POW with a negative exponent: 1^b = 1, (-1)^b = +-1 by the parity of b, 0^b fails like a
//   division by zero, and every other base gives 0 (1 / a^|b| truncated toward zero).
// Float semantics: IEEE; MAX and MIN propagate NaN (as numpy.maximum); FLOOR_DIV is
// floor(a / b); POW is std::pow computed in double; FMOD is std::fmod (exact) and MOD is
// numpy.mod: fmod moved by b when its sign differs from b's, a zero taking b's sign.
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>

#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "kiln/network.h"
#include "ops/broadcast.h"
#include "ops/infer_checks.h"
#include "ops/op_families.h"

namespace kiln::ops {

namespace {

using Op = ElementWiseOperation;

constexpr std::array<std::string_view, 18> kOpNames = {
    "SUM", "PROD", "MAX",   "MIN",     "SUB",  "DIV", "POW",  "FLOOR_DIV",  "AND",
    "OR",  "XOR",  "EQUAL", "GREATER", "LESS", "MOD", "FMOD", "SHIFT_LEFT", "SHIFT_RIGHT"};

std::string_view nameOf(Op op) {
  return kOpNames[static_cast<std::size_t>(op)];
}

bool isLogical(Op op) {
  return op == Op::kAND || op == Op::kOR || op == Op::kXOR;
}
bool isComparison(Op op) {
  return op == Op::kEQUAL || op == Op::kGREATER || op == Op::kLESS;
}
bool isShift(Op op) {
  return op == Op::kSHIFT_LEFT || op == Op::kSHIFT_RIGHT;
}

void inferElementWise(ir::InferContext& ctx) {
  const int64_t raw = ctx.attrs().getInt("op", 0);
  if (raw < 0 || raw >= static_cast<int64_t>(kOpNames.size())) {
    ctx.fail("unknown element-wise operation ", raw, " (expected 0 to ", kOpNames.size() - 1, ")");
  }
  const auto op = static_cast<Op>(raw);
  const auto& a = ctx.input(0);
  const auto& b = ctx.input(1);
  if (a.dtype != b.dtype) {
    ctx.fail("inputs have different types (", toString(a.dtype), " and ", toString(b.dtype), "); ",
             nameOf(op), " needs both of one type (convert one with addCast)");
  }
  if (isLogical(op)) {
    if (a.dtype != DataType::kBOOL) {
      ctx.fail(nameOf(op), " needs bool inputs, not ", toString(a.dtype));
    }
  } else if (isShift(op)) {
    if (a.dtype != DataType::kINT32) {
      ctx.fail(nameOf(op), " needs int32 inputs, not ", toString(a.dtype));
    }
  } else if (a.dtype != DataType::kFLOAT && a.dtype != DataType::kINT32) {
    ctx.fail(nameOf(op), " needs float32 or int32 inputs, not ", toString(a.dtype));
  }
  const Dims dims =
      withLayerContext(ctx, [&] { return broadcastShapes(a.dims, b.dims, "inputs"); });
  ctx.setOutput(0, isComparison(op) ? DataType::kBOOL : a.dtype, dims);
}

// y = f(a, b) over the broadcast of a and b.
template <typename T, typename R, typename F>
void binary(const ir::KernelContext& ctx, F f) {
  const std::array<Dims, 2> dims = {ctx.input(0).dims, ctx.input(1).dims};
  const BroadcastPlan plan = planBroadcast(ctx.output(0).dims, dims);
  const T* a = ctx.input(0).as<T>();
  const T* b = ctx.input(1).as<T>();
  R* y = ctx.output(0).as<R>();
  forEachBroadcastRow(plan, [&](const BroadcastRow& row) {
    const T* pa = a + row.in[0];
    const T* pb = b + row.in[1];
    R* py = y + row.out;
    for (int64_t j = 0; j < row.count; ++j) py[j] = f(pa[j * row.step[0]], pb[j * row.step[1]]);
  });
}

[[noreturn]] void divisionByZero(Op op) {
  fail(ErrorCode::kFAILED_EXECUTION, nameOf(op), ": int32 division by zero");
}

int32_t wrap(int64_t v) {
  return static_cast<int32_t>(static_cast<uint32_t>(v));
}

int32_t intDiv(int32_t a, int32_t b, bool floor) {
  if (b == -1) return wrap(-static_cast<int64_t>(a));  // INT32_MIN / -1 overflows
  int32_t q = a / b;
  if (floor && a % b != 0 && ((a < 0) != (b < 0))) --q;
  return q;
}

int32_t intPow(int32_t base, int32_t exponent) {
  if (exponent < 0) {
    if (base == 0) fail(ErrorCode::kFAILED_EXECUTION, "POW: 0 raised to a negative int32 power");
    if (base == 1) return 1;
    if (base == -1) return (exponent % 2 == 0) ? 1 : -1;
    return 0;
  }
  uint32_t result = 1;
  auto factor = static_cast<uint32_t>(base);
  for (auto e = static_cast<uint32_t>(exponent); e != 0; e >>= 1) {
    if ((e & 1u) != 0) result *= factor;
    factor *= factor;
  }
  return static_cast<int32_t>(result);
}

void runInt(const ir::KernelContext& ctx, Op op) {
  using I = int32_t;
  using U = uint32_t;
  switch (op) {
    case Op::kSUM:
      return binary<I, I>(ctx, [](I a, I b) { return I(U(a) + U(b)); });
    case Op::kPROD:
      return binary<I, I>(ctx, [](I a, I b) { return I(U(a) * U(b)); });
    case Op::kSUB:
      return binary<I, I>(ctx, [](I a, I b) { return I(U(a) - U(b)); });
    case Op::kMAX:
      return binary<I, I>(ctx, [](I a, I b) { return a > b ? a : b; });
    case Op::kMIN:
      return binary<I, I>(ctx, [](I a, I b) { return a < b ? a : b; });
    case Op::kDIV:
    case Op::kFLOOR_DIV: {
      const bool floor = op == Op::kFLOOR_DIV;
      return binary<I, I>(ctx, [&](I a, I b) {
        if (b == 0) divisionByZero(op);
        return intDiv(a, b, floor);
      });
    }
    case Op::kPOW:
      return binary<I, I>(ctx, intPow);
    case Op::kMOD:
    case Op::kFMOD: {
      const bool floor = op == Op::kMOD;
      return binary<I, I>(ctx, [&](I a, I b) {
        if (b == 0) divisionByZero(op);
        if (b == -1) return I(0);  // INT32_MIN % -1 overflows
        I r = a % b;
        if (floor && r != 0 && ((r < 0) != (b < 0))) r += b;
        return r;
      });
    }
    case Op::kEQUAL:
      return binary<I, uint8_t>(ctx, [](I a, I b) { return uint8_t(a == b); });
    case Op::kGREATER:
      return binary<I, uint8_t>(ctx, [](I a, I b) { return uint8_t(a > b); });
    case Op::kLESS:
      return binary<I, uint8_t>(ctx, [](I a, I b) { return uint8_t(a < b); });
    case Op::kSHIFT_LEFT:
      return binary<I, I>(ctx, [](I a, I b) { return b < 0 || b > 31 ? I(0) : I(U(a) << b); });
    case Op::kSHIFT_RIGHT:
      return binary<I, I>(ctx, [](I a, I b) { return b < 0 || b > 31 ? I(0) : I(U(a) >> b); });
    default:
      break;
  }
  fail(ErrorCode::kINTERNAL_ERROR, nameOf(op), " has no int32 kernel");
}

void runFloat(const ir::KernelContext& ctx, Op op) {
  using F = float;
  constexpr F nan = std::numeric_limits<F>::quiet_NaN();
  switch (op) {
    case Op::kSUM:
      return binary<F, F>(ctx, [](F a, F b) { return a + b; });
    case Op::kPROD:
      return binary<F, F>(ctx, [](F a, F b) { return a * b; });
    case Op::kSUB:
      return binary<F, F>(ctx, [](F a, F b) { return a - b; });
    case Op::kDIV:
      return binary<F, F>(ctx, [](F a, F b) { return a / b; });
    case Op::kMAX:
      return binary<F, F>(
          ctx, [](F a, F b) { return std::isnan(a) || std::isnan(b) ? nan : (a > b ? a : b); });
    case Op::kMIN:
      return binary<F, F>(
          ctx, [](F a, F b) { return std::isnan(a) || std::isnan(b) ? nan : (a < b ? a : b); });
    case Op::kPOW:
      return binary<F, F>(ctx, [](F a, F b) {
        return static_cast<F>(std::pow(static_cast<double>(a), static_cast<double>(b)));
      });
    case Op::kFLOOR_DIV:
      return binary<F, F>(ctx, [](F a, F b) { return std::floor(a / b); });
    case Op::kFMOD:
      return binary<F, F>(ctx, [](F a, F b) { return std::fmod(a, b); });
    case Op::kMOD:
      return binary<F, F>(ctx, [](F a, F b) {
        F r = std::fmod(a, b);
        if (r != 0 && ((r < 0) != (b < 0))) r += b;
        return r == 0 ? std::copysign(F(0), b) : r;
      });
    case Op::kEQUAL:
      return binary<F, uint8_t>(ctx, [](F a, F b) { return uint8_t(a == b); });
    case Op::kGREATER:
      return binary<F, uint8_t>(ctx, [](F a, F b) { return uint8_t(a > b); });
    case Op::kLESS:
      return binary<F, uint8_t>(ctx, [](F a, F b) { return uint8_t(a < b); });
    default:
      break;
  }
  fail(ErrorCode::kINTERNAL_ERROR, nameOf(op), " has no float32 kernel");
}

void runBool(const ir::KernelContext& ctx, Op op) {
  using B = uint8_t;  // any non-zero byte is true
  switch (op) {
    case Op::kAND:
      return binary<B, B>(ctx, [](B a, B b) { return B(a != 0 && b != 0); });
    case Op::kOR:
      return binary<B, B>(ctx, [](B a, B b) { return B(a != 0 || b != 0); });
    case Op::kXOR:
      return binary<B, B>(ctx, [](B a, B b) { return B((a != 0) != (b != 0)); });
    default:
      break;
  }
  fail(ErrorCode::kINTERNAL_ERROR, nameOf(op), " has no bool kernel");
}

void runElementWise(const ir::KernelContext& ctx) {
  const auto op = ctx.attrs().getEnum("op", Op::kSUM);
  switch (ctx.input(0).dtype) {
    case DataType::kFLOAT:
      return runFloat(ctx, op);
    case DataType::kINT32:
      return runInt(ctx, op);
    case DataType::kBOOL:
      return runBool(ctx, op);
    default:
      break;
  }
  fail(ErrorCode::kINTERNAL_ERROR, "ElementWise has no kernel for ", toString(ctx.input(0).dtype));
}

void inferSelect(ir::InferContext& ctx) {
  const auto& cond = ctx.input(0);
  const auto& thenIn = ctx.input(1);
  const auto& elseIn = ctx.input(2);
  if (cond.dtype != DataType::kBOOL) {
    ctx.fail("condition (input 0) must be bool, not ", toString(cond.dtype));
  }
  if (thenIn.dtype != elseIn.dtype) {
    ctx.fail("then and else inputs have different types (", toString(thenIn.dtype), " and ",
             toString(elseIn.dtype), "); they must have one type (convert one with addCast)");
  }
  if (thenIn.dtype != DataType::kFLOAT && thenIn.dtype != DataType::kINT32 &&
      thenIn.dtype != DataType::kBOOL) {
    ctx.fail("then/else must be float32, int32 or bool, not ", toString(thenIn.dtype));
  }
  const Dims dims = withLayerContext(ctx, [&] {
    const Dims partial = broadcastShapes(cond.dims, thenIn.dims, "condition and then");
    return broadcastShapes(partial, elseIn.dims, "condition, then and else");
  });
  ctx.setOutput(0, thenIn.dtype, dims);
}

// Copies bit patterns: selecting needs no arithmetic, so one kernel per element size.
template <typename T>
void select(const ir::KernelContext& ctx) {
  const std::array<Dims, 3> dims = {ctx.input(0).dims, ctx.input(1).dims, ctx.input(2).dims};
  const BroadcastPlan plan = planBroadcast(ctx.output(0).dims, dims);
  const auto* cond = ctx.input(0).as<uint8_t>();
  const T* thenIn = ctx.input(1).as<T>();
  const T* elseIn = ctx.input(2).as<T>();
  T* y = ctx.output(0).as<T>();
  forEachBroadcastRow(plan, [&](const BroadcastRow& row) {
    for (int64_t j = 0; j < row.count; ++j) {
      y[row.out + j] = cond[row.in[0] + j * row.step[0]] != 0 ? thenIn[row.in[1] + j * row.step[1]]
                                                              : elseIn[row.in[2] + j * row.step[2]];
    }
  });
}

void runSelect(const ir::KernelContext& ctx) {
  switch (elementSize(ctx.output(0).dtype)) {
    case 1:
      return select<uint8_t>(ctx);
    case 4:
      return select<uint32_t>(ctx);
    default:
      break;
  }
  fail(ErrorCode::kINTERNAL_ERROR, "Select has no kernel for ", toString(ctx.output(0).dtype));
}

}  // namespace

void registerElementWiseOps(ir::OpRegistry& registry) {
  registry.add({.name = "ElementWise",
                .minInputs = 2,
                .maxInputs = 2,
                .nbOutputs = 1,
                .infer = inferElementWise,
                .reference = runElementWise});
  registry.add({.name = "Select",
                .minInputs = 3,
                .maxInputs = 3,
                .nbOutputs = 1,
                .infer = inferSelect,
                .reference = runSelect});
}

}  // namespace kiln::ops
