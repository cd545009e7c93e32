// Slice: output[i] = input[start + i * stride] per dimension, for i in [0, size).
//
// Attributes "start", "size", "stride" (Dims of the input's rank; stride absent: all 1).
// Strides may be negative (walking backwards) or 0 (repeating one element). Every index the
// slice reads must lie inside the input, so the kernel never needs a bounds check.
#include <cstdint>
#include <cstring>
#include <string>

#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "ops/data_movement.h"

namespace kiln::ops {

namespace {

Dims sliceAttr(const ir::InferContext& ctx, const char* name, int32_t rank, int64_t fill,
               bool required) {
  if (!ctx.attrs().has(name)) {
    if (required) ctx.fail("the slice ", name, " is not set");
    Dims dims;
    dims.nbDims = rank;
    for (int32_t k = 0; k < rank; ++k) dims[k] = fill;
    return dims;
  }
  const auto values = ctx.attrs().getInts(name);
  if (static_cast<int32_t>(values.size()) != rank) {
    ctx.fail("the slice ", name, " has ", values.size(), " entries but the input has rank ", rank);
  }
  Dims dims;
  dims.nbDims = rank;
  for (int32_t k = 0; k < rank; ++k) dims[k] = values[static_cast<std::size_t>(k)];
  return dims;
}

void inferSlice(ir::InferContext& ctx) {
  const auto& in = ctx.input(0);
  const int32_t rank = in.dims.nbDims;
  const Dims start = sliceAttr(ctx, "start", rank, 0, true);
  const Dims size = sliceAttr(ctx, "size", rank, 0, true);
  const Dims stride = sliceAttr(ctx, "stride", rank, 1, false);
  for (int32_t k = 0; k < rank; ++k) {
    if (size[k] < 0) ctx.fail("size ", size[k], " in dimension ", k, " is negative");
    if (size[k] == 0) continue;
    // 128-bit so that hostile sizes and strides cannot overflow the bounds check.
    const int64_t extent = in.dims[k];
    const __int128 first = start[k];
    const __int128 last = first + static_cast<__int128>(size[k] - 1) * stride[k];
    const bool firstOutside = first < 0 || first >= extent;
    if (firstOutside || last < 0 || last >= extent) {
      const std::string bad = firstOutside ? std::to_string(start[k])
                              : (last >= INT64_MIN && last <= INT64_MAX)
                                  ? std::to_string(static_cast<int64_t>(last))
                                  : std::string("beyond the 64-bit range");
      ctx.fail("dimension ", k, " (start ", start[k], ", size ", size[k], ", stride ", stride[k],
               ") reads index ", bad, ", outside [0, ", extent - 1, "] of the input of shape ",
               toString(in.dims));
    }
  }
  ctx.setOutput(0, in.dtype, size);
}

void runSlice(const ir::KernelContext& ctx) {
  const auto& in = ctx.input(0);
  const auto& out = ctx.output(0);
  const int32_t rank = in.dims.nbDims;
  const std::size_t esize = elementSize(in.dtype);
  const Dims start = ctx.attrs().getDims("start");
  Dims stride = ctx.attrs().getDims("stride");
  if (!ctx.attrs().has("stride")) {
    stride.nbDims = rank;
    for (int32_t k = 0; k < rank; ++k) stride[k] = 1;
  }
  const Dims inStrides = contiguousStrides(in.dims);
  int64_t base = 0;
  for (int32_t k = 0; k < rank; ++k) base += start[k] * inStrides[k];
  const auto* src = in.as<const std::byte>();
  auto* dst = out.as<std::byte>();
  for (Odometer it(out.dims); it.valid(); it.next()) {
    int64_t offset = base;
    for (int32_t k = 0; k < rank; ++k) offset += it[k] * stride[k] * inStrides[k];
    std::memcpy(dst, src + static_cast<std::size_t>(offset) * esize, esize);
    dst += esize;
  }
}

}  // namespace

void registerSliceOp(ir::OpRegistry& registry) {
  registry.add({.name = "Slice",
                .minInputs = 1,
                .maxInputs = 1,
                .nbOutputs = 1,
                .infer = inferSlice,
                .reference = runSlice});
}

}  // namespace kiln::ops
