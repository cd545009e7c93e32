// Tactics of the reducing ops: Reduce ("cuda.reduce"), SoftMax ("cuda.softmax"), LayerNorm
// ("cuda.layer_norm") and Pooling ("cuda.pooling"); kernels in reduce_kernels.cu and
// pooling_kernels.cu. Every float tensor of a node has one element type (float32, float16 or
// bfloat16); the kernels accumulate in float32 or wider either way. The geometry is worked out
// once, at instantiate().
#include <cuda_runtime_api.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/cuda_tactics.h"
#include "backends/cuda/planned_tactic.h"
#include "backends/tactic.h"
#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "kiln/network.h"
#include "ops/softmax.h"
#include "ops/window_util.h"

namespace kiln::backends::cuda {

namespace {

using namespace kernels;  // NOLINT: the launchers and their parameter structs

// A present tensor of known dims (of at most kKernelMaxRank) whose element type is @p element.
bool knownFloat(const ir::TensorInfo& info, DataType element) {
  if (!info.present || info.dtype != element) return false;
  if (info.dims.nbDims < 0 || info.dims.nbDims > kKernelMaxRank) return false;
  for (int32_t d = 0; d < info.dims.nbDims; ++d) {
    if (info.dims[d] < 0) return false;
  }
  return true;
}

// The element type of a node whose input 0 and every output are of one float type the kernels
// take, or nullopt.
std::optional<DataType> floatElement(const NodeSpec& spec) {
  if (spec.inputs.empty() || spec.outputs.empty()) return std::nullopt;
  const DataType element = spec.inputs[0].dtype;
  if (!isKernelFloat(static_cast<int32_t>(element))) return std::nullopt;
  for (const auto& out : spec.outputs) {
    if (out.dtype != element) return std::nullopt;
  }
  return element;
}

// --- Reduce ------------------------------------------------------------------------------------

// The reduced-dimension mask, from the constant axes input when there is one (ONNX axes,
// negative from the end; empty: all, or none with noop_with_empty_axes) or the "axes" mask.
std::optional<uint32_t> reduceAxes(const NodeSpec& spec) {
  const int32_t rank = spec.inputs[0].dims.nbDims;
  if (spec.inputs.size() < 2 || !spec.inputs[1].present) {
    const int64_t axes = spec.node.attrs.getInt("axes", 0);
    if (axes <= 0 || axes >= (int64_t{1} << rank)) return std::nullopt;
    return static_cast<uint32_t>(axes);
  }
  const ir::TensorInfo& in = spec.inputs[1];
  if (in.constData == nullptr || in.dims.nbDims > 1) return std::nullopt;
  if (in.dtype != DataType::kINT32 && in.dtype != DataType::kINT64) return std::nullopt;
  const int64_t count = volume(in.dims);
  if (count == 0) {
    if (spec.node.attrs.getInt("noop_with_empty_axes", 0) != 0 || rank == 0) return 0u;
    return (1u << rank) - 1u;
  }
  uint32_t mask = 0;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t axis =
        in.dtype == DataType::kINT64 ? in.constAs<int64_t>()[i] : in.constAs<int32_t>()[i];
    const int64_t a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank || ((mask >> a) & 1u) != 0) return std::nullopt;
    mask |= 1u << a;
  }
  return mask;
}

struct ReducePlan {
  bool copy = false;  // nothing reduced: the output is the input
  int64_t bytes = 0;
  ReduceParams params;
};

std::optional<ReducePlan> planReduce(const NodeSpec& spec) {
  const auto element = floatElement(spec);
  if (!element || !knownFloat(spec.inputs[0], *element) || spec.outputs.size() != 1) {
    return std::nullopt;
  }
  const int64_t raw = spec.node.attrs.getInt("op", 0);
  if (raw < 0 || raw > static_cast<int64_t>(ReduceOperation::kAVG)) return std::nullopt;
  const auto axes = reduceAxes(spec);
  if (!axes) return std::nullopt;
  const Dims& dims = spec.inputs[0].dims;
  ReducePlan plan;
  if (*axes == 0) {
    plan.copy = true;
    plan.bytes = volume(dims) * static_cast<int64_t>(elementSize(*element));
    return plan;
  }
  ReduceParams& p = plan.params;
  p.dtype = static_cast<int32_t>(*element);
  p.op = static_cast<int32_t>(raw);
  p.outputs = volume(spec.outputs[0].dims);
  p.reduced = 1;
  const Dims strides = contiguousStrides(dims);
  for (int32_t d = 0; d < dims.nbDims; ++d) {
    if (((*axes >> d) & 1u) != 0) {
      p.reduced *= dims[d];
      appendLoop(p.folded, dims[d], strides[d]);
    } else {
      appendLoop(p.kept, dims[d], strides[d]);
    }
  }
  if (p.reduced == 0 || p.outputs == 0) {
    p.folded.rank = 0;  // nothing is read
    p.kept.rank = 0;
  }
  if (p.folded.rank == 1 && p.folded.stride[0] == 1) {
    p.innerReduced = 1;
  } else if (p.folded.rank > 1 && p.folded.stride[p.folded.rank - 1] == 1) {
    p.innerReduced = 2;
  }
  return plan;
}

class ReduceKernel final : public Kernel {
 public:
  explicit ReduceKernel(const ReducePlan& plan) : plan_(plan) {}
  void execute(const ir::KernelContext& ctx) const override {
    if (plan_.copy) {
      if (plan_.bytes > 0) {
        check(cudaMemcpyAsync(ctx.output(0).data, ctx.input(0).data,
                              static_cast<std::size_t>(plan_.bytes), cudaMemcpyDeviceToDevice,
                              static_cast<cudaStream_t>(ctx.stream)),
              "cudaMemcpyAsync (Reduce copy)");
      }
      return;
    }
    ReduceParams p = plan_.params;
    p.x = ctx.input(0).data;
    p.y = ctx.output(0).data;
    launchReduce(p, ctx.stream);
  }

 private:
  ReducePlan plan_;
};

// --- SoftMax -----------------------------------------------------------------------------------

std::optional<SoftMaxParams> planSoftMax(const NodeSpec& spec) {
  const auto element = floatElement(spec);
  if (!element || spec.inputs.size() != 1 || spec.outputs.size() != 1 ||
      !knownFloat(spec.inputs[0], *element)) {
    return std::nullopt;
  }
  const Dims& dims = spec.inputs[0].dims;
  if (dims.nbDims < 1) return std::nullopt;
  const int64_t raw = spec.node.attrs.getInt("axis", ops::softmaxDefaultAxis(dims.nbDims));
  const int64_t axis = raw < 0 ? raw + dims.nbDims : raw;
  if (axis < 0 || axis >= dims.nbDims) return std::nullopt;
  SoftMaxParams p;
  p.dtype = static_cast<int32_t>(*element);
  p.outer = 1;
  p.inner = 1;
  for (int32_t i = 0; i < axis; ++i) p.outer *= dims[i];
  p.n = dims[static_cast<int32_t>(axis)];
  for (int32_t i = static_cast<int32_t>(axis) + 1; i < dims.nbDims; ++i) p.inner *= dims[i];
  return p;
}

using SoftMaxKernel = InputOutputKernel<SoftMaxParams, launchSoftMax>;

// --- LayerNorm ---------------------------------------------------------------------------------

std::optional<LayerNormParams> planLayerNorm(const NodeSpec& spec) {
  const auto element = floatElement(spec);
  if (!element || spec.outputs.size() != 1 || !knownFloat(spec.inputs[0], *element)) {
    return std::nullopt;
  }
  const Dims& dims = spec.inputs[0].dims;
  const int64_t axis = spec.node.attrs.getInt("axis", -1);
  if (axis < 0 || axis >= dims.nbDims) return std::nullopt;
  LayerNormParams p;
  p.dtype = static_cast<int32_t>(*element);
  p.inner = 1;
  for (int32_t i = static_cast<int32_t>(axis); i < dims.nbDims; ++i) p.inner *= dims[i];
  for (std::size_t i = 1; i < spec.inputs.size() && i <= 2; ++i) {
    if (!spec.inputs[i].present) continue;
    if (!knownFloat(spec.inputs[i], *element) || volume(spec.inputs[i].dims) != p.inner) {
      return std::nullopt;
    }
  }
  if (spec.inputs.size() > 3) return std::nullopt;
  p.rows = p.inner == 0 ? 0 : volume(dims) / p.inner;
  p.epsilon = static_cast<float>(spec.node.attrs.getFloat("epsilon", 1e-5));
  return p;
}

class LayerNormKernel final : public Kernel {
 public:
  explicit LayerNormKernel(const LayerNormParams& params) : params_(params) {}
  void execute(const ir::KernelContext& ctx) const override {
    LayerNormParams p = params_;
    p.x = ctx.input(0).data;
    p.gamma = ctx.hasInput(1) ? ctx.input(1).data : nullptr;
    p.beta = ctx.hasInput(2) ? ctx.input(2).data : nullptr;
    p.y = ctx.output(0).data;
    launchLayerNorm(p, ctx.stream);
  }

 private:
  LayerNormParams params_;
};

// --- Pooling -----------------------------------------------------------------------------------

std::optional<PoolingParams> planPooling(const NodeSpec& spec) {
  const auto element = floatElement(spec);
  if (!element || spec.inputs.size() != 1 || !knownFloat(spec.inputs[0], *element) ||
      spec.outputs.size() != 1) {
    return std::nullopt;
  }
  const ir::Attributes& attrs = spec.node.attrs;
  const int64_t type = attrs.getInt("type", static_cast<int64_t>(PoolingType::kMAX));
  if (type < 0 || type > static_cast<int64_t>(PoolingType::kMAX_AVERAGE_BLEND)) {
    return std::nullopt;
  }
  const ops::WindowParams w = ops::readWindowParams(attrs, "window");
  if (!ops::checkWindowParams(w, "window").empty()) return std::nullopt;
  const bool channelsLast = ops::channelsLast(attrs);
  if (channelsLast &&
      (w.rank() != 2 || spec.inputs[0].dims.nbDims != 4 || spec.outputs[0].dims.nbDims != 4)) {
    return std::nullopt;
  }
  // Channels-first views [N, C, spatial...].
  const Dims x = channelsLast ? ops::toChannelsFirst(spec.inputs[0].dims) : spec.inputs[0].dims;
  const Dims y = channelsLast ? ops::toChannelsFirst(spec.outputs[0].dims) : spec.outputs[0].dims;
  if (x.nbDims != w.rank() + 2 || y.nbDims != x.nbDims) return std::nullopt;
  for (int32_t i = 0; i < w.rank(); ++i) {
    if (w.dilation[i] != 1) return std::nullopt;
  }
  const ops::Geometry3 g = ops::makeGeometry(w, x, y, false, ops::CeilRule::kDropPaddingOnly);
  PoolingParams p;
  p.dtype = static_cast<int32_t>(*element);
  p.planes = x[0] * x[1];
  p.channelsLast = channelsLast ? 1 : 0;
  p.channels = x[1];
  for (std::size_t d = 0; d < 3; ++d) {
    p.in[d] = g.in[d];
    p.out[d] = g.out[d];
    p.kernel[d] = g.kernel[d];
    p.stride[d] = g.stride[d];
    p.pre[d] = g.pre[d];
    p.post[d] = g.post[d];
  }
  p.type = static_cast<int32_t>(type);
  p.excludePadding = attrs.getInt("exclude_padding", 1) != 0 ? 1 : 0;
  p.blend = static_cast<float>(attrs.getFloat("blend_factor", 0.0));
  return p;
}

using PoolingKernel = InputOutputKernel<PoolingParams, launchPooling>;

}  // namespace

void registerCudaReduceTactics(TacticRegistry& registry) {
  registry.add("Reduce", std::make_unique<PlannedTactic<ReducePlan, ReduceKernel>>("cuda.reduce",
                                                                                   planReduce));
  registry.add("SoftMax", std::make_unique<PlannedTactic<SoftMaxParams, SoftMaxKernel>>(
                              "cuda.softmax", planSoftMax));
  registry.add("LayerNorm", std::make_unique<PlannedTactic<LayerNormParams, LayerNormKernel>>(
                                "cuda.layer_norm", planLayerNorm));
  registry.add("Pooling", std::make_unique<PlannedTactic<PoolingParams, PoolingKernel>>(
                              "cuda.pooling", planPooling));
}

}  // namespace kiln::backends::cuda
