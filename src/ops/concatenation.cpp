// Concatenation: joins 1..N tensors of one type and rank along "axis" (absent: rank - 3 for
// rank >= 3, else 0; negative counts from the end). Any data type: the kernel copies bytes.
#include <cstring>
#include <limits>

#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "ops/data_movement.h"

namespace kiln::ops {

namespace {

int32_t concatenationAxis(const ir::InferContext& ctx, int32_t rank) {
  const int64_t axis = ctx.attrs().getInt("axis", concatenationDefaultAxis(rank));
  if (axis < -rank || axis >= rank) {
    ctx.fail("axis ", axis, " is out of range for inputs of rank ", rank, " (valid: ", -rank,
             " to ", rank - 1, ")");
  }
  return static_cast<int32_t>(axis < 0 ? axis + rank : axis);
}

void inferConcatenation(ir::InferContext& ctx) {
  const auto& first = ctx.input(0);
  const int32_t rank = first.dims.nbDims;
  if (rank == 0) ctx.fail("input 0 is a scalar; only tensors of rank >= 1 can be concatenated");
  const int32_t axis = concatenationAxis(ctx, rank);
  Dims out = first.dims;
  for (int32_t i = 1; i < ctx.nbInputs(); ++i) {
    if (!ctx.hasInput(i)) ctx.fail("input ", i, " is missing");
    const auto& in = ctx.input(i);
    if (in.dtype != first.dtype) {
      ctx.fail("input ", i, " is ", toString(in.dtype), " but input 0 is ", toString(first.dtype),
               "; all inputs must have the same type");
    }
    if (in.dims.nbDims != rank) {
      ctx.fail("input ", i, " has shape ", toString(in.dims), " (rank ", in.dims.nbDims,
               ") but input 0 has shape ", toString(first.dims), " (rank ", rank, ")");
    }
    for (int32_t k = 0; k < rank; ++k) {
      if (k != axis && in.dims[k] != first.dims[k]) {
        ctx.fail("input ", i, " has shape ", toString(in.dims), " and input 0 has shape ",
                 toString(first.dims), "; they must match in every dimension but the axis (", axis,
                 "), and differ in dimension ", k);
      }
    }
    out[axis] = checkedAdd(out[axis], in.dims[axis], "concatenated extent");
  }
  ctx.setOutput(0, first.dtype, out);
}

void runConcatenation(const ir::KernelContext& ctx) {
  const auto& out = ctx.output(0);
  const int32_t rank = out.dims.nbDims;
  const int64_t axis = ctx.attrs().getInt("axis", concatenationDefaultAxis(rank));
  const int32_t a = static_cast<int32_t>(axis < 0 ? axis + rank : axis);
  const std::size_t esize = elementSize(out.dtype);
  int64_t outer = 1;
  for (int32_t k = 0; k < a; ++k) outer *= out.dims[k];
  int64_t inner = 1;
  for (int32_t k = a + 1; k < rank; ++k) inner *= out.dims[k];
  auto* dst = out.as<std::byte>();
  for (int64_t o = 0; o < outer; ++o) {
    for (const auto& in : ctx.inputs) {
      const auto chunk = static_cast<std::size_t>(in.dims[a] * inner) * esize;
      if (chunk == 0) continue;
      std::memcpy(dst, in.as<const std::byte>() + static_cast<std::size_t>(o) * chunk, chunk);
      dst += chunk;
    }
  }
}

}  // namespace

void registerConcatenationOp(ir::OpRegistry& registry) {
  registry.add({.name = "Concatenation",
                .minInputs = 1,
                .maxInputs = std::numeric_limits<int32_t>::max(),
                .nbOutputs = 1,
                .infer = inferConcatenation,
                .reference = runConcatenation});
}

}  // namespace kiln::ops
