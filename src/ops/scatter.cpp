// Scatter: inputs [data, indices (INT32 or INT64), updates], attributes "mode" (ScatterMode),
// "axis" (kELEMENT) and "reduction" (ScatterReduction). The output is a copy of data with the
// updates written (or combined by the reduction) where the indices point:
//
//   kELEMENT  ONNX ScatterElements: indices and updates have one shape, of the data's rank and no
//             larger than the data outside the axis; output[i with i[axis] = indices[i]] =
//             updates[i].
//   kND       ONNX ScatterND: indices [..., k] with k <= data rank; updates have shape
//             indices.shape[:-1] + data.shape[k:]; each index tuple addresses one slice.
//
// Updates are applied in row-major order of the indices, so with kNONE a repeated index keeps the
// last update. Negative indices count from the end. Every index is checked before anything is
// written; one out of range fails the execution with kFAILED_EXECUTION naming it and the valid
// range (and fails the build already when the indices are constant).
#include <algorithm>
#include <cstring>
#include <vector>

#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "kiln/network.h"
#include "ops/data_movement.h"
#include "ops/op_families.h"

namespace kiln::ops {

namespace {

int64_t loadIndex(const void* indices, DataType type, int64_t i) {
  return type == DataType::kINT32 ? static_cast<const int32_t*>(indices)[i]
                                  : static_cast<const int64_t*>(indices)[i];
}

// Every index mapped into [0, extent of the data dimension it addresses); throws
// kFAILED_EXECUTION for one out of range.
std::vector<int64_t> checkedIndices(ScatterMode mode, int32_t axis, const void* indices,
                                    DataType indexType, const Dims& indexDims,
                                    const Dims& dataDims) {
  const int64_t count = volume(indexDims);
  std::vector<int64_t> result(static_cast<std::size_t>(count));
  const int64_t tuple = mode == ScatterMode::kND ? indexDims[indexDims.nbDims - 1] : 1;
  for (int64_t i = 0; i < count; ++i) {
    const int32_t dim = mode == ScatterMode::kND ? static_cast<int32_t>(i % tuple) : axis;
    const int64_t extent = dataDims[dim];
    const int64_t index = loadIndex(indices, indexType, i);
    const int64_t k = index < 0 ? index + extent : index;
    if (k < 0 || k >= extent) {
      if (extent == 0) {
        fail(ErrorCode::kFAILED_EXECUTION, "index ", index, " (indices element ", i,
             ") cannot address dimension ", dim, " of the data, whose extent is 0");
      }
      fail(ErrorCode::kFAILED_EXECUTION, "index ", index, " (indices element ", i,
           ") is out of range for dimension ", dim, " of the data: valid indices are ", -extent,
           " to ", extent - 1);
    }
    result[static_cast<std::size_t>(i)] = k;
  }
  return result;
}

const char* modeName(ScatterMode mode) {
  return mode == ScatterMode::kND ? "kND" : "kELEMENT";
}

void inferScatter(ir::InferContext& ctx) {
  const auto& data = ctx.input(0);
  const auto& indices = ctx.input(1);
  const auto& updates = ctx.input(2);
  const auto mode = ctx.attrs().getEnum("mode", ScatterMode::kELEMENT);
  const auto reduction = ctx.attrs().getEnum("reduction", ScatterReduction::kNONE);
  if (mode != ScatterMode::kELEMENT && mode != ScatterMode::kND) {
    ctx.fail("unknown scatter mode ", static_cast<int64_t>(mode));
  }
  if (reduction < ScatterReduction::kNONE || reduction > ScatterReduction::kMIN) {
    ctx.fail("unknown scatter reduction ", static_cast<int64_t>(reduction));
  }
  if (indices.dtype != DataType::kINT32 && indices.dtype != DataType::kINT64) {
    ctx.fail("indices must be int32 or int64, not ", toString(indices.dtype));
  }
  if (updates.dtype != data.dtype) {
    ctx.fail("updates (", toString(updates.dtype), ") must have the data's type (",
             toString(data.dtype), ")");
  }
  if (reduction != ScatterReduction::kNONE && data.dtype != DataType::kFLOAT &&
      data.dtype != DataType::kINT32 && data.dtype != DataType::kINT64) {
    ctx.fail("reductions need float32, int32 or int64 data, not ", toString(data.dtype));
  }
  const int32_t r = data.dims.nbDims;
  const int32_t q = indices.dims.nbDims;
  if (r == 0) ctx.fail("the data is a scalar; scatter needs data of rank >= 1");
  int32_t axis = 0;
  if (mode == ScatterMode::kELEMENT) {
    const int64_t a = ctx.attrs().getInt("axis", 0);
    if (a < -r || a >= r) {
      ctx.fail("axis ", a, " is out of range for data of shape ", toString(data.dims),
               " (valid: ", -r, " to ", r - 1, ")");
    }
    axis = static_cast<int32_t>(a < 0 ? a + r : a);
    if (q != r) {
      ctx.fail("kELEMENT mode needs indices of the data's rank: data ", toString(data.dims),
               ", indices ", toString(indices.dims));
    }
    if (updates.dims != indices.dims) {
      ctx.fail("kELEMENT mode needs updates of the indices' shape: indices ",
               toString(indices.dims), ", updates ", toString(updates.dims));
    }
    for (int32_t k = 0; k < r; ++k) {
      if (k != axis && indices.dims[k] > data.dims[k]) {
        ctx.fail("kELEMENT mode: indices (", toString(indices.dims), ") exceed the data (",
                 toString(data.dims), ") in dimension ", k, ", which is not the axis");
      }
    }
  } else {
    if (q == 0) ctx.fail("kND mode needs indices of rank >= 1");
    const int64_t k = indices.dims[q - 1];
    if (k < 1 || k > r) {
      ctx.fail("kND mode: the last dimension of the indices (", toString(indices.dims), ") is ", k,
               " but must be between 1 and the data rank ", r);
    }
    // updates = indices.shape[:-1] + data.shape[k:]
    Dims expected;
    for (int32_t i = 0; i < q - 1; ++i) expected[expected.nbDims++] = indices.dims[i];
    for (int32_t i = static_cast<int32_t>(k); i < r; ++i) {
      if (expected.nbDims == Dims::kMaxRank) {
        ctx.fail("kND mode: the updates would need more than ", Dims::kMaxRank, " dimensions");
      }
      expected[expected.nbDims++] = data.dims[i];
    }
    if (updates.dims != expected) {
      ctx.fail("kND mode: updates must have shape ", toString(expected),
               " (indices.shape[:-1] + data.shape[", k, ":]), not ", toString(updates.dims));
    }
  }
  if (indices.constData != nullptr) {
    try {
      checkedIndices(mode, axis, indices.constData, indices.dtype, indices.dims, data.dims);
    } catch (const Error& e) {
      ctx.fail(modeName(mode), " mode: ", e.what());
    }
  }
  ctx.setOutput(0, data.dtype, data.dims);
}

template <typename T>
void combine(T& target, T update, ScatterReduction reduction) {
  switch (reduction) {
    case ScatterReduction::kNONE:
      target = update;
      break;
    case ScatterReduction::kADD:
      if constexpr (std::is_integral_v<T>) {
        // Wraps like the two's complement hardware instead of overflowing (undefined).
        using U = std::make_unsigned_t<T>;
        target = static_cast<T>(static_cast<U>(target) + static_cast<U>(update));
      } else {
        target = target + update;
      }
      break;
    case ScatterReduction::kMUL:
      if constexpr (std::is_integral_v<T>) {
        using U = std::make_unsigned_t<T>;
        target = static_cast<T>(static_cast<U>(target) * static_cast<U>(update));
      } else {
        target = target * update;
      }
      break;
    case ScatterReduction::kMAX:
      target = std::max(target, update);
      break;
    case ScatterReduction::kMIN:
      target = std::min(target, update);
      break;
  }
}

// Combines @p count elements of @p src into @p dst.
void combineRun(std::byte* dst, const std::byte* src, int64_t count, DataType type,
                ScatterReduction reduction) {
  const std::size_t esize = elementSize(type);
  if (reduction == ScatterReduction::kNONE) {
    std::memcpy(dst, src, static_cast<std::size_t>(count) * esize);
    return;
  }
  auto apply = [&](auto tag) {
    using T = decltype(tag);
    for (int64_t i = 0; i < count; ++i) {
      T target;
      T update;
      std::memcpy(&target, dst + static_cast<std::size_t>(i) * esize, esize);
      std::memcpy(&update, src + static_cast<std::size_t>(i) * esize, esize);
      combine(target, update, reduction);
      std::memcpy(dst + static_cast<std::size_t>(i) * esize, &target, esize);
    }
  };
  if (type == DataType::kFLOAT) {
    apply(float{});
  } else if (type == DataType::kINT32) {
    apply(int32_t{});
  } else {
    apply(int64_t{});
  }
}

void runScatter(const ir::KernelContext& ctx) {
  const auto& data = ctx.input(0);
  const auto& indices = ctx.input(1);
  const auto& updates = ctx.input(2);
  const auto& out = ctx.output(0);
  const auto mode = ctx.attrs().getEnum("mode", ScatterMode::kELEMENT);
  const auto reduction = ctx.attrs().getEnum("reduction", ScatterReduction::kNONE);
  const int32_t r = data.dims.nbDims;
  const int64_t a = ctx.attrs().getInt("axis", 0);
  const int32_t axis = mode == ScatterMode::kELEMENT ? static_cast<int32_t>(a < 0 ? a + r : a) : 0;
  const auto idx = checkedIndices(mode, axis, indices.data, indices.dtype, indices.dims, data.dims);
  const std::size_t esize = elementSize(data.dtype);
  auto* dst = out.as<std::byte>();
  const auto* src = updates.as<const std::byte>();
  if (out.count() > 0 && out.data != data.data) {
    std::memcpy(dst, data.data, static_cast<std::size_t>(out.count()) * esize);
  }
  const Dims strides = contiguousStrides(data.dims);
  if (mode == ScatterMode::kELEMENT) {
    int64_t position = 0;
    for (Odometer it(indices.dims); it.valid(); it.next(), ++position) {
      int64_t offset = 0;
      for (int32_t k = 0; k < r; ++k) {
        offset += (k == axis ? idx[static_cast<std::size_t>(position)] : it[k]) * strides[k];
      }
      combineRun(dst + static_cast<std::size_t>(offset) * esize,
                 src + static_cast<std::size_t>(position) * esize, 1, data.dtype, reduction);
    }
    return;
  }
  const int32_t q = indices.dims.nbDims;
  const int64_t k = indices.dims[q - 1];
  const int64_t tuples = k == 0 ? 0 : volume(indices.dims) / k;
  int64_t slice = 1;
  for (int32_t i = static_cast<int32_t>(k); i < r; ++i) slice *= data.dims[i];
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t offset = 0;
    for (int64_t j = 0; j < k; ++j) {
      offset += idx[static_cast<std::size_t>(t * k + j)] * strides[static_cast<int32_t>(j)];
    }
    combineRun(dst + static_cast<std::size_t>(offset) * esize,
               src + static_cast<std::size_t>(t * slice) * esize, slice, data.dtype, reduction);
  }
}

}  // namespace

void registerScatterOps(ir::OpRegistry& registry) {
  registry.add({.name = "Scatter",
                .minInputs = 3,
                .maxInputs = 3,
                .nbOutputs = 1,
                .infer = inferScatter,
                .reference = runScatter});
}

}  // namespace kiln::ops
