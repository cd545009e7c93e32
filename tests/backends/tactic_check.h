// Runs every fast tactic of an op on one node (the CPU's, and the GPU's where a GPU is present)
// and compares it with the op's reference kernel (or with an expected output the test
// computes, for epilogues the reference may not apply).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "backends/device.h"
#include "backends/tactic.h"
#include "core/cpu_info.h"
#include "core/half.h"
#include "core/thread_pool.h"
#include "ir/math_mode.h"
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
  int32_t tactics = 0;            //!< fast CPU tactics that supported the node and were compared
  int32_t gpuTactics = 0;         //!< GPU tactics likewise (0 without a GPU)
  int32_t reducedGpuTactics = 0;  //!< GPU tactic runs in FP16 and BF16 (0 without a GPU)
};

//! The GPU tactic's kernel for @p spec; null where the library refuses the configuration at
//! instantiation (a timed cuDNN algorithm without a kernel for it), as the builder skips it.
inline std::unique_ptr<backends::Kernel> instantiateOnGpu(const backends::Tactic& tactic,
                                                          const backends::NodeSpec& spec) {
  try {
    return tactic.instantiate(spec);
  } catch (const Error& e) {
    std::printf("[ skipped  ] %s: %s\n", std::string(tactic.name()).c_str(), e.what());
    return nullptr;
  }
}

//! @p values stored as @p type: FP32 as they are, FP16/BF16 rounded to nearest even.
inline std::vector<std::byte> storedAs(const std::vector<float>& values, DataType type) {
  std::vector<std::byte> bytes(values.size() * elementSize(type));
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (type == DataType::kFLOAT) {
      std::memcpy(bytes.data() + i * 4, &values[i], 4);
    } else {
      const uint16_t bits =
          type == DataType::kHALF ? floatToHalf(values[i]) : floatToBFloat16(values[i]);
      std::memcpy(bytes.data() + i * 2, &bits, 2);
    }
  }
  return bytes;
}

inline std::vector<float> floatsOf(const std::vector<std::byte>& bytes, DataType type) {
  std::vector<float> values(bytes.size() / elementSize(type));
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (type == DataType::kFLOAT) {
      std::memcpy(&values[i], bytes.data() + i * 4, 4);
    } else {
      uint16_t bits = 0;
      std::memcpy(&bits, bytes.data() + i * 2, 2);
      values[i] = type == DataType::kHALF ? halfToFloat(bits) : bfloat16ToFloat(bits);
    }
  }
  return values;
}

//! Runs @p kernel on the GPU with @p inputs copied to device memory as @p type (every tensor of
//! the check is float); returns the output as FP32 (poisoned with NaN first, so a skipped
//! element fails the comparison).
inline std::vector<float> runOnGpu(const backends::Kernel& kernel, const ir::Node& node,
                                   const std::vector<CheckInput>& inputs, const Dims& outDims,
                                   DataType type = DataType::kFLOAT) {
  const backends::DeviceRuntime& gpu = *backends::deviceRuntime(DeviceType::kGPU);
  std::vector<backends::DeviceBuffer> buffers;
  std::vector<ir::TensorView> views;
  for (const auto& in : inputs) {
    const std::vector<std::byte> bytes = storedAs(in.values, type);
    buffers.emplace_back(gpu, std::max<std::size_t>(bytes.size(), 4));
    gpu.copyAsync(buffers.back().data(), bytes.data(), bytes.size(),
                  backends::CopyKind::kHostToDevice, nullptr);
    gpu.synchronize(nullptr);
    views.push_back({type, in.dims, buffers.back().data(), in.present});
  }
  const auto outCount = static_cast<std::size_t>(volume(outDims));
  std::vector<std::byte> out = storedAs(std::vector<float>(outCount, std::nanf("")), type);
  backends::DeviceBuffer outBuffer(gpu, std::max<std::size_t>(out.size(), 4));
  gpu.copyAsync(outBuffer.data(), out.data(), out.size(), backends::CopyKind::kHostToDevice,
                nullptr);
  backends::DeviceBuffer workspace(gpu, kernel.workspaceBytes());
  backends::DeviceBuffer hostWorkspace(gpu, kernel.hostWorkspaceBytes(), /*host=*/true);
  const ir::TensorView outView{type, outDims, outBuffer.data(), true};
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
  gpu.copyAsync(out.data(), outBuffer.data(), out.size(), backends::CopyKind::kDeviceToHost,
                nullptr);
  gpu.synchronize(nullptr);
  return floatsOf(out, type);
}

//! Every GPU tactic of @p node's op that supports it with all its tensors in @p type (FP16 or
//! BF16, as the builder's precision pass offers it): compared with the reference kernel run on
//! the same inputs rounded to @p type, so only the kernel's own error (FP32 accumulation, one
//! rounding of the output) counts. Returns how many tactics ran.
inline int32_t checkReducedOnGpu(const ir::Node& node, const ir::Node& refNode,
                                 const ir::OpSchema& schema, const std::vector<CheckInput>& inputs,
                                 const std::vector<ir::TensorInfo>& infos,
                                 const std::vector<ir::TensorInfo>& outInfos, DataType type,
                                 const std::function<void(std::vector<float>&)>& fixExpected) {
  std::vector<CheckInput> rounded = inputs;
  std::vector<std::vector<std::byte>> constants(inputs.size());
  std::vector<ir::TensorInfo> reducedInfos = infos;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    rounded[i].values = floatsOf(storedAs(inputs[i].values, type), type);
    if (!inputs[i].present) continue;
    reducedInfos[i].dtype = type;
    if (inputs[i].constant) {
      constants[i] = storedAs(inputs[i].values, type);
      reducedInfos[i].constData = constants[i].data();
    }
  }
  std::vector<ir::TensorInfo> reducedOut = outInfos;
  reducedOut[0].dtype = type;
  ir::Node reducedNode = node;
  reducedNode.attrs.set(ir::kReducedPrecision, type);
  const Dims outDims = outInfos[0].dims;

  // The reference on the rounded inputs, on the host.
  std::vector<ir::TensorView> views;
  for (const auto& in : rounded) {
    views.push_back({DataType::kFLOAT, in.dims, const_cast<float*>(in.values.data()), in.present});
  }
  std::vector<float> expected(static_cast<std::size_t>(volume(outDims)) + 1, 0.f);
  const ir::TensorView outView{DataType::kFLOAT, outDims, expected.data(), true};
  schema.reference(ir::KernelContext{refNode, views, std::span<const ir::TensorView>(&outView, 1),
                                     nullptr, 0, nullptr});
  expected.pop_back();
  if (fixExpected) fixExpected(expected);
  // Results beyond FP16's range are infinite when stored in it.
  if (type == DataType::kHALF) {
    for (float& e : expected) {
      if (std::fabs(e) >= 65520.f) e = std::copysign(std::numeric_limits<float>::infinity(), e);
    }
  }

  const double tolerance = type == DataType::kHALF ? 1e-2 : 3e-2;
  const backends::NodeSpec spec{reducedNode, reducedInfos, reducedOut};
  int32_t ran = 0;
  for (const backends::Tactic* tactic :
       backends::TacticRegistry::instance().candidates(node.op, DeviceType::kGPU)) {
    if (tactic->name() == "cuda.host" || !tactic->supports(spec)) continue;
    const auto kernel = instantiateOnGpu(*tactic, spec);
    if (!kernel) continue;
    ++ran;
    expectClose(runOnGpu(*kernel, reducedNode, rounded, outDims, type), expected, tolerance,
                tolerance,
                node.op + " tactic " + std::string(tactic->name()) + " in " + toString(type));
  }
  return ran;
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
      const auto kernel = instantiateOnGpu(*tactic, spec);
      if (!kernel) continue;
      ++result.gpuTactics;
      expectClose(runOnGpu(*kernel, node, inputs, outDims), expected, atol, rtol,
                  op + " tactic " + std::string(tactic->name()));
    }
    if (outInfos[0].dtype == DataType::kFLOAT) {
      for (const DataType type : {DataType::kHALF, DataType::kBF16}) {
        result.reducedGpuTactics +=
            checkReducedOnGpu(node, refNode, schema, inputs, infos, outInfos, type, fixExpected);
      }
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
