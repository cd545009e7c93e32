// ConstantLayer and NetworkDefinition::addConstant.
#include "network/network_impl.h"

namespace kiln {

ConstantLayer NetworkDefinition::addConstant(const Dims& dims, Weights weights) {
  return impl_->guarded<ConstantLayer>("addConstant", [&] {
    auto& net = *impl_;
    // Weights keep their type (INT32 shapes, BOOL masks, FP16 tables): the layer outputs them
    // as they are.
    const std::string name = net.uniqueLayerName(LayerType::kCONSTANT) + ".weights";
    const auto value = net.addWeights(name, dims, weights, "constant weights", /*asFloat=*/false);
    const auto id = net.addLayer(LayerType::kCONSTANT, {value}, 1);
    net.inferLayer(id);
    return id;
  });
}

Dims ConstantLayer::dimensions() const {
  detail::NetworkImpl* net = detail::HandleAccess::net(*this);
  return detail::readLayer<Dims>(
      *this, "ConstantLayer::dimensions",
      [&](const ir::Node& node) { return net->graph().value(node.inputs[0]).dims; }, Dims{});
}

}  // namespace kiln
