// Runs every fast tactic of an op on one node (the CPU's, and the GPU's where a GPU is present)
// and compares it with the op's reference kernel (or with an expected output the test
// computes, for epilogues the reference may not apply).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "backends/device.h"
#include "backends/tactic.h"
#include "core/cpu_info.h"
#include "core/thread_pool.h"
#include "ir/op_registry.h"
#include "support/test_util.h"

namespace kiln::test {

struct CheckInput {
  Dims dims;
  std::vector<float> values;
  bool constant = false;
  bool present = true;
};

inline CheckInput randomInput(const Dims& dims, uint32_t seed, bool constant = false) {
  return {dims, randomFloats(volume(dims), seed), constant, true};
}

inline CheckInput absentInput() {
  CheckInput in;
  in.present = false;
  return in;
}

inline bool tacticRunsHere(const backends::Tactic& t) {
  for (const auto& f : t.requiredIsa()) {
    if (!hostCpu().has(f)) return false;
  }
  return true;
}

struct CheckResult {
  int32_t tactics = 0;     //!< fast CPU tactics that supported the node and were compared
  int32_t gpuTactics = 0;  //!< GPU tactics likewise (0 without a GPU)
};

//! Runs @p kernel on the GPU with @p inputs copied to device memory; returns the output (poisoned
//! with NaN first, so a skipped element fails the comparison).
inline std::vector<float> runOnGpu(const backends::Kernel& kernel, const ir::Node& node,
                                   const std::vector<CheckInput>& inputs, const Dims& outDims) {
  const backends::DeviceRuntime& gpu = *backends::deviceRuntime(DeviceType::kGPU);
  std::vector<backends::DeviceBuffer> buffers;
  std::vector<ir::TensorView> views;
  for (const auto& in : inputs) {
    const std::size_t bytes = in.values.size() * sizeof(float);
    buffers.emplace_back(gpu, std::max<std::size_t>(bytes, 4));
    gpu.copyAsync(buffers.back().data(), in.values.data(), bytes, backends::CopyKind::kHostToDevice,
                  nullptr);
    views.push_back({DataType::kFLOAT, in.dims, buffers.back().data(), in.present});
  }
  const auto outCount = static_cast<std::size_t>(volume(outDims));
  std::vector<float> out(outCount, std::nanf(""));
  backends::DeviceBuffer outBuffer(gpu, std::max<std::size_t>(outCount * sizeof(float), 4));
  gpu.copyAsync(outBuffer.data(), out.data(), outCount * sizeof(float),
                backends::CopyKind::kHostToDevice, nullptr);
  backends::DeviceBuffer workspace(gpu, kernel.workspaceBytes());
  backends::DeviceBuffer hostWorkspace(gpu, kernel.hostWorkspaceBytes(), /*host=*/true);
  const ir::TensorView outView{DataType::kFLOAT, outDims, outBuffer.data(), true};
  const ir::KernelContext ctx{node,
                              views,
                              std::span<const ir::TensorView>(&outView, 1),
                              workspace.data(),
                              workspace.size(),
                              nullptr,
                              nullptr,
                              hostWorkspace.data(),
                              nullptr};
  kernel.execute(ctx);
  gpu.copyAsync(out.data(), outBuffer.data(), outCount * sizeof(float),
                backends::CopyKind::kDeviceToHost, nullptr);
  gpu.synchronize(nullptr);
  return out;
}

//! Runs @p op with @p attrs on @p inputs through the reference kernel (with @p referenceAttrs,
//! when given, e.g. the attributes without the epilogue) and every fast tactic that runs here;
//! @p fixExpected may post-process the reference output (apply an epilogue). Expects the fast
//! outputs to match within atol + rtol * |expected|. Each tactic runs on @p threads threads.
inline CheckResult checkTactics(
    const std::string& op, const ir::Attributes& attrs, const std::vector<CheckInput>& inputs,
    int32_t threads = 2, const ir::Attributes* referenceAttrs = nullptr,
    const std::function<void(std::vector<float>&)>& fixExpected = nullptr, double atol = 1e-4,
    double rtol = 1e-3) {
  CheckResult result;
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
  const Dims outDims = outInfos[0].dims;
  const int64_t outCount = volume(outDims);

  std::vector<ir::TensorView> views;
  for (const auto& in : inputs) {
    views.push_back({DataType::kFLOAT, in.dims, const_cast<float*>(in.values.data()), in.present});
  }
  auto run = [&](const ir::Node& n, const std::function<void(const ir::KernelContext&)>& fn,
                 ThreadPool* pool, std::size_t workspaceBytes = 0) {
    std::vector<float> workspace(workspaceBytes / sizeof(float) + 1);
    // Poisoned output: a kernel that skips an element fails the comparison.
    std::vector<float> out(static_cast<std::size_t>(outCount) + 1, std::nanf(""));
    const ir::TensorView outView{DataType::kFLOAT, outDims, out.data(), true};
    const ir::KernelContext ctx{
        n,   views, std::span<const ir::TensorView>(&outView, 1), workspace.data(), workspaceBytes,
        pool};
    fn(ctx);
    out.pop_back();
    return out;
  };

  ir::Node refNode = node;
  if (referenceAttrs != nullptr) refNode.attrs = *referenceAttrs;
  const auto& schema = ir::OpRegistry::instance().get(op);
  std::vector<float> expected = run(refNode, schema.reference, nullptr);
  if (fixExpected) fixExpected(expected);

  ThreadPool pool(threads);
  const backends::NodeSpec spec{node, infos, outInfos};
  for (const backends::Tactic* tactic :
       backends::TacticRegistry::instance().candidates(op, DeviceType::kCPU)) {
    if (tactic->name() == "cpu.reference" || !tacticRunsHere(*tactic)) continue;
    if (!tactic->supports(spec)) continue;
    ++result.tactics;
    const auto kernel = tactic->instantiate(spec);
    const auto actual = run(
        node, [&](const ir::KernelContext& ctx) { kernel->execute(ctx); }, &pool,
        kernel->workspaceBytes());
    expectClose(actual, expected, atol, rtol, op + " tactic " + std::string(tactic->name()));
  }
  if (backends::gpuPresent()) {
    for (const backends::Tactic* tactic :
         backends::TacticRegistry::instance().candidates(op, DeviceType::kGPU)) {
      if (tactic->name() == "cuda.host" || !tactic->supports(spec)) continue;
      ++result.gpuTactics;
      const auto kernel = tactic->instantiate(spec);
      expectClose(runOnGpu(*kernel, node, inputs, outDims), expected, atol, rtol,
                  op + " tactic " + std::string(tactic->name()));
    }
  }
  return result;
}

//! Shorthand for Dims.
inline Dims shape(std::initializer_list<int64_t> extents) {
  Dims d;
  for (int64_t e : extents) d[d.nbDims++] = e;
  return d;
}

}  // namespace kiln::test
