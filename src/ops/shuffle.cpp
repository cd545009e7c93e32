// Shuffle: first transpose -> reshape -> second transpose (TensorRT's IShuffleLayer).
//
// Attributes: "first_perm" (absent: identity), "reshape" (absent: no reshape), "second_perm"
// (absent: identity), "zero_is_placeholder" (default 1). An optional second input, a constant
// 1-D INT32/INT64 shape tensor, replaces "reshape" (a constant once the build knows it; a
// shape-tensor network input gives unknown extents until then). A reshape extent of 0 copies the
// extent of the same dimension of the reshape's input (the first transpose's output) when zero is a
// placeholder; one extent of -1 is inferred from the element count. With "axes_mode" 1 (2),
// input 1 instead holds ONNX Unsqueeze (Squeeze) axes.
#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "ops/data_movement.h"
#include "ops/shape_values.h"

namespace kiln::ops {

namespace {

std::vector<int64_t> identityPermutation(int32_t rank) {
  std::vector<int64_t> perm(static_cast<std::size_t>(std::max(rank, 0)));
  for (std::size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int64_t>(i);
  return perm;
}

bool isIdentity(const std::vector<int64_t>& perm) {
  for (std::size_t i = 0; i < perm.size(); ++i) {
    if (perm[i] != static_cast<int64_t>(i)) return false;
  }
  return true;
}

Dims permuted(const Dims& dims, const std::vector<int64_t>& perm) {
  Dims out;
  out.nbDims = dims.nbDims;
  for (int32_t k = 0; k < dims.nbDims; ++k) out[k] = dims[static_cast<int32_t>(perm[k])];
  return out;
}

// The permutation in @p attr (identity when absent), checked against @p rank.
std::vector<int64_t> permutationAttr(const ir::InferContext& ctx, const char* attr,
                                     const char* what, int32_t rank, const Dims& dims) {
  if (!ctx.attrs().has(attr)) return identityPermutation(rank);
  auto perm = ctx.attrs().getInts(attr);
  if (const auto problem = permutationProblem(perm); !problem.empty()) {
    ctx.fail(what, " is not a permutation: ", problem);
  }
  if (static_cast<int32_t>(perm.size()) != rank) {
    ctx.fail(what, " has ", perm.size(), " entries but the tensor it permutes (", toString(dims),
             ") has rank ", rank);
  }
  return perm;
}

// Marks reshape extents that a shape input known only at build time decides.
constexpr int64_t kUnknownExtent = std::numeric_limits<int64_t>::min();

// Reshape extents from the shape input (1) or the "reshape" attribute; false when neither.
bool requestedReshape(const ir::InferContext& ctx, Dims& spec) {
  if (ctx.hasInput(1)) {
    const auto& shape = ctx.input(1);
    if (shape.dtype != DataType::kINT32 && shape.dtype != DataType::kINT64) {
      ctx.fail("the shape input must be int32 or int64, not ", toString(shape.dtype));
    }
    if (shape.dims.nbDims != 1) {
      ctx.fail("the shape input must be 1-D, not of shape ", toString(shape.dims));
    }
    if (shape.dims[0] > Dims::kMaxRank) {
      ctx.fail("the shape input has ", shape.dims[0], " entries; at most ", Dims::kMaxRank,
               " dimensions are supported");
    }
    spec.nbDims = static_cast<int32_t>(shape.dims[0]);
    if (shape.constData == nullptr) {
      // A shape-tensor network input: known once a profile gives its values.
      for (int32_t i = 0; i < spec.nbDims; ++i) spec[i] = kUnknownExtent;
      return true;
    }
    for (int32_t i = 0; i < spec.nbDims; ++i) {
      spec[i] = shape.dtype == DataType::kINT32 ? shape.constAs<int32_t>()[i]
                                                : shape.constAs<int64_t>()[i];
    }
    return true;
  }
  if (!ctx.attrs().has("reshape")) return false;
  const auto values = ctx.attrs().getInts("reshape");
  if (values.size() > static_cast<std::size_t>(Dims::kMaxRank)) {
    ctx.fail("reshape dimensions have ", values.size(), " entries; at most ", Dims::kMaxRank,
             " are supported");
  }
  spec.nbDims = static_cast<int32_t>(values.size());
  for (int32_t i = 0; i < spec.nbDims; ++i) spec[i] = values[static_cast<std::size_t>(i)];
  return true;
}

Dims resolveReshape(const ir::InferContext& ctx, const Dims& in, const Dims& spec,
                    bool zeroIsPlaceholder) {
  Dims out = spec;
  int32_t inferred = -1;
  int64_t known = 1;
  for (int32_t i = 0; i < spec.nbDims; ++i) {
    if (spec[i] == 0 && zeroIsPlaceholder) {
      if (i >= in.nbDims) {
        ctx.fail("reshape dimension ", i, " is 0 (copy the input extent), but the input (",
                 toString(in), ") has only ", in.nbDims, " dimensions");
      }
      out[i] = in[i];
    } else if (spec[i] == -1) {
      if (inferred >= 0) {
        ctx.fail("reshape dimensions ", toString(spec), " have more than one -1; at most one ",
                 "extent can be inferred");
      }
      inferred = i;
      continue;
    } else if (spec[i] < 0) {
      ctx.fail("reshape dimension ", i, " is ", spec[i], "; extents must be >= 0 (or -1 to infer)");
    }
    known = checkedMul(known, out[i], "reshape dimensions");
  }
  const int64_t total = volume(in);
  if (inferred >= 0) {
    if (known == 0 || total % known != 0) {
      ctx.fail("cannot reshape ", toString(in), " (", total, " elements) to ", toString(spec),
               ": no extent for the -1 makes the element counts match");
    }
    out[inferred] = total / known;
    known = total;
  }
  if (known != total) {
    ctx.fail("cannot reshape ", toString(in), " (", total, " elements) to ", toString(out), " (",
             known, " elements): the element counts differ");
  }
  return out;
}

// ONNX Unsqueeze (@p squeeze false) or Squeeze of @p in by @p axes (negative counting from the
// end of the result, or of the input for Squeeze). Fails through @p fail.
template <typename Fail>
Dims axesReshape(const Dims& in, const std::vector<int64_t>& axes, bool squeeze, Fail&& fail) {
  const int64_t rank = squeeze ? in.nbDims : in.nbDims + static_cast<int64_t>(axes.size());
  if (rank > Dims::kMaxRank) {
    fail("the result would have rank ", rank, "; at most ", Dims::kMaxRank, " are supported");
  }
  uint32_t mask = 0;
  for (int64_t axis : axes) {
    const int64_t a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) fail("axis ", axis, " is outside [", -rank, ", ", rank, ")");
    if ((mask >> a) & 1u) fail("axis ", axis, " is given twice");
    mask |= 1u << a;
  }
  Dims out;
  int32_t next = 0;
  for (int32_t i = 0; i < rank; ++i) {
    const bool named = ((mask >> i) & 1u) != 0;
    if (squeeze) {
      if (named && in[i] != 1) fail("cannot squeeze dimension ", i, " of extent ", in[i]);
      if (!named) out[out.nbDims++] = in[i];
    } else {
      out[out.nbDims++] = named ? 1 : in[next++];
    }
  }
  return out;
}

void inferShuffle(ir::InferContext& ctx) {
  const auto& in = ctx.input(0);
  const auto perm1 =
      permutationAttr(ctx, "first_perm", "the first transpose", in.dims.nbDims, in.dims);
  const Dims transposed = permuted(in.dims, perm1);
  Dims reshaped = transposed;
  Dims spec;
  const int64_t axesMode = ctx.attrs().getInt("axes_mode", 0);
  if (axesMode != 0 && ctx.hasInput(1)) {
    const auto axes = knownShapeValues(ctx, 1, "the axes input");
    const auto& axesInfo = ctx.input(1);
    const int64_t count = axesInfo.dims.nbDims == 0 ? 1 : axesInfo.dims[0];
    if (!axes) {  // a shape-tensor input: the extents are known once the build gives values
      reshaped.nbDims = static_cast<int32_t>(std::clamp<int64_t>(
          transposed.nbDims + (axesMode == 2 ? -count : count), 0, Dims::kMaxRank));
      for (int32_t i = 0; i < reshaped.nbDims; ++i) reshaped[i] = -1;
    } else {
      reshaped = axesReshape(transposed, *axes, axesMode == 2,
                             [&](auto&&... parts) { ctx.fail(parts...); });
    }
  } else if (requestedReshape(ctx, spec)) {
    if (spec.nbDims > 0 && spec[0] == kUnknownExtent) {
      reshaped = spec;
      for (int32_t i = 0; i < spec.nbDims; ++i) reshaped[i] = -1;
    } else {
      reshaped =
          resolveReshape(ctx, transposed, spec, ctx.attrs().getInt("zero_is_placeholder", 1));
    }
  }
  const auto perm2 =
      permutationAttr(ctx, "second_perm", "the second transpose", reshaped.nbDims, reshaped);
  ctx.setOutput(0, in.dtype, permuted(reshaped, perm2));
}

void runShuffle(const ir::KernelContext& ctx) {
  const auto& in = ctx.input(0);
  const auto& out = ctx.output(0);
  const std::size_t esize = elementSize(in.dtype);
  if (out.count() == 0) return;
  const auto perm1 = ctx.attrs().has("first_perm") ? ctx.attrs().getInts("first_perm")
                                                   : identityPermutation(in.dims.nbDims);
  const auto perm2 = ctx.attrs().has("second_perm") ? ctx.attrs().getInts("second_perm")
                                                    : identityPermutation(out.dims.nbDims);
  // The reshaped tensor, from the output and the second permutation (out[k] = reshaped[p[k]]).
  Dims reshaped;
  reshaped.nbDims = out.dims.nbDims;
  for (int32_t k = 0; k < out.dims.nbDims; ++k) {
    reshaped[static_cast<int32_t>(perm2[static_cast<std::size_t>(k)])] = out.dims[k];
  }
  // A reshape of a row-major tensor moves no bytes; only the transposes do.
  const bool first = !isIdentity(perm1);
  const bool second = !isIdentity(perm2);
  if (!first && !second) {
    std::memcpy(out.data, in.data, static_cast<std::size_t>(out.count()) * esize);
  } else if (!second) {
    transposeBytes(in.data, in.dims, perm1, out.data, esize);
  } else if (!first) {
    transposeBytes(in.data, reshaped, perm2, out.data, esize);
  } else {
    std::vector<std::byte> tmp(static_cast<std::size_t>(out.count()) * esize);
    transposeBytes(in.data, in.dims, perm1, tmp.data(), esize);
    transposeBytes(tmp.data(), reshaped, perm2, out.data, esize);
  }
}

}  // namespace

void registerShuffleOp(ir::OpRegistry& registry) {
  registry.add({.name = "Shuffle",
                .minInputs = 1,
                .maxInputs = 2,
                .nbOutputs = 1,
                .infer = inferShuffle,
                .reference = runShuffle,
                .shapeInputs = {1}});
}

}  // namespace kiln::ops
