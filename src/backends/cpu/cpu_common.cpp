#include "backends/cpu/cpu_common.h"

namespace kiln::backends::cpu {

const std::vector<GemmIsa>& gemmIsas() {
  static const std::vector<GemmIsa> isas = {
      {"avx512", {"avx512f", "avx2", "fma"}, avx512MicroKernel},
      {"avx2", {"avx2", "fma"}, avx2MicroKernel},
      {"portable", {}, portableMicroKernel},
  };
  return isas;
}

GemmEpilogue gemmEpilogueOf(const ops::Epilogue& e) {
  GemmEpilogue g;
  if (e.activation) {
    g.hasActivation = true;
    g.activation = *e.activation;
    g.alpha = static_cast<float>(e.alpha);
    g.beta = static_cast<float>(e.beta);
  }
  return g;
}

bool onlyResidualExtra(const NodeSpec& spec, int32_t inputs) {
  const ops::Epilogue e = ops::Epilogue::of(spec.node.attrs);
  for (std::size_t i = static_cast<std::size_t>(inputs); i < spec.inputs.size(); ++i) {
    if (!spec.inputs[i].present) continue;
    if (!e.residualInput || static_cast<std::size_t>(*e.residualInput) != i) return false;
  }
  if (e.residualInput) {
    const auto r = static_cast<std::size_t>(*e.residualInput);
    if (r >= spec.inputs.size() || !spec.inputs[r].present) return false;
    const auto& info = spec.inputs[r];
    if (info.dtype != DataType::kFLOAT || spec.outputs.empty()) return false;
    if (volume(info.dims) != volume(spec.outputs[0].dims)) return false;
  }
  return true;
}

}  // namespace kiln::backends::cpu
