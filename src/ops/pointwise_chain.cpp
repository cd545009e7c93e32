// PointwiseChain (ops/pointwise_chain.h): each step is run by its own op's shape rule and
// reference kernel, so the chain computes exactly what the separate layers did.
#include "ops/pointwise_chain.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "ops/op_families.h"

namespace kiln::ops {

std::vector<PointwiseStep> pointwiseSteps(const ir::Attributes& attrs) {
  // Shape inference refuses more; the clamp keeps a hostile count from allocating.
  const int64_t count = std::min(attrs.getInt("pw.steps", 0), kMaxPointwiseSteps);
  std::vector<PointwiseStep> steps(static_cast<std::size_t>(std::max<int64_t>(count, 0)));
  for (int64_t i = 0; i < count; ++i) {
    const std::string prefix = "pw." + std::to_string(i) + ".";
    auto& step = steps[static_cast<std::size_t>(i)];
    step.node.op = attrs.getString(prefix + "op");
    step.operand = static_cast<int32_t>(attrs.getInt(prefix + "operand", -1));
    step.operandFirst = attrs.getInt(prefix + "operand_first", 0) != 0;
    step.node.outputs = {0};
    const std::string attrPrefix = prefix + "a.";
    for (const auto& [name, value] : attrs.all()) {
      if (name.compare(0, attrPrefix.size(), attrPrefix) != 0) continue;
      const std::string key = name.substr(attrPrefix.size());
      std::visit([&](const auto& v) { step.node.attrs.set(key, v); }, value);
    }
  }
  return steps;
}

void appendPointwiseStep(ir::Attributes& chain, const std::string& op, const ir::Attributes& attrs,
                         int32_t operand, bool operandFirst) {
  const int64_t i = chain.getInt("pw.steps", 0);
  const std::string prefix = "pw." + std::to_string(i) + ".";
  chain.set(prefix + "op", op);
  chain.set(prefix + "operand", static_cast<int64_t>(operand));
  chain.set(prefix + "operand_first", static_cast<int64_t>(operandFirst ? 1 : 0));
  for (const auto& entry : attrs.all()) {
    const std::string key = prefix + "a." + entry.first;
    std::visit([&](const auto& v) { chain.set(key, v); }, entry.second);
  }
  chain.set("pw.steps", i + 1);
}

namespace {

// The inputs of @p step: the running value and its operand, in the step's order.
template <typename T>
std::vector<T> stepInputs(const PointwiseStep& step, const T& running, const T* operand) {
  if (operand == nullptr) return {running};
  return step.operandFirst ? std::vector<T>{*operand, running} : std::vector<T>{running, *operand};
}

void inferPointwiseChain(ir::InferContext& ctx) {
  const int64_t count = ctx.attrs().getInt("pw.steps", 0);
  if (count < 1 || count > kMaxPointwiseSteps) {
    ctx.fail("the chain has ", count, " steps; it needs 1 to ", kMaxPointwiseSteps);
  }
  const auto steps = pointwiseSteps(ctx.attrs());
  ir::TensorInfo running = ctx.input(0);
  running.constData = nullptr;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const auto& step = steps[i];
    if (step.node.op != "Activation" && step.node.op != "Unary" && step.node.op != "ElementWise") {
      ctx.fail("step ", i, " has op '", step.node.op,
               "'; a chain step is an Activation, Unary or ElementWise");
    }
    if (step.operand >= 0 && (step.operand == 0 || !ctx.hasInput(step.operand))) {
      ctx.fail("step ", i, " reads input ", step.operand, ", which is not an operand input");
    }
    const ir::TensorInfo* operand = step.operand >= 0 ? &ctx.input(step.operand) : nullptr;
    ir::Node named = step.node;
    named.name = ctx.node().name + "/step" + std::to_string(i);
    const auto inputs = stepInputs(step, running, operand);
    const auto outputs = ir::inferNode(named, inputs);
    running = outputs.at(0);
  }
  ctx.setOutput(0, running.dtype, running.dims);
}

void runPointwiseChain(const ir::KernelContext& ctx) {
  const auto steps = pointwiseSteps(ctx.attrs());
  const ir::OpRegistry& registry = ir::OpRegistry::instance();
  // Shapes of every intermediate, as inference found them.
  std::vector<ir::TensorInfo> infos;
  std::vector<ir::TensorInfo> inputInfos;
  for (const auto& in : ctx.inputs) inputInfos.push_back({in.present, in.dtype, in.dims, nullptr});
  ir::TensorInfo running = inputInfos.at(0);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const auto& step = steps[i];
    const ir::TensorInfo* operand =
        step.operand >= 0 ? &inputInfos[static_cast<std::size_t>(step.operand)] : nullptr;
    running = ir::inferNode(step.node, stepInputs(step, running, operand)).at(0);
    infos.push_back(running);
  }
  // Two scratch buffers in turn; the last step writes the output.
  AlignedBuffer scratch[2];
  ir::TensorView current = ctx.input(0);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const auto& step = steps[i];
    ir::TensorView out = ctx.output(0);
    if (i + 1 < steps.size()) {
      AlignedBuffer& buffer = scratch[i % 2];
      buffer.resize(checkedByteSize(infos[i].dims, infos[i].dtype, "pointwise step"));
      out = {infos[i].dtype, infos[i].dims, buffer.data(), true};
    }
    const ir::TensorView* operand = step.operand >= 0 ? &ctx.input(step.operand) : nullptr;
    const auto inputs = stepInputs(step, current, operand);
    const ir::TensorView outputs[1] = {out};
    registry.get(step.node.op).reference(ir::KernelContext{step.node, inputs, outputs, nullptr, 0});
    current = out;
  }
}

}  // namespace

void registerPointwiseChainOps(ir::OpRegistry& registry) {
  registry.add({.name = "PointwiseChain",
                .minInputs = 1,
                .maxInputs = 16,
                .nbOutputs = 1,
                .infer = inferPointwiseChain,
                .reference = runPointwiseChain});
}

}  // namespace kiln::ops
