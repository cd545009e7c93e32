// "cuda.attention": the fused Attention op (ops/attention.cpp) as two strided-batched cuBLASLt
// GEMMs around a row softmax: S = Q K (into the workspace), S = softmax(S * scale + mask) in
// place, Y = S V. "cuda.attention.fused" (16-bit, head size 32/64/128): one kernel that never
// writes the scores (flash_attention.h); the builder times both. Packed heads
// (ops/attention_geometry.h) run on the fused kernel only.
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
#include <vector>

#include "backends/cuda/flash_attention.h"
#include "backends/cuda/lt_gemm.h"
#include "backends/cuda/matrix_tactics.h"
#include "backends/cuda/planned_tactic.h"
#include "backends/cuda/pointwise_kernels.h"
#include "core/shape_util.h"
#include "ir/math_mode.h"
#include "ops/attention_geometry.h"

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

// The node's geometry (ops/attention_geometry.h) and its mask's indexing, for both tactics.
struct AttentionLayout {
  ops::AttentionGeometry g;
  FloatType type = FloatType::kFloat;
  bool mask = false;
  MaskIndex maskIndex;
};

std::optional<AttentionLayout> layoutOf(const NodeSpec& spec) {
  const std::optional<FloatType> type = uniformFloatType(spec);
  if (spec.inputs.size() < 3 || spec.outputs.size() != 1 || !type) return std::nullopt;
  for (int i = 0; i < 3; ++i) {
    if (!spec.inputs[static_cast<std::size_t>(i)].present) return std::nullopt;
  }
  std::string error;
  const auto g = ops::attentionGeometry(spec.inputs[0].dims, spec.inputs[1].dims,
                                        spec.inputs[2].dims, spec.node.attrs, error);
  if (!g) return std::nullopt;
  AttentionLayout layout{.g = *g, .type = *type, .mask = false, .maskIndex = {}};
  const int32_t r = g->scores.nbDims;
  if (r - 2 > static_cast<int32_t>(layout.maskIndex.batchExtents.size())) return std::nullopt;
  if (spec.inputs.size() > 3 && spec.inputs[3].present) {
    const std::vector<int64_t> strides = ops::attentionMaskStrides(*g, spec.inputs[3].dims);
    if (strides.empty()) return std::nullopt;
    layout.mask = true;
    MaskIndex& mi = layout.maskIndex;
    mi.batchDims = r - 2;
    for (int32_t i = 0; i < r - 2; ++i) {
      mi.batchExtents[static_cast<std::size_t>(i)] = g->scores[i];
      mi.batchStrides[static_cast<std::size_t>(i)] = strides[static_cast<std::size_t>(i)];
    }
    mi.sq = g->sq;
    mi.rowStride = strides[static_cast<std::size_t>(r - 2)];
    mi.colStride = strides[static_cast<std::size_t>(r - 1)];
  }
  return layout;
}

std::optional<AttentionPlan> planAttention(const NodeSpec& spec) {
  const std::optional<AttentionLayout> layout = layoutOf(spec);
  // Packed heads are no strided batch (two strides: batch entry and head): the fused kernel's.
  if (!layout || layout->g.heads != 1 || layout->g.packedQkv) return std::nullopt;
  const ops::AttentionGeometry& g = layout->g;
  AttentionPlan plan;
  plan.type = layout->type;
  plan.scale = spec.node.attrs.getFloat("scale", 1.0);
  if (g.count * g.sq * g.dv == 0) {
    plan.empty = true;
    return plan;
  }
  // No keys or an empty dot product: the host fallback handles the degenerate softmax.
  if (g.sk == 0 || g.d == 0 || g.count > std::numeric_limits<int32_t>::max()) return std::nullopt;

  plan.scores = {.m = g.sq,
                 .n = g.sk,
                 .k = g.d,
                 .transA = false,
                 .transB = g.transposeK,
                 .batch = g.count,
                 .strideA = g.sq * g.d,
                 .strideB = g.sk * g.d};
  plan.values = {.m = g.sq,
                 .n = g.dv,
                 .k = g.sk,
                 .transA = false,
                 .transB = false,
                 .batch = g.count,
                 .strideA = g.sq * g.sk,
                 .strideB = g.sk * g.dv};
  plan.mask = layout->mask;
  plan.maskIndex = layout->maskIndex;
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
  const std::optional<AttentionLayout> layout = layoutOf(spec);
  // Packed QKV (one tensor for all three) is laid out as the flash kernel does not read it.
  if (!layout || ir::allowsTf32(spec.node.attrs) || layout->g.packedQkv) return std::nullopt;
  const ops::AttentionGeometry& g = layout->g;
  if (g.count * g.sq * g.dv == 0 || g.sk == 0) return std::nullopt;
  if (!flashAttentionSupports(layout->type, g.d, g.dv)) return std::nullopt;
  const int64_t tiles = (g.sq + 63) / 64;
  if (g.count * tiles > std::numeric_limits<int32_t>::max()) return std::nullopt;
  FlashAttentionParams p;
  p.type = layout->type;
  p.batch = g.count;
  p.heads = g.heads;
  p.sq = g.sq;
  p.sk = g.sk;
  p.d = static_cast<int32_t>(g.d);
  p.dv = static_cast<int32_t>(g.dv);
  p.transposedK = g.transposeK;
  p.scale = static_cast<float>(spec.node.attrs.getFloat("scale", 1.0));
  if (layout->mask) p.maskIndex = layout->maskIndex;
  p.masked = layout->mask;
  const MaskIndex& mi = p.maskIndex;
  bool evenStrides = mi.rowStride % 2 == 0;
  for (int32_t i = 0; i < mi.batchDims; ++i) {
    evenStrides = evenStrides && mi.batchStrides[static_cast<std::size_t>(i)] % 2 == 0;
  }
  p.maskPairs = p.masked && mi.colStride == 1 && evenStrides && g.sk % 2 == 0;
  return p;
}

class FusedAttentionKernel final : public Kernel {
 public:
  explicit FusedAttentionKernel(const FlashAttentionParams& params) : params_(params) {
    prepareFlashAttention(params);
  }

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
