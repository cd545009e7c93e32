// convolution, deconvolution, pooling.
#include <cmath>

#include "parsers/json/enum_names.h"
#include "parsers/json/layer_import.h"

namespace kiln::parsers::netjson {

namespace {

// The spatial settings convolution, deconvolution and pooling share.
struct Window {
  std::optional<Dims> stride, padding, prePadding, postPadding;
  std::optional<PaddingMode> paddingMode;

  void read(ObjectReader& f) {
    stride = f.dims("stride");
    padding = f.dims("padding");
    prePadding = f.dims("pre_padding");
    postPadding = f.dims("post_padding");
    paddingMode = f.enumeration("padding_mode", paddingModeNames());
    if (padding && (prePadding || postPadding)) {
      f.error("padding", "give either padding or pre_padding/post_padding, not both");
    }
  }

  template <typename L>
  bool apply(LayerImport& l, L& layer) const {
    bool ok = l.apply(layer, "stride", stride, &L::setStride, &L::stride);
    if (padding) {
      layer.setPadding(*padding);
      if (layer.prePadding() != *padding || layer.postPadding() != *padding) {
        l.refused("padding");
        ok = false;
      }
    }
    ok = l.apply(layer, "pre_padding", prePadding, &L::setPrePadding, &L::prePadding) && ok;
    ok = l.apply(layer, "post_padding", postPadding, &L::setPostPadding, &L::postPadding) && ok;
    ok = l.apply(layer, "padding_mode", paddingMode, &L::setPaddingMode, &L::paddingMode) && ok;
    return ok;
  }
};

bool checkPositive(ObjectReader& f, std::string_view key, const std::optional<Dims>& dims) {
  if (!dims) return true;
  for (int32_t i = 0; i < dims->nbDims; ++i) {
    if ((*dims)[i] < 1) {
      f.error(key, "extents must be positive, got " + dimsText(*dims));
      return false;
    }
  }
  return true;
}

Layer importConvolutionLike(LayerImport& l, bool transposed) {
  auto& f = l.fields;
  const auto numOutput = f.integer("num_output", Need::kRequired, 1);
  const auto kernel = f.dims("kernel", Need::kRequired);
  Window window;
  window.read(f);
  const auto dilation = f.dims("dilation");
  const auto groups = f.integer("groups", Need::kOptional, 1);
  const auto weights = l.readWeights({{"kernel"}, {"bias", /*allowNone=*/true}});
  checkPositive(f, "kernel", kernel);
  if (!l.ready()) return {};

  const Dims in = l.inputDims(0);
  const int64_t k = *numOutput;
  const int64_t g = groups.value_or(1);
  const std::optional<int64_t> channels =
      in.nbDims >= 2 && in[1] >= 0 ? std::optional<int64_t>(in[1]) : std::nullopt;
  if (channels && *channels % g != 0) {
    f.error("groups", std::to_string(g) + " groups do not divide the " + std::to_string(*channels) +
                          " input channels");
    return {};
  }
  if (transposed && k % g != 0) {
    f.error("groups",
            std::to_string(g) + " groups do not divide the " + std::to_string(k) + " output maps");
    return {};
  }
  const auto spatial = checkedVolume(*kernel, 0, kernel->nbDims);
  // Uniform in +-1/sqrt(fan_in) keeps the output's scale near the input's.
  const auto fanIn = channels && spatial ? checkedProduct({*channels / g, *spatial}) : std::nullopt;
  const double bound = fanIn && *fanIn > 0 ? 1.0 / std::sqrt(static_cast<double>(*fanIn)) : 1.0;

  Dims kernelShape;
  if (channels) {
    kernelShape.nbDims = 2;
    kernelShape[0] = transposed ? *channels : k;
    kernelShape[1] = transposed ? k / g : *channels / g;
    for (int32_t i = 0; i < kernel->nbDims; ++i) kernelShape[kernelShape.nbDims++] = (*kernel)[i];
  }
  const std::string op = transposed ? "the deconvolution" : "the convolution";
  WeightsNeed kernelNeed{
      DataType::kFLOAT, channels ? checkedVolume(kernelShape, 0, kernelShape.nbDims) : std::nullopt,
      channels ? op + " kernel " + dimsText(kernelShape) : op + " kernel", bound};
  WeightsNeed biasNeed{DataType::kFLOAT, k, op + " bias " + dimsText(Dims{k}), bound};
  const auto kernelValues = l.materialize(weights[0], kernelNeed, "kernel");
  const auto biasValues = l.materialize(weights[1], biasNeed, "bias");
  if (!kernelValues || !biasValues) return {};

  auto configure = [&]<typename L>(L layer) -> Layer {
    if (!layer) return {};
    bool ok = window.apply(l, layer);
    ok = l.apply(layer, "dilation", dilation, &L::setDilation, &L::dilation) && ok;
    ok = l.apply(layer, "groups", groups, &L::setNbGroups, &L::nbGroups) && ok;
    return ok ? layer : Layer();
  };
  if (transposed) {
    return configure(l.added(l.network.addDeconvolution(l.inputs[0], k, *kernel,
                                                        kernelValues->view(), biasValues->view())));
  }
  return configure(l.added(
      l.network.addConvolution(l.inputs[0], k, *kernel, kernelValues->view(), biasValues->view())));
}

}  // namespace

Layer importConvolution(LayerImport& l) {
  return importConvolutionLike(l, false);
}

Layer importDeconvolution(LayerImport& l) {
  return importConvolutionLike(l, true);
}

Layer importPooling(LayerImport& l) {
  auto& f = l.fields;
  const auto type = f.enumeration("pooling_type", poolingTypeNames(), Need::kRequired);
  const auto windowSize = f.dims("window_size", Need::kRequired);
  Window window;
  window.read(f);
  const auto excludesPadding = f.boolean("average_count_excludes_padding");
  const auto blendFactor = f.number("blend_factor");
  if (!l.ready()) return {};

  auto layer = l.added(l.network.addPooling(l.inputs[0], *type, *windowSize));
  if (!layer) return {};
  using L = PoolingLayer;
  bool ok = window.apply(l, layer);
  ok = l.apply(layer, "average_count_excludes_padding", excludesPadding,
               &L::setAverageCountExcludesPadding, &L::averageCountExcludesPadding) &&
       ok;
  ok = l.apply(layer, "blend_factor", blendFactor, &L::setBlendFactor, &L::blendFactor) && ok;
  return ok ? layer : Layer();
}

}  // namespace kiln::parsers::netjson
