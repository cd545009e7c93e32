// "cuda.host": runs an op's reference kernel on the host, inside a GPU engine, for ops that
// have no CUDA kernel yet (as ONNX Runtime's CUDA provider falls back to its CPU one). Every
// step is ordered on the caller's stream and nothing waits: the inputs are copied to
// page-locked staging, a stream callback (cudaLaunchHostFunc) runs the reference kernel there,
// and the outputs are copied back, so the engine still enqueues without synchronizing and
// can be captured into a CUDA graph.
#include <cuda_runtime_api.h>

#include <memory>
#include <vector>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_tactics.h"
#include "backends/tactic.h"
#include "core/async_errors.h"
#include "core/shape_util.h"
#include "ir/math_mode.h"

namespace kiln::backends::cuda {

namespace {

constexpr std::size_t kStagingAlignment = 64;

std::size_t alignUp(std::size_t bytes) {
  return (bytes + kStagingAlignment - 1) / kStagingAlignment * kStagingAlignment;
}

class HostFallbackKernel;

// What a stream callback needs; it lives at the start of the context's host workspace, which
// stays valid and untouched until the next execution of the same context.
struct HostCall {
  const HostFallbackKernel* kernel;
  std::byte* staging;
  AsyncErrors* errors;
};

class HostFallbackKernel final : public Kernel {
 public:
  HostFallbackKernel(const ir::OpSchema& schema, const NodeSpec& spec)
      : schema_(schema), node_(spec.node) {
    std::size_t offset = alignUp(sizeof(HostCall));
    auto place = [&](const ir::TensorInfo& info, bool isInput) {
      Slot slot{info.present,
                info.dtype,
                info.dims,
                offset,
                info.present ? checkedByteSize(info.dims, info.dtype, node_.name) : 0,
                isInput ? info.constData : nullptr};
      if (slot.constant == nullptr) offset += alignUp(slot.bytes);
      return slot;
    };
    for (const auto& info : spec.inputs) inputs_.push_back(place(info, true));
    for (const auto& info : spec.outputs) outputs_.push_back(place(info, false));
    hostBytes_ = offset;
  }

  std::size_t hostWorkspaceBytes() const override { return hostBytes_; }

  void execute(const ir::KernelContext& ctx) const override {
    if (ctx.hostWorkspace == nullptr) {
      fail(ErrorCode::kINTERNAL_ERROR, "the host fallback kernel got no host workspace");
    }
    const auto stream = static_cast<cudaStream_t>(ctx.stream);
    auto* staging = static_cast<std::byte*>(ctx.hostWorkspace);
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
      const Slot& slot = inputs_[i];
      if (!slot.present || slot.constant != nullptr || slot.bytes == 0) continue;
      check(cudaMemcpyAsync(staging + slot.offset, ctx.inputs[i].data, slot.bytes,
                            cudaMemcpyDeviceToHost, stream),
            "cudaMemcpyAsync (to the host)");
    }
    auto* call = std::construct_at(reinterpret_cast<HostCall*>(staging),
                                   HostCall{this, staging, ctx.asyncErrors});
    check(cudaLaunchHostFunc(stream, &HostFallbackKernel::run, call), "cudaLaunchHostFunc");
    for (std::size_t i = 0; i < outputs_.size(); ++i) {
      const Slot& slot = outputs_[i];
      if (slot.bytes == 0) continue;
      check(cudaMemcpyAsync(ctx.outputs[i].data, staging + slot.offset, slot.bytes,
                            cudaMemcpyHostToDevice, stream),
            "cudaMemcpyAsync (to the device)");
    }
  }

 private:
  struct Slot {
    bool present;
    DataType dtype;
    Dims dims;
    std::size_t offset;
    std::size_t bytes;
    const void* constant;  // a constant input is read where the plan keeps it on the host
  };

  static void CUDART_CB run(void* data) {
    const auto* call = static_cast<const HostCall*>(data);
    try {
      call->kernel->runOnHost(call->staging);
    } catch (const std::exception& e) {
      if (call->errors != nullptr) {
        call->errors->report("layer '" + call->kernel->node_.name + "' (" + call->kernel->node_.op +
                             "): " + e.what());
      }
    }
  }

  void runOnHost(std::byte* staging) const {
    std::vector<ir::TensorView> inputs;
    std::vector<ir::TensorView> outputs;
    auto view = [&](const Slot& slot) -> ir::TensorView {
      if (!slot.present) return {DataType::kFLOAT, Dims{}, nullptr, false};
      void* data = slot.constant != nullptr ? const_cast<void*>(slot.constant)
                                            : static_cast<void*>(staging + slot.offset);
      return {slot.dtype, slot.dims, data, true};
    };
    for (const Slot& slot : inputs_) inputs.push_back(view(slot));
    for (const Slot& slot : outputs_) outputs.push_back(view(slot));
    schema_.reference(ir::KernelContext{node_, inputs, outputs, nullptr, 0});
  }

  const ir::OpSchema& schema_;
  const ir::Node& node_;
  std::vector<Slot> inputs_;
  std::vector<Slot> outputs_;
  std::size_t hostBytes_ = 0;
};

class HostFallbackTactic final : public Tactic {
 public:
  explicit HostFallbackTactic(const ir::OpSchema& schema) : schema_(schema) {}
  std::string_view name() const override { return kHostFallbackTactic; }
  DeviceType device() const override { return DeviceType::kGPU; }
  // Reference kernels compute on FP32 tensors: nodes in reduced precision are not theirs.
  bool supports(const NodeSpec& spec) const override {
    return static_cast<bool>(schema_.reference) && !ir::reducedPrecision(spec.node.attrs);
  }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& spec) const override {
    return std::make_unique<HostFallbackKernel>(schema_, spec);
  }

 private:
  const ir::OpSchema& schema_;
};

}  // namespace

void registerHostFallbackTactics(TacticRegistry& registry) {
  const auto& ops = ir::OpRegistry::instance();
  for (const auto& name : ops.names()) {
    registry.add(name, std::make_unique<HostFallbackTactic>(*ops.find(name)));
  }
}

}  // namespace kiln::backends::cuda
