// TopKLayer and NetworkDefinition::addTopK.
#include <bit>

#include "network/layers/layer_weights.h"
#include "network/network_impl.h"

namespace kiln {

namespace {

// Settings that no input could make valid (TopKLayer has no setters for them) are refused at
// once; k against the extent of the axis, and the axis against the input's rank, are left to
// shape inference, since the input's shape may still change.
void checkTopKSettings(const ir::Node& node, TopKOperation op, int32_t k, uint32_t reduceAxes) {
  const auto raw = static_cast<int32_t>(op);
  if (op != TopKOperation::kMAX && op != TopKOperation::kMIN) {
    detail::failLayer(node, "unknown top-k operation ", raw, " (expected 0 for MAX or 1 for MIN)");
  }
  if (k < 1) {
    detail::failLayer(node, "k = ", k, " is outside [1, extent of the reduced dimension]");
  }
  if (reduceAxes == 0) {
    detail::failLayer(node, "the axes mask is 0; set the bit of the one dimension to search");
  }
  if (std::popcount(reduceAxes) != 1) {
    detail::failLayer(node, "the axes mask ", reduceAxes, " must name exactly one dimension");
  }
  if ((reduceAxes >> Dims::kMaxRank) != 0) {
    detail::failLayer(node, "the axes mask ", reduceAxes, " names dimension ",
                      std::countr_zero(reduceAxes), ", but tensors have at most ", Dims::kMaxRank,
                      " dimensions (valid bits: 0 to ", Dims::kMaxRank - 1, ")");
  }
}

}  // namespace

TopKLayer NetworkDefinition::addTopK(Tensor input, TopKOperation op, int32_t k,
                                     uint32_t reduceAxes) {
  return impl_->guarded<TopKLayer>("addTopK", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    const auto id = net.addLayer(LayerType::kTOPK, {x}, 2);
    checkTopKSettings(net.graph().node(id), op, k, reduceAxes);
    auto& attrs = net.graph().node(id).attrs;
    attrs.set("op", op);
    attrs.set("k", k);
    attrs.set("axes", static_cast<int64_t>(reduceAxes));
    net.inferLayer(id);
    return id;
  });
}

TopKOperation TopKLayer::operation() const {
  return detail::getEnumAttr(*this, "TopKLayer::operation", "op", TopKOperation::kMAX);
}

int32_t TopKLayer::k() const {
  return static_cast<int32_t>(detail::getIntAttr(*this, "TopKLayer::k", "k", 0));
}

uint32_t TopKLayer::reduceAxes() const {
  return static_cast<uint32_t>(detail::getIntAttr(*this, "TopKLayer::reduceAxes", "axes", 0));
}

}  // namespace kiln
