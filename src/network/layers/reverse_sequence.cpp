// ReverseSequenceLayer and NetworkDefinition::addReverseSequence.
#include "network/network_impl.h"

namespace kiln {

ReverseSequenceLayer NetworkDefinition::addReverseSequence(Tensor input, Tensor sequenceLengths) {
  return impl_->guarded<ReverseSequenceLayer>("addReverseSequence", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    const auto lengths = net.valueOf(sequenceLengths, "sequenceLengths");
    const auto id = net.addLayer(LayerType::kREVERSE_SEQUENCE, {x, lengths}, 1);
    auto& attrs = net.graph().node(id).attrs;
    attrs.set("batch_axis", int64_t{1});
    attrs.set("sequence_axis", int64_t{0});
    net.inferLayer(id);
    return id;
  });
}

void ReverseSequenceLayer::setBatchAxis(int32_t axis) {
  detail::setAttr(*this, "ReverseSequenceLayer::setBatchAxis", "batch_axis", axis);
}

int32_t ReverseSequenceLayer::batchAxis() const {
  return static_cast<int32_t>(
      detail::getIntAttr(*this, "ReverseSequenceLayer::batchAxis", "batch_axis", 1));
}

void ReverseSequenceLayer::setSequenceAxis(int32_t axis) {
  detail::setAttr(*this, "ReverseSequenceLayer::setSequenceAxis", "sequence_axis", axis);
}

int32_t ReverseSequenceLayer::sequenceAxis() const {
  return static_cast<int32_t>(
      detail::getIntAttr(*this, "ReverseSequenceLayer::sequenceAxis", "sequence_axis", 0));
}

}  // namespace kiln
