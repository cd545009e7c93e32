// ScatterLayer and NetworkDefinition::addScatter.
#include "network/network_impl.h"

namespace kiln {

ScatterLayer NetworkDefinition::addScatter(Tensor data, Tensor indices, Tensor updates,
                                           ScatterMode mode) {
  return impl_->guarded<ScatterLayer>("addScatter", [&] {
    auto& net = *impl_;
    const auto d = net.valueOf(data, "data");
    const auto i = net.valueOf(indices, "indices");
    const auto u = net.valueOf(updates, "updates");
    if (mode != ScatterMode::kELEMENT && mode != ScatterMode::kND) {
      fail(ErrorCode::kINVALID_ARGUMENT, "unknown scatter mode ", static_cast<int32_t>(mode));
    }
    const auto id = net.addLayer(LayerType::kSCATTER, {d, i, u}, 1);
    auto& attrs = net.graph().node(id).attrs;
    attrs.set("mode", mode);
    attrs.set("axis", int32_t{0});
    attrs.set("reduction", ScatterReduction::kNONE);
    net.inferLayer(id);
    return id;
  });
}

void ScatterLayer::setMode(ScatterMode mode) {
  detail::setAttr(*this, "ScatterLayer::setMode", "mode", mode);
}

ScatterMode ScatterLayer::mode() const {
  return detail::getEnumAttr(*this, "ScatterLayer::mode", "mode", ScatterMode::kELEMENT);
}

void ScatterLayer::setAxis(int32_t axis) {
  detail::setAttr(*this, "ScatterLayer::setAxis", "axis", axis);
}

int32_t ScatterLayer::axis() const {
  return static_cast<int32_t>(detail::getIntAttr(*this, "ScatterLayer::axis", "axis", 0));
}

void ScatterLayer::setReduction(ScatterReduction reduction) {
  detail::setAttr(*this, "ScatterLayer::setReduction", "reduction", reduction);
}

ScatterReduction ScatterLayer::reduction() const {
  return detail::getEnumAttr(*this, "ScatterLayer::reduction", "reduction",
                             ScatterReduction::kNONE);
}

}  // namespace kiln
