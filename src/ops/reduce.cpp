// Reduce: "op" (ReduceOperation) over the dims named by the bitmask "axes" (bit i = dim i),
// keeping them as extent 1 when "keep_dims" is 1 and dropping them otherwise. An optional
// input 1 (int32/int64 ONNX axes, negative counting from the end) replaces the mask; empty axes
// reduce every dim, or none (a copy) when "noop_with_empty_axes" is 1.
//   float32: sums, products and averages accumulate in double. MAX and MIN propagate NaN.
//   int32: SUM and PROD wrap modulo 2^32; AVG is rejected (convert to float32 first).
//   Over an empty axis: SUM 0, PROD 1, MAX -inf (int32: INT32_MIN), MIN +inf (INT32_MAX),
//   AVG NaN (0 / 0).
//
// TopK: the k largest ("op" kMAX) or smallest (kMIN) values along the one dim of "axes", with
// their int32 indices. Order: largest first for kMAX, smallest first for kMIN; equal values by
// lower index first. NaN ranks above every number (so kMAX picks NaNs first, kMIN last).
// An optional input 1 (an int32/int64 scalar, a constant or shape-tensor network input) gives k
// instead of the "k" attribute.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <optional>
#include <string_view>
#include <vector>

#include "ir/op_registry.h"
#include "kiln/network.h"
#include "ops/broadcast.h"
#include "ops/op_families.h"
#include "ops/shape_values.h"

namespace kiln::ops {

namespace {

constexpr std::array<std::string_view, 5> kReduceNames = {"SUM", "PROD", "MAX", "MIN", "AVG"};

// The reduced dims of @p rank as a checked mask.
uint32_t checkedAxes(const ir::InferContext& ctx, int32_t rank) {
  const int64_t axes = ctx.attrs().getInt("axes", 0);
  if (rank == 0) ctx.fail("the input is a scalar (rank 0): it has no dimension to reduce");
  if (axes == 0) ctx.fail("the axes mask is 0; set bit i to reduce dimension i");
  if (axes < 0 || axes >= (int64_t{1} << rank)) {
    ctx.fail("the axes mask ", axes, " names dimensions the rank-", rank,
             " input lacks (valid bits: 0 to ", rank - 1, ")");
  }
  return static_cast<uint32_t>(axes);
}

bool reduced(uint32_t axes, int32_t d) {
  return ((axes >> d) & 1u) != 0;
}

Dims keptDims(const Dims& in, uint32_t axes) {
  Dims out = in;
  for (int32_t d = 0; d < in.nbDims; ++d) {
    if (reduced(axes, d)) out[d] = 1;
  }
  return out;
}

// The mask of ONNX axes @p values (negative counting from the end) for @p rank; empty axes
// reduce everything, or nothing when @p emptyIsNoop. Fails through @p fail.
template <typename Fail>
uint32_t axesMaskOf(const std::vector<int64_t>& values, int32_t rank, bool emptyIsNoop,
                    Fail&& fail) {
  if (values.empty()) return emptyIsNoop || rank == 0 ? 0u : (1u << rank) - 1u;
  uint32_t mask = 0;
  for (int64_t axis : values) {
    const int64_t a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) fail("axis ", axis, " is outside [", -rank, ", ", rank - 1, "]");
    if (reduced(mask, static_cast<int32_t>(a))) fail("axis ", axis, " is given twice");
    mask |= 1u << a;
  }
  return mask;
}

// The mask from the axes input (1) when it is set and known, else from the "axes" attribute;
// nullopt when the input's values are not known yet.
std::optional<uint32_t> inferredAxes(const ir::InferContext& ctx, int32_t rank) {
  if (!ctx.hasInput(1)) return checkedAxes(ctx, rank);
  const auto values = knownShapeValues(ctx, 1, "the axes input");
  if (!values) return std::nullopt;
  return axesMaskOf(*values, rank, ctx.attrs().getInt("noop_with_empty_axes", 0) != 0,
                    [&](auto&&... parts) { ctx.fail("the axes input: ", parts...); });
}

void inferReduce(ir::InferContext& ctx) {
  const int64_t raw = ctx.attrs().getInt("op", 0);
  if (raw < 0 || raw >= static_cast<int64_t>(kReduceNames.size())) {
    ctx.fail("unknown reduce operation ", raw, " (expected 0 to ", kReduceNames.size() - 1, ")");
  }
  const auto op = static_cast<ReduceOperation>(raw);
  const auto& in = ctx.input(0);
  if (in.dtype != DataType::kFLOAT && in.dtype != DataType::kINT32) {
    ctx.fail("input must be float32 or int32, not ", toString(in.dtype));
  }
  if (op == ReduceOperation::kAVG && in.dtype == DataType::kINT32) {
    ctx.fail("AVG of an int32 input is not supported; convert it to float32 with addCast");
  }
  const int64_t keep = ctx.attrs().getInt("keep_dims", 0);
  if (keep != 0 && keep != 1) ctx.fail("keep_dims must be 0 or 1, not ", keep);
  const std::optional<uint32_t> known = inferredAxes(ctx, in.dims.nbDims);
  if (!known) {
    // Which dims go is known once the axes are: keep their rank (or drop as many as given).
    const auto& axesInput = ctx.input(1);
    const int64_t given = axesInput.dims.nbDims == 0 ? 1 : axesInput.dims[0];
    Dims out;
    out.nbDims = keep == 1 || given == 0 ? in.dims.nbDims
                                         : std::max<int32_t>(in.dims.nbDims - int32_t(given), 0);
    for (int32_t d = 0; d < out.nbDims; ++d) out[d] = -1;
    ctx.setOutput(0, in.dtype, out);
    return;
  }
  const uint32_t axes = *known;
  Dims out;
  for (int32_t d = 0; d < in.dims.nbDims; ++d) {
    if (!reduced(axes, d)) {
      out[out.nbDims++] = in.dims[d];
    } else if (keep == 1) {
      out[out.nbDims++] = 1;
    }
  }
  ctx.setOutput(0, in.dtype, out);
}

// Folds every input element into the accumulator of its output element: the output (with
// kept dims) broadcasts to the input, so one broadcast walk over the input pairs them up.
template <typename T, typename Acc, typename Fold>
std::vector<Acc> accumulate(const ir::KernelContext& ctx, uint32_t axes, Acc identity, Fold fold) {
  const Dims& inDims = ctx.input(0).dims;
  std::vector<Acc> acc(static_cast<std::size_t>(ctx.output(0).count()), identity);
  const std::array<Dims, 1> target = {keptDims(inDims, axes)};
  const BroadcastPlan plan = planBroadcast(inDims, target);
  const T* x = ctx.input(0).as<T>();
  forEachBroadcastRow(plan, [&](const BroadcastRow& row) {
    for (int64_t j = 0; j < row.count; ++j) {
      Acc& a = acc[static_cast<std::size_t>(row.in[0] + j * row.step[0])];
      a = fold(a, x[row.out + j]);
    }
  });
  return acc;
}

template <typename T, typename Acc>
void store(const ir::KernelContext& ctx, const std::vector<Acc>& acc) {
  T* y = ctx.output(0).as<T>();
  for (std::size_t i = 0; i < acc.size(); ++i) y[i] = static_cast<T>(acc[i]);
}

void reduceFloat(const ir::KernelContext& ctx, ReduceOperation op, uint32_t axes) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  switch (op) {
    case ReduceOperation::kSUM:
    case ReduceOperation::kAVG: {
      auto acc = accumulate<float, double>(ctx, axes, 0.0, [](double a, float x) { return a + x; });
      if (op == ReduceOperation::kAVG) {
        double count = 1;
        for (int32_t d = 0; d < ctx.input(0).dims.nbDims; ++d) {
          if (reduced(axes, d)) count *= static_cast<double>(ctx.input(0).dims[d]);
        }
        for (double& a : acc) a /= count;
      }
      return store<float>(ctx, acc);
    }
    case ReduceOperation::kPROD:
      return store<float>(
          ctx, accumulate<float, double>(ctx, axes, 1.0, [](double a, float x) { return a * x; }));
    case ReduceOperation::kMAX:
      return store<float>(ctx, accumulate<float, double>(ctx, axes, -inf, [](double a, float x) {
                            return std::isnan(x) || x > a ? x : a;
                          }));
    case ReduceOperation::kMIN:
      return store<float>(ctx, accumulate<float, double>(ctx, axes, inf, [](double a, float x) {
                            return std::isnan(x) || x < a ? x : a;
                          }));
  }
}

void reduceInt(const ir::KernelContext& ctx, ReduceOperation op, uint32_t axes) {
  using I = int32_t;
  using U = uint32_t;  // wrapping arithmetic without undefined behaviour
  switch (op) {
    case ReduceOperation::kSUM:
      return store<I>(ctx, accumulate<I, U>(ctx, axes, 0u, [](U a, I x) { return a + U(x); }));
    case ReduceOperation::kPROD:
      return store<I>(ctx, accumulate<I, U>(ctx, axes, 1u, [](U a, I x) { return a * U(x); }));
    case ReduceOperation::kMAX:
      return store<I>(ctx, accumulate<I, I>(ctx, axes, std::numeric_limits<I>::min(),
                                            [](I a, I x) { return std::max(a, x); }));
    case ReduceOperation::kMIN:
      return store<I>(ctx, accumulate<I, I>(ctx, axes, std::numeric_limits<I>::max(),
                                            [](I a, I x) { return std::min(a, x); }));
    case ReduceOperation::kAVG:
      break;
  }
  fail(ErrorCode::kINTERNAL_ERROR, "Reduce has no int32 AVG kernel");
}

void runReduce(const ir::KernelContext& ctx) {
  const auto op = ctx.attrs().getEnum("op", ReduceOperation::kSUM);
  auto axes = static_cast<uint32_t>(ctx.attrs().getInt("axes", 0));
  if (ctx.hasInput(1)) {
    axes = axesMaskOf(shapeValues(ctx, 1), ctx.input(0).dims.nbDims,
                      ctx.attrs().getInt("noop_with_empty_axes", 0) != 0, [&](auto&&... parts) {
                        fail(ErrorCode::kINVALID_ARGUMENT, "layer '", ctx.node.name,
                             "' (Reduce): the axes input: ", parts...);
                      });
  }
  if (axes == 0) {  // nothing reduced (empty axes, noop): a copy
    std::memcpy(ctx.output(0).data, ctx.input(0).data,
                static_cast<std::size_t>(ctx.input(0).count()) * elementSize(ctx.input(0).dtype));
    return;
  }
  if (ctx.input(0).dtype == DataType::kINT32) return reduceInt(ctx, op, axes);
  reduceFloat(ctx, op, axes);
}

// --- TopK ------------------------------------------------------------------------------------

void inferTopK(ir::InferContext& ctx) {
  const int64_t raw = ctx.attrs().getInt("op", 0);
  if (raw != static_cast<int64_t>(TopKOperation::kMAX) &&
      raw != static_cast<int64_t>(TopKOperation::kMIN)) {
    ctx.fail("unknown top-k operation ", raw, " (expected 0 for MAX or 1 for MIN)");
  }
  const auto& in = ctx.input(0);
  if (in.dtype != DataType::kFLOAT && in.dtype != DataType::kINT32) {
    ctx.fail("input must be float32 or int32, not ", toString(in.dtype));
  }
  const uint32_t axes = checkedAxes(ctx, in.dims.nbDims);
  if (std::popcount(axes) != 1) {
    ctx.fail("the axes mask ", axes, " must name exactly one dimension");
  }
  const int32_t axis = std::countr_zero(axes);
  int64_t k = ctx.attrs().getInt("k", 0);
  if (ctx.hasInput(1)) {
    const auto given = knownShapeValues(ctx, 1, "the k input");
    if (given && given->size() != 1) ctx.fail("the k input must hold one value");
    if (!given) {  // a shape-tensor network input: known once the build gives its value
      Dims out = in.dims;
      out[axis] = -1;
      ctx.setOutput(0, in.dtype, out);
      ctx.setOutput(1, DataType::kINT32, out);
      return;
    }
    k = given->front();
  }
  const int64_t extent = in.dims[axis];
  if (extent > std::numeric_limits<int32_t>::max()) {
    ctx.fail("dimension ", axis, " has ", extent, " elements; int32 indices cannot address them");
  }
  if (k < 1 || (extent >= 0 && k > extent)) {
    ctx.fail("k = ", k, " is outside [1, ", extent, "], the extent of dimension ", axis,
             " of input shape ", toString(in.dims));
  }
  Dims out = in.dims;
  out[axis] = k;
  ctx.setOutput(0, in.dtype, out);
  ctx.setOutput(1, DataType::kINT32, out);
}

// Total order on values where NaN ranks above everything (and equals NaN).
template <typename T>
bool ranksBelow(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a)) return false;
    if (std::isnan(b)) return true;
  }
  return a < b;
}

template <typename T>
void topK(const ir::KernelContext& ctx, bool largest, int32_t axis, int64_t k) {
  const Dims& dims = ctx.input(0).dims;
  int64_t outer = 1;
  int64_t inner = 1;
  for (int32_t d = 0; d < axis; ++d) outer *= dims[d];
  for (int32_t d = axis + 1; d < dims.nbDims; ++d) inner *= dims[d];
  const int64_t n = dims[axis];
  const T* x = ctx.input(0).as<T>();
  T* values = ctx.output(0).as<T>();
  auto* indices = ctx.output(1).as<int32_t>();
  std::vector<int32_t> order(static_cast<std::size_t>(n));
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const T* slice = x + o * n * inner + i;
      auto at = [&](int32_t idx) { return slice[static_cast<int64_t>(idx) * inner]; };
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
        const T va = at(a);
        const T vb = at(b);
        const bool before = largest ? ranksBelow(vb, va) : ranksBelow(va, vb);
        const bool after = largest ? ranksBelow(va, vb) : ranksBelow(vb, va);
        return before || (!after && a < b);
      });
      const int64_t base = o * k * inner + i;
      for (int64_t j = 0; j < k; ++j) {
        const int32_t idx = order[static_cast<std::size_t>(j)];
        values[base + j * inner] = at(idx);
        indices[base + j * inner] = idx;
      }
    }
  }
}

void runTopK(const ir::KernelContext& ctx) {
  const bool largest = ctx.attrs().getEnum("op", TopKOperation::kMAX) == TopKOperation::kMAX;
  const auto axes = static_cast<uint32_t>(ctx.attrs().getInt("axes", 0));
  const int32_t axis = std::countr_zero(axes);
  const int64_t k = ctx.output(0).dims[axis];  // the "k" attribute, or input 1's value
  if (ctx.input(0).dtype == DataType::kINT32) return topK<int32_t>(ctx, largest, axis, k);
  topK<float>(ctx, largest, axis, k);
}

}  // namespace

void registerReduceOps(ir::OpRegistry& registry) {
  registry.add({.name = "Reduce",
                .minInputs = 1,
                .maxInputs = 2,
                .nbOutputs = 1,
                .infer = inferReduce,
                .reference = runReduce,
                .shapeInputs = {1}});
  registry.add({.name = "TopK",
                .minInputs = 1,
                .maxInputs = 2,
                .nbOutputs = 2,
                .infer = inferTopK,
                .reference = runTopK,
                .shapeInputs = {1}});
}

}  // namespace kiln::ops
