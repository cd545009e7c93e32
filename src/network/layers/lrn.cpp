// LRNLayer and NetworkDefinition::addLRN.
#include <cmath>

#include "network/network_impl.h"

namespace kiln {

LRNLayer NetworkDefinition::addLRN(Tensor input, int64_t window, float alpha, float beta, float k) {
  return impl_->guarded<LRNLayer>("addLRN", [&] {
    auto& net = *impl_;
    const std::string prefix =
        detail::concat("layer '", net.uniqueLayerName(LayerType::kLRN), "' (LRN): ");
    const auto x = net.valueOf(input, "input");
    if (window < 1) {
      fail(ErrorCode::kINVALID_ARGUMENT, prefix, "the window must hold at least 1 channel, not ",
           window);
    }
    if (!std::isfinite(alpha) || !std::isfinite(beta) || !std::isfinite(k)) {
      fail(ErrorCode::kINVALID_ARGUMENT, prefix, "alpha (", alpha, "), beta (", beta, ") and k (",
           k, ") must be finite");
    }
    const auto id = net.addLayer(LayerType::kLRN, {x}, 1);
    auto& attrs = net.graph().node(id).attrs;
    attrs.set("window", window);
    attrs.set("alpha", alpha);
    attrs.set("beta", beta);
    attrs.set("k", k);
    net.inferLayer(id);
    return id;
  });
}

int64_t LRNLayer::windowSize() const {
  return detail::getIntAttr(*this, "LRNLayer::windowSize", "window", 0);
}

float LRNLayer::alpha() const {
  return static_cast<float>(detail::getFloatAttr(*this, "LRNLayer::alpha", "alpha", 0.0));
}

float LRNLayer::beta() const {
  return static_cast<float>(detail::getFloatAttr(*this, "LRNLayer::beta", "beta", 0.0));
}

float LRNLayer::k() const {
  return static_cast<float>(detail::getFloatAttr(*this, "LRNLayer::k", "k", 0.0));
}

}  // namespace kiln
