// ConvolutionLayer, DeconvolutionLayer, NetworkDefinition::addConvolution and addDeconvolution.
//
// The kernel is input 1 of the node and the bias input 2, as constants made from the user's
// weights. The kernel's shape comes from its value count: [K, count / (K * kernel volume),
// kernel...] for a convolution, [C, count / (C * kernel volume), kernel...] for a deconvolution.
// TensorRT lets users add the layer first and then set the number of groups, the padding (or
// the kernel itself, through setKernelWeights or setInput(1, tensor)); so the add call refuses
// only arguments that no later setting can fix (weights that fit no group count among them),
// and shape inference reports the rest, naming the layer, when its shapes are needed.
#include <optional>

#include "core/shape_util.h"
#include "network/layers/input_shape.h"
#include "network/layers/window_settings.h"
#include "network/network_impl.h"

namespace kiln {

using detail::NetworkImpl;

namespace {

constexpr std::string_view kKernelAttr = "kernel";

void checkWeightsArgument(const Weights& weights, std::string_view what) {
  if (weights.count < 0) {
    fail(ErrorCode::kINVALID_ARGUMENT, what, " have a negative count (", weights.count, ")");
  }
  if (weights.values == nullptr && weights.count > 0) {
    fail(ErrorCode::kINVALID_ARGUMENT, what, " have count ", weights.count, " but no values");
  }
}

// [lead, count / (lead * volume(kernel)), kernel...]; @p layout describes the expected shape.
Dims kernelWeightDims(int64_t lead, int64_t count, const Dims& kernel, std::string_view layout) {
  int64_t unit = lead;
  for (int32_t i = 0; i < kernel.nbDims; ++i) unit = checkedMul(unit, kernel[i], "kernel weights");
  if (unit <= 0 || count % unit != 0) {
    fail(ErrorCode::kINVALID_ARGUMENT, "kernel weights have ", count, " values; the layout ",
         layout, " needs a multiple of ", unit);
  }
  Dims dims;
  dims.nbDims = kernel.nbDims + 2;
  dims[0] = lead;
  dims[1] = count / unit;
  for (int32_t i = 0; i < kernel.nbDims; ++i) dims[2 + i] = kernel[i];
  return dims;
}

std::string layoutText(bool transposed, int64_t lead, const Dims& kernel) {
  return transposed ? detail::concat("[C, K/groups, kernel...] with C = ", lead, " and kernel ",
                                     toString(kernel))
                    : detail::concat("[K, C/groups, kernel...] with K = ", lead, " and kernel ",
                                     toString(kernel));
}

// The channel count a deconvolution's kernel shape needs.
int64_t deconvolutionChannels(const Dims& inputDims, std::string_view inputName) {
  const int64_t channels = inputDims.nbDims >= 2 ? inputDims[1] : -1;
  if (channels <= 0) {
    fail(ErrorCode::kINVALID_ARGUMENT, "input '", inputName, "' has shape ", toString(inputDims),
         "; the kernel layout [C, K/groups, kernel...] needs a known, positive channel count C");
  }
  return channels;
}

ir::NodeId addConvolutionLike(NetworkImpl& net, LayerType type, const Tensor& input,
                              int64_t nbOutputMaps, const Dims& kernelSize, const Weights& kernel,
                              const Weights& bias) {
  const bool transposed = type == LayerType::kDECONVOLUTION;
  const std::string prefix =
      detail::concat("layer '", net.uniqueLayerName(type), "' (", detail::opName(type), "): ");
  const ir::ValueId x = net.valueOf(input, "input");
  if (nbOutputMaps <= 0) {
    fail(ErrorCode::kINVALID_ARGUMENT, prefix, "the number of output maps must be positive, not ",
         nbOutputMaps);
  }
  if (auto problem = ops::checkWindowSize(kernelSize, "kernel size"); !problem.empty()) {
    fail(ErrorCode::kINVALID_ARGUMENT, prefix, problem);
  }
  try {
    checkWeightsArgument(kernel, "kernel weights");
    checkWeightsArgument(bias, "bias weights");
  } catch (const Error& e) {
    fail(e.code(), prefix, e.what());
  }
  if (bias.count != 0 && bias.count != nbOutputMaps) {
    fail(ErrorCode::kINVALID_ARGUMENT, prefix, "bias weights have ", bias.count,
         " values; the layer has ", nbOutputMaps, " output maps (give one per map, or none)");
  }

  // The weights are checked against the input's shape when it is known now (an unknown one is
  // checked by shape inference, which names the layer when its shapes are needed).
  const std::string inputName = net.graph().value(x).name;
  std::string unknownWhy;
  const std::optional<Dims> known = detail::currentDims(net, x, &unknownWhy);
  const bool haveDims = known && known->nbDims >= 0;
  if (haveDims && known->nbDims != kernelSize.nbDims + 2) {
    fail(ErrorCode::kINVALID_ARGUMENT, prefix, "input '", inputName, "' has shape ",
         toString(*known), " (rank ", known->nbDims, "); a kernel of size ", toString(kernelSize),
         " needs an input of rank ", kernelSize.nbDims + 2, " [N, C, spatial...]");
  }
  const int64_t channels = haveDims ? (*known)[1] : -1;

  // Shape of the kernel constant: [K, C/groups, kernel...] or [C, K/groups, kernel...]. The
  // group count may be set after the add call, so weights that fit some group count are kept.
  Dims kernelDims;
  if (kernel.count > 0) {
    try {
      if (transposed && !known) {
        fail(ErrorCode::kINVALID_ARGUMENT, "input '", inputName,
             "' has no valid shape yet, and the kernel layout [C, K/groups, kernel...] needs its "
             "channel count C (",
             unknownWhy, ")");
      }
      const int64_t lead = transposed ? deconvolutionChannels(*known, inputName) : nbOutputMaps;
      kernelDims = kernelWeightDims(lead, kernel.count, kernelSize,
                                    layoutText(transposed, lead, kernelSize));
    } catch (const Error& e) {
      fail(e.code(), prefix, e.what());
    }
    // The second extent is per group: the full count (K or C) divided by the group count,
    // which must divide the lead count (C or K) too.
    const int64_t full = transposed ? nbOutputMaps : channels;
    if (full >= 0 && full % kernelDims[1] != 0) {
      fail(ErrorCode::kINVALID_ARGUMENT, prefix, "kernel weights have ", kernel.count,
           " values, i.e. shape ", toString(kernelDims), "; ",
           transposed ? "the output maps (" : "the input channels (", full,
           ") are not a multiple of ", kernelDims[1], ", so no number of groups fits");
    }
    const int64_t groups = full > 0 ? full / kernelDims[1] : 1;
    if (groups > 1 && kernelDims[0] % groups != 0) {
      fail(ErrorCode::kINVALID_ARGUMENT, prefix, transposed ? "the input's " : "the ",
           kernelDims[0],
           transposed ? " channels are not divisible by " : " output maps are not divisible by ",
           groups, " groups, the group count that kernel weights of shape ", toString(kernelDims),
           " imply");
    }
  }

  const ir::NodeId id = net.addLayer(type, {x}, 1);
  const std::string layerName = net.graph().node(id).name;
  ir::ValueId w = ir::kNoValue;
  if (kernel.count > 0) {
    w = net.addWeights(layerName + ".kernel", kernelDims, kernel, "kernel weights");
  }
  ir::ValueId b = ir::kNoValue;
  if (bias.count > 0) {
    b = net.addWeights(layerName + ".bias", Dims{nbOutputMaps}, bias, "bias weights");
  }
  ir::Node& node = net.graph().node(id);
  node.attrs.set("num_output", nbOutputMaps);
  node.attrs.set(kKernelAttr, kernelSize);
  node.inputs.push_back(w);
  if (b != ir::kNoValue) node.inputs.push_back(b);
  net.inferLayer(id);
  return id;
}

void setKernel(const Layer& layer, NetworkImpl* net, std::string_view api, bool transposed,
               const Weights& weights) {
  detail::writeLayer(layer, api, [&](ir::Node& node, ir::NodeId id) {
    const std::string prefix = detail::concat("layer '", node.name, "' (", node.op, "): ");
    try {
      checkWeightsArgument(weights, "kernel weights");
      if (weights.count == 0) {
        fail(ErrorCode::kINVALID_ARGUMENT, "kernel weights may not be empty");
      }
      const Dims kernel = node.attrs.getDims(kKernelAttr);
      int64_t lead = node.attrs.getInt("num_output", 0);
      if (transposed) {
        const ir::ValueId x = node.inputs.at(0);
        const std::string inputName = net->graph().value(x).name;
        std::string why;
        const std::optional<Dims> dims = detail::currentDims(*net, x, &why);
        if (!dims) {
          fail(ErrorCode::kINVALID_ARGUMENT, "input '", inputName,
               "' has no valid shape yet, and the kernel layout [C, K/groups, kernel...] needs "
               "its channel count C (",
               why, ")");
        }
        lead = deconvolutionChannels(*dims, inputName);
      }
      const Dims dims =
          kernelWeightDims(lead, weights.count, kernel, layoutText(transposed, lead, kernel));
      net->setWeightsInput(id, 1, dims, weights, "kernel");
    } catch (const Error& e) {
      fail(e.code(), prefix, e.what());
    }
  });
}

void setBias(const Layer& layer, NetworkImpl* net, std::string_view api, const Weights& weights) {
  detail::writeLayer(layer, api, [&](ir::Node& node, ir::NodeId id) {
    const std::string prefix = detail::concat("layer '", node.name, "' (", node.op, "): ");
    try {
      checkWeightsArgument(weights, "bias weights");
    } catch (const Error& e) {
      fail(e.code(), prefix, e.what());
    }
    const int64_t outputs = node.attrs.getInt("num_output", 0);
    if (weights.count == 0) {  // no bias
      if (node.inputs.size() > 2) node.inputs.resize(2);
      return;
    }
    if (weights.count != outputs) {
      fail(ErrorCode::kINVALID_ARGUMENT, prefix, "bias weights have ", weights.count,
           " values; the layer has ", outputs, " output maps");
    }
    net->setWeightsInput(id, 2, Dims{outputs}, weights, "bias");
  });
}

void setGroups(const Layer& layer, std::string_view api, int64_t groups) {
  detail::writeLayer(layer, api, [&](ir::Node& node, ir::NodeId) {
    if (groups < 1) {
      detail::failLayer(node, "the number of groups must be positive, not ", groups);
    }
    node.attrs.set("groups", groups);
  });
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Convolution

ConvolutionLayer NetworkDefinition::addConvolution(Tensor input, int64_t nbOutputMaps,
                                                   const Dims& kernelSize, Weights kernel,
                                                   Weights bias) {
  return impl_->guarded<ConvolutionLayer>("addConvolution", [&] {
    return addConvolutionLike(*impl_, LayerType::kCONVOLUTION, input, nbOutputMaps, kernelSize,
                              kernel, bias);
  });
}

int64_t ConvolutionLayer::nbOutputMaps() const {
  return detail::getIntAttr(*this, "ConvolutionLayer::nbOutputMaps", "num_output", 0);
}

Dims ConvolutionLayer::kernelSize() const {
  return detail::getDimsAttr(*this, "ConvolutionLayer::kernelSize", kKernelAttr, Dims{});
}

void ConvolutionLayer::setStride(const Dims& stride) {
  detail::setWindowDims(*this, "ConvolutionLayer::setStride", kKernelAttr, "stride", "stride",
                        stride, 1);
}

Dims ConvolutionLayer::stride() const {
  return detail::windowParams(*this, "ConvolutionLayer::stride", kKernelAttr).stride;
}

void ConvolutionLayer::setPadding(const Dims& padding) {
  detail::setSymmetricPadding(*this, "ConvolutionLayer::setPadding", kKernelAttr, padding);
}

void ConvolutionLayer::setPrePadding(const Dims& padding) {
  detail::setWindowDims(*this, "ConvolutionLayer::setPrePadding", kKernelAttr, "pre_padding",
                        "pre-padding", padding, 0);
}

Dims ConvolutionLayer::prePadding() const {
  return detail::windowParams(*this, "ConvolutionLayer::prePadding", kKernelAttr).prePadding;
}

void ConvolutionLayer::setPostPadding(const Dims& padding) {
  detail::setWindowDims(*this, "ConvolutionLayer::setPostPadding", kKernelAttr, "post_padding",
                        "post-padding", padding, 0);
}

Dims ConvolutionLayer::postPadding() const {
  return detail::windowParams(*this, "ConvolutionLayer::postPadding", kKernelAttr).postPadding;
}

void ConvolutionLayer::setPaddingMode(PaddingMode mode) {
  detail::setPaddingModeAttr(*this, "ConvolutionLayer::setPaddingMode", mode);
}

PaddingMode ConvolutionLayer::paddingMode() const {
  return detail::getEnumAttr(*this, "ConvolutionLayer::paddingMode", "padding_mode",
                             PaddingMode::kEXPLICIT_ROUND_DOWN);
}

void ConvolutionLayer::setDilation(const Dims& dilation) {
  detail::setWindowDims(*this, "ConvolutionLayer::setDilation", kKernelAttr, "dilation", "dilation",
                        dilation, 1);
}

Dims ConvolutionLayer::dilation() const {
  return detail::windowParams(*this, "ConvolutionLayer::dilation", kKernelAttr).dilation;
}

void ConvolutionLayer::setNbGroups(int64_t groups) {
  setGroups(*this, "ConvolutionLayer::setNbGroups", groups);
}

int64_t ConvolutionLayer::nbGroups() const {
  return detail::getIntAttr(*this, "ConvolutionLayer::nbGroups", "groups", 1);
}

void ConvolutionLayer::setKernelWeights(Weights weights) {
  setKernel(*this, net_, "ConvolutionLayer::setKernelWeights", false, weights);
}

void ConvolutionLayer::setBiasWeights(Weights weights) {
  setBias(*this, net_, "ConvolutionLayer::setBiasWeights", weights);
}

// ---------------------------------------------------------------------------------------------
// Deconvolution

DeconvolutionLayer NetworkDefinition::addDeconvolution(Tensor input, int64_t nbOutputMaps,
                                                       const Dims& kernelSize, Weights kernel,
                                                       Weights bias) {
  return impl_->guarded<DeconvolutionLayer>("addDeconvolution", [&] {
    return addConvolutionLike(*impl_, LayerType::kDECONVOLUTION, input, nbOutputMaps, kernelSize,
                              kernel, bias);
  });
}

int64_t DeconvolutionLayer::nbOutputMaps() const {
  return detail::getIntAttr(*this, "DeconvolutionLayer::nbOutputMaps", "num_output", 0);
}

Dims DeconvolutionLayer::kernelSize() const {
  return detail::getDimsAttr(*this, "DeconvolutionLayer::kernelSize", kKernelAttr, Dims{});
}

void DeconvolutionLayer::setStride(const Dims& stride) {
  detail::setWindowDims(*this, "DeconvolutionLayer::setStride", kKernelAttr, "stride", "stride",
                        stride, 1);
}

Dims DeconvolutionLayer::stride() const {
  return detail::windowParams(*this, "DeconvolutionLayer::stride", kKernelAttr).stride;
}

void DeconvolutionLayer::setPadding(const Dims& padding) {
  detail::setSymmetricPadding(*this, "DeconvolutionLayer::setPadding", kKernelAttr, padding);
}

void DeconvolutionLayer::setPrePadding(const Dims& padding) {
  detail::setWindowDims(*this, "DeconvolutionLayer::setPrePadding", kKernelAttr, "pre_padding",
                        "pre-padding", padding, 0);
}

Dims DeconvolutionLayer::prePadding() const {
  return detail::windowParams(*this, "DeconvolutionLayer::prePadding", kKernelAttr).prePadding;
}

void DeconvolutionLayer::setPostPadding(const Dims& padding) {
  detail::setWindowDims(*this, "DeconvolutionLayer::setPostPadding", kKernelAttr, "post_padding",
                        "post-padding", padding, 0);
}

Dims DeconvolutionLayer::postPadding() const {
  return detail::windowParams(*this, "DeconvolutionLayer::postPadding", kKernelAttr).postPadding;
}

void DeconvolutionLayer::setPaddingMode(PaddingMode mode) {
  detail::setPaddingModeAttr(*this, "DeconvolutionLayer::setPaddingMode", mode);
}

PaddingMode DeconvolutionLayer::paddingMode() const {
  return detail::getEnumAttr(*this, "DeconvolutionLayer::paddingMode", "padding_mode",
                             PaddingMode::kEXPLICIT_ROUND_DOWN);
}

void DeconvolutionLayer::setDilation(const Dims& dilation) {
  detail::setWindowDims(*this, "DeconvolutionLayer::setDilation", kKernelAttr, "dilation",
                        "dilation", dilation, 1);
}

Dims DeconvolutionLayer::dilation() const {
  return detail::windowParams(*this, "DeconvolutionLayer::dilation", kKernelAttr).dilation;
}

void DeconvolutionLayer::setNbGroups(int64_t groups) {
  setGroups(*this, "DeconvolutionLayer::setNbGroups", groups);
}

int64_t DeconvolutionLayer::nbGroups() const {
  return detail::getIntAttr(*this, "DeconvolutionLayer::nbGroups", "groups", 1);
}

void DeconvolutionLayer::setKernelWeights(Weights weights) {
  setKernel(*this, net_, "DeconvolutionLayer::setKernelWeights", true, weights);
}

void DeconvolutionLayer::setBiasWeights(Weights weights) {
  setBias(*this, net_, "DeconvolutionLayer::setBiasWeights", weights);
}

}  // namespace kiln
