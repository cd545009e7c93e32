// GridSampleLayer and NetworkDefinition::addGridSample.
#include "network/network_impl.h"

namespace kiln {

GridSampleLayer NetworkDefinition::addGridSample(Tensor input, Tensor grid) {
  return impl_->guarded<GridSampleLayer>("addGridSample", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    const auto g = net.valueOf(grid, "grid");
    const auto id = net.addLayer(LayerType::kGRID_SAMPLE, {x, g}, 1);
    auto& attrs = net.graph().node(id).attrs;
    attrs.set("mode", InterpolationMode::kLINEAR);
    attrs.set("align_corners", false);
    attrs.set("sample_mode", SampleMode::kFILL);
    net.inferLayer(id);
    return id;
  });
}

void GridSampleLayer::setInterpolationMode(InterpolationMode mode) {
  detail::setAttr(*this, "GridSampleLayer::setInterpolationMode", "mode", mode);
}

InterpolationMode GridSampleLayer::interpolationMode() const {
  return detail::getEnumAttr(*this, "GridSampleLayer::interpolationMode", "mode",
                             InterpolationMode::kLINEAR);
}

void GridSampleLayer::setAlignCorners(bool align) {
  detail::setAttr(*this, "GridSampleLayer::setAlignCorners", "align_corners", align);
}

bool GridSampleLayer::alignCorners() const {
  return detail::getIntAttr(*this, "GridSampleLayer::alignCorners", "align_corners", 0) != 0;
}

void GridSampleLayer::setSampleMode(SampleMode mode) {
  detail::setAttr(*this, "GridSampleLayer::setSampleMode", "sample_mode", mode);
}

SampleMode GridSampleLayer::sampleMode() const {
  return detail::getEnumAttr(*this, "GridSampleLayer::sampleMode", "sample_mode",
                             SampleMode::kFILL);
}

}  // namespace kiln
