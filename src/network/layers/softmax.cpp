// SoftMaxLayer and NetworkDefinition::addSoftMax.
#include "ops/softmax.h"

#include "network/layers/layer_weights.h"
#include "network/network_impl.h"

namespace kiln {

// No "axis" attribute until one is set: the default follows the input's rank.
SoftMaxLayer NetworkDefinition::addSoftMax(Tensor input) {
  return impl_->guarded<SoftMaxLayer>("addSoftMax", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    const auto id = net.addLayer(LayerType::kSOFTMAX, {x}, 1);
    net.inferLayer(id);
    return id;
  });
}

void SoftMaxLayer::setAxis(int32_t axis) {
  detail::writeLayer(*this, "SoftMaxLayer::setAxis", [&](ir::Node& node, ir::NodeId) {
    // Checked now, while the caller can still tell which call was wrong. While the input's rank
    // is unknown (-1: a layer in front is not valid yet), shape inference checks it later.
    net_->ensureShapes();
    const int32_t rank = net_->graph().value(node.inputs[0]).dims.nbDims;
    if (rank >= 0 && (axis < -rank || axis >= rank)) {
      detail::failLayer(node, "axis ", axis, " is out of range for an input of rank ", rank,
                        " (valid: ", -rank, " to ", rank - 1, ")");
    }
    node.attrs.set("axis", axis);
  });
}

int32_t SoftMaxLayer::axis() const {
  return detail::readLayer<int32_t>(
      *this, "SoftMaxLayer::axis",
      [&](const ir::Node& node) {
        if (node.attrs.has("axis")) return static_cast<int32_t>(node.attrs.getInt("axis"));
        net_->ensureShapes();
        return ops::softmaxDefaultAxis(net_->graph().value(node.inputs[0]).dims.nbDims);
      },
      0);
}

}  // namespace kiln
