// Padding: pads (or, with negative amounts, crops) the trailing dimensions.
//
// Attributes "pre" and "post" (int lists of one length r <= input rank; they apply to the last
// r dimensions), "fill" (PaddingFill) and "value" (kCONSTANT only, default 0). Output position
// o of a padded dimension reads input coordinate c = o - pre; outside [0, extent) kCONSTANT
// writes the value, kEDGE clamps c, kREFLECT mirrors c about the first/last element (so
// padding of the original input, before any cropping, as ONNX Pad does). Optional input 1
// (int32/int64 ONNX pads of every dimension, all begins then all ends; a constant or shape-tensor
// network input) replaces "pre" and "post"; optional input 2 (a float32 scalar computed at run
// time) replaces "value".
#include <array>
#include <cstring>
#include <limits>
#include <optional>
#include <string>

#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "kiln/network.h"
#include "ops/data_movement.h"
#include "ops/shape_values.h"

namespace kiln::ops {

namespace {

struct PaddingSpec {
  Dims pre;  // per input dimension (0 for the leading, unpadded ones)
  Dims post;
};

PaddingSpec paddingSpec(const ir::Attributes& attrs, int32_t rank) {
  const auto pre = attrs.getInts("pre");
  const auto post = attrs.getInts("post");
  PaddingSpec spec;
  spec.pre.nbDims = spec.post.nbDims = rank;
  const auto r = static_cast<int32_t>(pre.size());
  for (int32_t i = 0; i < r && i < rank; ++i) {
    spec.pre[rank - r + i] = pre[static_cast<std::size_t>(i)];
    spec.post[rank - r + i] = post[static_cast<std::size_t>(i)];
  }
  return spec;
}

// ONNX pads (all begins, then all ends, one per dimension) as a spec; empty when malformed.
std::optional<PaddingSpec> specFromPads(const std::vector<int64_t>& pads, int32_t rank) {
  if (pads.size() != 2 * static_cast<std::size_t>(rank)) return std::nullopt;
  PaddingSpec spec;
  spec.pre.nbDims = spec.post.nbDims = rank;
  for (int32_t i = 0; i < rank; ++i) {
    spec.pre[i] = pads[static_cast<std::size_t>(i)];
    spec.post[i] = pads[static_cast<std::size_t>(rank + i)];
  }
  return spec;
}

// The constant fill value: input 2 (a one-element float32 tensor) when given, else "value".
double fillValue(const ir::KernelContext& ctx) {
  if (ctx.hasInput(2) && ctx.input(2).count() > 0) return ctx.input(2).as<const float>()[0];
  return ctx.attrs().getFloat("value", 0.0);
}

void inferPadding(ir::InferContext& ctx) {
  const auto& in = ctx.input(0);
  const int32_t rank = in.dims.nbDims;
  if (ctx.hasInput(2)) {
    const auto& v = ctx.input(2);
    if (v.dtype != DataType::kFLOAT || volume(v.dims) > 1 || v.dims.nbDims > 1) {
      ctx.fail("the value input must be a float32 scalar, not ", toString(v.dtype), " ",
               toString(v.dims));
    }
  }
  std::optional<PaddingSpec> fromInput;
  if (ctx.hasInput(1)) {
    const auto pads = knownShapeValues(ctx, 1, "the pads input");
    if (!pads) {  // a shape-tensor network input: known once the build gives its values
      Dims out = in.dims;
      for (int32_t k = 0; k < rank; ++k) out[k] = -1;
      ctx.setOutput(0, in.dtype, out);
      return;
    }
    fromInput = specFromPads(*pads, rank);
    if (!fromInput) {
      ctx.fail("the pads input has ", pads->size(), " values; an input of rank ", rank, " needs ",
               2 * rank, " (all begins, then all ends)");
    }
  }
  const auto pre = ctx.attrs().getInts("pre");
  const auto post = ctx.attrs().getInts("post");
  if (pre.size() != post.size()) {
    ctx.fail("pre-padding has ", pre.size(), " entries and post-padding ", post.size(),
             "; they must have the same number");
  }
  if (static_cast<int32_t>(pre.size()) > rank) {
    ctx.fail("padding has ", pre.size(), " dimensions but the input (", toString(in.dims),
             ") has rank ", rank);
  }
  const auto fill = ctx.attrs().getEnum("fill", PaddingFill::kCONSTANT);
  if (fill != PaddingFill::kCONSTANT && fill != PaddingFill::kREFLECT &&
      fill != PaddingFill::kEDGE) {
    ctx.fail("unknown padding fill mode ", static_cast<int64_t>(fill));
  }
  const double value = ctx.attrs().getFloat("value", 0.0);
  if (fill == PaddingFill::kCONSTANT && in.dtype != DataType::kFLOAT &&
      in.dtype != DataType::kHALF && in.dtype != DataType::kBF16 &&
      !representable(value, in.dtype)) {
    ctx.fail("the padding value ", value, " cannot be represented in the input type ",
             toString(in.dtype));
  }
  const PaddingSpec spec = fromInput ? *fromInput : paddingSpec(ctx.attrs(), rank);
  Dims out = in.dims;
  for (int32_t k = 0; k < rank; ++k) {
    const int64_t extent = in.dims[k];
    const int64_t before = spec.pre[k];
    const int64_t after = spec.post[k];
    out[k] = checkedAdd(checkedAdd(extent, before, "padded extent"), after, "padded extent");
    if (out[k] < 0) {
      // Crop amounts are negated paddings; INT64_MIN (from a hostile plan) has no negation.
      const auto crop = [](int64_t v) {
        return v == std::numeric_limits<int64_t>::min() ? std::string("9223372036854775808")
                                                        : std::to_string(-v);
      };
      ctx.fail("dimension ", k, " of extent ", extent, " is cropped by ", crop(before), " + ",
               crop(after), ", more than its extent");
    }
    if (fill == PaddingFill::kREFLECT && (before >= extent || after >= extent)) {
      ctx.fail("reflect padding of ", before, " and ", after, " in dimension ", k,
               " needs amounts below its extent ", extent,
               " (reflection does not repeat the edge)");
    }
    if (fill == PaddingFill::kEDGE && extent == 0 && (before > 0 || after > 0)) {
      ctx.fail("edge padding of dimension ", k, " needs an edge, but its extent is 0");
    }
  }
  ctx.setOutput(0, in.dtype, out);
}

void runPadding(const ir::KernelContext& ctx) {
  const auto& in = ctx.input(0);
  const auto& out = ctx.output(0);
  const int32_t rank = in.dims.nbDims;
  const std::size_t esize = elementSize(in.dtype);
  const auto fill = ctx.attrs().getEnum("fill", PaddingFill::kCONSTANT);
  std::array<std::byte, 8> value{};
  storeScalar(fillValue(ctx), in.dtype, value.data());
  const PaddingSpec spec =
      ctx.hasInput(1) ? *specFromPads(shapeValues(ctx, 1), rank) : paddingSpec(ctx.attrs(), rank);
  const Dims inStrides = contiguousStrides(in.dims);
  const auto* src = in.as<const std::byte>();
  auto* dst = out.as<std::byte>();
  for (Odometer it(out.dims); it.valid(); it.next()) {
    int64_t offset = 0;
    bool inside = true;
    for (int32_t k = 0; k < rank; ++k) {
      const int64_t extent = in.dims[k];
      int64_t c = it[k] - spec.pre[k];
      if (c < 0 || c >= extent) {
        if (fill == PaddingFill::kCONSTANT) {
          inside = false;
          break;
        }
        if (fill == PaddingFill::kEDGE) {
          c = c < 0 ? 0 : extent - 1;
        } else {
          c = c < 0 ? -c : 2 * (extent - 1) - c;
        }
      }
      offset += c * inStrides[k];
    }
    std::memcpy(dst, inside ? src + static_cast<std::size_t>(offset) * esize : value.data(), esize);
    dst += esize;
  }
}

}  // namespace

void registerPaddingOp(ir::OpRegistry& registry) {
  registry.add({.name = "Padding",
                .minInputs = 1,
                .maxInputs = 3,
                .nbOutputs = 1,
                .infer = inferPadding,
                .reference = runPadding,
                .shapeInputs = {1}});
}

}  // namespace kiln::ops
