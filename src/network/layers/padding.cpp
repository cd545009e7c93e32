// PaddingLayer and NetworkDefinition::addPadding.
#include "network/layers/layer_weights.h"
#include "network/network_impl.h"

namespace kiln {

PaddingLayer NetworkDefinition::addPadding(Tensor input, const Dims& prePadding,
                                           const Dims& postPadding) {
  return impl_->guarded<PaddingLayer>("addPadding", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    detail::checkRank(prePadding, "the pre-padding");
    detail::checkRank(postPadding, "the post-padding");
    const auto id = net.addLayer(LayerType::kPADDING, {x}, 1);
    auto& attrs = net.graph().node(id).attrs;
    attrs.set("pre", prePadding);
    attrs.set("post", postPadding);
    net.inferLayer(id);
    return id;
  });
}

void PaddingLayer::setPrePadding(const Dims& padding) {
  detail::writeLayer(*this, "PaddingLayer::setPrePadding", [&](ir::Node& node, ir::NodeId) {
    detail::checkRank(padding, "the pre-padding");
    node.attrs.set("pre", padding);
  });
}

Dims PaddingLayer::prePadding() const {
  return detail::getDimsAttr(*this, "PaddingLayer::prePadding", "pre", {});
}

void PaddingLayer::setPostPadding(const Dims& padding) {
  detail::writeLayer(*this, "PaddingLayer::setPostPadding", [&](ir::Node& node, ir::NodeId) {
    detail::checkRank(padding, "the post-padding");
    node.attrs.set("post", padding);
  });
}

Dims PaddingLayer::postPadding() const {
  return detail::getDimsAttr(*this, "PaddingLayer::postPadding", "post", {});
}

void PaddingLayer::setFill(PaddingFill fill) {
  detail::setAttr(*this, "PaddingLayer::setFill", "fill", fill);
}

PaddingFill PaddingLayer::fill() const {
  return detail::getEnumAttr(*this, "PaddingLayer::fill", "fill", PaddingFill::kCONSTANT);
}

void PaddingLayer::setValue(float value) {
  detail::setAttr(*this, "PaddingLayer::setValue", "value", value);
}

float PaddingLayer::value() const {
  return static_cast<float>(detail::getFloatAttr(*this, "PaddingLayer::value", "value", 0.0));
}

}  // namespace kiln
