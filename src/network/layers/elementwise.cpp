// ElementWiseLayer and NetworkDefinition::addElementWise.
#include "network/layers/layer_weights.h"
#include "network/network_impl.h"

namespace kiln {

namespace {
// No setting or input makes an out-of-range enum valid, so it is refused at once.
void checkOperation(const ir::Node& node, ElementWiseOperation op) {
  const auto raw = static_cast<int32_t>(op);
  if (raw < 0 || op > ElementWiseOperation::kSHIFT_RIGHT) {
    detail::failLayer(node, "unknown element-wise operation ", raw);
  }
}
}  // namespace

ElementWiseLayer NetworkDefinition::addElementWise(Tensor input0, Tensor input1,
                                                   ElementWiseOperation op) {
  return impl_->guarded<ElementWiseLayer>("addElementWise", [&] {
    auto& net = *impl_;
    const auto a = net.valueOf(input0, "input0");
    const auto b = net.valueOf(input1, "input1");
    const auto id = net.addLayer(LayerType::kELEMENTWISE, {a, b}, 1);
    checkOperation(net.graph().node(id), op);
    net.graph().node(id).attrs.set("op", op);
    net.inferLayer(id);
    return id;
  });
}

void ElementWiseLayer::setOperation(ElementWiseOperation op) {
  detail::writeLayer(*this, "ElementWiseLayer::setOperation", [&](ir::Node& node, ir::NodeId) {
    checkOperation(node, op);
    node.attrs.set("op", op);
  });
}

ElementWiseOperation ElementWiseLayer::operation() const {
  return detail::getEnumAttr(*this, "ElementWiseLayer::operation", "op",
                             ElementWiseOperation::kSUM);
}

}  // namespace kiln
