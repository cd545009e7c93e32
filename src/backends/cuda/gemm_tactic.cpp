// "cuda.gemm.cublaslt" (and .h2, .h3, .h4: cuBLASLt's further heuristic answers,
// lt_gemm_candidates.h): FullyConnected and MatrixMultiply as one cuBLASLt GEMM (lt_gemm.h),
// strided-batched where the broadcast batch dims let every operand step by one stride.
//
// The fused epilogue act(x + bias + residual) (the bias: FullyConnected's input 2, or
// MatrixMultiply's "epilogue.bias") runs inside cuBLASLt where it can: the bias and
// ReLU / tanh-GELU as cuBLASLt epilogues, the residual as C with beta = 1. Other activations run
// after the GEMM in pointwise_kernels.cu.
//
// All float tensors of the node share one type: float32, half or bfloat16 (FP32 accumulation).
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "backends/cuda/lt_gemm.h"
#include "backends/cuda/lt_gemm_candidates.h"
#include "backends/cuda/matrix_tactics.h"
#include "backends/cuda/planned_tactic.h"
#include "backends/cuda/pointwise_kernels.h"
#include "core/error.h"
#include "core/shape_util.h"
#include "ir/math_mode.h"
#include "kiln/network.h"

namespace kiln::backends::cuda {

namespace {

constexpr std::string_view kGemmTactic = "cuda.gemm.cublaslt";

// cuBLASLt's GELU epilogue is the tanh approximation (kGELU_TANH); if the first GPU run shows it
// differs, set this to false and the epilogue kernel applies it instead.
constexpr bool kLtGeluIsTanh = true;

struct GemmPlan {
  LtGemmShape shape;
  int32_t biasInput = -1;
  int32_t residualInput = -1;
  DeviceActivation ownActivation;  // applied after the GEMM when cuBLASLt cannot
  DeviceActivation activation;     // the epilogue's whole activation (cuBLASLt's or own)
  bool empty = false;              // nothing to compute: the output has no elements
};

// Fills the epilogue part of @p plan from the node's attributes and its bias input.
void planEpilogue(const NodeSpec& spec, int32_t biasInput, GemmPlan& plan) {
  const ops::Epilogue e = ops::Epilogue::of(spec.node.attrs);
  plan.biasInput = biasInput;
  plan.shape.bias = biasInput >= 0;
  plan.activation = deviceActivation(e);
  if (e.residualInput) {
    plan.residualInput = *e.residualInput;
    plan.shape.residual = true;
  }
  if (e.activation == ActivationType::kRELU) {
    plan.shape.activation = LtActivation::kRELU;
  } else if (kLtGeluIsTanh && e.activation == ActivationType::kGELU_TANH) {
    plan.shape.activation = LtActivation::kGELU_TANH;
  } else {
    plan.ownActivation = deviceActivation(e);
  }
}

bool residualMatches(const NodeSpec& spec, const GemmPlan& plan) {
  if (plan.residualInput < 0) return true;
  const auto i = static_cast<std::size_t>(plan.residualInput);
  return i < spec.inputs.size() && spec.inputs[i].present &&
         spec.inputs[i].dims == spec.outputs[0].dims;
}

bool fitsLt(const LtGemmShape& s) {
  constexpr int64_t kMax = int64_t{1} << 40;
  return s.m <= kMax && s.n <= kMax && s.k <= kMax &&
         s.batch <= std::numeric_limits<int32_t>::max();
}

// FullyConnected: x [rows, flat] times kernel [K, flat]^T, + bias [K].
std::optional<GemmPlan> planFullyConnected(const NodeSpec& spec) {
  if (spec.inputs.size() < 2 || !spec.inputs[1].present) return std::nullopt;
  const Dims& x = spec.inputs[0].dims;
  if (x.nbDims < 2) return std::nullopt;
  const int32_t kept = x.nbDims >= 3 ? x.nbDims - 3 : 1;
  GemmPlan plan;
  plan.shape.m = 1;
  for (int32_t i = 0; i < kept; ++i) plan.shape.m *= x[i];
  plan.shape.k = 1;
  for (int32_t i = kept; i < x.nbDims; ++i) plan.shape.k *= x[i];
  plan.shape.n = spec.node.attrs.getInt("num_output", 0);
  plan.shape.transB = true;
  if (plan.shape.n <= 0 || volume(spec.inputs[1].dims) != plan.shape.n * plan.shape.k) {
    return std::nullopt;
  }
  const bool bias = spec.inputs.size() > 2 && spec.inputs[2].present;
  if (bias && volume(spec.inputs[2].dims) != plan.shape.n) return std::nullopt;
  planEpilogue(spec, bias ? 2 : -1, plan);
  return plan;
}

// Element offsets of each output batch entry's matrix in an operand with batch dims @p batch
// (numpy broadcasting), or nullopt unless they step by one stride.
std::optional<int64_t> batchStride(const Dims& outBatch, const Dims& batch, int64_t matrixSize) {
  const int64_t count = volume(outBatch);
  std::optional<int64_t> stride;
  for (int64_t flat = 0; flat < count; ++flat) {
    int64_t rest = flat;
    int64_t offset = 0;
    int64_t step = matrixSize;
    for (int32_t i = outBatch.nbDims - 1; i >= 0; --i) {
      const int64_t coord = rest % outBatch[i];
      rest /= outBatch[i];
      const int32_t j = batch.nbDims - outBatch.nbDims + i;
      if (j < 0) continue;
      if (batch[j] != 1) offset += coord * step;
      step *= batch[j];
    }
    if (flat == 1) stride = offset;
    if (offset != flat * stride.value_or(0)) return std::nullopt;
  }
  return stride.value_or(0);
}

// MatrixMultiply: A [batch..., M, K] (or [K, M] transposed, or a vector [batch..., K]) times
// B [batch..., K, N] (or [N, K], or a vector).
std::optional<GemmPlan> planMatrixMultiply(const NodeSpec& spec) {
  if (spec.inputs.size() < 2 || !spec.inputs[0].present || !spec.inputs[1].present) {
    return std::nullopt;
  }
  GemmPlan plan;
  Dims batches[2];
  bool vectors[2] = {false, false};
  for (int32_t i = 0; i < 2; ++i) {
    const Dims& d = spec.inputs[static_cast<std::size_t>(i)].dims;
    auto op = spec.node.attrs.getEnum(i == 0 ? "op0" : "op1", MatrixOperation::kNONE);
    if (d.nbDims < 1) return std::nullopt;
    if (d.nbDims == 1 && op == MatrixOperation::kNONE) op = MatrixOperation::kVECTOR;
    const bool vector = op == MatrixOperation::kVECTOR;
    const bool transposed = op == MatrixOperation::kTRANSPOSE;
    if (!vector && !transposed && op != MatrixOperation::kNONE) return std::nullopt;
    if (!vector && d.nbDims < 2) return std::nullopt;
    const int32_t matrixRank = vector ? 1 : 2;
    batches[i].nbDims = d.nbDims - matrixRank;
    for (int32_t j = 0; j < batches[i].nbDims; ++j) batches[i][j] = d[j];
    vectors[i] = vector;
    const int64_t rows = vector ? 1 : d[d.nbDims - 2];
    const int64_t cols = d[d.nbDims - 1];
    if (i == 0) {
      // A as stored: [M, K], or [K, M] transposed; a vector is [1, K].
      plan.shape.transA = transposed;
      plan.shape.m = transposed ? cols : rows;
      plan.shape.k = transposed ? rows : cols;
    } else {
      // B as stored: [K, N], or [N, K] transposed; a vector is [K, 1].
      plan.shape.transB = transposed;
      const int64_t k = vector ? cols : transposed ? cols : rows;
      plan.shape.n = vector ? 1 : transposed ? rows : cols;
      if (k != plan.shape.k) return std::nullopt;
    }
  }
  const Dims& out = spec.outputs[0].dims;
  Dims outBatch;
  outBatch.nbDims = out.nbDims - (vectors[0] ? 0 : 1) - (vectors[1] ? 0 : 1);
  if (outBatch.nbDims < 0) return std::nullopt;
  for (int32_t i = 0; i < outBatch.nbDims; ++i) outBatch[i] = out[i];
  plan.shape.batch = volume(outBatch);
  const auto strideA = batchStride(outBatch, batches[0], plan.shape.m * plan.shape.k);
  const auto strideB = batchStride(outBatch, batches[1], plan.shape.k * plan.shape.n);
  if (!strideA || !strideB) return std::nullopt;
  plan.shape.strideA = *strideA;
  plan.shape.strideB = *strideB;
  // One B for a batch of contiguous, untransposed A matrices (a Linear layer on [B, S, K]): one
  // GEMM of batch * M rows, which cuBLASLt tiles better than a batch of small ones.
  if (plan.shape.batch > 1 && plan.shape.strideB == 0 && !plan.shape.transA &&
      plan.shape.strideA == plan.shape.m * plan.shape.k) {
    plan.shape.m *= plan.shape.batch;
    plan.shape.batch = 1;
    plan.shape.strideA = 0;
  }
  // The epilogue bias (matmul-bias): one value per column N, cuBLASLt's bias vector, which it
  // adds to every matrix of a strided batch alike (bias batch stride 0, its default).
  const ops::Epilogue e = ops::Epilogue::of(spec.node.attrs);
  int32_t biasInput = -1;
  if (e.biasInput) {
    biasInput = *e.biasInput;
    const auto i = static_cast<std::size_t>(biasInput);
    if (vectors[1] || biasInput < 2 || i >= spec.inputs.size() || !spec.inputs[i].present ||
        spec.inputs[i].dims.nbDims != 1 || spec.inputs[i].dims[0] != plan.shape.n) {
      return std::nullopt;
    }
  }
  // Extra inputs are the epilogue's bias and residual, nothing else.
  for (std::size_t i = 2; i < spec.inputs.size(); ++i) {
    const auto index = static_cast<int32_t>(i);
    if (spec.inputs[i].present && index != biasInput && e.residualInput != index) {
      return std::nullopt;
    }
  }
  planEpilogue(spec, biasInput, plan);
  return plan;
}

std::optional<GemmPlan> planGemm(const NodeSpec& spec) {
  const std::optional<FloatType> type = uniformFloatType(spec);
  if (spec.outputs.size() != 1 || !type) return std::nullopt;
  auto plan =
      spec.node.op == "FullyConnected" ? planFullyConnected(spec) : planMatrixMultiply(spec);
  if (!plan || !residualMatches(spec, *plan)) return std::nullopt;
  plan->shape.type = *type;
  const auto& s = plan->shape;
  const int64_t outCount = s.m * s.n * s.batch;
  if (outCount != volume(spec.outputs[0].dims)) return std::nullopt;
  plan->empty = outCount == 0;
  plan->shape.tf32 = ir::allowsTf32(spec.node.attrs);
  // An empty sum with a non-empty output is bias and epilogue only: the host fallback does it.
  if (!plan->empty && (s.k == 0 || !fitsLt(s))) return std::nullopt;
  return plan;
}

class GemmKernel final : public Kernel {
 public:
  explicit GemmKernel(const GemmPlan& plan) : plan_(plan) {
    if (plan.empty) return;
    try {
      gemm_ = std::make_unique<LtGemm>(plan.shape);
    } catch (const Error&) {
      // cuBLASLt may have no algorithm with a bias / activation epilogue for some shape and
      // type: then the plain GEMM, and the epilogue kernel adds the bias and activates.
      if (!plan.shape.bias && plan.shape.activation == LtActivation::kNONE) throw;
      plan_.shape.bias = false;
      plan_.shape.activation = LtActivation::kNONE;
      plan_.ownActivation = plan.activation;
      ownBias_ = plan.biasInput >= 0;
      gemm_ = std::make_unique<LtGemm>(plan_.shape);
    }
  }

  std::size_t workspaceBytes() const override { return gemm_ ? gemm_->workspaceBytes() : 0; }

  void execute(const ir::KernelContext& ctx) const override {
    if (!gemm_) return;
    const auto stream = static_cast<cudaStream_t>(ctx.stream);
    auto input = [&](int32_t i) { return i >= 0 ? ctx.input(i).data : nullptr; };
    void* y = ctx.output(0).data;
    gemm_->run(input(0), input(1), input(plan_.biasInput), input(plan_.residualInput), y,
               ctx.workspace, ctx.workspaceBytes, stream);
    const auto& s = plan_.shape;
    // The bias holds one value per column N of the row-major [.., N] output.
    launchEpilogue(s.type, y, s.m * s.n * s.batch, ownBias_ ? input(plan_.biasInput) : nullptr, 1,
                   s.n, nullptr, plan_.ownActivation, stream);
  }

 private:
  GemmPlan plan_;
  bool ownBias_ = false;  // the epilogue kernel adds the bias (cuBLASLt did not take it)
  std::unique_ptr<LtGemm> gemm_;
};

}  // namespace

void registerGemmTactics(TacticRegistry& registry) {
  for (const char* op : {"FullyConnected", "MatrixMultiply"}) {
    addLtCandidateTactics<GemmPlan, GemmKernel, planGemm>(registry, op, kGemmTactic);
  }
}

}  // namespace kiln::backends::cuda
