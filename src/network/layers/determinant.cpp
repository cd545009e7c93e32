// DeterminantLayer and NetworkDefinition::addDeterminant (kiln's own layer: ONNX Det).
#include "network/network_impl.h"

namespace kiln {

DeterminantLayer NetworkDefinition::addDeterminant(Tensor input) {
  return impl_->guarded<DeterminantLayer>("addDeterminant", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    const auto id = net.addLayer(LayerType::kDETERMINANT, {x}, 1);
    net.inferLayer(id);
    return id;
  });
}

}  // namespace kiln
