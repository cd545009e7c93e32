// SliceLayer and NetworkDefinition::addSlice.
#include <string>

#include "network/layers/layer_weights.h"
#include "network/network_impl.h"

namespace kiln {

namespace {

void checkSliceRank(const Dims& dims, std::string_view what) {
  detail::checkRank(dims, detail::concat("the slice ", what));
}

void setSliceDims(const SliceLayer& layer, std::string_view api, std::string_view attr,
                  const Dims& dims) {
  detail::writeLayer(layer, api, [&](ir::Node& node, ir::NodeId) {
    checkSliceRank(dims, attr);
    node.attrs.set(attr, dims);
  });
}

}  // namespace

SliceLayer NetworkDefinition::addSlice(Tensor input, const Dims& start, const Dims& size,
                                       const Dims& stride) {
  return impl_->guarded<SliceLayer>("addSlice", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    checkSliceRank(start, "start");
    checkSliceRank(size, "size");
    checkSliceRank(stride, "stride");
    const auto id = net.addLayer(LayerType::kSLICE, {x}, 1);
    auto& attrs = net.graph().node(id).attrs;
    attrs.set("start", start);
    attrs.set("size", size);
    attrs.set("stride", stride);
    net.inferLayer(id);
    return id;
  });
}

void SliceLayer::setStart(const Dims& start) {
  setSliceDims(*this, "SliceLayer::setStart", "start", start);
}

Dims SliceLayer::start() const {
  return detail::getDimsAttr(*this, "SliceLayer::start", "start", {});
}

void SliceLayer::setSize(const Dims& size) {
  setSliceDims(*this, "SliceLayer::setSize", "size", size);
}

Dims SliceLayer::size() const {
  return detail::getDimsAttr(*this, "SliceLayer::size", "size", {});
}

void SliceLayer::setStride(const Dims& stride) {
  setSliceDims(*this, "SliceLayer::setStride", "stride", stride);
}

void SliceLayer::setOnnxBounds(bool onnx) {
  detail::setAttr(*this, "SliceLayer::setOnnxBounds", "onnx_bounds", onnx);
}

void SliceLayer::setTargetInput(bool tile) {
  detail::setAttr(*this, "SliceLayer::setTargetInput", "target_mode", int64_t{tile ? 2 : 1});
}

void SliceLayer::setSplitInput(int32_t axis, int32_t index) {
  detail::writeLayer(*this, "SliceLayer::setSplitInput", [&](ir::Node& node, ir::NodeId) {
    node.attrs.set("target_mode", int64_t{3});
    node.attrs.set("split_axis", int64_t{axis});
    node.attrs.set("split_index", int64_t{index});
  });
}

Dims SliceLayer::stride() const {
  return detail::getDimsAttr(*this, "SliceLayer::stride", "stride", {});
}

}  // namespace kiln
