// UnaryLayer and NetworkDefinition::addUnary.
#include "network/layers/layer_weights.h"
#include "network/network_impl.h"

namespace kiln {

namespace {
// No setting or input makes an out-of-range enum valid, so it is refused at once.
void checkOperation(const ir::Node& node, UnaryOperation op) {
  const auto raw = static_cast<int32_t>(op);
  if (raw < 0 || op > UnaryOperation::kISNAN) {
    detail::failLayer(node, "unknown unary operation ", raw);
  }
}
}  // namespace

UnaryLayer NetworkDefinition::addUnary(Tensor input, UnaryOperation op) {
  return impl_->guarded<UnaryLayer>("addUnary", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    const auto id = net.addLayer(LayerType::kUNARY, {x}, 1);
    checkOperation(net.graph().node(id), op);
    net.graph().node(id).attrs.set("op", op);
    net.inferLayer(id);
    return id;
  });
}

void UnaryLayer::setOperation(UnaryOperation op) {
  detail::writeLayer(*this, "UnaryLayer::setOperation", [&](ir::Node& node, ir::NodeId) {
    checkOperation(node, op);
    node.attrs.set("op", op);
  });
}

UnaryOperation UnaryLayer::operation() const {
  return detail::getEnumAttr(*this, "UnaryLayer::operation", "op", UnaryOperation::kEXP);
}

}  // namespace kiln
