// ScaleLayer, NetworkDefinition::addScale and addScaleNd.
#include <string_view>

#include "network/layers/layer_weights.h"
#include "network/network_impl.h"

namespace kiln {

namespace {

constexpr int32_t kShiftInput = 1;
constexpr int32_t kScaleInput = 2;
constexpr int32_t kPowerInput = 3;

// Coefficients are flat ([count]); shape inference checks the count against the mode.
// Empty weights mean "absent" (0 shift, 1 scale, 1 power).
void setCoefficient(detail::NetworkImpl& net, ir::NodeId id, int32_t index, const Weights& w,
                    std::string_view what) {
  if (w.count == 0) {
    detail::clearInput(net.graph().node(id), index);
    return;
  }
  detail::checkFloatWeights(net.graph().node(id), w, what);
  detail::setLayerWeights(net, id, index, Dims{w.count}, w, what);
}

ScaleLayer addScaleLayer(detail::NetworkImpl& net, std::string_view api, Tensor input,
                         ScaleMode mode, const Weights& shift, const Weights& scale,
                         const Weights& power, int32_t channelAxis) {
  return net.guarded<ScaleLayer>(api, [&] {
    const auto x = net.valueOf(input, "input");
    const auto id =
        net.addLayer(LayerType::kSCALE, {x, ir::kNoValue, ir::kNoValue, ir::kNoValue}, 1);
    const auto rawMode = static_cast<int32_t>(mode);
    if (rawMode < 0 || mode > ScaleMode::kELEMENTWISE) {
      // No setting or input makes an out-of-range enum valid, so it is refused at once.
      detail::failLayer(net.graph().node(id), "mode ", rawMode,
                        " is not a ScaleMode (expected 0 for kUNIFORM, 1 for kCHANNEL or 2 for "
                        "kELEMENTWISE)");
    }
    auto& attrs = net.graph().node(id).attrs;
    attrs.set("mode", mode);
    attrs.set("channel_axis", channelAxis);
    setCoefficient(net, id, kShiftInput, shift, "shift");
    setCoefficient(net, id, kScaleInput, scale, "scale");
    setCoefficient(net, id, kPowerInput, power, "power");
    net.inferLayer(id);
    return id;
  });
}

}  // namespace

ScaleLayer NetworkDefinition::addScale(Tensor input, ScaleMode mode, Weights shift, Weights scale,
                                       Weights power) {
  return addScaleLayer(*impl_, "addScale", input, mode, shift, scale, power, 1);
}

ScaleLayer NetworkDefinition::addScaleNd(Tensor input, ScaleMode mode, Weights shift, Weights scale,
                                         Weights power, int32_t channelAxis) {
  return addScaleLayer(*impl_, "addScaleNd", input, mode, shift, scale, power, channelAxis);
}

ScaleMode ScaleLayer::mode() const {
  return detail::getEnumAttr(*this, "ScaleLayer::mode", "mode", ScaleMode::kUNIFORM);
}

void ScaleLayer::setChannelAxis(int32_t axis) {
  detail::setAttr(*this, "ScaleLayer::setChannelAxis", "channel_axis", axis);
}

int32_t ScaleLayer::channelAxis() const {
  return static_cast<int32_t>(
      detail::getIntAttr(*this, "ScaleLayer::channelAxis", "channel_axis", 1));
}

void ScaleLayer::setShift(Weights shift) {
  detail::writeLayer(*this, "ScaleLayer::setShift", [&](ir::Node&, ir::NodeId id) {
    setCoefficient(*net_, id, kShiftInput, shift, "shift");
  });
}

void ScaleLayer::setScale(Weights scale) {
  detail::writeLayer(*this, "ScaleLayer::setScale", [&](ir::Node&, ir::NodeId id) {
    setCoefficient(*net_, id, kScaleInput, scale, "scale");
  });
}

void ScaleLayer::setPower(Weights power) {
  detail::writeLayer(*this, "ScaleLayer::setPower", [&](ir::Node&, ir::NodeId id) {
    setCoefficient(*net_, id, kPowerInput, power, "power");
  });
}

}  // namespace kiln
