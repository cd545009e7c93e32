// Ops whose output extent depends on the input values (data-dependent shapes, TensorRT's
// INonZeroLayer and INMSLayer; ONNX NonZero, Compress, Unique, NonMaxSuppression). Shape
// inference gives each such extent an upper bound (Value::boundedExtents), memory is planned for
// it, and the kernel writes the output compactly at its real shape, which it reports through
// KernelContext::setOutputDims. Indices are int32, as everywhere in kiln's networks.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "core/half.h"
#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "ops/op_families.h"

namespace kiln::ops {

namespace {

// Element @p i of @p t as a number, for the types networks hold.
double elementAt(const void* data, DataType type, int64_t i) {
  const auto* bytes = static_cast<const std::byte*>(data);
  switch (type) {
    case DataType::kFLOAT: {
      float v;
      std::memcpy(&v, bytes + i * 4, 4);
      return v;
    }
    case DataType::kHALF:
    case DataType::kBF16: {
      uint16_t v;
      std::memcpy(&v, bytes + i * 2, 2);
      return type == DataType::kHALF ? halfToFloat(v) : bfloat16ToFloat(v);
    }
    case DataType::kINT32: {
      int32_t v;
      std::memcpy(&v, bytes + i * 4, 4);
      return v;
    }
    case DataType::kINT64: {
      int64_t v;
      std::memcpy(&v, bytes + i * 8, 8);
      return static_cast<double>(v);
    }
    case DataType::kINT8:
      return static_cast<double>(static_cast<int8_t>(bytes[i]));
    case DataType::kUINT8:
    case DataType::kBOOL:
      return static_cast<double>(static_cast<uint8_t>(bytes[i]));
    default:
      fail(ErrorCode::kUNSUPPORTED_STATE, "element type ", toString(type), " is not supported");
  }
}

bool isNumericType(DataType type) {
  switch (type) {
    case DataType::kFLOAT:
    case DataType::kHALF:
    case DataType::kBF16:
    case DataType::kINT32:
    case DataType::kINT64:
    case DataType::kINT8:
    case DataType::kUINT8:
    case DataType::kBOOL:
      return true;
    default:
      return false;
  }
}

void requireNumeric(const ir::InferContext& ctx, int32_t index, std::string_view what) {
  if (!isNumericType(ctx.input(index).dtype)) {
    ctx.fail(what, " has type ", toString(ctx.input(index).dtype),
             "; expected float32, float16, bfloat16, int32, int64, int8, uint8 or bool");
  }
}

// Product of dims [from, to).
int64_t extentProduct(const Dims& dims, int32_t from, int32_t to) {
  int64_t p = 1;
  for (int32_t i = from; i < to; ++i) p *= dims[i];
  return p;
}

Dims dims1(int64_t n) {
  Dims d;
  d.nbDims = 1;
  d[0] = n;
  return d;
}

Dims dims2(int64_t a, int64_t b) {
  Dims d;
  d.nbDims = 2;
  d[0] = a;
  d[1] = b;
  return d;
}

// --- NonZero ------------------------------------------------------------------------------
// Output [rank, N] int32: the coordinates of the N nonzero elements in row-major order. A scalar
// counts as a tensor of shape [1].

void inferNonZero(ir::InferContext& ctx) {
  requireNumeric(ctx, 0, "the input");
  const Dims& x = ctx.input(0).dims;
  ctx.setOutput(0, DataType::kINT32, dims2(std::max(x.nbDims, 1), volume(x)));
  ctx.output(0).boundedExtents = 1u << 1;
}

void runNonZero(const ir::KernelContext& ctx) {
  const auto& in = ctx.input(0);
  const int64_t count = in.count();
  const int32_t rank = std::max(in.dims.nbDims, 1);
  std::vector<int64_t> found;
  for (int64_t i = 0; i < count; ++i) {
    if (elementAt(in.data, in.dtype, i) != 0.0) found.push_back(i);
  }
  const auto n = static_cast<int64_t>(found.size());
  auto* out = ctx.output(0).as<int32_t>();
  for (int64_t k = 0; k < n; ++k) {
    int64_t rest = found[static_cast<std::size_t>(k)];
    for (int32_t d = in.dims.nbDims - 1; d >= 0; --d) {
      out[d * n + k] = static_cast<int32_t>(rest % in.dims[d]);
      rest /= in.dims[d];
    }
    if (in.dims.nbDims == 0) out[k] = 0;
  }
  ctx.setOutputDims(0, dims2(rank, n));
}

// --- Compress -----------------------------------------------------------------------------
// Inputs: data, condition (bool [L]). With attribute "axis", keeps the slices along it whose
// condition is true; without, keeps the elements of the flattened data. Entries beyond the
// condition's length (or beyond the data) are dropped.

void inferCompress(ir::InferContext& ctx) {
  const auto& data = ctx.input(0);
  const auto& cond = ctx.input(1);
  if (cond.dims.nbDims != 1) {
    ctx.fail("the condition has shape ", toString(cond.dims), "; it must have rank 1");
  }
  if (cond.dtype != DataType::kBOOL) {
    ctx.fail("the condition must be bool, not ", toString(cond.dtype));
  }
  if (!ctx.attrs().has("axis")) {
    ctx.setOutput(0, data.dtype, dims1(std::min(cond.dims[0], volume(data.dims))));
    ctx.output(0).boundedExtents = 1u;
    return;
  }
  if (data.dims.nbDims == 0) ctx.fail("a scalar has no axis to compress along");
  const int64_t axis = ctx.attrs().getInt("axis");
  if (axis < -data.dims.nbDims || axis >= data.dims.nbDims) {
    ctx.fail("axis ", axis, " is out of range for an input of rank ", data.dims.nbDims);
  }
  const int32_t a = static_cast<int32_t>(axis < 0 ? axis + data.dims.nbDims : axis);
  Dims out = data.dims;
  out[a] = std::min(cond.dims[0], data.dims[a]);
  ctx.setOutput(0, data.dtype, out);
  ctx.output(0).boundedExtents = 1u << a;
}

void runCompress(const ir::KernelContext& ctx) {
  const auto& data = ctx.input(0);
  const auto& cond = ctx.input(1);
  const auto* flags = cond.as<const uint8_t>();
  const std::size_t elem = elementSize(data.dtype);
  const auto* src = static_cast<const std::byte*>(data.data);
  auto* dst = static_cast<std::byte*>(ctx.output(0).data);
  const bool flat = !ctx.attrs().has("axis");
  int32_t axis = 0;
  if (!flat) {
    const int64_t a = ctx.attrs().getInt("axis");
    axis = static_cast<int32_t>(a < 0 ? a + data.dims.nbDims : a);
  }
  const int64_t extent = flat ? data.count() : data.dims[axis];
  const int64_t outer = flat ? 1 : extentProduct(data.dims, 0, axis);
  const int64_t inner = flat ? 1 : extentProduct(data.dims, axis + 1, data.dims.nbDims);
  std::vector<int64_t> kept;
  for (int64_t i = 0; i < std::min(extent, cond.count()); ++i) {
    if (flags[i] != 0) kept.push_back(i);
  }
  const auto n = static_cast<int64_t>(kept.size());
  const std::size_t slice = static_cast<std::size_t>(inner) * elem;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t k = 0; k < n; ++k) {
      std::memcpy(
          dst + static_cast<std::size_t>(o * n + k) * slice,
          src + static_cast<std::size_t>(o * extent + kept[static_cast<std::size_t>(k)]) * slice,
          slice);
    }
  }
  if (flat) {
    ctx.setOutputDims(0, dims1(n));
  } else {
    Dims out = data.dims;
    out[axis] = n;
    ctx.setOutputDims(0, out);
  }
}

// --- Unique -------------------------------------------------------------------------------
// Outputs: Y (the unique elements, or slices along "axis"), indices (first occurrence of each
// in the input), inverse_indices (for each input element or slice, its position in Y) and
// counts. "sorted" (default 1) orders Y ascending (slices lexicographically); 0 keeps the order
// of first occurrence. Without "axis" the input is flattened.

struct UniqueLayout {
  bool flat = true;
  int32_t axis = 0;
  int64_t outer = 1, extent = 0, inner = 1;
};

UniqueLayout uniqueLayout(const ir::Attributes& attrs, const Dims& dims) {
  UniqueLayout l;
  l.flat = !attrs.has("axis");
  if (l.flat) {
    l.extent = volume(dims);
    return l;
  }
  const int64_t a = attrs.getInt("axis");
  l.axis = static_cast<int32_t>(a < 0 ? a + dims.nbDims : a);
  l.outer = extentProduct(dims, 0, l.axis);
  l.extent = dims[l.axis];
  l.inner = extentProduct(dims, l.axis + 1, dims.nbDims);
  return l;
}

void inferUnique(ir::InferContext& ctx) {
  const auto& x = ctx.input(0);
  requireNumeric(ctx, 0, "the input");
  if (ctx.attrs().has("axis")) {
    const int64_t axis = ctx.attrs().getInt("axis");
    if (x.dims.nbDims == 0) ctx.fail("a scalar has no axis to find unique slices along");
    if (axis < -x.dims.nbDims || axis >= x.dims.nbDims) {
      ctx.fail("axis ", axis, " is out of range for an input of rank ", x.dims.nbDims);
    }
  }
  const UniqueLayout l = uniqueLayout(ctx.attrs(), x.dims);
  if (l.flat) {
    ctx.setOutput(0, x.dtype, dims1(l.extent));
    ctx.output(0).boundedExtents = 1u;
  } else {
    ctx.setOutput(0, x.dtype, x.dims);
    ctx.output(0).boundedExtents = 1u << l.axis;
  }
  for (int32_t i = 1; i < 4; ++i) {
    ctx.setOutput(i, DataType::kINT32, dims1(l.extent));
    if (i != 2) ctx.output(i).boundedExtents = 1u;  // inverse_indices has one per input slice
  }
}

void runUnique(const ir::KernelContext& ctx) {
  const auto& x = ctx.input(0);
  const UniqueLayout l = uniqueLayout(ctx.attrs(), x.dims);
  const bool sorted = ctx.attrs().getInt("sorted", 1) != 0;
  // Slice s is the elements (o, s, k) for every o and k, compared in that order.
  std::vector<double> values(static_cast<std::size_t>(x.count()));
  for (int64_t i = 0; i < x.count(); ++i) {
    values[static_cast<std::size_t>(i)] = elementAt(x.data, x.dtype, i);
  }
  const auto at = [&](int64_t s, int64_t j) {
    const int64_t o = j / l.inner;
    const int64_t k = j % l.inner;
    return values[static_cast<std::size_t>((o * l.extent + s) * l.inner + k)];
  };
  const int64_t sliceSize = l.outer * l.inner;
  const auto compare = [&](int64_t a, int64_t b) {
    for (int64_t j = 0; j < sliceSize; ++j) {
      const double va = at(a, j);
      const double vb = at(b, j);
      if (va < vb) return -1;
      if (va > vb) return 1;
    }
    return 0;
  };
  std::vector<int64_t> order(static_cast<std::size_t>(l.extent));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return compare(a, b) < 0; });
  // Groups of equal slices: their first (smallest) index and size; group of every slice.
  std::vector<int64_t> first;
  std::vector<int64_t> count;
  std::vector<int64_t> groupOf(static_cast<std::size_t>(l.extent));
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (i == 0 || compare(order[i - 1], order[i]) != 0) {
      first.push_back(order[i]);
      count.push_back(0);
    }
    ++count.back();
    groupOf[static_cast<std::size_t>(order[i])] = static_cast<int64_t>(first.size()) - 1;
  }
  std::vector<std::size_t> position(first.size());  // group -> place in Y
  std::iota(position.begin(), position.end(), std::size_t{0});
  if (!sorted) {
    std::vector<std::size_t> byFirst(first.size());
    std::iota(byFirst.begin(), byFirst.end(), std::size_t{0});
    std::sort(byFirst.begin(), byFirst.end(),
              [&](std::size_t a, std::size_t b) { return first[a] < first[b]; });
    for (std::size_t p = 0; p < byFirst.size(); ++p) position[byFirst[p]] = p;
  }
  const auto n = static_cast<int64_t>(first.size());
  const std::size_t elem = elementSize(x.dtype);
  const auto* src = static_cast<const std::byte*>(x.data);
  auto* y = static_cast<std::byte*>(ctx.output(0).data);
  auto* indices = ctx.output(1).as<int32_t>();
  auto* inverse = ctx.output(2).as<int32_t>();
  auto* counts = ctx.output(3).as<int32_t>();
  const std::size_t slice = static_cast<std::size_t>(l.inner) * elem;
  for (std::size_t g = 0; g < first.size(); ++g) {
    const auto p = static_cast<int64_t>(position[g]);
    for (int64_t o = 0; o < l.outer; ++o) {
      std::memcpy(y + static_cast<std::size_t>(o * n + p) * slice,
                  src + static_cast<std::size_t>(o * l.extent + first[g]) * slice, slice);
    }
    indices[p] = static_cast<int32_t>(first[g]);
    counts[p] = static_cast<int32_t>(count[g]);
  }
  for (int64_t s = 0; s < l.extent; ++s) {
    inverse[s] = static_cast<int32_t>(position[static_cast<std::size_t>(groupOf[s])]);
  }
  if (l.flat) {
    ctx.setOutputDims(0, dims1(n));
  } else {
    Dims out = x.dims;
    out[l.axis] = n;
    ctx.setOutputDims(0, out);
  }
  ctx.setOutputDims(1, dims1(n));
  ctx.setOutputDims(3, dims1(n));
}

// --- NonMaxSuppression --------------------------------------------------------------------
// ONNX NonMaxSuppression: boxes [B, N, 4] float, scores [B, C, N] float, and optional
// max_output_boxes_per_class (int, one value; absent or 0: nothing is selected), iou_threshold
// and score_threshold (float, one value each). "center_point_box" 0: boxes are [y1, x1, y2, x2]
// (any two opposite corners); 1: [x_center, y_center, width, height]. Per batch and class, the
// boxes scoring above score_threshold are taken greedily by descending score (ties: lower
// index first), each suppressing the later ones that overlap it with IoU > iou_threshold.
// Output [selected, 3] int32 rows (batch, class, box), by batch, class, then selection order.

int64_t firstInt(const void* data, DataType type) {
  return static_cast<int64_t>(elementAt(data, type, 0));
}

void inferNonMaxSuppression(ir::InferContext& ctx) {
  const auto& boxes = ctx.input(0);
  const auto& scores = ctx.input(1);
  const int64_t center = ctx.attrs().getInt("center_point_box", 0);
  if (center != 0 && center != 1) ctx.fail("center_point_box must be 0 or 1, not ", center);
  if (boxes.dtype != DataType::kFLOAT || scores.dtype != DataType::kFLOAT) {
    ctx.fail("boxes and scores must be float32, not ", toString(boxes.dtype), " and ",
             toString(scores.dtype));
  }
  if (boxes.dims.nbDims != 3 || boxes.dims[2] != 4) {
    ctx.fail("boxes have shape ", toString(boxes.dims), "; expected [batches, boxes, 4]");
  }
  if (scores.dims.nbDims != 3 || scores.dims[0] != boxes.dims[0] ||
      scores.dims[2] != boxes.dims[1]) {
    ctx.fail("scores have shape ", toString(scores.dims), "; expected [", boxes.dims[0],
             ", classes, ", boxes.dims[1], "] for boxes of shape ", toString(boxes.dims));
  }
  int64_t perClass = boxes.dims[1];
  if (ctx.hasInput(2)) {
    const auto& limit = ctx.input(2);
    if ((limit.dtype != DataType::kINT32 && limit.dtype != DataType::kINT64) ||
        volume(limit.dims) != 1) {
      ctx.fail("max_output_boxes_per_class must be one int32 or int64 value, not ",
               toString(limit.dtype), " ", toString(limit.dims));
    }
    if (limit.constData != nullptr) {
      perClass = std::clamp<int64_t>(firstInt(limit.constData, limit.dtype), 0, perClass);
    }
  } else {
    perClass = 0;
  }
  for (int32_t i = 3; i < 5; ++i) {
    if (!ctx.hasInput(i)) continue;
    const auto& t = ctx.input(i);
    if (t.dtype != DataType::kFLOAT || volume(t.dims) != 1) {
      ctx.fail(i == 3 ? "iou_threshold" : "score_threshold", " must be one float32 value, not ",
               toString(t.dtype), " ", toString(t.dims));
    }
  }
  ctx.setOutput(0, DataType::kINT32, dims2(boxes.dims[0] * scores.dims[1] * perClass, 3));
  ctx.output(0).boundedExtents = 1u;
}

struct Corners {
  float y0, x0, y1, x1;
};

Corners cornersOf(const float* b, bool center) {
  if (center) {
    const float hw = b[2] / 2.0f;
    const float hh = b[3] / 2.0f;
    return {b[1] - hh, b[0] - hw, b[1] + hh, b[0] + hw};
  }
  return {std::min(b[0], b[2]), std::min(b[1], b[3]), std::max(b[0], b[2]), std::max(b[1], b[3])};
}

bool overlapsTooMuch(const Corners& a, const Corners& b, float threshold) {
  const float ih = std::min(a.y1, b.y1) - std::max(a.y0, b.y0);
  const float iw = std::min(a.x1, b.x1) - std::max(a.x0, b.x0);
  if (ih <= 0.0f || iw <= 0.0f) return false;
  const float inter = ih * iw;
  const float areaA = (a.y1 - a.y0) * (a.x1 - a.x0);
  const float areaB = (b.y1 - b.y0) * (b.x1 - b.x0);
  const float uni = areaA + areaB - inter;
  if (areaA <= 0.0f || areaB <= 0.0f || uni <= 0.0f) return false;
  return inter / uni > threshold;
}

void runNonMaxSuppression(const ir::KernelContext& ctx) {
  const auto& boxesT = ctx.input(0);
  const auto& scoresT = ctx.input(1);
  const int64_t batches = boxesT.dims[0];
  const int64_t nbBoxes = boxesT.dims[1];
  const int64_t classes = scoresT.dims[1];
  const bool center = ctx.attrs().getInt("center_point_box", 0) != 0;
  int64_t limit = 0;
  if (ctx.hasInput(2)) limit = firstInt(ctx.input(2).data, ctx.input(2).dtype);
  limit = std::clamp<int64_t>(limit, 0, nbBoxes);
  const float iou = ctx.hasInput(3) ? *ctx.input(3).as<const float>() : 0.0f;
  const bool filter = ctx.hasInput(4);
  const float minScore = filter ? *ctx.input(4).as<const float>() : 0.0f;
  const int64_t capacity = ctx.output(0).dims[0];
  const auto* boxes = boxesT.as<const float>();
  const auto* scores = scoresT.as<const float>();
  auto* out = ctx.output(0).as<int32_t>();
  int64_t written = 0;
  std::vector<int64_t> candidates;
  std::vector<Corners> kept;
  for (int64_t b = 0; b < batches; ++b) {
    for (int64_t c = 0; c < classes; ++c) {
      const float* s = scores + (b * classes + c) * nbBoxes;
      candidates.clear();
      for (int64_t i = 0; i < nbBoxes; ++i) {
        if (!filter || s[i] > minScore) candidates.push_back(i);
      }
      std::stable_sort(candidates.begin(), candidates.end(),
                       [&](int64_t x, int64_t y) { return s[x] > s[y]; });
      kept.clear();
      for (int64_t i : candidates) {
        if (static_cast<int64_t>(kept.size()) >= limit) break;
        const Corners box = cornersOf(boxes + (b * nbBoxes + i) * 4, center);
        bool suppressed = false;
        for (const Corners& k : kept) {
          if (overlapsTooMuch(k, box, iou)) {
            suppressed = true;
            break;
          }
        }
        if (suppressed) continue;
        if (written >= capacity) {
          fail(ErrorCode::kFAILED_EXECUTION, "more than ", capacity,
               " boxes selected; max_output_boxes_per_class changed since the engine was built");
        }
        kept.push_back(box);
        out[written * 3] = static_cast<int32_t>(b);
        out[written * 3 + 1] = static_cast<int32_t>(c);
        out[written * 3 + 2] = static_cast<int32_t>(i);
        ++written;
      }
    }
  }
  ctx.setOutputDims(0, dims2(written, 3));
}

}  // namespace

void registerDataDependentOps(ir::OpRegistry& registry) {
  registry.add({.name = "NonZero",
                .minInputs = 1,
                .maxInputs = 1,
                .nbOutputs = 1,
                .infer = inferNonZero,
                .reference = runNonZero});
  registry.add({.name = "Compress",
                .minInputs = 2,
                .maxInputs = 2,
                .nbOutputs = 1,
                .infer = inferCompress,
                .reference = runCompress});
  registry.add({.name = "Unique",
                .minInputs = 1,
                .maxInputs = 1,
                .nbOutputs = 4,
                .infer = inferUnique,
                .reference = runUnique});
  registry.add({.name = "NMS",
                .minInputs = 2,
                .maxInputs = 5,
                .nbOutputs = 1,
                .infer = inferNonMaxSuppression,
                .reference = runNonMaxSuppression});
}

}  // namespace kiln::ops
