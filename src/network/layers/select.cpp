// SelectLayer and NetworkDefinition::addSelect.
#include "network/network_impl.h"

namespace kiln {

SelectLayer NetworkDefinition::addSelect(Tensor condition, Tensor thenInput, Tensor elseInput) {
  return impl_->guarded<SelectLayer>("addSelect", [&] {
    auto& net = *impl_;
    const auto c = net.valueOf(condition, "condition");
    const auto t = net.valueOf(thenInput, "thenInput");
    const auto e = net.valueOf(elseInput, "elseInput");
    const auto id = net.addLayer(LayerType::kSELECT, {c, t, e}, 1);
    net.inferLayer(id);
    return id;
  });
}

}  // namespace kiln
