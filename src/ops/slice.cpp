// Slice: output[i] = input[start + i * stride] per dimension, for i in [0, size).
//
// Attributes "start", "size", "stride" (Dims of the input's rank; stride absent: all 1).
// Strides may be negative (walking backwards) or 0 (repeating one element). Every index the
// slice reads must lie inside the input, so the kernel never needs a bounds check.
// With "onnx_bounds" 1, inputs 1 to 4 (int32/int64: starts, ends, optional axes and steps, as
// ONNX Slice clamps them) decide start, size and stride instead; constants or shape-tensor
// network inputs, read again by the kernel. With "target_mode" 1 (2), input 1 instead holds the
// shape to broadcast to, right-aligned (the repeats per dimension).
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "ops/data_movement.h"
#include "ops/shape_values.h"

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

struct Bounds {
  Dims start, size, stride;
};

// ONNX Slice: @p starts, @p ends, @p axes (empty: 0, 1, ...) and @p steps (empty: all 1) over
// an input of shape @p in, clamped as ONNX defines. Fails through @p fail.
template <typename Fail>
Bounds onnxBounds(const Dims& in, const std::vector<int64_t>& starts,
                  const std::vector<int64_t>& ends, std::vector<int64_t> axes,
                  std::vector<int64_t> steps, Fail&& fail) {
  const int32_t rank = in.nbDims;
  if (starts.size() != ends.size()) {
    fail("starts has ", starts.size(), " entries but ends has ", ends.size());
  }
  if (axes.empty()) {
    for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  }
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (axes.size() != starts.size() || steps.size() != starts.size()) {
    fail("starts, ends, axes and steps must have one entry per sliced axis");
  }
  Bounds b;
  b.start.nbDims = b.stride.nbDims = rank;
  b.size = in;
  for (int32_t k = 0; k < rank; ++k) {
    b.start[k] = 0;
    b.stride[k] = 1;
  }
  uint32_t seen = 0;
  for (std::size_t k = 0; k < starts.size(); ++k) {
    const int64_t axis = axes[k] < 0 ? axes[k] + rank : axes[k];
    if (axis < 0 || axis >= rank) fail("axis ", axes[k], " is outside [", -rank, ", ", rank, ")");
    if ((seen >> axis) & 1u) fail("axes names dimension ", axis, " twice");
    seen |= 1u << axis;
    const int64_t d = in[static_cast<int32_t>(axis)];
    const int64_t step = steps[k];
    if (step == 0) fail("steps must not be 0");
    // 128-bit so INT64_MIN/MAX sentinels cannot overflow.
    __int128 s = starts[k], e = ends[k];
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (step > 0) {
      s = std::clamp<__int128>(s, 0, d);
      e = std::clamp<__int128>(e, 0, d);
    } else {
      s = std::clamp<__int128>(s, 0, d - 1);
      e = std::clamp<__int128>(e, -1, d - 1);
    }
    const __int128 span = step > 0 ? e - s : s - e;
    const __int128 magnitude = step > 0 ? step : -static_cast<__int128>(step);
    const __int128 count = span <= 0 ? 0 : (span + magnitude - 1) / magnitude;
    b.start[static_cast<int32_t>(axis)] = count == 0 ? 0 : static_cast<int64_t>(s);
    b.size[static_cast<int32_t>(axis)] = static_cast<int64_t>(count);
    b.stride[static_cast<int32_t>(axis)] = step;
  }
  return b;
}

// "target_mode": 1 broadcasts to the shape in input 1 (ONNX Expand), 2 repeats the input the
// times in input 1 per dimension (ONNX Tile).
constexpr int64_t kExpand = 1;
constexpr int64_t kTile = 2;
// 3: part "split_index" of an ONNX Split along "split_axis" with the sizes in input 1.
constexpr int64_t kSplit = 3;

// The first index along the split axis of part "split_index", checking the sizes.
template <typename Fail>
int64_t splitStart(const ir::Attributes& attrs, const Dims& in, const std::vector<int64_t>& sizes,
                   Fail&& fail) {
  const int64_t axis = attrs.getInt("split_axis", 0);
  const int64_t index = attrs.getInt("split_index", 0);
  if (axis < 0 || axis >= in.nbDims) fail("split axis ", axis, " is outside the input's rank");
  if (index < 0 || index >= static_cast<int64_t>(sizes.size())) {
    fail("part ", index, " of a split into ", sizes.size(), " parts");
  }
  int64_t total = 0, start = 0;
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    if (sizes[k] < 0) fail("split sizes must be >= 0");
    if (static_cast<int64_t>(k) == index) start = total;
    total += sizes[k];
  }
  if (total != in[static_cast<int32_t>(axis)]) {
    fail("split sizes add up to ", total, ", but dimension ", axis, " has extent ",
         in[static_cast<int32_t>(axis)]);
  }
  return start;
}

// The output shape of target mode @p mode for input shape @p in and input 1's @p values.
template <typename Fail>
Dims targetDims(const ir::Attributes& attrs, const Dims& in, int64_t mode,
                const std::vector<int64_t>& values, Fail&& fail) {
  const auto count = static_cast<int32_t>(values.size());
  Dims out = in;
  if (mode == kSplit) {
    (void)splitStart(attrs, in, values, fail);
    out[static_cast<int32_t>(attrs.getInt("split_axis", 0))] =
        values[static_cast<std::size_t>(attrs.getInt("split_index", 0))];
    return out;
  }
  if (mode == kTile) {
    if (count != in.nbDims) fail("repeats has ", count, " entries; the input has rank ", in.nbDims);
    for (int32_t d = 0; d < in.nbDims; ++d) {
      if (values[static_cast<std::size_t>(d)] < 0) fail("repeats must be >= 0");
      out[d] = checkedMul(in[d], values[static_cast<std::size_t>(d)], "the tiled shape");
    }
    return out;
  }
  if (count > in.nbDims) {
    fail("the shape has ", count, " entries; the input (lifted to it) has rank ", in.nbDims);
  }
  for (int32_t j = 0; j < count; ++j) {
    const int32_t d = in.nbDims - count + j;
    const int64_t want = values[static_cast<std::size_t>(j)];
    if (want == in[d] || want == 1) continue;
    if (in[d] != 1 || want < 0) {
      fail("cannot broadcast dimension ", d, " of extent ", in[d], " to ", want);
    }
    out[d] = want;
  }
  return out;
}

bool onnxMode(const ir::KernelContext& ctx) {
  return ctx.attrs().getInt("onnx_bounds", 0) != 0;
}

void inferSlice(ir::InferContext& ctx) {
  const auto& in = ctx.input(0);
  const int32_t rank = in.dims.nbDims;
  const bool onnx = ctx.attrs().getInt("onnx_bounds", 0) != 0;
  if (const int64_t mode = ctx.attrs().getInt("target_mode", 0); mode != 0) {
    if (!ctx.hasInput(1) || ctx.nbInputs() > 2 || mode < kExpand || mode > kSplit) {
      ctx.fail("a broadcast or tile target takes the shape or repeats as input 1 only");
    }
    const auto values = knownShapeValues(
        ctx, 1, mode == kTile ? "repeats" : (mode == kSplit ? "the split sizes" : "the shape"));
    Dims out = in.dims;
    if (!values) {  // a shape-tensor network input: known once the build gives its values
      for (int32_t k = 0; k < rank; ++k) out[k] = -1;
    } else {
      out = targetDims(ctx.attrs(), in.dims, mode, *values,
                       [&](auto&&... parts) { ctx.fail(parts...); });
    }
    ctx.setOutput(0, in.dtype, out);
    return;
  }
  if (onnx != ctx.hasInput(1) || (!onnx && ctx.nbInputs() > 1)) {
    ctx.fail(onnx
                 ? "ONNX bounds need inputs 1 (starts) and 2 (ends)"
                 : "tensor inputs hold ONNX starts, ends, axes and steps: set setOnnxBounds(true)");
  }
  Dims start, size, stride;
  if (onnx) {
    if (!ctx.hasInput(2)) ctx.fail("ONNX bounds need inputs 1 (starts) and 2 (ends)");
    constexpr std::array<const char*, 4> kWhat = {"starts", "ends", "axes", "steps"};
    std::array<std::vector<int64_t>, 4> values;
    bool known = true;
    for (int32_t i = 1; i <= 4; ++i) {
      if (!ctx.hasInput(i)) continue;
      auto v = knownShapeValues(ctx, i, kWhat[static_cast<std::size_t>(i - 1)]);
      if (v) {
        values[static_cast<std::size_t>(i - 1)] = std::move(*v);
      } else {
        known = false;
      }
    }
    if (!known) {  // shape-tensor inputs: the extents are known once the build gives values
      Dims out = in.dims;
      for (int32_t k = 0; k < rank; ++k) out[k] = -1;
      ctx.setOutput(0, in.dtype, out);
      return;
    }
    const Bounds b = onnxBounds(in.dims, values[0], values[1], values[2], values[3],
                                [&](auto&&... parts) { ctx.fail(parts...); });
    start = b.start;
    size = b.size;
    stride = b.stride;
  } else {
    start = sliceAttr(ctx, "start", rank, 0, true);
    size = sliceAttr(ctx, "size", rank, 0, true);
    stride = sliceAttr(ctx, "stride", rank, 1, false);
  }
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
  Dims start, stride;
  const int64_t mode = ctx.attrs().getInt("target_mode", 0);
  if (mode != 0) {
    // Expand walks a size-1 input dimension with stride 0; Tile wraps around each dimension.
    const auto* src = in.as<const std::byte>();
    auto* dst = out.as<std::byte>();
    const Dims inStrides = contiguousStrides(in.dims);
    int64_t base = 0;
    if (mode == kSplit) {
      const int64_t first =
          splitStart(ctx.attrs(), in.dims, shapeValues(ctx, 1), [&](auto&&... parts) {
            fail(ErrorCode::kINVALID_ARGUMENT, "layer '", ctx.node.name, "' (Slice): ", parts...);
          });
      base = first * inStrides[static_cast<int32_t>(ctx.attrs().getInt("split_axis", 0))];
    }
    for (Odometer it(out.dims); it.valid(); it.next()) {
      int64_t offset = base;
      for (int32_t k = 0; k < rank; ++k) {
        const int64_t i = mode == kTile     ? it[k] % in.dims[k]
                          : mode == kExpand ? (in.dims[k] == 1 ? 0 : it[k])
                                            : it[k];
        offset += i * inStrides[k];
      }
      std::memcpy(dst, src + static_cast<std::size_t>(offset) * esize, esize);
      dst += esize;
    }
    return;
  }
  if (onnxMode(ctx)) {
    std::array<std::vector<int64_t>, 4> values;
    for (int32_t i = 1; i <= 4; ++i) {
      if (ctx.hasInput(i)) values[static_cast<std::size_t>(i - 1)] = shapeValues(ctx, i);
    }
    const Bounds b =
        onnxBounds(in.dims, values[0], values[1], values[2], values[3], [&](auto&&... parts) {
          fail(ErrorCode::kINVALID_ARGUMENT, "layer '", ctx.node.name, "' (Slice): ", parts...);
        });
    start = b.start;
    stride = b.stride;
  } else {
    start = ctx.attrs().getDims("start");
    stride = ctx.attrs().getDims("stride");
  }
  if (!onnxMode(ctx) && !ctx.attrs().has("stride")) {
    stride.nbDims = rank;
    for (int32_t k = 0; k < rank; ++k) stride[k] = 1;
  }
  const Dims inStrides = contiguousStrides(in.dims);
  int64_t base = 0;
  std::array<int64_t, Dims::kMaxRank> steps{};
  for (int32_t k = 0; k < rank; ++k) {
    base += start[k] * inStrides[k];
    steps[static_cast<std::size_t>(k)] = stride[k] * inStrides[k];
  }
  if (out.count() == 0) return;
  copyStrided(in.as<const std::byte>() + base * static_cast<int64_t>(esize), out.dims,
              std::span<const int64_t>(steps.data(), static_cast<std::size_t>(rank)),
              out.as<std::byte>(), esize);
}

}  // namespace

void registerSliceOp(ir::OpRegistry& registry) {
  registry.add({.name = "Slice",
                .minInputs = 1,
                .maxInputs = 5,
                .nbOutputs = 1,
                .infer = inferSlice,
                .reference = runSlice,
                .shapeInputs = {1, 2, 3, 4}});
}

}  // namespace kiln::ops
