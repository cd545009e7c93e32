// Gather: inputs [data, indices (INT32 or INT64)], attributes "axis", "mode" (GatherMode) and
// "num_elementwise_dims" (b). Data may be of any type: the kernels copy bytes.
//
//   kDEFAULT  ONNX Gather (b leading dims of data and indices shared, b <= axis; TensorRT allows
//             b of 0 or 1): output = data.shape[:axis] + indices.shape[b:] + data.shape[axis+1:]
//   kELEMENT  ONNX GatherElements: output[i] = data[i with i[axis] = indices[i]] (b must be 0)
//   kND       ONNX GatherND with batch_dims = b ("axis" unused):
//             output = indices.shape[:-1] + data.shape[b + indices.shape[-1]:]
//
// Negative indices count from the end. Every index is checked before anything is read; an
// index out of range fails the execution with kFAILED_EXECUTION naming it and the valid range
// (and fails the build already when the indices are constant).
#include <cstring>
#include <vector>

#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "kiln/network.h"
#include "ops/data_movement.h"
#include "ops/infer_checks.h"

namespace kiln::ops {

namespace {

struct GatherParams {
  GatherMode mode = GatherMode::kDEFAULT;
  int32_t axis = 0;   // normalized (kDEFAULT, kELEMENT)
  int32_t batch = 0;  // num_elementwise_dims
};

int64_t loadIndex(const void* indices, DataType type, int64_t i) {
  return type == DataType::kINT32 ? static_cast<const int32_t*>(indices)[i]
                                  : static_cast<const int64_t*>(indices)[i];
}

// Maps @p index into [0, extent); throws kFAILED_EXECUTION otherwise.
int64_t normalizeIndex(int64_t index, int64_t extent, int32_t dataDim, int64_t position) {
  const int64_t k = index < 0 ? index + extent : index;
  if (k < 0 || k >= extent) {
    if (extent == 0) {
      fail(ErrorCode::kFAILED_EXECUTION, "index ", index, " (indices element ", position,
           ") cannot address dimension ", dataDim, " of the data, whose extent is 0");
    }
    fail(ErrorCode::kFAILED_EXECUTION, "index ", index, " (indices element ", position,
         ") is out of range for dimension ", dataDim, " of the data: valid indices are ", -extent,
         " to ", extent - 1);
  }
  return k;
}

// Every index, normalized and checked against the data dimension it addresses.
std::vector<int64_t> checkedIndices(const GatherParams& p, const void* indices, DataType indexType,
                                    const Dims& indexDims, const Dims& dataDims) {
  const int64_t count = volume(indexDims);
  std::vector<int64_t> result(static_cast<std::size_t>(count));
  const int32_t q = indexDims.nbDims;
  const int64_t tuple = p.mode == GatherMode::kND && q > 0 ? indexDims[q - 1] : 1;
  for (int64_t i = 0; i < count; ++i) {
    const int32_t dim =
        p.mode == GatherMode::kND ? p.batch + static_cast<int32_t>(i % tuple) : p.axis;
    result[static_cast<std::size_t>(i)] =
        normalizeIndex(loadIndex(indices, indexType, i), dataDims[dim], dim, i);
  }
  return result;
}

GatherParams gatherParams(const ir::Attributes& attrs, int32_t dataRank) {
  GatherParams p;
  p.mode = attrs.getEnum("mode", GatherMode::kDEFAULT);
  const int64_t axis = attrs.getInt("axis", 0);
  p.axis = static_cast<int32_t>(axis < 0 ? axis + dataRank : axis);
  p.batch = static_cast<int32_t>(attrs.getInt("num_elementwise_dims", 0));
  return p;
}

int64_t product(const Dims& dims, int32_t begin, int32_t end) {
  int64_t n = 1;
  for (int32_t k = begin; k < end; ++k) n *= dims[k];
  return n;
}

void inferGather(ir::InferContext& ctx) {
  const auto& data = ctx.input(0);
  const auto& indices = ctx.input(1);
  const int32_t r = data.dims.nbDims;
  const int32_t q = indices.dims.nbDims;
  if (indices.dtype != DataType::kINT32 && indices.dtype != DataType::kINT64) {
    ctx.fail("indices must be int32 or int64, not ", toString(indices.dtype));
  }
  const auto mode = ctx.attrs().getEnum("mode", GatherMode::kDEFAULT);
  if (mode != GatherMode::kDEFAULT && mode != GatherMode::kELEMENT && mode != GatherMode::kND) {
    ctx.fail("unknown gather mode ", static_cast<int64_t>(mode));
  }
  if (r == 0) ctx.fail("the data is a scalar; gather needs data of rank >= 1");
  const int64_t axis = ctx.attrs().getInt("axis", 0);
  const int64_t batch = ctx.attrs().getInt("num_elementwise_dims", 0);
  if (mode != GatherMode::kND && (axis < -r || axis >= r)) {
    ctx.fail("axis ", axis, " is out of range for data of shape ", toString(data.dims),
             " (valid: ", -r, " to ", r - 1, ")");
  }
  const GatherParams p = gatherParams(ctx.attrs(), r);
  // The leading b dimensions of data and indices are shared (batch) dimensions.
  auto checkBatch = [&] {
    for (int32_t k = 0; k < p.batch; ++k) {
      if (data.dims[k] != indices.dims[k]) {
        ctx.fail("with ", batch, " element-wise dimensions, data (", toString(data.dims),
                 ") and indices (", toString(indices.dims), ") must match in dimension ", k);
      }
    }
  };
  Dims out;
  auto append = [&](int64_t extent) {
    if (out.nbDims == Dims::kMaxRank) {
      ctx.fail("the output would have more than ", Dims::kMaxRank, " dimensions (data ",
               toString(data.dims), ", indices ", toString(indices.dims), ")");
    }
    out[out.nbDims++] = extent;
  };
  switch (mode) {
    case GatherMode::kDEFAULT:
      if (batch < 0 || batch > p.axis || batch > q) {
        ctx.fail("num_elementwise_dims ", batch, " must be between 0 and min(axis ", p.axis,
                 ", indices rank ", q, ")");
      }
      checkBatch();
      for (int32_t k = 0; k < p.axis; ++k) append(data.dims[k]);
      for (int32_t k = p.batch; k < q; ++k) append(indices.dims[k]);
      for (int32_t k = p.axis + 1; k < r; ++k) append(data.dims[k]);
      break;
    case GatherMode::kELEMENT:
      if (batch != 0) ctx.fail("kELEMENT mode needs num_elementwise_dims 0, not ", batch);
      if (q != r) {
        ctx.fail("kELEMENT mode needs indices of the data's rank: data ", toString(data.dims),
                 ", indices ", toString(indices.dims));
      }
      for (int32_t k = 0; k < r; ++k) {
        if (k != p.axis && indices.dims[k] > data.dims[k]) {
          ctx.fail("kELEMENT mode: indices (", toString(indices.dims), ") exceed the data (",
                   toString(data.dims), ") in dimension ", k, ", which is not the axis");
        }
      }
      out = indices.dims;
      break;
    case GatherMode::kND: {
      if (q == 0) ctx.fail("kND mode needs indices of rank >= 1");
      if (batch < 0 || batch >= std::min(q, r)) {
        ctx.fail("num_elementwise_dims ", batch, " must be between 0 and ", std::min(q, r) - 1,
                 " (below the ranks of data ", toString(data.dims), " and indices ",
                 toString(indices.dims), ")");
      }
      checkBatch();
      const int64_t m = indices.dims[q - 1];
      if (m < 1 || m > r - batch) {
        ctx.fail("kND mode: the last dimension of the indices (", toString(indices.dims), ") is ",
                 m, " but must be between 1 and ", r - batch,
                 " (data rank minus element-wise dimensions)");
      }
      for (int32_t k = 0; k < q - 1; ++k) append(indices.dims[k]);
      for (int32_t k = p.batch + static_cast<int32_t>(m); k < r; ++k) append(data.dims[k]);
      break;
    }
  }
  if (indices.constData != nullptr) {
    withLayerContext(
        ctx, [&] { checkedIndices(p, indices.constData, indices.dtype, indices.dims, data.dims); });
  }
  ctx.setOutput(0, data.dtype, out);
}

void runGather(const ir::KernelContext& ctx) {
  const auto& data = ctx.input(0);
  const auto& indices = ctx.input(1);
  const auto& out = ctx.output(0);
  const GatherParams p = gatherParams(ctx.attrs(), data.dims.nbDims);
  const auto idx = checkedIndices(p, indices.data, indices.dtype, indices.dims, data.dims);
  if (out.count() == 0) return;
  const std::size_t esize = elementSize(data.dtype);
  const auto* src = data.as<const std::byte>();
  auto* dst = out.as<std::byte>();
  const int32_t r = data.dims.nbDims;
  const int32_t q = indices.dims.nbDims;
  switch (p.mode) {
    case GatherMode::kDEFAULT: {
      // data = [B, P, N, S], indices = [B, J], output = [B, P, J, S] (S in bytes).
      const int64_t batches = product(data.dims, 0, p.batch);
      const int64_t outer = product(data.dims, p.batch, p.axis);
      const int64_t n = data.dims[p.axis];
      const int64_t gathers = product(indices.dims, p.batch, q);
      const auto slice = static_cast<std::size_t>(product(data.dims, p.axis + 1, r)) * esize;
      for (int64_t b = 0; b < batches; ++b) {
        for (int64_t o = 0; o < outer; ++o) {
          const auto* base = src + static_cast<std::size_t>((b * outer + o) * n) * slice;
          for (int64_t j = 0; j < gathers; ++j) {
            const int64_t k = idx[static_cast<std::size_t>(b * gathers + j)];
            std::memcpy(dst, base + static_cast<std::size_t>(k) * slice, slice);
            dst += slice;
          }
        }
      }
      break;
    }
    case GatherMode::kELEMENT: {
      const Dims strides = contiguousStrides(data.dims);
      int64_t position = 0;
      for (Odometer it(indices.dims); it.valid(); it.next(), ++position) {
        int64_t offset = 0;
        for (int32_t k = 0; k < r; ++k) {
          offset += (k == p.axis ? idx[static_cast<std::size_t>(position)] : it[k]) * strides[k];
        }
        std::memcpy(dst, src + static_cast<std::size_t>(offset) * esize, esize);
        dst += esize;
      }
      break;
    }
    case GatherMode::kND: {
      // indices = [B, G, m], data = [B, D_b .. D_{b+m-1}, S], output = [B, G, S].
      const Dims strides = contiguousStrides(data.dims);
      const int64_t m = indices.dims[q - 1];
      const int64_t batches = product(indices.dims, 0, p.batch);
      const int64_t gathers = product(indices.dims, p.batch, q - 1);
      const int64_t batchStride = product(data.dims, p.batch, r);
      const auto slice =
          static_cast<std::size_t>(product(data.dims, p.batch + static_cast<int32_t>(m), r)) *
          esize;
      for (int64_t b = 0; b < batches; ++b) {
        for (int64_t g = 0; g < gathers; ++g) {
          const int64_t* tuple = &idx[static_cast<std::size_t>((b * gathers + g) * m)];
          int64_t offset = b * batchStride;
          for (int64_t k = 0; k < m; ++k)
            offset += tuple[k] * strides[p.batch + static_cast<int32_t>(k)];
          std::memcpy(dst, src + static_cast<std::size_t>(offset) * esize, slice);
          dst += slice;
        }
      }
      break;
    }
  }
}

}  // namespace

void registerGatherOp(ir::OpRegistry& registry) {
  registry.add({.name = "Gather",
                .minInputs = 2,
                .maxInputs = 2,
                .nbOutputs = 1,
                .infer = inferGather,
                .reference = runGather});
}

}  // namespace kiln::ops
