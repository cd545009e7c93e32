// "cuda.conv1x1.cublaslt" (and .h2, .h3, .h4: cuBLASLt's further heuristic answers,
// lt_gemm_candidates.h): a pointwise convolution (1x1 kernel, stride 1, no padding, one group)
// is, per image, the GEMM y[K, HW] = W[K, C] · x[C, HW]: one strided-batched cuBLASLt call over
// the batch with W shared (stride 0). It avoids cuDNN's per-call host cost, which dominates small
// pointwise convolutions. The residual is cuBLASLt's C; the bias (per output channel, i.e. per
// row, which cuBLASLt's per-column bias epilogue cannot express here) and the activation run
// after it in pointwise_kernels.cu. All float tensors share one type: float32, half or bfloat16.
//
// Channels-last (layout NHWC, 2-d): the whole batch is one GEMM y[NHW, K] = x[NHW, C] · W^T
// with W stored [K, C] (KRSC with R = S = 1); the bias is then per column, so cuBLASLt adds it,
// the residual (C) and a ReLU / tanh-GELU in its epilogue; other activations run after it.
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
#include "core/shape_util.h"
#include "ir/math_mode.h"
#include "ops/window_util.h"

namespace kiln::backends::cuda {

namespace {

constexpr std::string_view kConv1x1Tactic = "cuda.conv1x1.cublaslt";

// cuBLASLt's GELU epilogue is taken to be the tanh approximation, as in gemm_tactic.cpp.
constexpr bool kLtGeluIsTanh = true;

struct Conv1x1Plan {
  LtGemmShape shape;
  bool channelsLast = false;  // one GEMM [NHW, C] x [C, K], bias and epilogue in cuBLASLt
  int64_t spatial = 1;        // H * W (the output's, equal to the input's)
  int32_t biasInput = -1;
  int32_t residualInput = -1;
  DeviceActivation activation;
  bool empty = false;
};

std::optional<Conv1x1Plan> planConv1x1(const NodeSpec& spec) {
  const std::optional<FloatType> type = uniformFloatType(spec);
  if (spec.outputs.size() != 1 || spec.inputs.size() < 2 || !spec.inputs[0].present ||
      !spec.inputs[1].present || !type) {
    return std::nullopt;
  }
  const auto& attrs = spec.node.attrs;
  const ops::WindowParams params = ops::readWindowParams(attrs, "kernel");
  if (!ops::checkWindowParams(params, "kernel size").empty()) return std::nullopt;
  const int32_t rank = params.rank();
  const bool channelsLast = ops::channelsLast(attrs);
  if (channelsLast && (rank != 2 || spec.inputs[0].dims.nbDims != 4 ||
                       spec.outputs[0].dims.nbDims != 4 || spec.inputs[1].dims.nbDims != 4)) {
    return std::nullopt;
  }
  // Channels-first views ([N, C, spatial...]) of x and y.
  const Dims x = channelsLast ? ops::toChannelsFirst(spec.inputs[0].dims) : spec.inputs[0].dims;
  const Dims y = channelsLast ? ops::toChannelsFirst(spec.outputs[0].dims) : spec.outputs[0].dims;
  if (rank < 1 || rank > 3 || x.nbDims != rank + 2 || y.nbDims != rank + 2) return std::nullopt;
  if (attrs.getInt("groups", 1) != 1) return std::nullopt;
  for (int32_t i = 0; i < rank; ++i) {
    if (params.kernel[i] != 1 || params.stride[i] != 1 || x[2 + i] != y[2 + i]) {
      return std::nullopt;
    }
  }
  const ops::Geometry3 g = ops::makeGeometry(params, x, y, false, ops::CeilRule::kPlainCeil);
  for (std::size_t d = 0; d < 3; ++d) {
    if (g.pre[d] != 0) return std::nullopt;
  }
  const int64_t n = x[0];
  const int64_t c = x[1];
  const int64_t k = y[1];
  if (y[0] != n || volume(spec.inputs[1].dims) != k * c) return std::nullopt;

  Conv1x1Plan plan;
  plan.spatial = g.outVolume();
  const ops::Epilogue e = ops::Epilogue::of(attrs);
  if (e.residualInput) {
    const auto i = static_cast<std::size_t>(*e.residualInput);
    if (i >= spec.inputs.size() || !spec.inputs[i].present ||
        !(spec.inputs[i].dims == spec.outputs[0].dims)) {
      return std::nullopt;
    }
    plan.residualInput = *e.residualInput;
  }
  if (spec.inputs.size() > 2 && spec.inputs[2].present) {
    if (volume(spec.inputs[2].dims) != k) return std::nullopt;
    plan.biasInput = 2;
  }
  plan.activation = deviceActivation(e);
  if (volume(y) == 0) {
    plan.empty = true;
    return plan;
  }
  // No input channels: the output is bias and epilogue only, which the host fallback does.
  if (c == 0 || n > std::numeric_limits<int32_t>::max()) return std::nullopt;
  if (channelsLast) {
    plan.channelsLast = true;
    plan.shape = {.m = n * plan.spatial,
                  .n = k,
                  .k = c,
                  .transA = false,
                  .transB = true,
                  .batch = 1,
                  .strideA = 0,
                  .strideB = 0,
                  .bias = plan.biasInput >= 0,
                  .residual = plan.residualInput >= 0,
                  .activation = LtActivation::kNONE,
                  .tf32 = ir::allowsTf32(spec.node.attrs),
                  .type = *type};
    if (e.activation == ActivationType::kRELU) {
      plan.shape.activation = LtActivation::kRELU;
      plan.activation = {};
    } else if (kLtGeluIsTanh && e.activation == ActivationType::kGELU_TANH) {
      plan.shape.activation = LtActivation::kGELU_TANH;
      plan.activation = {};
    }
    return plan;
  }
  plan.shape = {.m = k,
                .n = plan.spatial,
                .k = c,
                .transA = false,
                .transB = false,
                .batch = n,
                .strideA = 0,
                .strideB = c * plan.spatial,
                .bias = false,
                .residual = plan.residualInput >= 0,
                .activation = LtActivation::kNONE,
                .tf32 = ir::allowsTf32(spec.node.attrs),
                .type = *type};
  return plan;
}

class Conv1x1Kernel final : public Kernel {
 public:
  explicit Conv1x1Kernel(const Conv1x1Plan& plan) : plan_(plan) {
    if (!plan.empty) gemm_ = std::make_unique<LtGemm>(plan.shape);
  }

  std::size_t workspaceBytes() const override { return gemm_ ? gemm_->workspaceBytes() : 0; }

  void execute(const ir::KernelContext& ctx) const override {
    if (!gemm_) return;
    const auto stream = static_cast<cudaStream_t>(ctx.stream);
    auto input = [&](int32_t i) { return i >= 0 ? ctx.input(i).data : nullptr; };
    void* y = ctx.output(0).data;
    if (plan_.channelsLast) {
      // A = x [NHW, C], B = W stored [K, C]; bias, residual and ReLU / GELU in cuBLASLt.
      gemm_->run(input(0), input(1), input(plan_.biasInput), input(plan_.residualInput), y,
                 ctx.workspace, ctx.workspaceBytes, stream);
      const auto& s = plan_.shape;
      launchEpilogue(s.type, y, s.m * s.n, nullptr, 1, s.n, nullptr, plan_.activation, stream);
      return;
    }
    // A = W [K, C] for every image, B = the image's x [C, HW].
    gemm_->run(input(1), input(0), nullptr, input(plan_.residualInput), y, ctx.workspace,
               ctx.workspaceBytes, stream);
    const auto& s = plan_.shape;
    launchEpilogue(s.type, y, s.batch * s.m * s.n, input(plan_.biasInput), plan_.spatial, s.m,
                   nullptr, plan_.activation, stream);
  }

 private:
  Conv1x1Plan plan_;
  std::unique_ptr<LtGemm> gemm_;
};

}  // namespace

void registerConv1x1Tactics(TacticRegistry& registry) {
  addLtCandidateTactics<Conv1x1Plan, Conv1x1Kernel, planConv1x1>(registry, "Convolution",
                                                                 kConv1x1Tactic);
}

}  // namespace kiln::backends::cuda
