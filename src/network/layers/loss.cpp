// LossLayer and NetworkDefinition::addLoss (kiln's own layer: ONNX NegativeLogLikelihoodLoss and
// SoftmaxCrossEntropyLoss). The class weights are optional input 2, set with setInput.
#include "network/layers/layer_weights.h"
#include "network/network_impl.h"

namespace kiln {

namespace {
constexpr std::string_view kIgnoreAttr = "ignore_index";
}  // namespace

LossLayer NetworkDefinition::addLoss(Tensor input, Tensor target, LossType type,
                                     LossReduction reduction) {
  return impl_->guarded<LossLayer>("addLoss", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    const auto t = net.valueOf(target, "target");
    // Out-of-range enums are argument errors no later setting can fix: refused at once.
    if (type != LossType::kNEGATIVE_LOG_LIKELIHOOD && type != LossType::kSOFTMAX_CROSS_ENTROPY) {
      fail(ErrorCode::kINVALID_ARGUMENT, "unknown loss type ", static_cast<int32_t>(type));
    }
    if (reduction != LossReduction::kNONE && reduction != LossReduction::kSUM &&
        reduction != LossReduction::kMEAN) {
      fail(ErrorCode::kINVALID_ARGUMENT, "unknown loss reduction ",
           static_cast<int32_t>(reduction));
    }
    const auto id = net.addLayer(LayerType::kLOSS, {x, t}, 2);
    auto& attrs = net.graph().node(id).attrs;
    attrs.set("type", type);
    attrs.set("reduction", reduction);
    net.inferLayer(id);
    return id;
  });
}

LossType LossLayer::lossType() const {
  return detail::getEnumAttr(*this, "LossLayer::lossType", "type",
                             LossType::kNEGATIVE_LOG_LIKELIHOOD);
}

void LossLayer::setReduction(LossReduction reduction) {
  detail::writeLayer(*this, "LossLayer::setReduction", [&](ir::Node& node, ir::NodeId) {
    if (reduction != LossReduction::kNONE && reduction != LossReduction::kSUM &&
        reduction != LossReduction::kMEAN) {
      detail::failLayer(node, "unknown loss reduction ", static_cast<int32_t>(reduction));
    }
    node.attrs.set("reduction", reduction);
  });
}

LossReduction LossLayer::reduction() const {
  return detail::getEnumAttr(*this, "LossLayer::reduction", "reduction", LossReduction::kMEAN);
}

void LossLayer::setIgnoreIndex(int64_t index) {
  detail::setAttr(*this, "LossLayer::setIgnoreIndex", kIgnoreAttr, index);
}

void LossLayer::clearIgnoreIndex() {
  detail::writeLayer(*this, "LossLayer::clearIgnoreIndex",
                     [&](ir::Node& node, ir::NodeId) { node.attrs.erase(kIgnoreAttr); });
}

bool LossLayer::hasIgnoreIndex() const {
  return detail::readLayer<bool>(
      *this, "LossLayer::hasIgnoreIndex",
      [](const ir::Node& node) { return node.attrs.has(kIgnoreAttr); }, false);
}

int64_t LossLayer::ignoreIndex() const {
  return detail::getIntAttr(*this, "LossLayer::ignoreIndex", kIgnoreAttr, 0);
}

}  // namespace kiln
