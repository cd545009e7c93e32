#include "builder/passes/pass_manager.h"

#include <algorithm>

#include "builder/lowering.h"
#include "builder/passes/passes.h"
#include "ir/op_registry.h"

namespace kiln::builder {

const std::vector<Pass>& allPasses() {
  // Order matters: cheap clean-ups first so that the fusions see canonical patterns; the
  // epilogue fusions before the pointwise chains, which take what is left; a MatMul's bias
  // before its residual and activation, which come after it in the epilogue.
  static const std::vector<Pass> passes = {
      {"dead-layer-elimination",
       "no-op layers (identity, dropout, same-shape reshape, cancelling "
       "transposes)",
       eliminateDeadLayers},
      {"constant-folding", "layers whose inputs are all constants run at build time",
       foldConstants},
      {"gather-slicing",
       "Gather of one constant index taken as a Slice (and a reshape dropping the axis)",
       sliceGathers},
      {"shuffle-folding", "consecutive shuffles/transposes/reshapes merged", foldShuffles},
      {"padding-folding", "zero padding folded into the next convolution or pooling", foldPadding},
      {"conv-scale-fusion",
       "BatchNorm/Scale and per-channel mul/add folded into the weights of "
       "the preceding convolution, deconvolution or fully-connected layer",
       fuseConvScale},
      {"matmul-bias",
       "constant bias add after a MatMul with constant weights (a Linear layer) folded into the "
       "MatrixMultiply's epilogue",
       fuseMatMulBias},
      {"residual-fusion", "element-wise residual add folded into the producing layer's epilogue",
       fuseResidualAdd},
      {"swish-fusion",
       "x * sigmoid(x), x * hard_sigmoid(x) and x * clip(x + 3, 0, 6) / 6 recognized as one SiLU "
       "or hard-swish activation",
       fuseSwish},
      {"activation-fusion", "activation folded into the producing layer's epilogue",
       fuseEpilogueActivation},
      {"gelu-fusion", "GELU (erf and tanh forms) recognized as one activation", fuseGelu},
      {"layernorm-fusion", "LayerNorm (mean/variance pattern) recognized as one layer",
       fuseLayerNorm},
      {"attention-fusion", "softmax(Q K^T * scale + mask) V recognized as one layer",
       fuseAttention},
      {"scale-lowering",
       "Scale left by conv-scale-fusion (BatchNorm after a concatenation) as an element-wise "
       "multiply and add, which pointwise-fusion chains with what follows",
       lowerScales},
      {"pointwise-fusion", "chains of pointwise layers fused into one", fusePointwiseChains},
      {kChannelBlockingPass,
       "CPU builds, after the passes: regions of depthwise and 1x1 convolutions in the "
       "channel-blocked layout NCHW8c",
       nullptr},
  };
  return passes;
}

bool isPassName(std::string_view name) {
  const auto& passes = allPasses();
  return std::any_of(passes.begin(), passes.end(), [&](const Pass& p) { return p.name == name; });
}

void runPasses(ir::Graph& graph, const std::vector<std::string>& disabled,
               const Reporter& reporter) {
  const std::size_t before = graph.nodes.size();
  // A rewrite can expose another pass's pattern (a folded constant, a fused activation): a
  // few rounds reach the fixed point on real networks.
  constexpr int kMaxRounds = 4;
  for (int round = 0; round < kMaxRounds; ++round) {
    int32_t changes = 0;
    for (const Pass& pass : allPasses()) {
      if (pass.run == nullptr) continue;  // run by finishPlan
      if (std::find(disabled.begin(), disabled.end(), pass.name) != disabled.end()) continue;
      const PassContext context{pass.name, reporter};
      const int32_t n = pass.run(graph, context);
      if (n == 0) continue;
      changes += n;
      pruneAndOrder(graph);
      ir::inferShapes(graph);
    }
    if (changes == 0) break;
  }
  reporter.verbose("optimization passes: " + std::to_string(before) + " layers -> " +
                   std::to_string(graph.nodes.size()));
}

}  // namespace kiln::builder
