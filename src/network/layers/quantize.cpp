// QuantizeLayer, DequantizeLayer, NetworkDefinition::addQuantize and addDequantize. The zero
// point is optional input 2, set with setInput.
#include "network/layers/layer_weights.h"
#include "network/network_impl.h"

namespace kiln {

namespace {
void checkToType(DataType type) {
  if (type != DataType::kINT8 && type != DataType::kUINT8) {
    fail(ErrorCode::kINVALID_ARGUMENT, "the quantized type must be kINT8 or kUINT8, not ",
         isValidDataType(static_cast<int32_t>(type)) ? std::string(toString(type))
                                                     : std::to_string(static_cast<int32_t>(type)));
  }
}
}  // namespace

QuantizeLayer NetworkDefinition::addQuantize(Tensor input, Tensor scale, DataType toType) {
  return impl_->guarded<QuantizeLayer>("addQuantize", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    const auto s = net.valueOf(scale, "scale");
    checkToType(toType);
    const auto id = net.addLayer(LayerType::kQUANTIZE, {x, s}, 1);
    net.graph().node(id).attrs.set("to_type", toType);
    net.inferLayer(id);
    return id;
  });
}

DequantizeLayer NetworkDefinition::addDequantize(Tensor input, Tensor scale) {
  return impl_->guarded<DequantizeLayer>("addDequantize", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    const auto s = net.valueOf(scale, "scale");
    const auto id = net.addLayer(LayerType::kDEQUANTIZE, {x, s}, 1);
    net.inferLayer(id);
    return id;
  });
}

void QuantizeLayer::setAxis(int32_t axis) {
  detail::setAttr(*this, "QuantizeLayer::setAxis", "axis", axis);
}

int32_t QuantizeLayer::axis() const {
  return static_cast<int32_t>(detail::getIntAttr(*this, "QuantizeLayer::axis", "axis", 1));
}

void QuantizeLayer::setToType(DataType type) {
  detail::writeLayer(*this, "QuantizeLayer::setToType", [&](ir::Node& node, ir::NodeId) {
    try {
      checkToType(type);
    } catch (const Error& e) {
      detail::failLayer(node, e.what());
    }
    node.attrs.set("to_type", type);
  });
}

DataType QuantizeLayer::toType() const {
  return detail::getEnumAttr(*this, "QuantizeLayer::toType", "to_type", DataType::kINT8);
}

void DequantizeLayer::setAxis(int32_t axis) {
  detail::setAttr(*this, "DequantizeLayer::setAxis", "axis", axis);
}

int32_t DequantizeLayer::axis() const {
  return static_cast<int32_t>(detail::getIntAttr(*this, "DequantizeLayer::axis", "axis", 1));
}

}  // namespace kiln
