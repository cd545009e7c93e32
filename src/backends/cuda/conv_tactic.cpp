// "cuda.conv.cudnn" (Convolution, cudnnConvolutionForward) and "cuda.deconv.cudnn"
// (Deconvolution, cudnnConvolutionBackwardData: a transposed convolution is the data gradient
// of the convolution with the same weights), NCHW, 1-d (as 2-d with H = 1), 2-d and 3-d, with
// groups, stride and dilation. All float tensors (x, w, bias, residual, y) share one type:
// float32, half or bfloat16; the latter two run in cuDNN's PSEUDO_HALF / PSEUDO_BFLOAT16
// configurations (16-bit tensors, FP32 compute type) with tensor-op math.
//
// Channels-last convolutions (layout NHWC, 2-d; ops/window_util.h) describe x, y and the
// residual with CUDNN_TENSOR_NHWC and the KRSC kernel as an NHWC filter: the layout cuDNN's
// tensor-core kernels read without transposing. The epilogue kernel then adds the bias along
// the last dimension, and a zero-padded copy of x pads H and W of each image.
//
// cuDNN pads symmetrically. Where kiln's padding (explicit pre/post, SAME, ROUND_UP) gives the
// same windows as a symmetric padding of `pre`, cuDNN runs on the tensors directly; otherwise
// the convolution's input is zero-padded into the workspace and cuDNN runs unpadded, and the
// deconvolution computes its full, uncropped output into the workspace, which is then cropped.
//
// FP32 math is CUDNN_FMA_MATH (no TF32), and the FFT and non-fused Winograd algorithms are
// skipped, so results match the FP32 reference. The epilogue (ops/epilogue.h) is fused into
// cudnnConvolutionBiasActivationForward for float32 bias + residual + ReLU; otherwise it runs
// after the convolution in pointwise_kernels.cu.
#include <cudnn.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backends/cuda/library_check.h"
#include "backends/cuda/matrix_tactics.h"
#include "backends/cuda/planned_tactic.h"
#include "backends/cuda/pointwise_kernels.h"
#include "core/shape_util.h"
#include "ir/math_mode.h"
#include "ops/window_util.h"

namespace kiln::backends::cuda {

namespace {

constexpr std::string_view kConvTactic = "cuda.conv.cudnn";
constexpr std::string_view kDeconvTactic = "cuda.deconv.cudnn";

// cudnnConvolutionBiasActivationForward computes act(conv + alpha2 * z + bias); without a
// residual z is the (unwritten) output with alpha2 = 0, as BLAS's beta = 0: cuDNN does not read
// it (the GPU tactic tests poison the output with NaN, which would show through otherwise).
// Fusing saves the epilogue kernel's read and write of the whole output.
constexpr bool kFuseWithoutResidual = true;

// Whether half / bfloat16 convolutions on the heuristic's algorithm use
// cudnnConvolutionBiasActivationForward too, where it is the precomputed implicit GEMM (the timed
// algorithms always try it). The H100 runs of the timed tactics showed the fused call passes with
// 16-bit data and a bias of the node's type; where cuDNN refuses a timed algorithm, timing the
// tactic fails and the builder takes another.
// The fused call saves the epilogue kernel's pass over the output (ResNet-50 batch 32: 17 of
// them, 0.13 ms).
constexpr bool kFuseReducedTypes = true;

using Extents = std::array<int64_t, 3>;

struct ConvPlan {
  bool transposed = false;
  bool channelsLast = false;  // x, y, residual [N, H, W, C], kernel KRSC (2-d convolution)
  bool empty = false;         // the output has no elements: nothing to do
  int32_t spatial = 2;        // cuDNN's spatial rank: 1-d runs as 2-d with H = 1
  int64_t n = 0, c = 0, k = 0, groups = 1;  // x [n, c, in...], y [n, k, out...]
  ops::Geometry3 g;
  // Convolution: x zero-padded into the workspace (extents `work`, x at offset g.pre).
  // Deconvolution: the full output in the workspace (extents `work`), cropped at g.pre.
  bool shifted = false;
  Extents work{1, 1, 1};
  Extents pad{0, 0, 0};  // cuDNN's symmetric padding
  int32_t biasInput = -1;
  int32_t residualInput = -1;
  ops::Epilogue epilogue;
  bool tf32 = false;  // tensor-core (TF32) algorithms allowed (BuilderFlag::kTF32)
  FloatType type = FloatType::kFloat;
  // Convolution: the cuDNN algorithm a timed tactic runs; -1: the heuristic's first choice.
  int32_t algorithm = -1;
};

int64_t product(const Extents& e) {
  return e[0] * e[1] * e[2];
}

bool fitsInt(int64_t v) {
  return v >= 0 && v <= std::numeric_limits<int32_t>::max();
}

// Whether cuDNN with symmetric padding pre reads the same windows as kiln in dimension d.
bool directConv(const ops::Geometry3& g, std::size_t d, int64_t kernelExtent) {
  return g.pre[d] >= 0 && g.pre[d] < kernelExtent &&
         ops::floorDiv(g.in[d] + 2 * g.pre[d] - kernelExtent, g.stride[d]) + 1 == g.out[d];
}

// Likewise for the transposed convolution: cuDNN's output is (in - 1) * stride + extent -
// 2 * pre, plus up to stride - 1 cells at the end (PyTorch's output_padding), which covers
// 0 <= pre - post < stride.
bool directDeconv(const ops::Geometry3& g, std::size_t d, int64_t kernelExtent) {
  const int64_t extra = g.pre[d] - g.post[d];
  return g.pre[d] >= 0 && g.post[d] >= 0 && extra >= 0 && extra < g.stride[d] &&
         g.pre[d] < kernelExtent &&
         ops::floorDiv(g.out[d] + 2 * g.pre[d] - kernelExtent, g.stride[d]) + 1 == g.in[d];
}

std::optional<ConvPlan> planConv(const NodeSpec& spec, bool transposed) {
  const std::optional<FloatType> type = uniformFloatType(spec);
  if (spec.outputs.size() != 1 || spec.inputs.size() < 2 || !spec.inputs[0].present ||
      !spec.inputs[1].present || !type) {
    return std::nullopt;
  }
  const auto& attrs = spec.node.attrs;
  const ops::WindowParams params = ops::readWindowParams(attrs, "kernel");
  if (!ops::checkWindowParams(params, "kernel size").empty()) return std::nullopt;
  const int32_t rank = params.rank();
  const bool channelsLast = ops::channelsLast(attrs);
  if (channelsLast && (transposed || rank != 2 || spec.inputs[0].dims.nbDims != 4 ||
                       spec.outputs[0].dims.nbDims != 4 || spec.inputs[1].dims.nbDims != 4)) {
    return std::nullopt;
  }
  // Channels-first views: [N, C, spatial...] and the kernel [K, C/groups, kernel...].
  const Dims x = channelsLast ? ops::toChannelsFirst(spec.inputs[0].dims) : spec.inputs[0].dims;
  const Dims y = channelsLast ? ops::toChannelsFirst(spec.outputs[0].dims) : spec.outputs[0].dims;
  const Dims w = channelsLast ? ops::toChannelsFirst(spec.inputs[1].dims) : spec.inputs[1].dims;
  if (rank < 1 || rank > 3 || x.nbDims != rank + 2 || y.nbDims != rank + 2 ||
      w.nbDims != rank + 2) {
    return std::nullopt;
  }
  ConvPlan plan;
  plan.type = *type;
  plan.transposed = transposed;
  plan.channelsLast = channelsLast;
  plan.spatial = rank == 3 ? 3 : 2;
  plan.n = x[0];
  plan.c = x[1];
  plan.k = y[1];
  plan.groups = attrs.getInt("groups", 1);
  if (plan.groups < 1 || plan.c % plan.groups != 0 || plan.k % plan.groups != 0 ||
      plan.k != attrs.getInt("num_output", 0) || y[0] != plan.n) {
    return std::nullopt;
  }
  plan.epilogue = ops::Epilogue::of(attrs);
  plan.tf32 = ir::allowsTf32(attrs);
  if (plan.epilogue.residualInput) {
    const auto i = static_cast<std::size_t>(*plan.epilogue.residualInput);
    if (i >= spec.inputs.size() || !spec.inputs[i].present ||
        !(spec.inputs[i].dims == spec.outputs[0].dims)) {
      return std::nullopt;
    }
    plan.residualInput = *plan.epilogue.residualInput;
  }
  if (spec.inputs.size() > 2 && spec.inputs[2].present) {
    if (volume(spec.inputs[2].dims) != plan.k) return std::nullopt;
    plan.biasInput = 2;
  }
  if (volume(y) == 0) {
    plan.empty = true;
    return plan;
  }
  // An empty input with a non-empty output is bias and epilogue only: the host fallback does it.
  if (volume(x) == 0 || volume(w) == 0) return std::nullopt;

  plan.g = ops::makeGeometry(params, x, y, transposed, ops::CeilRule::kPlainCeil);
  const ops::Geometry3& g = plan.g;
  Extents extent{};
  bool direct = true;
  for (std::size_t d = 0; d < 3; ++d) {
    extent[d] = ops::dilatedExtent(g.kernel[d], g.dilation[d]);
    direct = direct && (transposed ? directDeconv(g, d, extent[d]) : directConv(g, d, extent[d]));
  }
  plan.shifted = !direct;
  for (std::size_t d = 0; d < 3; ++d) {
    if (plan.shifted) {
      plan.work[d] = transposed ? (g.in[d] - 1) * g.stride[d] + extent[d]
                                : (g.out[d] - 1) * g.stride[d] + extent[d];
    } else {
      plan.pad[d] = g.pre[d];
    }
  }
  // cuDNN's legacy API takes int extents and tensors of fewer than 2^31 elements.
  const int64_t workChannels = transposed ? plan.k : plan.c;
  for (int64_t v :
       {volume(x), volume(y), volume(w), plan.n * workChannels * product(plan.work), g.stride[0],
        g.stride[1], g.stride[2], g.dilation[0], g.dilation[1], g.dilation[2], plan.groups}) {
    if (!fitsInt(v)) return std::nullopt;
  }
  return plan;
}

template <typename T, cudnnStatus_t (*kCreate)(T*), cudnnStatus_t (*kDestroy)(T)>
class Descriptor {
 public:
  Descriptor() { check(kCreate(&desc_), "cudnnCreate...Descriptor"); }
  ~Descriptor() { kDestroy(desc_); }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  T get() const noexcept { return desc_; }

 private:
  T desc_ = nullptr;
};

using TensorDesc =
    Descriptor<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor>;
using FilterDesc =
    Descriptor<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor>;
using ConvDesc = Descriptor<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor,
                            cudnnDestroyConvolutionDescriptor>;
using ActivationDesc = Descriptor<cudnnActivationDescriptor_t, cudnnCreateActivationDescriptor,
                                  cudnnDestroyActivationDescriptor>;

// [n, channels, the last `spatial` of e] as cuDNN's int dims.
std::vector<int> nchw(int64_t n, int64_t channels, const Extents& e, int32_t spatial) {
  std::vector<int> dims{static_cast<int>(n), static_cast<int>(channels)};
  for (int32_t i = 3 - spatial; i < 3; ++i) dims.push_back(static_cast<int>(e[i]));
  return dims;
}

std::vector<int> lastOf(const Extents& e, int32_t spatial) {
  std::vector<int> v;
  for (int32_t i = 3 - spatial; i < 3; ++i) v.push_back(static_cast<int>(e[i]));
  return v;
}

cudnnDataType_t cudnnType(FloatType type) {
  switch (type) {
    case FloatType::kHalf:
      return CUDNN_DATA_HALF;
    case FloatType::kBFloat16:
      return CUDNN_DATA_BFLOAT16;
    case FloatType::kFloat:
      break;
  }
  return CUDNN_DATA_FLOAT;
}

// @p dims are in NCHW order whatever the format; NHWC gives them channels-last strides.
void setTensor(const TensorDesc& desc, cudnnDataType_t type, const std::vector<int>& dims,
               cudnnTensorFormat_t format = CUDNN_TENSOR_NCHW) {
  check(cudnnSetTensorNdDescriptorEx(desc.get(), format, type, static_cast<int>(dims.size()),
                                     dims.data()),
        "cudnnSetTensorNdDescriptorEx");
}

std::string dimsText(const std::vector<int>& dims) {
  std::string s = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

class ConvKernel final : public Kernel {
 public:
  explicit ConvKernel(const ConvPlan& plan) : plan_(plan) {
    if (plan.empty) return;
    const ops::Geometry3& g = plan.g;
    const int32_t s = plan.spatial;
    // Convolution: x (or padded x) -> y. Deconvolution: the data gradient dx = y (or the full
    // output) of dy = x.
    const Extents xExtents = !plan.transposed && plan.shifted ? plan.work : g.in;
    const Extents yExtents = plan.transposed && plan.shifted ? plan.work : g.out;
    xDims_ = nchw(plan.n, plan.c, xExtents, s);
    yDims_ = nchw(plan.n, plan.k, yExtents, s);
    const cudnnDataType_t dataType = cudnnType(plan.type);
    const cudnnTensorFormat_t format = plan.channelsLast ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
    setTensor(x_, dataType, xDims_, format);
    setTensor(y_, dataType, yDims_, format);
    std::vector<int> filter = plan.transposed ? nchw(plan.c, plan.k / plan.groups, g.kernel, s)
                                              : nchw(plan.k, plan.c / plan.groups, g.kernel, s);
    // The filter dims are KCRS whatever the format; NHWC means KRSC in memory.
    check(cudnnSetFilterNdDescriptor(w_.get(), dataType, format, static_cast<int>(filter.size()),
                                     filter.data()),
          "cudnnSetFilterNdDescriptor");
    const auto pad = lastOf(plan.pad, s);
    const auto stride = lastOf(g.stride, s);
    const auto dilation = lastOf(g.dilation, s);
    // The compute type is FLOAT for every data type (PSEUDO_HALF / PSEUDO_BFLOAT16 configs):
    // 16-bit tensors accumulate in FP32.
    check(
        cudnnSetConvolutionNdDescriptor(conv_.get(), s, pad.data(), stride.data(), dilation.data(),
                                        CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
        "cudnnSetConvolutionNdDescriptor");
    check(cudnnSetConvolutionGroupCount(conv_.get(), static_cast<int>(plan.groups)),
          "cudnnSetConvolutionGroupCount");
    setMathType(reduced() ? CUDNN_TENSOR_OP_MATH : plan.tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH);

    // The forward convolution of the "input" side must give exactly the "output" side.
    const std::vector<int>& forwardIn = plan.transposed ? yDims_ : xDims_;
    const std::vector<int>& forwardOut = plan.transposed ? xDims_ : yDims_;
    std::vector<int> computed(forwardOut.size());
    check(cudnnGetConvolutionNdForwardOutputDim(conv_.get(), plan.transposed ? y_.get() : x_.get(),
                                                w_.get(), static_cast<int>(computed.size()),
                                                computed.data()),
          "cudnnGetConvolutionNdForwardOutputDim");
    if (computed != forwardOut) {
      fail(ErrorCode::kINTERNAL_ERROR, "cuDNN convolution of ", dimsText(forwardIn), " gives ",
           dimsText(computed), ", not ", dimsText(forwardOut));
    }

    // The timed tactics try the fused call for 16-bit types too: where cuDNN refuses it, their
    // timing fails and the builder takes another tactic.
    // cuDNN takes no activation (IDENTITY) with the implicit precomputed-GEMM algorithm only.
    const bool relu = plan.epilogue.activation == ActivationType::kRELU;
    const bool identity =
        !plan.epilogue.activation &&
        plan.algorithm == static_cast<int32_t>(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM);
    fused_ = !plan.transposed && (relu || identity) && plan.biasInput >= 0 &&
             (plan.residualInput >= 0 || kFuseWithoutResidual) &&
             (!reduced() || kFuseReducedTypes || plan.algorithm >= 0);
    if (fused_) {
      std::vector<int> biasDims(xDims_.size(), 1);
      biasDims[1] = static_cast<int>(plan.k);
      setTensor(bias_, dataType, biasDims, format);
      check(cudnnSetActivationDescriptor(activation_.get(),
                                         relu ? CUDNN_ACTIVATION_RELU : CUDNN_ACTIVATION_IDENTITY,
                                         CUDNN_NOT_PROPAGATE_NAN, 0.0),
            "cudnnSetActivationDescriptor");
    }
    pickAlgorithm();
    // The heuristic's algorithm with 16-bit data is fused on the precomputed implicit GEMM only,
    // the pairing the H100 runs showed cuDNN taking: a layer the builder does not time (one
    // tactic, optimization level 0) must not meet a refusal at inference.
    if (fused_ && reduced() && plan.algorithm < 0 &&
        forwardAlgo_ != CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM) {
      fused_ = false;
    }
    shiftBytes_ =
        plan.shifted
            ? alignWorkspace(static_cast<std::size_t>(plan.n * (plan.transposed ? plan.k : plan.c) *
                                                      product(plan.work)) *
                             floatTypeSize(plan.type))
            : 0;
  }

  std::size_t workspaceBytes() const override { return shiftBytes_ + algoBytes_; }

  void execute(const ir::KernelContext& ctx) const override {
    if (plan_.empty) return;
    const auto stream = static_cast<cudaStream_t>(ctx.stream);
    cudnnHandle_t handle = threadCudnnHandle();
    check(cudnnSetStream(handle, stream), "cudnnSetStream");
    auto input = [&](int32_t i) -> const void* { return i >= 0 ? ctx.input(i).data : nullptr; };
    const void* x = input(0);
    const void* w = input(1);
    const void* bias = input(plan_.biasInput);
    const void* residual = input(plan_.residualInput);
    void* y = ctx.output(0).data;
    void* shift = ctx.workspace;
    void* algoWorkspace =
        algoBytes_ > 0 ? static_cast<std::byte*>(ctx.workspace) + shiftBytes_ : nullptr;
    const ops::Geometry3& g = plan_.g;
    // Scaling factors are float for every data type (double only for double data).
    const float one = 1.0f;
    const float zero = 0.0f;

    if (!plan_.transposed) {
      const void* source = x;
      if (plan_.shifted && plan_.channelsLast) {
        // Per image, [H, W, C] into [workH, workW, C] at (pre H, pre W, 0); 2-d only, so the
        // geometry's first dimension has extent 1.
        launchShiftCopy(plan_.type, shift, {plan_.work[1], plan_.work[2], plan_.c}, x,
                        {g.in[1], g.in[2], plan_.c}, {g.pre[1], g.pre[2], 0}, plan_.n, stream);
        source = shift;
      } else if (plan_.shifted) {
        launchShiftCopy(plan_.type, shift, plan_.work, x, g.in, g.pre, plan_.n * plan_.c, stream);
        source = shift;
      }
      if (fused_) {
        const void* z = residual != nullptr ? residual : y;
        const float alpha2 = residual != nullptr ? 1.0f : 0.0f;
        check(cudnnConvolutionBiasActivationForward(handle, &one, x_.get(), source, w_.get(), w,
                                                    conv_.get(), forwardAlgo_, algoWorkspace,
                                                    algoBytes_, &alpha2, y_.get(), z, bias_.get(),
                                                    bias, activation_.get(), y_.get(), y),
              "cudnnConvolutionBiasActivationForward");
        return;
      }
      check(cudnnConvolutionForward(handle, &one, x_.get(), source, w_.get(), w, conv_.get(),
                                    forwardAlgo_, algoWorkspace, algoBytes_, &zero, y_.get(), y),
            "cudnnConvolutionForward");
    } else {
      void* target = plan_.shifted ? shift : y;
      check(cudnnConvolutionBackwardData(handle, &one, w_.get(), w, x_.get(), x, conv_.get(),
                                         backwardAlgo_, algoWorkspace, algoBytes_, &zero, y_.get(),
                                         target),
            "cudnnConvolutionBackwardData");
      if (plan_.shifted) {
        const Extents crop{-g.pre[0], -g.pre[1], -g.pre[2]};
        launchShiftCopy(plan_.type, y, g.out, shift, plan_.work, crop, plan_.n * plan_.k, stream);
      }
    }
    // The bias is per output channel: the outermost dimension after N (NCHW), or the last one.
    launchEpilogue(plan_.type, y, plan_.n * plan_.k * g.outVolume(), bias,
                   plan_.channelsLast ? 1 : g.outVolume(), plan_.k, residual,
                   deviceActivation(plan_.epilogue), stream);
  }

 private:
  bool reduced() const noexcept { return plan_.type != FloatType::kFloat; }

  void setMathType(cudnnMathType_t math) {
    check(cudnnSetConvolutionMathType(conv_.get(), math), "cudnnSetConvolutionMathType");
  }

  // The first of cuDNN's heuristic results (best first) that is usable: it ran, is not an FFT or
  // non-fused Winograd algorithm (less exact), fits the workspace and, for float32 without TF32,
  // uses no tensor cores. For half / bfloat16 a tensor-op result is preferred to an earlier FMA
  // one. Returns the index into @p perf, or -1.
  template <typename Perf, typename Algo>
  int choose(const Perf* perf, int found, std::initializer_list<Algo> inexact) const {
    auto usable = [&](const Perf& p) {
      for (Algo a : inexact) {
        if (p.algo == a) return false;
      }
      return p.status == CUDNN_STATUS_SUCCESS && p.memory <= kLibraryWorkspaceBytes &&
             (reduced() || plan_.tf32 || fmaOnly(p.mathType));
    };
    if (reduced()) {
      for (int i = 0; i < found; ++i) {
        if (usable(perf[i]) && perf[i].mathType == CUDNN_TENSOR_OP_MATH) return i;
      }
    }
    for (int i = 0; i < found; ++i) {
      if (usable(perf[i])) return i;
    }
    return -1;
  }

  void pickAlgorithm() {
    cudnnHandle_t handle = threadCudnnHandle();
    if (!plan_.transposed && plan_.algorithm >= 0) {
      // A timed tactic's algorithm: refused here (the builder then skips the tactic) where
      // cuDNN has no kernel of it for these descriptors or it needs too much workspace.
      forwardAlgo_ = static_cast<cudnnConvolutionFwdAlgo_t>(plan_.algorithm);
      check(cudnnGetConvolutionForwardWorkspaceSize(handle, x_.get(), w_.get(), conv_.get(),
                                                    y_.get(), forwardAlgo_, &algoBytes_),
            "cudnnGetConvolutionForwardWorkspaceSize");
      if (algoBytes_ > kLibraryWorkspaceBytes) {
        fail(ErrorCode::kUNSUPPORTED_NODE, "cuDNN algorithm ", plan_.algorithm, " needs ",
             algoBytes_, " bytes of workspace");
      }
      return;
    }
    if (!plan_.transposed) {
      std::array<cudnnConvolutionFwdAlgoPerf_t, CUDNN_CONVOLUTION_FWD_ALGO_COUNT> perf{};
      int found = 0;
      check(cudnnGetConvolutionForwardAlgorithm_v7(handle, x_.get(), w_.get(), conv_.get(),
                                                   y_.get(), static_cast<int>(perf.size()), &found,
                                                   perf.data()),
            "cudnnGetConvolutionForwardAlgorithm_v7");
      const int i = choose(perf.data(), found,
                           {CUDNN_CONVOLUTION_FWD_ALGO_FFT, CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING,
                            CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED});
      forwardAlgo_ = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
      if (i >= 0) {
        const auto& p = perf[static_cast<std::size_t>(i)];
        forwardAlgo_ = p.algo;
        algoBytes_ = p.memory;
        if (!reduced()) return;
        // The result may be for another math type than the descriptor's (an FMA fallback under
        // TENSOR_OP_MATH): run it as chosen. Float32 keeps its descriptor, which excludes TF32.
        setMathType(p.mathType);
      }
      // The size for exactly this algorithm, math type and the node's data types.
      std::size_t bytes = 0;
      check(cudnnGetConvolutionForwardWorkspaceSize(handle, x_.get(), w_.get(), conv_.get(),
                                                    y_.get(), forwardAlgo_, &bytes),
            "cudnnGetConvolutionForwardWorkspaceSize");
      algoBytes_ = std::max(algoBytes_, bytes);
    } else {
      std::array<cudnnConvolutionBwdDataAlgoPerf_t, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT> perf{};
      int found = 0;
      check(cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, w_.get(), x_.get(), conv_.get(),
                                                        y_.get(), static_cast<int>(perf.size()),
                                                        &found, perf.data()),
            "cudnnGetConvolutionBackwardDataAlgorithm_v7");
      const int i =
          choose(perf.data(), found,
                 {CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT, CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING,
                  CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED});
      // ALGO_0 accumulates with atomics, which 16-bit outputs would round at every step.
      backwardAlgo_ =
          reduced() ? CUDNN_CONVOLUTION_BWD_DATA_ALGO_1 : CUDNN_CONVOLUTION_BWD_DATA_ALGO_0;
      if (i >= 0) {
        const auto& p = perf[static_cast<std::size_t>(i)];
        backwardAlgo_ = p.algo;
        algoBytes_ = p.memory;
        if (!reduced()) return;
        setMathType(p.mathType);
      }
      std::size_t bytes = 0;
      check(cudnnGetConvolutionBackwardDataWorkspaceSize(handle, w_.get(), x_.get(), conv_.get(),
                                                         y_.get(), backwardAlgo_, &bytes),
            "cudnnGetConvolutionBackwardDataWorkspaceSize");
      algoBytes_ = std::max(algoBytes_, bytes);
    }
  }

  static bool fmaOnly(cudnnMathType_t math) {
    return math != CUDNN_TENSOR_OP_MATH && math != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
  }

  ConvPlan plan_;
  std::vector<int> xDims_;
  std::vector<int> yDims_;
  TensorDesc x_;  // the convolution's input side: x, padded x, or dy (= x) of a deconvolution
  TensorDesc y_;  // its output side: y, or dx (= y, or the full output) of a deconvolution
  FilterDesc w_;
  ConvDesc conv_;
  TensorDesc bias_;
  ActivationDesc activation_;
  bool fused_ = false;
  cudnnConvolutionFwdAlgo_t forwardAlgo_ = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  cudnnConvolutionBwdDataAlgo_t backwardAlgo_ = CUDNN_CONVOLUTION_BWD_DATA_ALGO_0;
  std::size_t algoBytes_ = 0;
  std::size_t shiftBytes_ = 0;
};

std::optional<ConvPlan> planForward(const NodeSpec& spec) {
  return planConv(spec, false);
}
template <cudnnConvolutionFwdAlgo_t Algorithm>
std::optional<ConvPlan> planForwardWith(const NodeSpec& spec) {
  auto plan = planConv(spec, false);
  // cuDNN documents its Winograd forward algorithm for NCHW tensors only.
  if (plan && plan->channelsLast && Algorithm == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD) {
    return std::nullopt;
  }
  if (plan) plan->algorithm = static_cast<int32_t>(Algorithm);
  return plan;
}
std::optional<ConvPlan> planTransposed(const NodeSpec& spec) {
  return planConv(spec, true);
}

}  // namespace

void registerConvolutionTactics(TacticRegistry& registry) {
  using ConvTactic = PlannedTactic<ConvPlan, ConvKernel>;
  registry.add("Convolution", std::make_unique<ConvTactic>(std::string(kConvTactic), planForward));
  // The exact implicit-GEMM and Winograd algorithms as tactics of their own, timed by the
  // builder (#9: cuDNN's heuristic choice is often far from the fastest). FFT and non-fused
  // Winograd stay out (they round differently from the reference), and so do the explicit GEMM
  // (its im2col workspace rarely fits) and DIRECT (seconds per call at batch 256, which made
  // building a batch-256 ResNet-50 outlast a 10-minute device call).
  const auto timed = [&](std::string_view suffix, ConvTactic::Planner planner) {
    registry.add("Convolution", std::make_unique<ConvTactic>(
                                    std::string(kConvTactic) + "." + std::string(suffix), planner));
  };
  timed("implicit_gemm", planForwardWith<CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM>);
  timed("implicit_precomp_gemm", planForwardWith<CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM>);
  timed("winograd", planForwardWith<CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD>);
  registry.add("Deconvolution",
               std::make_unique<ConvTactic>(std::string(kDeconvTactic), planTransposed));
}

}  // namespace kiln::backends::cuda
