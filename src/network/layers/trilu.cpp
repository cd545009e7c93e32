// TriluLayer and NetworkDefinition::addTrilu (kiln's own layer: ONNX Trilu).
#include "network/network_impl.h"

namespace kiln {

TriluLayer NetworkDefinition::addTrilu(Tensor input, bool upper, int64_t k) {
  return impl_->guarded<TriluLayer>("addTrilu", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    const auto id = net.addLayer(LayerType::kTRILU, {x}, 1);
    auto& attrs = net.graph().node(id).attrs;
    attrs.set("upper", upper);
    attrs.set("k", k);
    net.inferLayer(id);
    return id;
  });
}

void TriluLayer::setUpper(bool upper) {
  detail::setAttr(*this, "TriluLayer::setUpper", "upper", upper);
}

bool TriluLayer::upper() const {
  return detail::getIntAttr(*this, "TriluLayer::upper", "upper", 1) != 0;
}

void TriluLayer::setK(int64_t k) {
  detail::setAttr(*this, "TriluLayer::setK", "k", k);
}

int64_t TriluLayer::k() const {
  return detail::getIntAttr(*this, "TriluLayer::k", "k", 0);
}

}  // namespace kiln
