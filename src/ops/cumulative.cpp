// Cumulative: inputs [x, axis (INT32/INT64 scalar or one-element vector; a constant is checked
// when the engine is built, a run-time value when it runs)], attributes
// "operation" (CumulativeOperation), "exclusive" and "reverse". ONNX CumSum: output[..., i, ...]
// is the sum of x[..., j, ...] over j <= i (j < i when exclusive; j >= i / j > i when reversed).
// Float sums run in double; integer sums wrap around as two's complement.
#include <cstdint>
#include <type_traits>

#include "core/error.h"
#include "ir/op_registry.h"
#include "kiln/network.h"
#include "ops/op_families.h"

namespace kiln::ops {

namespace {

int64_t axisValue(DataType type, const void* data) {
  return type == DataType::kINT32 ? static_cast<const int32_t*>(data)[0]
                                  : static_cast<const int64_t*>(data)[0];
}

void inferCumulative(ir::InferContext& ctx) {
  const auto& in = ctx.input(0);
  const auto& axis = ctx.input(1);
  const auto op = ctx.attrs().getEnum("operation", CumulativeOperation::kSUM);
  if (op != CumulativeOperation::kSUM) {
    ctx.fail("unknown cumulative operation ", static_cast<int64_t>(op));
  }
  if (in.dtype != DataType::kFLOAT && in.dtype != DataType::kINT32 &&
      in.dtype != DataType::kINT64) {
    ctx.fail("the input must be float32, int32 or int64, not ", toString(in.dtype));
  }
  const int32_t r = in.dims.nbDims;
  if (r == 0) ctx.fail("the input is a scalar; a cumulative sum needs rank >= 1");
  if (axis.dtype != DataType::kINT32 && axis.dtype != DataType::kINT64) {
    ctx.fail("the axis must be int32 or int64, not ", toString(axis.dtype));
  }
  if (axis.dims.nbDims > 1 || volume(axis.dims) != 1) {
    ctx.fail("the axis must be a scalar (or one-element vector), not of shape ",
             toString(axis.dims));
  }
  if (axis.constData != nullptr) {
    const int64_t a = axisValue(axis.dtype, axis.constData);
    if (a < -r || a >= r) {
      ctx.fail("axis ", a, " is out of range for input of shape ", toString(in.dims),
               " (valid: ", -r, " to ", r - 1, ")");
    }
  }
  ctx.setOutput(0, in.dtype, in.dims);
}

template <typename T, typename Acc>
void cumulate(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool exclusive,
              bool reverse) {
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      Acc sum = 0;
      for (int64_t s = 0; s < n; ++s) {
        const int64_t j = reverse ? n - 1 - s : s;
        const int64_t at = (o * n + j) * inner + i;
        const Acc v = static_cast<Acc>(x[at]);
        if (!exclusive) sum += v;
        y[at] = static_cast<T>(sum);
        if (exclusive) sum += v;
      }
    }
  }
}

void runCumulative(const ir::KernelContext& ctx) {
  const auto& in = ctx.input(0);
  const auto& out = ctx.output(0);
  const int32_t r = in.dims.nbDims;
  int64_t axis = axisValue(ctx.input(1).dtype, ctx.input(1).data);
  if (axis < -r || axis >= r) {
    fail(ErrorCode::kFAILED_EXECUTION, "the axis is ", axis, ", out of range for input of shape ",
         toString(in.dims), " (valid: ", -r, " to ", r - 1, ")");
  }
  if (axis < 0) axis += r;
  const bool exclusive = ctx.attrs().getInt("exclusive", 0) != 0;
  const bool reverse = ctx.attrs().getInt("reverse", 0) != 0;
  int64_t outer = 1;
  int64_t inner = 1;
  for (int32_t k = 0; k < axis; ++k) outer *= in.dims[k];
  for (int32_t k = static_cast<int32_t>(axis) + 1; k < r; ++k) inner *= in.dims[k];
  const int64_t n = in.dims[static_cast<int32_t>(axis)];
  switch (in.dtype) {
    case DataType::kFLOAT:
      cumulate<float, double>(in.as<const float>(), out.as<float>(), outer, n, inner, exclusive,
                              reverse);
      break;
    case DataType::kINT32:
      // uint64 sums wrap instead of overflowing; the cast back keeps the low 32 bits.
      cumulate<int32_t, uint64_t>(in.as<const int32_t>(), out.as<int32_t>(), outer, n, inner,
                                  exclusive, reverse);
      break;
    default:
      cumulate<int64_t, uint64_t>(in.as<const int64_t>(), out.as<int64_t>(), outer, n, inner,
                                  exclusive, reverse);
      break;
  }
}

}  // namespace

void registerCumulativeOps(ir::OpRegistry& registry) {
  registry.add({.name = "Cumulative",
                .minInputs = 2,
                .maxInputs = 2,
                .nbOutputs = 1,
                .infer = inferCumulative,
                .reference = runCumulative});
}

}  // namespace kiln::ops
