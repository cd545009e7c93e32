// "cuda.attention": the fused Attention op (ops/attention.cpp) as two strided-batched cuBLASLt
// GEMMs around a row softmax: S = Q K (into the workspace), S = softmax(S * scale + mask) in
// place, Y = S V. "cuda.attention.fused" (16-bit, head size 32/64/128): one kernel that never
// writes the scores (flash_attention.h); the builder times both.
//
// Q, K, V, the mask and Y share one type: float32, half or bfloat16. The scores stay FP32 (the
// first GEMM writes float32 D from 16-bit A and B), so Q K cannot overflow half's range before
// the scale and the softmax, which runs in float; only the probabilities P, in [0, 1], are
// stored in the 16-bit type for the second GEMM.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "backends/cuda/flash_attention.h"
#include "backends/cuda/lt_gemm.h"
#include "backends/cuda/matrix_tactics.h"
#include "backends/cuda/planned_tactic.h"
#include "backends/cuda/pointwise_kernels.h"
#include "core/shape_util.h"
#include "ir/math_mode.h"

namespace kiln::backends::cuda {

namespace {

constexpr std::string_view kAttentionTactic = "cuda.attention";
constexpr std::string_view kFusedAttentionTactic = "cuda.attention.fused";

struct AttentionPlan {
  LtGemmShape scores;  // Q [Sq, D] times K ([D, Sk], or [Sk, D] transposed)
  LtGemmShape values;  // P [Sq, Sk] times V [Sk, Dv]
  double scale = 1.0;
  bool mask = false;
  MaskIndex maskIndex;
  FloatType type = FloatType::kFloat;
  bool empty = false;
};

std::optional<AttentionPlan> planAttention(const NodeSpec& spec) {
  const std::optional<FloatType> type = uniformFloatType(spec);
  if (spec.inputs.size() < 3 || spec.outputs.size() != 1 || !type) return std::nullopt;
  for (int i = 0; i < 3; ++i) {
    if (!spec.inputs[static_cast<std::size_t>(i)].present) return std::nullopt;
  }
  const Dims& q = spec.inputs[0].dims;
  const Dims& k = spec.inputs[1].dims;
  const Dims& v = spec.inputs[2].dims;
  const int32_t r = q.nbDims;
  if (r < 2 || k.nbDims != r || v.nbDims != r || r - 2 > 6) return std::nullopt;
  const bool transposeK = spec.node.attrs.getInt("transpose_k", 0) != 0;
  AttentionPlan plan;
  plan.type = *type;
  plan.scale = spec.node.attrs.getFloat("scale", 1.0);
  int64_t batch = 1;
  for (int32_t i = 0; i < r - 2; ++i) {
    if (k[i] != q[i] || v[i] != q[i]) return std::nullopt;
    batch *= q[i];
  }
  const int64_t sq = q[r - 2];
  const int64_t d = q[r - 1];
  const int64_t sk = transposeK ? k[r - 2] : k[r - 1];
  const int64_t kd = transposeK ? k[r - 1] : k[r - 2];
  const int64_t dv = v[r - 1];
  if (kd != d || v[r - 2] != sk) return std::nullopt;
  if (batch * sq * dv == 0) {
    plan.empty = true;
    return plan;
  }
  // No keys or an empty dot product: the host fallback handles the degenerate softmax.
  if (sk == 0 || d == 0 || batch > std::numeric_limits<int32_t>::max()) return std::nullopt;

  plan.scores = {.m = sq,
                 .n = sk,
                 .k = d,
                 .transA = false,
                 .transB = transposeK,
                 .batch = batch,
                 .strideA = sq * d,
                 .strideB = sk * d};
  plan.values = {.m = sq,
                 .n = dv,
                 .k = sk,
                 .transA = false,
                 .transB = false,
                 .batch = batch,
                 .strideA = sq * sk,
                 .strideB = sk * dv};

  if (spec.inputs.size() > 3 && spec.inputs[3].present) {
    const Dims& md = spec.inputs[3].dims;
    if (md.nbDims > r) return std::nullopt;
    // Mask strides over the scores' dims [..., Sq, Sk] (0 where the mask repeats).
    std::array<int64_t, Dims::kMaxRank> stride{};
    int64_t step = 1;
    for (int32_t i = md.nbDims - 1; i >= 0; --i) {
      const int32_t dim = r - md.nbDims + i;
      const int64_t extent = dim == r - 1 ? sk : dim == r - 2 ? sq : q[dim];
      if (md[i] != 1 && md[i] != extent) return std::nullopt;
      if (md[i] != 1) stride[static_cast<std::size_t>(dim)] = step;
      step *= md[i];
    }
    plan.mask = true;
    MaskIndex& mi = plan.maskIndex;
    mi.batchDims = r - 2;
    for (int32_t i = 0; i < r - 2; ++i) {
      mi.batchExtents[static_cast<std::size_t>(i)] = q[i];
      mi.batchStrides[static_cast<std::size_t>(i)] = stride[static_cast<std::size_t>(i)];
    }
    mi.sq = sq;
    mi.rowStride = stride[static_cast<std::size_t>(r - 2)];
    mi.colStride = stride[static_cast<std::size_t>(r - 1)];
  }
  plan.scores.tf32 = plan.values.tf32 = ir::allowsTf32(spec.node.attrs);
  plan.scores.type = plan.values.type = plan.type;
  plan.scores.floatOutput = true;
  return plan;
}

class AttentionKernel final : public Kernel {
 public:
  explicit AttentionKernel(const AttentionPlan& plan) : plan_(plan) {
    if (plan.empty) return;
    scores_ = std::make_unique<LtGemm>(plan.scores);
    values_ = std::make_unique<LtGemm>(plan.values);
    const auto count = static_cast<std::size_t>(plan.scores.batch * plan.scores.m * plan.scores.n);
    scoreBytes_ = alignWorkspace(count * sizeof(float));
    // Float32 probabilities overwrite the scores in place; 16-bit ones need their own buffer.
    probBytes_ =
        plan.type == FloatType::kFloat ? 0 : alignWorkspace(count * floatTypeSize(plan.type));
  }

  std::size_t workspaceBytes() const override {
    if (plan_.empty) return 0;
    return scoreBytes_ + probBytes_ +
           std::max(scores_->workspaceBytes(), values_->workspaceBytes());
  }

  void execute(const ir::KernelContext& ctx) const override {
    if (plan_.empty) return;
    const auto stream = static_cast<cudaStream_t>(ctx.stream);
    auto* base = static_cast<std::byte*>(ctx.workspace);
    auto* s = reinterpret_cast<float*>(base);
    void* p = probBytes_ > 0 ? static_cast<void*>(base + scoreBytes_) : static_cast<void*>(s);
    void* gemmWorkspace = base + scoreBytes_ + probBytes_;
    const std::size_t gemmBytes = ctx.workspaceBytes - scoreBytes_ - probBytes_;
    auto input = [&](int32_t i) { return ctx.input(i).data; };
    scores_->run(input(0), input(1), nullptr, nullptr, s, gemmWorkspace, gemmBytes, stream);
    launchScaledSoftmax(plan_.type, s, p, plan_.scores.batch * plan_.scores.m, plan_.scores.n,
                        plan_.scale, plan_.mask ? input(3) : nullptr, plan_.maskIndex, stream);
    values_->run(p, input(2), nullptr, nullptr, ctx.output(0).data, gemmWorkspace, gemmBytes,
                 stream);
  }

 private:
  AttentionPlan plan_;
  std::unique_ptr<LtGemm> scores_;
  std::unique_ptr<LtGemm> values_;
  std::size_t scoreBytes_ = 0;
  std::size_t probBytes_ = 0;
};

// The fused kernel (flash_attention.h): 16-bit tensors, head sizes 32, 64 or 128.
std::optional<FlashAttentionParams> planFusedAttention(const NodeSpec& spec) {
  const std::optional<AttentionPlan> plan = planAttention(spec);
  if (!plan || plan->empty || plan->scores.tf32) return std::nullopt;
  if (!flashAttentionSupports(plan->type, plan->scores.k, plan->values.n)) return std::nullopt;
  const int64_t tiles = (plan->scores.m + 63) / 64;
  if (plan->scores.batch * tiles > std::numeric_limits<int32_t>::max()) return std::nullopt;
  FlashAttentionParams p;
  p.type = plan->type;
  p.batch = plan->scores.batch;
  p.sq = plan->scores.m;
  p.sk = plan->scores.n;
  p.d = static_cast<int32_t>(plan->scores.k);
  p.dv = static_cast<int32_t>(plan->values.n);
  p.transposedK = plan->scores.transB;
  p.scale = static_cast<float>(plan->scale);
  if (plan->mask) p.maskIndex = plan->maskIndex;
  p.masked = plan->mask;
  return p;
}

class FusedAttentionKernel final : public Kernel {
 public:
  explicit FusedAttentionKernel(const FlashAttentionParams& params) : params_(params) {}

  void execute(const ir::KernelContext& ctx) const override {
    FlashAttentionParams p = params_;
    p.q = ctx.input(0).data;
    p.k = ctx.input(1).data;
    p.v = ctx.input(2).data;
    p.mask = p.masked ? ctx.input(3).data : nullptr;
    p.y = ctx.output(0).data;
    launchFlashAttention(p, static_cast<cudaStream_t>(ctx.stream));
  }

 private:
  FlashAttentionParams params_;
};

}  // namespace

void registerAttentionTactics(TacticRegistry& registry) {
  if (ir::OpRegistry::instance().find("Attention") == nullptr) return;
  registry.add("Attention",
               std::make_unique<PlannedTactic<FlashAttentionParams, FusedAttentionKernel>>(
                   std::string(kFusedAttentionTactic), planFusedAttention));
  registry.add("Attention", std::make_unique<PlannedTactic<AttentionPlan, AttentionKernel>>(
                                std::string(kAttentionTactic), planAttention));
}

}  // namespace kiln::backends::cuda
