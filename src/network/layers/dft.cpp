// DFTLayer and NetworkDefinition::addDFT (kiln's own layer: ONNX DFT).
#include "network/network_impl.h"

namespace kiln {

DFTLayer NetworkDefinition::addDFT(Tensor input, int32_t axis, bool inverse) {
  return impl_->guarded<DFTLayer>("addDFT", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    const auto id = net.addLayer(LayerType::kDFT, {x}, 1);
    auto& attrs = net.graph().node(id).attrs;
    attrs.set("axis", axis);
    attrs.set("inverse", inverse);
    net.inferLayer(id);
    return id;
  });
}

void DFTLayer::setAxis(int32_t axis) {
  detail::setAttr(*this, "DFTLayer::setAxis", "axis", axis);
}

int32_t DFTLayer::axis() const {
  return static_cast<int32_t>(detail::getIntAttr(*this, "DFTLayer::axis", "axis", 1));
}

void DFTLayer::setInverse(bool inverse) {
  detail::setAttr(*this, "DFTLayer::setInverse", "inverse", inverse);
}

bool DFTLayer::inverse() const {
  return detail::getIntAttr(*this, "DFTLayer::inverse", "inverse", 0) != 0;
}

void DFTLayer::setOnesided(bool onesided) {
  detail::setAttr(*this, "DFTLayer::setOnesided", "onesided", onesided);
}

bool DFTLayer::onesided() const {
  return detail::getIntAttr(*this, "DFTLayer::onesided", "onesided", 0) != 0;
}

void DFTLayer::setLength(int64_t length) {
  detail::setAttr(*this, "DFTLayer::setLength", "length", length);
}

int64_t DFTLayer::length() const {
  return detail::getIntAttr(*this, "DFTLayer::length", "length", 0);
}

}  // namespace kiln
