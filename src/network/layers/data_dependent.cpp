// Layers with outputs of data-dependent shape: NonZeroLayer, CompressLayer, UniqueLayer and
// NMSLayer (ops in src/ops/data_dependent.cpp).
#include "network/network_impl.h"

namespace kiln {

namespace {
bool hasAxisAttr(const Layer& layer, std::string_view api) {
  return detail::readLayer<bool>(
      layer, api, [](const ir::Node& node) { return node.attrs.has("axis"); }, false);
}
}  // namespace

NonZeroLayer NetworkDefinition::addNonZero(Tensor input) {
  return impl_->guarded<NonZeroLayer>("addNonZero", [&] {
    auto& net = *impl_;
    const auto id = net.addLayer(LayerType::kNON_ZERO, {net.valueOf(input, "input")}, 1);
    net.inferLayer(id);
    return id;
  });
}

CompressLayer NetworkDefinition::addCompress(Tensor input, Tensor condition) {
  return impl_->guarded<CompressLayer>("addCompress", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    const auto c = net.valueOf(condition, "condition");
    const auto id = net.addLayer(LayerType::kCOMPRESS, {x, c}, 1);
    net.inferLayer(id);
    return id;
  });
}

void CompressLayer::setAxis(int32_t axis) {
  detail::setAttr(*this, "CompressLayer::setAxis", "axis", axis);
}

int32_t CompressLayer::axis() const {
  return static_cast<int32_t>(detail::getIntAttr(*this, "CompressLayer::axis", "axis", 0));
}

bool CompressLayer::hasAxis() const {
  return hasAxisAttr(*this, "CompressLayer::hasAxis");
}

UniqueLayer NetworkDefinition::addUnique(Tensor input) {
  return impl_->guarded<UniqueLayer>("addUnique", [&] {
    auto& net = *impl_;
    const auto id = net.addLayer(LayerType::kUNIQUE, {net.valueOf(input, "input")}, 4);
    net.graph().node(id).attrs.set("sorted", int64_t{1});
    net.inferLayer(id);
    return id;
  });
}

void UniqueLayer::setSorted(bool sorted) {
  detail::setAttr(*this, "UniqueLayer::setSorted", "sorted", sorted);
}

bool UniqueLayer::sorted() const {
  return detail::getIntAttr(*this, "UniqueLayer::sorted", "sorted", 1) != 0;
}

void UniqueLayer::setAxis(int32_t axis) {
  detail::setAttr(*this, "UniqueLayer::setAxis", "axis", axis);
}

int32_t UniqueLayer::axis() const {
  return static_cast<int32_t>(detail::getIntAttr(*this, "UniqueLayer::axis", "axis", 0));
}

bool UniqueLayer::hasAxis() const {
  return hasAxisAttr(*this, "UniqueLayer::hasAxis");
}

NMSLayer NetworkDefinition::addNMS(Tensor boxes, Tensor scores, Tensor maxOutputBoxesPerClass) {
  return impl_->guarded<NMSLayer>("addNMS", [&] {
    auto& net = *impl_;
    const auto b = net.valueOf(boxes, "boxes");
    const auto s = net.valueOf(scores, "scores");
    const auto limit = net.valueOf(maxOutputBoxesPerClass, "maxOutputBoxesPerClass");
    const auto id = net.addLayer(LayerType::kNMS, {b, s, limit}, 1);
    net.graph().node(id).attrs.set("center_point_box", int64_t{0});
    net.inferLayer(id);
    return id;
  });
}

void NMSLayer::setBoundingBoxFormat(BoundingBoxFormat format) {
  detail::setAttr(*this, "NMSLayer::setBoundingBoxFormat", "center_point_box",
                  int64_t{format == BoundingBoxFormat::kCENTER_SIZES ? 1 : 0});
}

BoundingBoxFormat NMSLayer::boundingBoxFormat() const {
  return detail::getIntAttr(*this, "NMSLayer::boundingBoxFormat", "center_point_box", 0) != 0
             ? BoundingBoxFormat::kCENTER_SIZES
             : BoundingBoxFormat::kCORNER_PAIRS;
}

}  // namespace kiln
