// RoiAlignLayer and NetworkDefinition::addRoiAlign (kiln's own layer: ONNX RoiAlign).
#include "network/layers/layer_weights.h"
#include "network/network_impl.h"

namespace kiln {

RoiAlignLayer NetworkDefinition::addRoiAlign(Tensor input, Tensor rois, Tensor batchIndices) {
  return impl_->guarded<RoiAlignLayer>("addRoiAlign", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    const auto r = net.valueOf(rois, "rois");
    const auto b = net.valueOf(batchIndices, "batchIndices");
    const auto id = net.addLayer(LayerType::kROI_ALIGN, {x, r, b}, 1);
    net.inferLayer(id);
    return id;
  });
}

void RoiAlignLayer::setMode(RoiAlignMode mode) {
  detail::writeLayer(*this, "RoiAlignLayer::setMode", [&](ir::Node& node, ir::NodeId) {
    if (mode != RoiAlignMode::kAVERAGE && mode != RoiAlignMode::kMAX) {
      detail::failLayer(node, "unknown RoiAlign mode ", static_cast<int32_t>(mode));
    }
    node.attrs.set("mode", mode);
  });
}

RoiAlignMode RoiAlignLayer::mode() const {
  return detail::getEnumAttr(*this, "RoiAlignLayer::mode", "mode", RoiAlignMode::kAVERAGE);
}

void RoiAlignLayer::setOutputSize(int64_t height, int64_t width) {
  detail::writeLayer(*this, "RoiAlignLayer::setOutputSize", [&](ir::Node& node, ir::NodeId) {
    node.attrs.set("output_height", height);
    node.attrs.set("output_width", width);
  });
}

int64_t RoiAlignLayer::outputHeight() const {
  return detail::getIntAttr(*this, "RoiAlignLayer::outputHeight", "output_height", 1);
}

int64_t RoiAlignLayer::outputWidth() const {
  return detail::getIntAttr(*this, "RoiAlignLayer::outputWidth", "output_width", 1);
}

void RoiAlignLayer::setSamplingRatio(int64_t ratio) {
  detail::setAttr(*this, "RoiAlignLayer::setSamplingRatio", "sampling_ratio", ratio);
}

int64_t RoiAlignLayer::samplingRatio() const {
  return detail::getIntAttr(*this, "RoiAlignLayer::samplingRatio", "sampling_ratio", 0);
}

void RoiAlignLayer::setSpatialScale(float scale) {
  detail::setAttr(*this, "RoiAlignLayer::setSpatialScale", "spatial_scale", scale);
}

float RoiAlignLayer::spatialScale() const {
  return static_cast<float>(
      detail::getFloatAttr(*this, "RoiAlignLayer::spatialScale", "spatial_scale", 1.0));
}

void RoiAlignLayer::setAligned(bool aligned) {
  detail::setAttr(*this, "RoiAlignLayer::setAligned", "aligned", aligned);
}

bool RoiAlignLayer::aligned() const {
  return detail::getIntAttr(*this, "RoiAlignLayer::aligned", "aligned", 1) != 0;
}

}  // namespace kiln
