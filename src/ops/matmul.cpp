// FullyConnected (TensorRT's: flattens the last three dims of a rank >= 3 input) and
// MatrixMultiply (batched, numpy-broadcast batch dims, optional transpose / vector operands).
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "kiln/network.h"
#include "ops/epilogue_apply.h"
#include "ops/infer_checks.h"
#include "ops/op_families.h"

namespace kiln::ops {

namespace {

// ---------------------------------------------------------------------------------------------
// FullyConnected: inputs [x, kernel [K, F], bias [K]?, residual?], attribute "num_output" (K).

// Dimensions kept in front of the flattened part: all but the last three (rank >= 3), or
// the N of [N, C].
int32_t fcKeptRank(int32_t rank) {
  return rank >= 3 ? rank - 3 : 1;
}

void inferFullyConnected(ir::InferContext& ctx) {
  requireFloat(ctx, 0, "input");
  const Dims& x = ctx.input(0).dims;
  const int64_t k = ctx.attrs().getInt("num_output", 0);
  if (k <= 0) ctx.fail("num_output must be positive, not ", k);
  if (x.nbDims < 2) {
    ctx.fail("input must have rank >= 2 ([N, C] or [..., C, H, W]), not shape ", toString(x));
  }
  const int32_t kept = fcKeptRank(x.nbDims);

  bool known = true;
  int64_t flat = 1;
  for (int32_t i = kept; i < x.nbDims; ++i) {
    if (x[i] < 0) known = false;
    flat *= std::max<int64_t>(x[i], 0);
  }
  int64_t needed = 0;
  if (__builtin_mul_overflow(k, flat, &needed)) {
    ctx.fail("num_output ", k, " times the flattened input size ", flat, " overflows");
  }

  const auto& kernel = ctx.input(1);
  if (kernel.dtype != DataType::kFLOAT) {
    ctx.fail("kernel weights must be float (float32/float16/bfloat16), not ",
             toString(kernel.dtype));
  }
  const int64_t kernelCount = volume(kernel.dims);
  if (known && kernelCount != needed) {
    ctx.fail("kernel weights have ", kernelCount, " values; input shape ", toString(x),
             " with num_output ", k, " needs ", k, " x ", flat, " = ", needed);
  }
  if (ctx.hasInput(2)) {
    const auto& bias = ctx.input(2);
    if (bias.dtype != DataType::kFLOAT) {
      ctx.fail("bias weights must be float (float32/float16/bfloat16), not ", toString(bias.dtype));
    }
    if (volume(bias.dims) != k) {
      ctx.fail("bias weights have ", volume(bias.dims), " values; num_output is ", k);
    }
  }

  Dims out;
  for (int32_t i = 0; i < kept; ++i) out[out.nbDims++] = x[i];
  out[out.nbDims++] = k;
  if (x.nbDims >= 3) {
    out[out.nbDims++] = 1;
    out[out.nbDims++] = 1;
  }
  checkEpilogue(ctx, 3, out);
  ctx.setOutput(0, DataType::kFLOAT, out);
}

void runFullyConnected(const ir::KernelContext& ctx) {
  const auto& in = ctx.input(0);
  const int32_t kept = fcKeptRank(in.dims.nbDims);
  int64_t rows = 1;
  for (int32_t i = 0; i < kept; ++i) rows *= in.dims[i];
  int64_t flat = 1;
  for (int32_t i = kept; i < in.dims.nbDims; ++i) flat *= in.dims[i];
  const int64_t k = ctx.attrs().getInt("num_output", 0);

  const float* x = in.as<float>();
  const float* w = ctx.input(1).as<float>();
  const float* bias = ctx.hasInput(2) ? ctx.input(2).as<float>() : nullptr;
  float* y = ctx.output(0).as<float>();
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * flat;
    for (int64_t o = 0; o < k; ++o) {
      const float* wo = w + o * flat;
      double acc = bias != nullptr ? bias[o] : 0.0;
      for (int64_t f = 0; f < flat; ++f) acc += static_cast<double>(xr[f]) * wo[f];
      y[r * k + o] = static_cast<float>(acc);
    }
  }
  applyEpilogue(ctx);
}

// ---------------------------------------------------------------------------------------------
// MatrixMultiply: inputs [A, B, then the epilogue's bias [N] and residual in the order their
// attributes give], attributes "op0", "op1" (MatrixOperation).

const char* opText(MatrixOperation op) {
  switch (op) {
    case MatrixOperation::kNONE:
      return "kNONE";
    case MatrixOperation::kTRANSPOSE:
      return "kTRANSPOSE";
    case MatrixOperation::kVECTOR:
      return "kVECTOR";
  }
  return "unknown";
}

// One operand seen as a batch of matrices (or vectors). For A, rows = M and cols = K; for B,
// rows = K and cols = N. A vector operand has only the K side; its other extent is 1.
struct Operand {
  MatrixOperation op = MatrixOperation::kNONE;
  Dims batch;
  int64_t inner = 1;  // K
  int64_t outer = 1;  // M for A, N for B (1 for a vector)
  bool vector = false;
};

// numpy matmul: a rank-1 operand is a vector.
MatrixOperation effectiveOp(MatrixOperation op, int32_t rank) {
  return rank == 1 && op == MatrixOperation::kNONE ? MatrixOperation::kVECTOR : op;
}

// @p first: operand A (its matrix is [M, K]) rather than B ([K, N]).
Operand describeOperand(const Dims& dims, MatrixOperation requested, bool first) {
  Operand o;
  o.op = effectiveOp(requested, dims.nbDims);
  const int32_t rank = dims.nbDims;
  if (o.op == MatrixOperation::kVECTOR) {
    o.vector = true;
    o.inner = dims[rank - 1];
    o.batch.nbDims = rank - 1;
  } else {
    const int64_t rows = dims[rank - 2];
    const int64_t cols = dims[rank - 1];
    const bool transposed = o.op == MatrixOperation::kTRANSPOSE;
    // Stored [rows, cols]; the operand as used is [cols, rows] when transposed.
    const int64_t usedRows = transposed ? cols : rows;
    const int64_t usedCols = transposed ? rows : cols;
    o.inner = first ? usedCols : usedRows;
    o.outer = first ? usedRows : usedCols;
    o.batch.nbDims = rank - 2;
  }
  for (int32_t i = 0; i < o.batch.nbDims; ++i) o.batch[i] = dims[i];
  return o;
}

MatrixOperation readOp(const ir::Attributes& attrs, const char* name) {
  return attrs.getEnum(name, MatrixOperation::kNONE);
}

void inferMatrixMultiply(ir::InferContext& ctx) {
  requireFloat(ctx, 0, "input 0");
  requireFloat(ctx, 1, "input 1");
  const Dims& a = ctx.input(0).dims;
  const Dims& b = ctx.input(1).dims;
  const MatrixOperation ops[2] = {readOp(ctx.attrs(), "op0"), readOp(ctx.attrs(), "op1")};
  const Dims* shapes[2] = {&a, &b};
  for (int32_t i = 0; i < 2; ++i) {
    const auto op = ops[i];
    const int32_t rank = shapes[i]->nbDims;
    if (static_cast<int32_t>(op) < 0 || op > MatrixOperation::kVECTOR) {
      ctx.fail("op", i, " is not a MatrixOperation (", static_cast<int64_t>(op), ")");
    }
    if (rank < 1) ctx.fail("input ", i, " is a scalar; matrix multiplication needs rank >= 1");
    if (rank < 2 && op == MatrixOperation::kTRANSPOSE) {
      ctx.fail("input ", i, " has shape ", toString(*shapes[i]),
               "; kTRANSPOSE needs rank >= 2 (use kVECTOR or kNONE for a vector)");
    }
  }
  const Operand lhs = describeOperand(a, ops[0], true);
  const Operand rhs = describeOperand(b, ops[1], false);
  if (lhs.inner >= 0 && rhs.inner >= 0 && lhs.inner != rhs.inner) {
    ctx.fail("inner dimensions differ: input 0 of shape ", toString(a), " (", opText(lhs.op),
             ") has ", lhs.inner, ", input 1 of shape ", toString(b), " (", opText(rhs.op),
             ") has ", rhs.inner);
  }
  Dims out = withLayerContext(ctx, [&] {
    return broadcastShapes(lhs.batch, rhs.batch, "the batch dimensions of inputs 0 and 1");
  });
  if (!lhs.vector) out[out.nbDims++] = lhs.outer;
  if (!rhs.vector) out[out.nbDims++] = rhs.outer;
  if (ctx.attrs().has("epilogue.bias") && rhs.vector) {
    ctx.fail(
        "has an epilogue bias, which needs input 1 to be a matrix (the bias holds one value "
        "per column N), but input 1 of shape ",
        toString(b), " is a vector (", opText(rhs.op), ")");
  }
  checkEpilogue(ctx, 2, out, true);
  ctx.setOutput(0, DataType::kFLOAT, out);
}

// Element offset of the start of each output batch entry in an operand's batch, with
// broadcasting (size-1 operand dimensions repeat).
std::vector<int64_t> batchOffsets(const Dims& outBatch, const Dims& batch, int64_t matrixSize) {
  const int64_t count = volume(outBatch);
  std::vector<int64_t> offsets(static_cast<std::size_t>(count));
  for (int64_t flat = 0; flat < count; ++flat) {
    int64_t rest = flat;
    int64_t offset = 0;
    int64_t stride = matrixSize;
    for (int32_t i = outBatch.nbDims - 1; i >= 0; --i) {
      const int64_t coord = rest % outBatch[i];
      rest /= outBatch[i];
      const int32_t j = batch.nbDims - outBatch.nbDims + i;
      if (j < 0) continue;
      if (batch[j] != 1) offset += coord * stride;
      stride *= batch[j];
    }
    offsets[static_cast<std::size_t>(flat)] = offset;
  }
  return offsets;
}

void runMatrixMultiply(const ir::KernelContext& ctx) {
  const auto& av = ctx.input(0);
  const auto& bv = ctx.input(1);
  const Operand lhs = describeOperand(av.dims, readOp(ctx.attrs(), "op0"), true);
  const Operand rhs = describeOperand(bv.dims, readOp(ctx.attrs(), "op1"), false);
  const int64_t m = lhs.outer;
  const int64_t n = rhs.outer;
  const int64_t k = lhs.inner;

  // Element strides inside one matrix of A (along M and K) and of B (along K and N).
  const bool ta = lhs.op == MatrixOperation::kTRANSPOSE;
  const bool tb = rhs.op == MatrixOperation::kTRANSPOSE;
  const int64_t aStrideM = lhs.vector ? 0 : (ta ? 1 : k);
  const int64_t aStrideK = ta ? m : 1;
  const int64_t bStrideK = rhs.vector ? 1 : (tb ? 1 : n);
  const int64_t bStrideN = rhs.vector ? 0 : (tb ? k : 1);

  Dims outBatch;
  const Dims& outDims = ctx.output(0).dims;
  outBatch.nbDims = outDims.nbDims - (lhs.vector ? 0 : 1) - (rhs.vector ? 0 : 1);
  for (int32_t i = 0; i < outBatch.nbDims; ++i) outBatch[i] = outDims[i];
  const auto aOffsets = batchOffsets(outBatch, lhs.batch, m * k);
  const auto bOffsets = batchOffsets(outBatch, rhs.batch, k * n);

  const float* a = av.as<float>();
  const float* b = bv.as<float>();
  float* y = ctx.output(0).as<float>();
  for (std::size_t batch = 0; batch < aOffsets.size(); ++batch) {
    const float* ab = a + aOffsets[batch];
    const float* bb = b + bOffsets[batch];
    float* yb = y + static_cast<int64_t>(batch) * m * n;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0.0;
        for (int64_t p = 0; p < k; ++p) {
          acc += static_cast<double>(ab[i * aStrideM + p * aStrideK]) *
                 bb[p * bStrideK + j * bStrideN];
        }
        yb[i * n + j] = static_cast<float>(acc);
      }
    }
  }
  applyEpilogue(ctx);
}

}  // namespace

void registerMatMulOps(ir::OpRegistry& registry) {
  // The inputs after the operands (and FullyConnected's bias) are the fused epilogue's
  // (ops/epilogue.h): its residual, and MatrixMultiply's bias.
  registry.add({.name = "FullyConnected",
                .minInputs = 2,
                .maxInputs = 4,
                .nbOutputs = 1,
                .infer = inferFullyConnected,
                .reference = runFullyConnected});
  registry.add({.name = "MatrixMultiply",
                .minInputs = 2,
                .maxInputs = 4,
                .nbOutputs = 1,
                .infer = inferMatrixMultiply,
                .reference = runMatrixMultiply});
}

}  // namespace kiln::ops
