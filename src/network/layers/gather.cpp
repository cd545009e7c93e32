// GatherLayer, NetworkDefinition::addGather and addGatherV2.
#include "network/network_impl.h"

namespace kiln {

namespace {

GatherLayer addGatherLayer(detail::NetworkImpl& net, std::string_view api, Tensor data,
                           Tensor indices, GatherMode mode, int32_t axis) {
  return net.guarded<GatherLayer>(api, [&] {
    const auto d = net.valueOf(data, "data");
    const auto i = net.valueOf(indices, "indices");
    // An argument error, unlike the shape problems that setGatherAxis or setNbElementWiseDims
    // may still fix (shape inference reports those, naming the layer, when they matter).
    if (mode != GatherMode::kDEFAULT && mode != GatherMode::kELEMENT && mode != GatherMode::kND) {
      fail(ErrorCode::kINVALID_ARGUMENT, "unknown gather mode ", static_cast<int32_t>(mode));
    }
    const auto id = net.addLayer(LayerType::kGATHER, {d, i}, 1);
    auto& attrs = net.graph().node(id).attrs;
    attrs.set("mode", mode);
    attrs.set("axis", axis);
    attrs.set("num_elementwise_dims", int32_t{0});
    net.inferLayer(id);
    return id;
  });
}

}  // namespace

GatherLayer NetworkDefinition::addGather(Tensor data, Tensor indices, int32_t axis) {
  return addGatherLayer(*impl_, "addGather", data, indices, GatherMode::kDEFAULT, axis);
}

GatherLayer NetworkDefinition::addGatherV2(Tensor data, Tensor indices, GatherMode mode) {
  return addGatherLayer(*impl_, "addGatherV2", data, indices, mode, 0);
}

void GatherLayer::setGatherAxis(int32_t axis) {
  detail::setAttr(*this, "GatherLayer::setGatherAxis", "axis", axis);
}

int32_t GatherLayer::gatherAxis() const {
  return static_cast<int32_t>(detail::getIntAttr(*this, "GatherLayer::gatherAxis", "axis", 0));
}

GatherMode GatherLayer::mode() const {
  return detail::getEnumAttr(*this, "GatherLayer::mode", "mode", GatherMode::kDEFAULT);
}

void GatherLayer::setNbElementWiseDims(int32_t dims) {
  detail::setAttr(*this, "GatherLayer::setNbElementWiseDims", "num_elementwise_dims", dims);
}

int32_t GatherLayer::nbElementWiseDims() const {
  return static_cast<int32_t>(
      detail::getIntAttr(*this, "GatherLayer::nbElementWiseDims", "num_elementwise_dims", 0));
}

}  // namespace kiln
