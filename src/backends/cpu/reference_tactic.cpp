// The "cpu.reference" tactic: runs an op's reference kernel. Every op has it, so every network
// runs on every CPU; faster tactics beat it in the autotuner where they apply.
#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/tactics.h"
#include "backends/tactic.h"

namespace kiln::backends::cpu {

namespace {

class ReferenceKernel final : public Kernel {
 public:
  explicit ReferenceKernel(const ir::OpSchema& schema) : schema_(schema) {}
  void execute(const ir::KernelContext& ctx) const override { schema_.reference(ctx); }

 private:
  const ir::OpSchema& schema_;
};

class ReferenceTactic final : public Tactic {
 public:
  explicit ReferenceTactic(const ir::OpSchema& schema) : schema_(schema) {}
  std::string_view name() const override { return "cpu.reference"; }
  DeviceType device() const override { return DeviceType::kCPU; }
  bool supports(const NodeSpec& /*spec*/) const override {
    return static_cast<bool>(schema_.reference);
  }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& /*spec*/) const override {
    return std::make_unique<ReferenceKernel>(schema_);
  }

 private:
  const ir::OpSchema& schema_;
};

}  // namespace

void registerCpuTactics(TacticRegistry& registry) {
  // Fast tactics first: a build that does not time (optimization level 0) takes the first.
  registerGemmTactics(registry);
  registerDepthwiseTactics(registry);
  registerConvTactics(registry);
  registerDeconvTactics(registry);
  registerPoolingTactics(registry);
  registerPointwiseTactics(registry);
  registerSoftMaxTactics(registry);
  registerAttentionTactics(registry);
  registerPointwiseChainTactics(registry);
  registerLayerNormTactics(registry);
  registerConcatTactics(registry);
  registerTransposeTactics(registry);
  registerChannelBlockTactics(registry);
  registerRnnTactics(registry);
  registerResizeTactics(registry);
  const auto& ops = ir::OpRegistry::instance();
  for (const auto& name : ops.names()) {
    registry.add(name, std::make_unique<ReferenceTactic>(*ops.find(name)));
  }
}

}  // namespace kiln::backends::cpu
