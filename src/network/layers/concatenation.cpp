// ConcatenationLayer and NetworkDefinition::addConcatenation.
#include <string>
#include <vector>

#include "network/network_impl.h"
#include "ops/data_movement.h"

namespace kiln {

ConcatenationLayer NetworkDefinition::addConcatenation(std::span<const Tensor> inputs) {
  return impl_->guarded<ConcatenationLayer>("addConcatenation", [&] {
    auto& net = *impl_;
    if (inputs.empty()) fail(ErrorCode::kINVALID_ARGUMENT, "needs at least one input tensor");
    std::vector<ir::ValueId> values;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      values.push_back(net.valueOf(inputs[i], "input " + std::to_string(i)));
    }
    const auto id = net.addLayer(LayerType::kCONCATENATION, values, 1);
    // Shape problems (inputs that match only along another axis) are reported when the output
    // is next needed, so setAxis may still fix them, as in TensorRT.
    net.inferLayer(id);
    return id;
  });
}

void ConcatenationLayer::setAxis(int32_t axis) {
  detail::setAttr(*this, "ConcatenationLayer::setAxis", "axis", axis);
}

int32_t ConcatenationLayer::axis() const {
  detail::NetworkImpl* net = detail::HandleAccess::net(*this);
  return detail::readLayer<int32_t>(
      *this, "ConcatenationLayer::axis",
      [&](const ir::Node& node) {
        const int32_t rank = net->graph().value(node.inputs[0]).dims.nbDims;
        return static_cast<int32_t>(node.attrs.getInt("axis", ops::concatenationDefaultAxis(rank)));
      },
      0);
}

}  // namespace kiln
