// MaxPoolingIndicesLayer and NetworkDefinition::addMaxPoolingWithIndices (kiln's own layer: ONNX
// MaxPool with dilations or its Indices output).
#include "network/layers/window_settings.h"
#include "network/network_impl.h"

namespace kiln {

namespace {
constexpr std::string_view kWindowAttr = "window";
}  // namespace

MaxPoolingIndicesLayer NetworkDefinition::addMaxPoolingWithIndices(Tensor input,
                                                                   const Dims& windowSize) {
  return impl_->guarded<MaxPoolingIndicesLayer>("addMaxPoolingWithIndices", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    if (auto problem = ops::checkWindowSize(windowSize, "window size"); !problem.empty()) {
      fail(ErrorCode::kINVALID_ARGUMENT, problem);
    }
    const auto id = net.addLayer(LayerType::kMAX_POOLING_INDICES, {x}, 2);
    net.graph().node(id).attrs.set(kWindowAttr, windowSize);
    net.inferLayer(id);
    return id;
  });
}

Dims MaxPoolingIndicesLayer::windowSize() const {
  return detail::getDimsAttr(*this, "MaxPoolingIndicesLayer::windowSize", kWindowAttr, Dims{});
}

void MaxPoolingIndicesLayer::setStride(const Dims& stride) {
  detail::setWindowDims(*this, "MaxPoolingIndicesLayer::setStride", kWindowAttr, "stride", "stride",
                        stride, 1);
}

Dims MaxPoolingIndicesLayer::stride() const {
  return detail::windowParams(*this, "MaxPoolingIndicesLayer::stride", kWindowAttr).stride;
}

void MaxPoolingIndicesLayer::setPrePadding(const Dims& padding) {
  detail::setWindowDims(*this, "MaxPoolingIndicesLayer::setPrePadding", kWindowAttr, "pre_padding",
                        "pre-padding", padding, 0);
}

Dims MaxPoolingIndicesLayer::prePadding() const {
  return detail::windowParams(*this, "MaxPoolingIndicesLayer::prePadding", kWindowAttr).prePadding;
}

void MaxPoolingIndicesLayer::setPostPadding(const Dims& padding) {
  detail::setWindowDims(*this, "MaxPoolingIndicesLayer::setPostPadding", kWindowAttr,
                        "post_padding", "post-padding", padding, 0);
}

Dims MaxPoolingIndicesLayer::postPadding() const {
  return detail::windowParams(*this, "MaxPoolingIndicesLayer::postPadding", kWindowAttr)
      .postPadding;
}

void MaxPoolingIndicesLayer::setPaddingMode(PaddingMode mode) {
  detail::setPaddingModeAttr(*this, "MaxPoolingIndicesLayer::setPaddingMode", mode);
}

PaddingMode MaxPoolingIndicesLayer::paddingMode() const {
  return detail::getEnumAttr(*this, "MaxPoolingIndicesLayer::paddingMode", "padding_mode",
                             PaddingMode::kEXPLICIT_ROUND_DOWN);
}

void MaxPoolingIndicesLayer::setDilation(const Dims& dilation) {
  detail::setWindowDims(*this, "MaxPoolingIndicesLayer::setDilation", kWindowAttr, "dilation",
                        "dilation", dilation, 1);
}

Dims MaxPoolingIndicesLayer::dilation() const {
  return detail::windowParams(*this, "MaxPoolingIndicesLayer::dilation", kWindowAttr).dilation;
}

void MaxPoolingIndicesLayer::setColumnMajorIndices(bool columnMajor) {
  detail::setAttr(*this, "MaxPoolingIndicesLayer::setColumnMajorIndices", "column_major",
                  columnMajor);
}

bool MaxPoolingIndicesLayer::columnMajorIndices() const {
  return detail::getIntAttr(*this, "MaxPoolingIndicesLayer::columnMajorIndices", "column_major",
                            0) != 0;
}

}  // namespace kiln
