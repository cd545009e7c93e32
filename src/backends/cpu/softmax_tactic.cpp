// SoftMax on float32 ("cpu.vec"): rows of the axis, threaded; float arithmetic with a float sum.
#include <cmath>
#include <cstdint>

#include "backends/cpu/cpu_common.h"
#include "backends/cpu/tactics.h"
#include "ops/softmax.h"

namespace kiln::backends::cpu {

namespace {

class SoftMaxKernel final : public Kernel {
 public:
  explicit SoftMaxKernel(const NodeSpec& spec) {
    const Dims& dims = spec.inputs[0].dims;
    const int64_t raw = spec.node.attrs.getInt("axis", ops::softmaxDefaultAxis(dims.nbDims));
    const auto axis = static_cast<int32_t>(raw < 0 ? raw + dims.nbDims : raw);
    for (int32_t i = 0; i < axis; ++i) outer_ *= dims[i];
    n_ = dims[axis];
    for (int32_t i = axis + 1; i < dims.nbDims; ++i) inner_ *= dims[i];
  }

  void execute(const ir::KernelContext& ctx) const override {
    const float* x = ctx.input(0).as<float>();
    float* y = ctx.output(0).as<float>();
    const int64_t lines = outer_ * inner_;
    if (lines == 0 || n_ == 0) return;  // an empty tensor: nothing to compute, no data to point at
    const int64_t grain = n_ >= 4096 ? 1 : 4096 / (n_ + 1) + 1;
    withPool(ctx, [&](ThreadPool& pool) {
      parallelFor(&pool, lines, grain, [&](int64_t b, int64_t e, int32_t) {
        for (int64_t line = b; line < e; ++line) {
          const int64_t o = line / inner_;
          const int64_t i = line % inner_;
          const float* xl = x + o * n_ * inner_ + i;
          float* yl = y + o * n_ * inner_ + i;
          const int64_t s = inner_;
          float max = -INFINITY;
          for (int64_t j = 0; j < n_; ++j) max = std::fmax(max, xl[j * s]);
          double sum = 0.0;
          for (int64_t j = 0; j < n_; ++j) {
            const float v = std::exp(xl[j * s] - max);
            yl[j * s] = v;
            sum += v;
          }
          const auto scale = static_cast<float>(1.0 / sum);
          for (int64_t j = 0; j < n_; ++j) yl[j * s] *= scale;
        }
      });
    });
  }

 private:
  int64_t outer_ = 1;
  int64_t n_ = 1;
  int64_t inner_ = 1;
};

class SoftMaxTactic final : public Tactic {
 public:
  std::string_view name() const override { return "cpu.vec"; }
  DeviceType device() const override { return DeviceType::kCPU; }
  bool supports(const NodeSpec& spec) const override {
    return spec.inputs.size() == 1 && spec.inputs[0].dtype == DataType::kFLOAT &&
           spec.inputs[0].dims.nbDims >= 1;
  }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& spec) const override {
    return std::make_unique<SoftMaxKernel>(spec);
  }
};

}  // namespace

void registerSoftMaxTactics(TacticRegistry& registry) {
  registry.add("SoftMax", std::make_unique<SoftMaxTactic>());
}

}  // namespace kiln::backends::cpu
