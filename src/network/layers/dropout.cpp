// DropoutLayer and NetworkDefinition::addDropout (kiln's own layer: ONNX Dropout whose training
// mode is computed at run time).
#include "network/network_impl.h"

namespace kiln {

DropoutLayer NetworkDefinition::addDropout(Tensor input, Tensor ratio, Tensor trainingMode) {
  return impl_->guarded<DropoutLayer>("addDropout", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    const auto r = net.valueOf(ratio, "ratio");
    const auto t = net.valueOf(trainingMode, "trainingMode");
    const auto id = net.addLayer(LayerType::kDROPOUT, {x, r, t}, 2);
    net.inferLayer(id);
    return id;
  });
}

}  // namespace kiln
