// IdentityLayer, NetworkDefinition::addIdentity and addCast (an identity with an output type).
#include "network/network_impl.h"

namespace kiln {

IdentityLayer NetworkDefinition::addIdentity(Tensor input) {
  return impl_->guarded<IdentityLayer>("addIdentity", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    const auto id = net.addLayer(LayerType::kIDENTITY, {x}, 1);
    net.inferLayer(id);
    return id;
  });
}

IdentityLayer NetworkDefinition::addCast(Tensor input, DataType type) {
  return impl_->guarded<IdentityLayer>("addCast", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    if (!isValidDataType(static_cast<int32_t>(type))) {
      fail(ErrorCode::kINVALID_ARGUMENT, "unknown target type ", static_cast<int32_t>(type));
    }
    const auto id = net.addLayer(LayerType::kIDENTITY, {x}, 1);
    net.graph().node(id).outputTypes[0] = type;
    net.inferLayer(id);
    return id;
  });
}

}  // namespace kiln
