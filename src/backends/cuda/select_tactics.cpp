// "cuda.select" (Select: where(cond, then, else), any element type of 1, 2, 4 or 8 bytes —
// float32, float16, bfloat16, int32, bool, ...) and "cuda.logical" (ElementWise AND / OR / XOR
// on bool), with numpy broadcasting: the attention masks of transformer exports are built with
// them, and on the host fallback each costs two copies and a host pass per inference.
#include <memory>
#include <optional>
#include <vector>

#include "backends/cuda/broadcast_loops.h"
#include "backends/cuda/cuda_tactics.h"
#include "backends/cuda/planned_tactic.h"
#include "backends/cuda/select_kernels.h"
#include "backends/tactic.h"
#include "core/shape_util.h"
#include "kiln/network.h"

namespace kiln::backends::cuda {

namespace {

using kernels::SelectParams;

std::optional<SelectParams> planLoops(const NodeSpec& spec, SelectParams p) {
  std::vector<Dims> dims;
  for (const auto& in : spec.inputs) {
    if (!in.present) return std::nullopt;
    dims.push_back(in.dims);
  }
  const Dims& out = spec.outputs[0].dims;
  const std::optional<BroadcastLoops> loops = broadcastLoops(dims, out);
  if (!loops) return std::nullopt;
  p.count = volume(out);
  p.rank = loops->rank;
  for (int32_t d = 0; d < loops->rank; ++d) {
    const auto du = static_cast<std::size_t>(d);
    p.extent[d] = loops->extent[du];
    for (std::size_t k = 0; k < dims.size(); ++k) p.stride[k][d] = loops->stride[k][du];
  }
  return p;
}

std::optional<SelectParams> planSelect(const NodeSpec& spec) {
  if (spec.inputs.size() != 3 || spec.outputs.size() != 1) return std::nullopt;
  const DataType type = spec.outputs[0].dtype;
  const std::size_t bytes = elementSize(type);
  if (spec.inputs[0].dtype != DataType::kBOOL || spec.inputs[1].dtype != type ||
      spec.inputs[2].dtype != type || (bytes != 1 && bytes != 2 && bytes != 4 && bytes != 8)) {
    return std::nullopt;
  }
  SelectParams p;
  p.op = kernels::kSelectWhere;
  p.elementBytes = static_cast<int32_t>(bytes);
  return planLoops(spec, p);
}

std::optional<SelectParams> planLogical(const NodeSpec& spec) {
  if (spec.inputs.size() != 2 || spec.outputs.size() != 1) return std::nullopt;
  for (const auto& in : spec.inputs) {
    if (in.dtype != DataType::kBOOL) return std::nullopt;
  }
  if (spec.outputs[0].dtype != DataType::kBOOL) return std::nullopt;
  SelectParams p;
  switch (spec.node.attrs.getEnum("op", ElementWiseOperation::kSUM)) {
    case ElementWiseOperation::kAND:
      p.op = kernels::kSelectAnd;
      break;
    case ElementWiseOperation::kOR:
      p.op = kernels::kSelectOr;
      break;
    case ElementWiseOperation::kXOR:
      p.op = kernels::kSelectXor;
      break;
    default:
      return std::nullopt;
  }
  return planLoops(spec, p);
}

class SelectKernel final : public Kernel {
 public:
  explicit SelectKernel(const SelectParams& params) : params_(params) {}

  void execute(const ir::KernelContext& ctx) const override {
    SelectParams p = params_;
    for (std::size_t k = 0; k < ctx.inputs.size() && k < 3; ++k) {
      p.inputs[k] = ctx.inputs[k].data;
    }
    p.output = ctx.output(0).data;
    kernels::launchSelect(p, ctx.stream);
  }

 private:
  SelectParams params_;
};

}  // namespace

void registerCudaSelectTactics(TacticRegistry& registry) {
  using SelectTactic = PlannedTactic<SelectParams, SelectKernel>;
  registry.add("Select", std::make_unique<SelectTactic>("cuda.select", planSelect));
  registry.add("ElementWise", std::make_unique<SelectTactic>("cuda.logical", planLogical));
}

}  // namespace kiln::backends::cuda
