// Data-movement tactics, for elements of any type of 1, 2, 4 or 8 bytes (float16 and bfloat16
// included): Shuffle ("cuda.shuffle"), Slice ("cuda.slice"), Concatenation
// ("cuda.concatenation"), Gather ("cuda.gather", kDEFAULT mode) and Identity ("cuda.identity": a
// copy, or a cast between float32, float16, bfloat16, int32, int64, bool, int8 and uint8) and
// PadToChannelsLast ("cuda.pad_to_channels_last").
// Kernels in data_movement_kernels.cu.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/cuda_tactics.h"
#include "backends/cuda/planned_tactic.h"
#include "backends/tactic.h"
#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "kiln/network.h"
#include "ops/data_movement.h"
#include "ops/shape_values.h"

namespace kiln::backends::cuda {

namespace {

using namespace kernels;  // NOLINT: the launchers and their parameter structs

bool knownDims(const Dims& dims) {
  if (dims.nbDims < 0 || dims.nbDims > kKernelMaxRank) return false;
  for (int32_t d = 0; d < dims.nbDims; ++d) {
    if (dims[d] < 0) return false;
  }
  return true;
}

bool movableType(DataType type) {
  const std::size_t size = elementSize(type);
  return size == 1 || size == 2 || size == 4 || size == 8;
}

void copyBytes(const ir::KernelContext& ctx, std::size_t bytes, const char* what) {
  if (bytes == 0 || ctx.output(0).data == ctx.input(0).data) return;
  check(cudaMemcpyAsync(ctx.output(0).data, ctx.input(0).data, bytes, cudaMemcpyDeviceToDevice,
                        static_cast<cudaStream_t>(ctx.stream)),
        what);
}

bool isIdentity(const std::vector<int64_t>& perm) {
  for (std::size_t i = 0; i < perm.size(); ++i) {
    if (perm[i] != static_cast<int64_t>(i)) return false;
  }
  return true;
}

// A plan shared by Shuffle and Slice: a plain copy, or a strided copy.
struct CopyPlan {
  bool memcpy = false;
  std::size_t bytes = 0;
  StridedCopyParams params;
};

// A one-level copy whose innermost loop is contiguous moves @p w-byte words instead of its
// elements where every stride, the start and both addresses allow: a transpose that keeps
// the last dimension (attention's head transposes) then computes one offset per word.
bool widenTo(StridedCopyParams& p, int64_t w) {
  IndexMap& map = p.first;
  if (p.levels != 1 || map.rank < 1 || w <= p.elementBytes) return false;
  const int64_t ratio = w / p.elementBytes;
  const int32_t inner = map.rank - 1;
  if (map.stride[inner] != 1 || map.extent[inner] % ratio != 0 || p.base % ratio != 0 ||
      p.inputCount % ratio != 0 || reinterpret_cast<uintptr_t>(p.x) % w != 0 ||
      reinterpret_cast<uintptr_t>(p.y) % w != 0) {
    return false;
  }
  for (int32_t d = 0; d < inner; ++d) {
    if (map.stride[d] % ratio != 0) return false;
  }
  for (int32_t d = 0; d < inner; ++d) map.stride[d] /= ratio;
  map.extent[inner] /= ratio;
  p.base /= ratio;
  p.count /= ratio;
  p.inputCount /= ratio;
  p.elementBytes = static_cast<int32_t>(w);
  return true;
}

class StridedCopyKernel final : public Kernel {
 public:
  explicit StridedCopyKernel(const CopyPlan& plan) : plan_(plan) {}
  void execute(const ir::KernelContext& ctx) const override {
    if (plan_.memcpy) return copyBytes(ctx, plan_.bytes, "cudaMemcpyAsync (copy)");
    StridedCopyParams p = plan_.params;
    p.x = ctx.input(0).data;
    p.y = ctx.output(0).data;
    for (int64_t w : {int64_t{16}, int64_t{8}, int64_t{4}}) {
      if (widenTo(p, w)) break;
    }
    launchStridedCopy(p, ctx.stream);
  }

 private:
  CopyPlan plan_;
};

// --- Shuffle -----------------------------------------------------------------------------------

std::optional<std::vector<int64_t>> permutation(const ir::Attributes& attrs, const char* name,
                                                int32_t rank) {
  std::vector<int64_t> perm;
  if (!attrs.has(name)) {
    for (int32_t i = 0; i < rank; ++i) perm.push_back(i);
    return perm;
  }
  perm = attrs.getInts(name);
  if (static_cast<int32_t>(perm.size()) != rank || !ops::permutationProblem(perm).empty()) {
    return std::nullopt;
  }
  return perm;
}

// The output walks the reshaped tensor through the second permutation; the reshaped tensor's
// row-major index is the first transpose's, which walks the input through the first one
// (the reshape itself moves nothing).
std::optional<CopyPlan> planShuffle(const NodeSpec& spec) {
  if (spec.inputs.empty() || spec.outputs.size() != 1 || !spec.inputs[0].present) {
    return std::nullopt;
  }
  const ir::TensorInfo& in = spec.inputs[0];
  const ir::TensorInfo& out = spec.outputs[0];
  if (!movableType(in.dtype) || out.dtype != in.dtype) return std::nullopt;
  if (!knownDims(in.dims) || !knownDims(out.dims) || volume(in.dims) != volume(out.dims)) {
    return std::nullopt;
  }
  const auto perm1 = permutation(spec.node.attrs, "first_perm", in.dims.nbDims);
  const auto perm2 = permutation(spec.node.attrs, "second_perm", out.dims.nbDims);
  if (!perm1 || !perm2) return std::nullopt;
  CopyPlan plan;
  const auto esize = static_cast<int64_t>(elementSize(in.dtype));
  plan.bytes = static_cast<std::size_t>(volume(out.dims) * esize);
  const bool first = !isIdentity(*perm1);
  const bool second = !isIdentity(*perm2);
  if (!first && !second) {
    plan.memcpy = true;
    return plan;
  }
  Dims reshaped;
  reshaped.nbDims = out.dims.nbDims;
  for (int32_t k = 0; k < out.dims.nbDims; ++k) {
    reshaped[static_cast<int32_t>((*perm2)[static_cast<std::size_t>(k)])] = out.dims[k];
  }
  StridedCopyParams& p = plan.params;
  p.elementBytes = static_cast<int32_t>(esize);
  p.count = volume(out.dims);
  p.inputCount = volume(in.dims);
  // The first transpose as a map from its output's row-major index to input offsets.
  IndexMap transpose1;
  const Dims inStrides = contiguousStrides(in.dims);
  for (int32_t k = 0; k < in.dims.nbDims; ++k) {
    const auto src = static_cast<int32_t>((*perm1)[static_cast<std::size_t>(k)]);
    appendLoop(transpose1, in.dims[src], inStrides[src]);
  }
  // The second transpose: from the output's index to the reshaped tensor's row-major index.
  IndexMap transpose2;
  const Dims reshapedStrides = contiguousStrides(reshaped);
  for (int32_t k = 0; k < out.dims.nbDims; ++k) {
    const auto src = static_cast<int32_t>((*perm2)[static_cast<std::size_t>(k)]);
    appendLoop(transpose2, reshaped[src], reshapedStrides[src]);
  }
  if (first && second) {
    p.levels = 2;
    p.first = transpose2;
    p.second = transpose1;
  } else {
    p.levels = 1;
    p.first = first ? transpose1 : transpose2;
  }
  return plan;
}

// --- Slice -------------------------------------------------------------------------------------

std::optional<std::vector<int64_t>> constValues(const NodeSpec& spec, std::size_t i) {
  if (i >= spec.inputs.size() || !spec.inputs[i].present) return std::vector<int64_t>{};
  const ir::TensorInfo& info = spec.inputs[i];
  if (info.constData == nullptr || info.dims.nbDims > 1) return std::nullopt;
  if (info.dtype != DataType::kINT32 && info.dtype != DataType::kINT64) return std::nullopt;
  return ops::intValues(info.dtype, info.constData, volume(info.dims));
}

// ONNX Slice's clamping (as ops/slice.cpp) of constant starts, ends, axes and steps.
bool onnxStartAndStride(const NodeSpec& spec, const Dims& in, Dims& start, Dims& stride) {
  std::array<std::vector<int64_t>, 4> values;
  for (std::size_t i = 1; i <= 4; ++i) {
    auto v = constValues(spec, i);
    if (!v) return false;
    values[i - 1] = std::move(*v);
  }
  auto& [starts, ends, axes, steps] = values;
  const int32_t rank = in.nbDims;
  if (starts.size() != ends.size()) return false;
  if (axes.empty()) {
    for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  }
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (axes.size() != starts.size() || steps.size() != starts.size()) return false;
  start.nbDims = stride.nbDims = rank;
  for (int32_t k = 0; k < rank; ++k) {
    start[k] = 0;
    stride[k] = 1;
  }
  for (std::size_t k = 0; k < starts.size(); ++k) {
    const int64_t axis = axes[k] < 0 ? axes[k] + rank : axes[k];
    if (axis < 0 || axis >= rank || steps[k] == 0) return false;
    const int64_t d = in[static_cast<int32_t>(axis)];
    const int64_t step = steps[k];
    __int128 s = starts[k];
    __int128 e = ends[k];
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (step > 0) {
      s = std::clamp<__int128>(s, 0, d);
      e = std::clamp<__int128>(e, 0, d);
    } else {
      s = std::clamp<__int128>(s, 0, d - 1);
      e = std::clamp<__int128>(e, -1, d - 1);
    }
    const __int128 span = step > 0 ? e - s : s - e;
    start[static_cast<int32_t>(axis)] = span <= 0 ? 0 : static_cast<int64_t>(s);
    stride[static_cast<int32_t>(axis)] = step;
  }
  return true;
}

std::optional<CopyPlan> planSlice(const NodeSpec& spec) {
  if (spec.inputs.empty() || spec.outputs.size() != 1 || !spec.inputs[0].present) {
    return std::nullopt;
  }
  const ir::TensorInfo& in = spec.inputs[0];
  const ir::TensorInfo& out = spec.outputs[0];
  if (!movableType(in.dtype) || out.dtype != in.dtype) return std::nullopt;
  if (!knownDims(in.dims) || !knownDims(out.dims) || out.dims.nbDims != in.dims.nbDims) {
    return std::nullopt;
  }
  const int32_t rank = in.dims.nbDims;
  Dims start;
  Dims stride;
  if (spec.node.attrs.getInt("onnx_bounds", 0) != 0) {
    if (!onnxStartAndStride(spec, in.dims, start, stride)) return std::nullopt;
  } else {
    if (spec.inputs.size() > 1) return std::nullopt;
    start = spec.node.attrs.getDims("start");
    if (start.nbDims != rank) return std::nullopt;
    if (spec.node.attrs.has("stride")) {
      stride = spec.node.attrs.getDims("stride");
      if (stride.nbDims != rank) return std::nullopt;
    } else {
      stride.nbDims = rank;
      for (int32_t k = 0; k < rank; ++k) stride[k] = 1;
    }
  }
  CopyPlan plan;
  StridedCopyParams& p = plan.params;
  p.elementBytes = static_cast<int32_t>(elementSize(in.dtype));
  p.count = volume(out.dims);
  p.inputCount = volume(in.dims);
  if (p.count == 0) return plan;  // nothing is read: the bounds need not be valid
  const Dims inStrides = contiguousStrides(in.dims);
  for (int32_t k = 0; k < rank; ++k) {
    // Shape inference checked that every index read lies inside the input; check again so a
    // kernel never reads outside it.
    const int64_t last = start[k] + (out.dims[k] - 1) * stride[k];
    if (start[k] < 0 || start[k] >= in.dims[k] || last < 0 || last >= in.dims[k]) {
      return std::nullopt;
    }
    p.base += start[k] * inStrides[k];
    appendLoop(p.first, out.dims[k], stride[k] * inStrides[k]);
  }
  if (p.first.rank == 1 && p.first.stride[0] == 1) {  // one contiguous run
    plan.memcpy = true;
    plan.bytes = static_cast<std::size_t>(p.count * p.elementBytes);
    plan.params.base = p.base;
  }
  return plan;
}

class SliceCopyKernel final : public Kernel {
 public:
  explicit SliceCopyKernel(const CopyPlan& plan) : plan_(plan) {}
  void execute(const ir::KernelContext& ctx) const override {
    if (plan_.memcpy) {
      if (plan_.bytes == 0) return;
      const auto* src = static_cast<const char*>(ctx.input(0).data) +
                        plan_.params.base * plan_.params.elementBytes;
      check(cudaMemcpyAsync(ctx.output(0).data, src, plan_.bytes, cudaMemcpyDeviceToDevice,
                            static_cast<cudaStream_t>(ctx.stream)),
            "cudaMemcpyAsync (Slice)");
      return;
    }
    StridedCopyParams p = plan_.params;
    p.x = ctx.input(0).data;
    p.y = ctx.output(0).data;
    launchStridedCopy(p, ctx.stream);
  }

 private:
  CopyPlan plan_;
};

// --- Concatenation -----------------------------------------------------------------------------

struct ConcatPlan {
  int64_t rows = 0;        // product of the dims before the axis
  int64_t pitchBytes = 0;  // one output row: every input's part
  std::vector<int64_t> rowBytes;
  std::vector<int64_t> offsetBytes;
};

std::optional<ConcatPlan> planConcat(const NodeSpec& spec) {
  if (spec.inputs.empty() || spec.outputs.size() != 1) return std::nullopt;
  const ir::TensorInfo& out = spec.outputs[0];
  if (!movableType(out.dtype) || !knownDims(out.dims)) return std::nullopt;
  const int32_t rank = out.dims.nbDims;
  if (rank < 1) return std::nullopt;
  const int64_t raw = spec.node.attrs.getInt("axis", ops::concatenationDefaultAxis(rank));
  const int64_t axis = raw < 0 ? raw + rank : raw;
  if (axis < 0 || axis >= rank) return std::nullopt;
  const auto a = static_cast<int32_t>(axis);
  const auto esize = static_cast<int64_t>(elementSize(out.dtype));
  ConcatPlan plan;
  plan.rows = 1;
  for (int32_t k = 0; k < a; ++k) plan.rows *= out.dims[k];
  int64_t inner = esize;
  for (int32_t k = a + 1; k < rank; ++k) inner *= out.dims[k];
  int64_t offset = 0;
  for (const auto& in : spec.inputs) {
    if (!in.present || in.dtype != out.dtype || !knownDims(in.dims)) return std::nullopt;
    if (in.dims.nbDims != rank) return std::nullopt;
    const int64_t bytes = in.dims[a] * inner;
    plan.rowBytes.push_back(bytes);
    plan.offsetBytes.push_back(offset);
    offset += bytes;
  }
  plan.pitchBytes = offset;
  if (offset != out.dims[a] * inner) return std::nullopt;
  return plan;
}

class ConcatKernel final : public Kernel {
 public:
  explicit ConcatKernel(ConcatPlan plan) : plan_(std::move(plan)) {}
  void execute(const ir::KernelContext& ctx) const override {
    for (std::size_t i = 0; i < plan_.rowBytes.size(); ++i) {
      ConcatCopyParams p;
      p.x = ctx.inputs[i].data;
      p.y = ctx.output(0).data;
      p.rows = plan_.rows;
      p.rowBytes = plan_.rowBytes[i];
      p.pitchBytes = plan_.pitchBytes;
      p.offsetBytes = plan_.offsetBytes[i];
      launchConcatCopy(p, ctx.stream);
    }
  }

 private:
  ConcatPlan plan_;
};

// --- Gather ------------------------------------------------------------------------------------

int64_t product(const Dims& dims, int32_t begin, int32_t end) {
  int64_t n = 1;
  for (int32_t k = begin; k < end; ++k) n *= dims[k];
  return n;
}

std::optional<GatherParams> planGather(const NodeSpec& spec) {
  if (spec.inputs.size() != 2 || spec.outputs.size() != 1) return std::nullopt;
  const ir::TensorInfo& data = spec.inputs[0];
  const ir::TensorInfo& indices = spec.inputs[1];
  if (!data.present || !indices.present || !movableType(data.dtype)) return std::nullopt;
  if (indices.dtype != DataType::kINT32 && indices.dtype != DataType::kINT64) return std::nullopt;
  if (!knownDims(data.dims) || !knownDims(indices.dims)) return std::nullopt;
  if (spec.outputs[0].dtype != data.dtype) return std::nullopt;
  const ir::Attributes& attrs = spec.node.attrs;
  if (attrs.getInt("mode", static_cast<int64_t>(GatherMode::kDEFAULT)) !=
      static_cast<int64_t>(GatherMode::kDEFAULT)) {
    return std::nullopt;
  }
  const int32_t r = data.dims.nbDims;
  const int32_t q = indices.dims.nbDims;
  const int64_t rawAxis = attrs.getInt("axis", 0);
  const int64_t axis = rawAxis < 0 ? rawAxis + r : rawAxis;
  const int64_t batch = attrs.getInt("num_elementwise_dims", 0);
  if (r < 1 || axis < 0 || axis >= r || batch < 0 || batch > axis || batch > q) {
    return std::nullopt;
  }
  const auto a = static_cast<int32_t>(axis);
  const auto b = static_cast<int32_t>(batch);
  GatherParams p;
  p.indexBytes = static_cast<int32_t>(elementSize(indices.dtype));
  p.elementBytes = static_cast<int32_t>(elementSize(data.dtype));
  p.batches = product(data.dims, 0, b);
  p.outer = product(data.dims, b, a);
  p.n = data.dims[a];
  p.gathers = product(indices.dims, b, q);
  p.slice = product(data.dims, a + 1, r);
  if (p.batches * p.outer * p.gathers * p.slice != volume(spec.outputs[0].dims)) {
    return std::nullopt;
  }
  // Constant indices are checked now, as the reference checks them (the build fails first).
  if (indices.constData != nullptr) {
    const auto values = ops::intValues(indices.dtype, indices.constData, volume(indices.dims));
    for (int64_t v : values) {
      if (v < -p.n || v >= p.n) return std::nullopt;
    }
  }
  return p;
}

class GatherKernel final : public Kernel {
 public:
  explicit GatherKernel(const GatherParams& params) : params_(params) {}
  void execute(const ir::KernelContext& ctx) const override {
    GatherParams p = params_;
    p.data = ctx.input(0).data;
    p.indices = ctx.input(1).data;
    p.y = ctx.output(0).data;
    // Move whole slices as 16-, 8- or 4-byte words where sizes and addresses allow.
    const int64_t sliceBytes = p.slice * p.elementBytes;
    const auto aligned = [&](int64_t w) {
      return sliceBytes % w == 0 && reinterpret_cast<uintptr_t>(p.data) % w == 0 &&
             reinterpret_cast<uintptr_t>(p.y) % w == 0;
    };
    for (int64_t w : {int64_t{16}, int64_t{8}, int64_t{4}}) {
      if (w > p.elementBytes && aligned(w)) {
        p.slice = sliceBytes / w;
        p.elementBytes = static_cast<int32_t>(w);
        break;
      }
    }
    launchGather(p, ctx.stream);
  }

 private:
  GatherParams params_;
};

// --- Identity ----------------------------------------------------------------------------------

bool castable(DataType type) {
  return type == DataType::kFLOAT || type == DataType::kHALF || type == DataType::kBF16 ||
         type == DataType::kINT32 || type == DataType::kINT64 || type == DataType::kBOOL ||
         type == DataType::kINT8 || type == DataType::kUINT8;
}

class IdentityKernel final : public Kernel {
 public:
  IdentityKernel(DataType from, DataType to) : from_(from), to_(to) {}
  void execute(const ir::KernelContext& ctx) const override {
    // The input's dims at run time: an Identity may take data-dependent shapes.
    const int64_t count = ctx.input(0).count();
    if (count <= 0) return;
    if (from_ == to_) {
      return copyBytes(ctx, static_cast<std::size_t>(count) * elementSize(from_),
                       "cudaMemcpyAsync (Identity)");
    }
    CastParams p;
    p.x = ctx.input(0).data;
    p.y = ctx.output(0).data;
    p.count = count;
    p.from = static_cast<int32_t>(from_);
    p.to = static_cast<int32_t>(to_);
    launchCast(p, ctx.stream);
  }

 private:
  DataType from_;
  DataType to_;
};

class IdentityTactic final : public Tactic {
 public:
  std::string_view name() const override { return "cuda.identity"; }
  DeviceType device() const override { return DeviceType::kGPU; }
  bool supports(const NodeSpec& spec) const override {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1 || !spec.inputs[0].present) {
      return false;
    }
    const DataType from = spec.inputs[0].dtype;
    const DataType to = spec.outputs[0].dtype;
    return from == to || (castable(from) && castable(to));
  }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& spec) const override {
    if (!supports(spec)) unsupported(spec, name());
    return std::make_unique<IdentityKernel>(spec.inputs[0].dtype, spec.outputs[0].dtype);
  }
};

// --- PadToChannelsLast ------------------------------------------------------------------------

std::optional<PadChannelsParams> planPadChannels(const NodeSpec& spec) {
  if (spec.inputs.size() != 1 || spec.outputs.size() != 1 || !spec.inputs[0].present ||
      !movableType(spec.inputs[0].dtype) || spec.outputs[0].dtype != spec.inputs[0].dtype) {
    return std::nullopt;
  }
  const Dims& x = spec.inputs[0].dims;
  const Dims& y = spec.outputs[0].dims;
  if (x.nbDims != 4 || y.nbDims != 4 || !knownDims(x) || !knownDims(y) || y[3] < x[1]) {
    return std::nullopt;
  }
  PadChannelsParams p;
  p.elementBytes = static_cast<int32_t>(elementSize(spec.inputs[0].dtype));
  p.n = x[0];
  p.c = x[1];
  p.plane = x[2] * x[3];
  p.channels = y[3];
  return p;
}

}  // namespace

void registerCudaDataMovementTactics(TacticRegistry& registry) {
  registry.add("Shuffle", std::make_unique<PlannedTactic<CopyPlan, StridedCopyKernel>>(
                              "cuda.shuffle", planShuffle));
  registry.add("Slice",
               std::make_unique<PlannedTactic<CopyPlan, SliceCopyKernel>>("cuda.slice", planSlice));
  registry.add("Concatenation", std::make_unique<PlannedTactic<ConcatPlan, ConcatKernel>>(
                                    "cuda.concatenation", planConcat));
  registry.add("Gather", std::make_unique<PlannedTactic<GatherParams, GatherKernel>>("cuda.gather",
                                                                                     planGather));
  registry.add("Identity", std::make_unique<IdentityTactic>());
  registry.add(
      "PadToChannelsLast",
      std::make_unique<PlannedTactic<PadChannelsParams,
                                     InputOutputKernel<PadChannelsParams, launchPadChannels>>>(
          "cuda.pad_to_channels_last", planPadChannels));
}

}  // namespace kiln::backends::cuda
