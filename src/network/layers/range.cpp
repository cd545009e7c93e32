// RangeLayer and NetworkDefinition::addRange (kiln's own layer: ONNX Range).
#include "network/network_impl.h"

namespace kiln {

RangeLayer NetworkDefinition::addRange(Tensor start, Tensor limit, Tensor delta) {
  return impl_->guarded<RangeLayer>("addRange", [&] {
    auto& net = *impl_;
    const auto s = net.valueOf(start, "start");
    const auto l = net.valueOf(limit, "limit");
    const auto d = net.valueOf(delta, "delta");
    const auto id = net.addLayer(LayerType::kRANGE, {s, l, d}, 1);
    net.inferLayer(id);
    return id;
  });
}

}  // namespace kiln
