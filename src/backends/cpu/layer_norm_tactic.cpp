// LayerNorm on float32 ("cpu.layernorm.vec"): rows threaded, each row in float with vectorized
// two-pass mean and variance (pointwise_vec.h, the ISA picked at run time).
#include <algorithm>
#include <cstdint>

#include "backends/cpu/cpu_common.h"
#include "backends/cpu/parallel_tasks.h"
#include "backends/cpu/pointwise_vec.h"
#include "backends/cpu/tactics.h"
#include "core/shape_util.h"

namespace kiln::backends::cpu {

namespace {

// Elements per task below which threads cost more than they give.
constexpr int64_t kGrain = 4 * 1024;

class LayerNormKernel final : public Kernel {
 public:
  explicit LayerNormKernel(const NodeSpec& spec) : kernels_(bestPointwiseVec()) {
    const Dims& dims = spec.inputs[0].dims;
    const auto axis = static_cast<int32_t>(spec.node.attrs.getInt("axis", -1));
    for (int32_t i = axis; i < dims.nbDims; ++i) inner_ *= dims[i];
    epsilon_ = static_cast<float>(spec.node.attrs.getFloat("epsilon", 1e-5));
  }

  void execute(const ir::KernelContext& ctx) const override {
    const int64_t total = ctx.input(0).count();
    if (total <= 0 || inner_ <= 0) return;
    const int64_t rows = total / inner_;
    const float* x = ctx.input(0).as<float>();
    const float* gamma = ctx.hasInput(1) ? ctx.input(1).as<float>() : nullptr;
    const float* beta = ctx.hasInput(2) ? ctx.input(2).as<float>() : nullptr;
    float* y = ctx.output(0).as<float>();
    const int64_t grain = std::max<int64_t>(1, kGrain / inner_);
    withPool(ctx, [&](ThreadPool& pool) {
      parallelTasks(pool, rows, grain, [&](int64_t r0, int64_t r1, int32_t) {
        kernels_.layerNormRows(x + r0 * inner_, gamma, beta, y + r0 * inner_, r1 - r0, inner_,
                               epsilon_);
      });
    });
  }

 private:
  const PointwiseVecKernels& kernels_;
  int64_t inner_ = 1;
  float epsilon_ = 1e-5f;
};

class LayerNormTactic final : public Tactic {
 public:
  std::string_view name() const override { return "cpu.layernorm.vec"; }
  DeviceType device() const override { return DeviceType::kCPU; }
  bool supports(const NodeSpec& spec) const override {
    if (spec.inputs.empty() || spec.inputs.size() > 3 || spec.outputs.size() != 1) return false;
    const Dims& dims = spec.inputs[0].dims;
    const int64_t axis = spec.node.attrs.getInt("axis", -1);
    if (axis < 0 || axis >= dims.nbDims) return false;
    for (int32_t d = 0; d < dims.nbDims; ++d) {
      if (dims[d] < 0) return false;
    }
    for (const auto& info : spec.inputs) {
      if (info.present && info.dtype != DataType::kFLOAT) return false;
    }
    return spec.inputs[0].present && spec.outputs[0].dtype == DataType::kFLOAT;
  }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& spec) const override {
    return std::make_unique<LayerNormKernel>(spec);
  }
};

}  // namespace

void registerLayerNormTactics(TacticRegistry& registry) {
  registry.add("LayerNorm", std::make_unique<LayerNormTactic>());
}

}  // namespace kiln::backends::cpu
