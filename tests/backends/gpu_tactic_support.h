// Whether a named GPU tactic supports a node, asked without a GPU: supports() only looks at
// shapes and attributes, so machines without a GPU still check which cases the CUDA kernels
// take (the GPU run then compares their outputs through checkTactics).
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backends/device.h"
#include "backends/tactic.h"
#include "ir/op_registry.h"
#include "tactic_check.h"

namespace kiln::test {

//! Nullopt when this build has no CUDA backend; else whether tactic @p name of @p op supports
//! the node (false also when no such tactic is registered).
inline std::optional<bool> gpuTacticSupports(const std::string& op, std::string_view name,
                                             const ir::Attributes& attrs,
                                             const std::vector<CheckInput>& inputs) {
  if (backends::deviceRuntime(DeviceType::kGPU) == nullptr) return std::nullopt;
  ir::Node node;
  node.name = "node";
  node.op = op;
  node.attrs = attrs;
  std::vector<ir::TensorInfo> infos;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    node.inputs.push_back(inputs[i].present ? static_cast<ir::ValueId>(i) : ir::kNoValue);
    ir::TensorInfo info;
    info.present = inputs[i].present;
    info.dims = inputs[i].dims;
    info.constData = inputs[i].present && inputs[i].constant ? inputs[i].values.data() : nullptr;
    infos.push_back(info);
  }
  node.outputs.push_back(static_cast<ir::ValueId>(inputs.size()));
  const std::vector<ir::TensorInfo> outInfos = ir::inferNode(node, infos);
  const backends::Tactic* tactic = backends::TacticRegistry::instance().find(op, name);
  if (tactic == nullptr || tactic->device() != DeviceType::kGPU) return false;
  return tactic->supports(backends::NodeSpec{node, infos, outInfos});
}

//! Expects tactic @p name to support (or, with @p expected false, to leave to the host
//! fallback) the node, where this build has a CUDA backend.
inline void expectGpuSupport(const std::string& op, std::string_view name,
                             const ir::Attributes& attrs, const std::vector<CheckInput>& inputs,
                             bool expected = true) {
  const auto supported = gpuTacticSupports(op, name, attrs, inputs);
  if (supported) {
    EXPECT_EQ(*supported, expected) << op << " tactic " << name;
  }
}

//! Runs checkTactics and, where a GPU is present, expects tactic @p gpuTactic to have run.
inline CheckResult checkWithGpu(
    const std::string& op, std::string_view gpuTactic, const ir::Attributes& attrs,
    const std::vector<CheckInput>& inputs, const ir::Attributes* referenceAttrs = nullptr,
    const std::function<void(std::vector<float>&)>& fixExpected = nullptr) {
  expectGpuSupport(op, gpuTactic, attrs, inputs);
  const CheckResult r = checkTactics(op, attrs, inputs, 2, referenceAttrs, fixExpected);
  if (backends::gpuPresent()) {
    EXPECT_GE(r.gpuTactics, 1) << op;
  }
  return r;
}

}  // namespace kiln::test
