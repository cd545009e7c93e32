#include "backends/cpu/cpu_common.h"

#include <cstddef>
#include <cstdint>

#include "backends/cpu/pointwise_vec.h"
#include "ops/window_util.h"

namespace kiln::backends::cpu {

const std::vector<GemmIsa>& gemmIsas() {
  static const std::vector<GemmIsa> isas = {
      {"avx512", {"avx512f", "avx2", "fma"}, avx512MicroKernel},
      {"avx2", {"avx2", "fma"}, avx2MicroKernel},
      {"portable", {}, portableMicroKernel},
  };
  return isas;
}

float* alignedWorkspace(void* workspace) {
  const auto address = reinterpret_cast<std::uintptr_t>(workspace);
  return reinterpret_cast<float*>(static_cast<std::byte*>(workspace) +
                                  (kPanelAlignment - address % kPanelAlignment) % kPanelAlignment);
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

PassEpilogue::PassEpilogue(const ops::Epilogue& e)
    : epilogue(e), gemm(gemmEpilogueOf(e)), act(vecActOf(gemm)) {}

TileEpilogue PassEpilogue::pass(const float* bias, const float* residual, const float* yt,
                                int64_t ld, int64_t pass, int64_t passes) const {
  TileEpilogue te;
  te.rowBias = pass == 0 ? bias : nullptr;
  te.residual = pass == 0 ? residual : yt;
  te.ldr = ld;
  te.act = pass + 1 < passes || act == VecAct::kGeneric ? VecAct::kNone : act;
  te.alpha = gemm.alpha;
  te.beta = gemm.beta;
  return te;
}

void activateInPlace(const ops::Epilogue& e, float* y, int64_t n) {
  if (!e.activation) return;
  activateInPlace(static_cast<int32_t>(*e.activation), static_cast<float>(e.alpha),
                  static_cast<float>(e.beta), y, n);
}

void PassEpilogue::finish(float* yt, int64_t rows, int64_t cols, int64_t ld) const {
  if (act != VecAct::kGeneric) return;
  for (int64_t r = 0; r < rows; ++r) activateInPlace(epilogue, yt + r * ld, cols);
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

namespace {

// @p c from a node whose x and y, shown channels-first, are @p x and @p y.
bool describeWindow2dOf(const NodeSpec& spec, const Dims& x, const Dims& y, bool transposed,
                        Window2d& c) {
  if (x.nbDims != 3 && x.nbDims != 4) return false;
  const ops::WindowParams params = ops::readWindowParams(spec.node.attrs, "kernel");
  if (params.rank() != x.nbDims - 2) return false;
  const ops::Geometry3 g = ops::makeGeometry(params, x, y, transposed, ops::CeilRule::kPlainCeil);
  c.batch = x[0];
  c.channels = x[1];
  c.outputs = y[1];
  c.groups = spec.node.attrs.getInt("groups", 1);
  c.ih = g.in[1];
  c.iw = g.in[2];
  c.oh = g.out[1];
  c.ow = g.out[2];
  c.kh = g.kernel[1];
  c.kw = g.kernel[2];
  c.sh = g.stride[1];
  c.sw = g.stride[2];
  c.dh = g.dilation[1];
  c.dw = g.dilation[2];
  c.ph = g.pre[1];
  c.pw = g.pre[2];
  if (c.groups < 1 || c.channels % c.groups != 0 || c.outputs % c.groups != 0) return false;
  // An input 2 that is not the residual is the bias.
  const ops::Epilogue e = ops::Epilogue::of(spec.node.attrs);
  return onlyResidualExtra(spec, e.residualInput && *e.residualInput == 2 ? 2 : 3);
}

}  // namespace

bool describeWindow2d(const NodeSpec& spec, bool transposed, Window2d& c) {
  if (spec.inputs.size() < 2 || !spec.inputs[1].present) return false;
  if (spec.inputs[0].dtype != DataType::kFLOAT) return false;
  // Channels-last nodes come only from the GPU layout pass, blocked ones go to blocked kernels.
  if (!ops::channelsFirst(spec.node.attrs)) return false;
  return describeWindow2dOf(spec, spec.inputs[0].dims, spec.outputs[0].dims, transposed, c);
}

bool blockedInput(const NodeSpec& spec) {
  return spec.inputs[0].dims.nbDims == 5;
}

bool describeBlockedWindow2d(const NodeSpec& spec, Window2d& c) {
  if (spec.inputs.size() < 2 || !spec.inputs[1].present) return false;
  if (spec.inputs[0].dtype != DataType::kFLOAT) return false;
  if (ops::layoutOf(spec.node.attrs) != ops::Layout::kChannelsBlocked) return false;
  const Dims& x = spec.inputs[0].dims;
  const Dims& y = spec.outputs[0].dims;
  const bool xBlocked = x.nbDims == 5 && x[4] == ops::kChannelBlock;
  if ((!xBlocked && x.nbDims != 4) || y.nbDims != 5 || y[4] != ops::kChannelBlock) return false;
  return describeWindow2dOf(spec, xBlocked ? ops::fromChannelsBlocked(x) : x,
                            ops::fromChannelsBlocked(y), false, c);
}

}  // namespace kiln::backends::cpu
