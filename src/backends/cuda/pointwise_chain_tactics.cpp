// Pointwise tactics: PointwiseChain ("cuda.pointwise_chain"), ElementWise ("cuda.elementwise"),
// Activation ("cuda.activation") and Unary ("cuda.unary") all run as one chain kernel
// (pointwise_chain_kernels.cu): a single ElementWise, Activation or Unary node is a chain of one
// step. Every input and a float output share one element type (float32, float16 or bfloat16;
// math in float32 either way); a chain may end in a comparison, ISINF or ISNAN that writes bool.
// Steps on int32 or bool values (NOT, AND, shifts, ...) are left to the host fallback.
#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backends/cuda/broadcast_loops.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/cuda_tactics.h"
#include "backends/cuda/planned_tactic.h"
#include "backends/tactic.h"
#include "core/error.h"
#include "ir/math_mode.h"
#include "ir/op_registry.h"
#include "kiln/network.h"
#include "ops/activation.h"
#include "ops/pointwise_chain.h"

namespace kiln::backends::cuda {

namespace {

using namespace kernels;  // NOLINT: the launchers and their parameter structs

// The op code of one step, or nullopt when the kernel lacks it.
std::optional<PwStep> stepCode(const ops::PointwiseStep& step) {
  const ir::Attributes& attrs = step.node.attrs;
  PwStep code;
  code.operand = step.operand;
  code.operandFirst = step.operandFirst ? 1 : 0;
  if (step.node.op == "Activation") {
    if (step.operand >= 0) return std::nullopt;
    const int64_t type = attrs.getInt("type", static_cast<int64_t>(ActivationType::kRELU));
    if (type < 0 || type > static_cast<int64_t>(ActivationType::kHARD_SWISH)) return std::nullopt;
    const auto t = static_cast<ActivationType>(type);
    code.code = static_cast<int32_t>(type);
    code.alpha = static_cast<float>(attrs.getFloat("alpha", ops::activationDefaultAlpha(t)));
    code.beta = static_cast<float>(attrs.getFloat("beta", ops::activationDefaultBeta(t)));
    return code;
  }
  if (step.node.op == "Unary") {
    if (step.operand >= 0) return std::nullopt;
    const int64_t op = attrs.getInt("op", 0);
    // 0..19 (EXP .. ERF) and 21..24 (SIGN, ROUND, ISINF, ISNAN); NOT (20) takes bool.
    if (op < 0 || op > 24 || op == static_cast<int64_t>(UnaryOperation::kNOT)) {
      return std::nullopt;
    }
    code.code = kPwUnaryBase + static_cast<int32_t>(op);
    return code;
  }
  if (step.node.op == "ElementWise") {
    if (step.operand < 1) return std::nullopt;
    const int64_t op = attrs.getInt("op", 0);
    // SUM .. FLOOR_DIV (0..7), EQUAL, GREATER, LESS, MOD, FMOD (11..15); the logical and shift
    // ops take bool or int32.
    if (op < 0 || op > 15 || (op >= 8 && op <= 10)) return std::nullopt;
    code.code = kPwBinaryBase + static_cast<int32_t>(op);
    return code;
  }
  return std::nullopt;
}

// The inputs of a step in its own order, as the reference passes them.
std::vector<ir::TensorInfo> stepInputs(const ops::PointwiseStep& step,
                                       const ir::TensorInfo& running,
                                       std::span<const ir::TensorInfo> inputs) {
  if (step.operand < 0) return {running};
  const ir::TensorInfo& operand = inputs[static_cast<std::size_t>(step.operand)];
  return step.operandFirst ? std::vector<ir::TensorInfo>{operand, running}
                           : std::vector<ir::TensorInfo>{running, operand};
}

// The chain's parameters (without pointers), or nullopt when the kernel cannot run it.
std::optional<PointwiseParams> plan(const std::vector<ops::PointwiseStep>& steps,
                                    const NodeSpec& spec) {
  if (steps.empty() || steps.size() > static_cast<std::size_t>(kPwMaxSteps)) return std::nullopt;
  if (spec.inputs.empty() || spec.inputs.size() > static_cast<std::size_t>(kPwMaxInputs)) {
    return std::nullopt;
  }
  if (spec.outputs.size() != 1) return std::nullopt;
  // One float element type for every input (the kernel reads them all as it).
  const DataType element = spec.inputs[0].dtype;
  if (!isKernelFloat(static_cast<int32_t>(element))) return std::nullopt;
  for (const auto& in : spec.inputs) {
    if (!in.present || in.dtype != element) return std::nullopt;
    if (in.dims.nbDims < 0 || in.dims.nbDims > kKernelMaxRank) return std::nullopt;
    for (int32_t d = 0; d < in.dims.nbDims; ++d) {
      if (in.dims[d] < 0) return std::nullopt;
    }
  }
  PointwiseParams p;
  p.nbInputs = static_cast<int32_t>(spec.inputs.size());
  p.nbSteps = static_cast<int32_t>(steps.size());
  p.dtype = static_cast<int32_t>(element);
  // The steps' schemas are float32 ones and the kernel computes in float32: infer the chain as
  // float32 (every intermediate must be float32; only the last step may produce bool).
  std::vector<ir::TensorInfo> inputs(spec.inputs.begin(), spec.inputs.end());
  for (auto& in : inputs) {
    in.dtype = DataType::kFLOAT;
    in.constData = nullptr;  // may hold 16-bit values; no step's inference reads them
  }
  ir::TensorInfo running = inputs[0];
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const auto code = stepCode(steps[i]);
    if (!code) return std::nullopt;
    if (code->operand >= p.nbInputs) return std::nullopt;
    p.steps[i] = *code;
    try {
      running = ir::inferNode(steps[i].node, stepInputs(steps[i], running, inputs)).at(0);
    } catch (const Error&) {
      return std::nullopt;
    }
    const bool last = i + 1 == steps.size();
    if (running.dtype != DataType::kFLOAT && !(last && running.dtype == DataType::kBOOL)) {
      return std::nullopt;
    }
  }
  const ir::TensorInfo& out = spec.outputs[0];
  const DataType outType = running.dtype == DataType::kFLOAT ? element : running.dtype;
  if (out.dtype != outType || !(out.dims == running.dims)) return std::nullopt;
  if (out.dims.nbDims > kKernelMaxRank) return std::nullopt;
  p.outputBool = out.dtype == DataType::kBOOL ? 1 : 0;
  p.count = volume(out.dims);

  // Flat when every input is full-size or a single element.
  bool flat = true;
  for (int32_t k = 0; k < p.nbInputs; ++k) {
    const int64_t v = volume(spec.inputs[static_cast<std::size_t>(k)].dims);
    if (v != p.count && v != 1) flat = false;
    p.scalar[k] = v == p.count ? 0 : 1;
  }
  if (flat) {
    p.rank = 0;
    return p;
  }
  // Numpy broadcasting, right-aligned, in merged loops (broadcast_loops.h).
  std::vector<Dims> dims;
  for (const auto& in : spec.inputs) dims.push_back(in.dims);
  const std::optional<BroadcastLoops> loops = broadcastLoops(dims, out.dims);
  if (!loops) return std::nullopt;
  p.rank = loops->rank;
  for (int32_t d = 0; d < loops->rank; ++d) {
    const auto du = static_cast<std::size_t>(d);
    p.extent[d] = loops->extent[du];
    for (int32_t k = 0; k < p.nbInputs; ++k) {
      p.stride[k][d] = loops->stride[static_cast<std::size_t>(k)][du];
    }
  }
  return p;
}

class PointwiseKernel final : public Kernel {
 public:
  explicit PointwiseKernel(const PointwiseParams& params) : params_(params) {}

  void execute(const ir::KernelContext& ctx) const override {
    if (params_.count <= 0) return;
    PointwiseParams p = params_;
    for (int32_t k = 0; k < p.nbInputs; ++k) {
      p.inputs[k] = ctx.input(k).data;
    }
    p.output = ctx.output(0).data;
    launchPointwise(p, ctx.stream);
  }

 private:
  PointwiseParams params_;
};

// A PointwiseChain node: its steps are in its attributes.
std::optional<PointwiseParams> planChain(const NodeSpec& spec) {
  return plan(ops::pointwiseSteps(spec.node.attrs), spec);
}

// A single ElementWise, Activation or Unary node: a chain of one step.
std::optional<PointwiseParams> planSingle(const NodeSpec& spec) {
  ops::PointwiseStep step;
  step.node.op = spec.node.op;
  step.node.attrs = spec.node.attrs;
  // The chain infers its steps in float32 (see plan()); the node's own precision would make
  // the step's output 16-bit and the plan refuse every single op in FP16/BF16.
  step.node.attrs.erase(ir::kReducedPrecision);
  step.node.outputs = {0};
  step.operand = spec.node.op == "ElementWise" ? 1 : -1;
  step.operandFirst = false;
  return plan({step}, spec);
}

}  // namespace

void registerCudaPointwiseTactics(TacticRegistry& registry) {
  // The parameters are large: the kernel, on the heap, holds them.
  using PointwiseTactic = PlannedTactic<PointwiseParams, PointwiseKernel>;
  registry.add("PointwiseChain",
               std::make_unique<PointwiseTactic>("cuda.pointwise_chain", planChain));
  registry.add("ElementWise", std::make_unique<PointwiseTactic>("cuda.elementwise", planSingle));
  registry.add("Activation", std::make_unique<PointwiseTactic>("cuda.activation", planSingle));
  registry.add("Unary", std::make_unique<PointwiseTactic>("cuda.unary", planSingle));
}

}  // namespace kiln::backends::cuda
