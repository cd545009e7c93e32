// PoolingLayer and NetworkDefinition::addPooling.
#include <cmath>
#include <optional>

#include "network/layers/input_shape.h"
#include "network/layers/window_settings.h"
#include "network/network_impl.h"

namespace kiln {

namespace {
constexpr std::string_view kWindowAttr = "window";

bool validPoolingType(PoolingType type) {
  return static_cast<int32_t>(type) >= 0 && type <= PoolingType::kMAX_AVERAGE_BLEND;
}
}  // namespace

PoolingLayer NetworkDefinition::addPooling(Tensor input, PoolingType type, const Dims& windowSize) {
  return impl_->guarded<PoolingLayer>("addPooling", [&] {
    auto& net = *impl_;
    const std::string prefix =
        detail::concat("layer '", net.uniqueLayerName(LayerType::kPOOLING), "' (Pooling): ");
    const auto x = net.valueOf(input, "input");
    if (!validPoolingType(type)) {
      fail(ErrorCode::kINVALID_ARGUMENT, prefix, "unknown pooling type ",
           static_cast<int32_t>(type));
    }
    if (auto problem = ops::checkWindowSize(windowSize, "window size"); !problem.empty()) {
      fail(ErrorCode::kINVALID_ARGUMENT, prefix, problem);
    }
    // A window rank that does not fit the input is refused while the input's shape is known;
    // otherwise shape inference reports it when the layer's shapes are needed.
    const std::optional<Dims> dims = detail::currentDims(net, x);
    if (dims && dims->nbDims >= 0 && dims->nbDims != windowSize.nbDims + 2) {
      fail(ErrorCode::kINVALID_ARGUMENT, prefix, "input '", net.graph().value(x).name,
           "' has shape ", toString(*dims), " (rank ", dims->nbDims, "); a window of size ",
           toString(windowSize), " needs an input of rank ", windowSize.nbDims + 2,
           " [N, C, spatial...]");
    }
    const auto id = net.addLayer(LayerType::kPOOLING, {x}, 1);
    auto& attrs = net.graph().node(id).attrs;
    attrs.set("type", type);
    attrs.set(kWindowAttr, windowSize);
    net.inferLayer(id);
    return id;
  });
}

void PoolingLayer::setPoolingType(PoolingType type) {
  detail::writeLayer(*this, "PoolingLayer::setPoolingType", [&](ir::Node& node, ir::NodeId) {
    if (!validPoolingType(type)) {
      detail::failLayer(node, "unknown pooling type ", static_cast<int32_t>(type));
    }
    node.attrs.set("type", type);
  });
}

PoolingType PoolingLayer::poolingType() const {
  return detail::getEnumAttr(*this, "PoolingLayer::poolingType", "type", PoolingType::kMAX);
}

void PoolingLayer::setWindowSize(const Dims& window) {
  detail::writeLayer(*this, "PoolingLayer::setWindowSize", [&](ir::Node& node, ir::NodeId) {
    if (auto problem = ops::checkWindowSize(window, "window size"); !problem.empty()) {
      detail::failLayer(node, problem);
    }
    node.attrs.set(kWindowAttr, window);
  });
}

Dims PoolingLayer::windowSize() const {
  return detail::getDimsAttr(*this, "PoolingLayer::windowSize", kWindowAttr, Dims{});
}

void PoolingLayer::setStride(const Dims& stride) {
  detail::setWindowDims(*this, "PoolingLayer::setStride", kWindowAttr, "stride", "stride", stride,
                        1);
}

Dims PoolingLayer::stride() const {
  return detail::windowParams(*this, "PoolingLayer::stride", kWindowAttr).stride;
}

void PoolingLayer::setPadding(const Dims& padding) {
  detail::setSymmetricPadding(*this, "PoolingLayer::setPadding", kWindowAttr, padding);
}

void PoolingLayer::setPrePadding(const Dims& padding) {
  detail::setWindowDims(*this, "PoolingLayer::setPrePadding", kWindowAttr, "pre_padding",
                        "pre-padding", padding, 0);
}

Dims PoolingLayer::prePadding() const {
  return detail::windowParams(*this, "PoolingLayer::prePadding", kWindowAttr).prePadding;
}

void PoolingLayer::setPostPadding(const Dims& padding) {
  detail::setWindowDims(*this, "PoolingLayer::setPostPadding", kWindowAttr, "post_padding",
                        "post-padding", padding, 0);
}

Dims PoolingLayer::postPadding() const {
  return detail::windowParams(*this, "PoolingLayer::postPadding", kWindowAttr).postPadding;
}

void PoolingLayer::setPaddingMode(PaddingMode mode) {
  detail::setPaddingModeAttr(*this, "PoolingLayer::setPaddingMode", mode);
}

PaddingMode PoolingLayer::paddingMode() const {
  return detail::getEnumAttr(*this, "PoolingLayer::paddingMode", "padding_mode",
                             PaddingMode::kEXPLICIT_ROUND_DOWN);
}

void PoolingLayer::setAverageCountExcludesPadding(bool exclusive) {
  detail::setAttr(*this, "PoolingLayer::setAverageCountExcludesPadding", "exclude_padding",
                  exclusive);
}

bool PoolingLayer::averageCountExcludesPadding() const {
  return detail::getIntAttr(*this, "PoolingLayer::averageCountExcludesPadding", "exclude_padding",
                            1) != 0;
}

void PoolingLayer::setBlendFactor(float factor) {
  detail::writeLayer(*this, "PoolingLayer::setBlendFactor", [&](ir::Node& node, ir::NodeId) {
    if (!(factor >= 0.f && factor <= 1.f)) {
      detail::failLayer(node, "blend factor ", factor, " is outside [0, 1]");
    }
    node.attrs.set("blend_factor", factor);
  });
}

float PoolingLayer::blendFactor() const {
  return static_cast<float>(
      detail::getFloatAttr(*this, "PoolingLayer::blendFactor", "blend_factor", 0.0));
}

}  // namespace kiln
