// ActivationLayer and NetworkDefinition::addActivation.
#include "ops/activation.h"

#include "network/network_impl.h"

namespace kiln {

ActivationLayer NetworkDefinition::addActivation(Tensor input, ActivationType type) {
  return impl_->guarded<ActivationLayer>("addActivation", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    // An argument error, unlike a shape problem no later setting can fix: refused at once.
    if (static_cast<int32_t>(type) < 0 || type > ActivationType::kHARD_SWISH) {
      fail(ErrorCode::kINVALID_ARGUMENT, "unknown activation type ", static_cast<int32_t>(type));
    }
    const auto id = net.addLayer(LayerType::kACTIVATION, {x}, 1);
    net.graph().node(id).attrs.set("type", type);
    net.inferLayer(id);
    return id;
  });
}

void ActivationLayer::setActivationType(ActivationType type) {
  detail::setAttr(*this, "ActivationLayer::setActivationType", "type", type);
}

ActivationType ActivationLayer::activationType() const {
  return detail::getEnumAttr(*this, "ActivationLayer::activationType", "type",
                             ActivationType::kRELU);
}

void ActivationLayer::setAlpha(float alpha) {
  detail::setAttr(*this, "ActivationLayer::setAlpha", "alpha", alpha);
}

float ActivationLayer::alpha() const {
  return static_cast<float>(detail::getFloatAttr(*this, "ActivationLayer::alpha", "alpha",
                                                 ops::activationDefaultAlpha(activationType())));
}

void ActivationLayer::setBeta(float beta) {
  detail::setAttr(*this, "ActivationLayer::setBeta", "beta", beta);
}

float ActivationLayer::beta() const {
  return static_cast<float>(detail::getFloatAttr(*this, "ActivationLayer::beta", "beta",
                                                 ops::activationDefaultBeta(activationType())));
}

}  // namespace kiln
