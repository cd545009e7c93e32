// OneHotLayer and NetworkDefinition::addOneHot.
#include "network/network_impl.h"

namespace kiln {

OneHotLayer NetworkDefinition::addOneHot(Tensor indices, Tensor values, Tensor depth,
                                         int32_t axis) {
  return impl_->guarded<OneHotLayer>("addOneHot", [&] {
    auto& net = *impl_;
    const auto i = net.valueOf(indices, "indices");
    const auto v = net.valueOf(values, "values");
    const auto d = net.valueOf(depth, "depth");
    const auto id = net.addLayer(LayerType::kONE_HOT, {i, v, d}, 1);
    net.graph().node(id).attrs.set("axis", axis);
    net.inferLayer(id);
    return id;
  });
}

void OneHotLayer::setAxis(int32_t axis) {
  detail::setAttr(*this, "OneHotLayer::setAxis", "axis", axis);
}

int32_t OneHotLayer::axis() const {
  return static_cast<int32_t>(detail::getIntAttr(*this, "OneHotLayer::axis", "axis", -1));
}

}  // namespace kiln
