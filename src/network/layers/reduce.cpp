// ReduceLayer and NetworkDefinition::addReduce.
#include "network/layers/layer_weights.h"
#include "network/network_impl.h"

namespace kiln {

namespace {

// Settings that no input could make valid (ReduceLayer has no setters for them) are refused at
// once; whether the mask fits the input's rank is left to shape inference, since the input's
// shape may still change.
void checkReduceSettings(const ir::Node& node, ReduceOperation op, uint32_t reduceAxes) {
  const auto raw = static_cast<int32_t>(op);
  if (raw < 0 || op > ReduceOperation::kAVG) {
    detail::failLayer(node, "unknown reduce operation ", raw, " (expected 0 to 4)");
  }
  if (reduceAxes == 0) {
    detail::failLayer(node, "the axes mask is 0; set bit i to reduce dimension i");
  }
  if ((reduceAxes >> Dims::kMaxRank) != 0) {
    detail::failLayer(node, "the axes mask ", reduceAxes, " names dimensions beyond the ",
                      Dims::kMaxRank, " a tensor can have (valid bits: 0 to ", Dims::kMaxRank - 1,
                      ")");
  }
}

}  // namespace

ReduceLayer NetworkDefinition::addReduce(Tensor input, ReduceOperation op, uint32_t reduceAxes,
                                         bool keepDimensions) {
  return impl_->guarded<ReduceLayer>("addReduce", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    const auto id = net.addLayer(LayerType::kREDUCE, {x}, 1);
    checkReduceSettings(net.graph().node(id), op, reduceAxes);
    auto& attrs = net.graph().node(id).attrs;
    attrs.set("op", op);
    attrs.set("axes", static_cast<int64_t>(reduceAxes));
    attrs.set("keep_dims", keepDimensions);
    net.inferLayer(id);
    return id;
  });
}

ReduceOperation ReduceLayer::operation() const {
  return detail::getEnumAttr(*this, "ReduceLayer::operation", "op", ReduceOperation::kSUM);
}

uint32_t ReduceLayer::reduceAxes() const {
  return static_cast<uint32_t>(detail::getIntAttr(*this, "ReduceLayer::reduceAxes", "axes", 0));
}

void ReduceLayer::setEmptyAxesNoop(bool noop) {
  detail::setAttr(*this, "ReduceLayer::setEmptyAxesNoop", "noop_with_empty_axes", noop);
}

bool ReduceLayer::keepDimensions() const {
  return detail::getIntAttr(*this, "ReduceLayer::keepDimensions", "keep_dims", 0) != 0;
}

}  // namespace kiln
