// ResizeLayer and NetworkDefinition::addResize.
#include <vector>

#include "network/network_impl.h"

namespace kiln {

ResizeLayer NetworkDefinition::addResize(Tensor input) {
  return impl_->guarded<ResizeLayer>("addResize", [&] {
    auto& net = *impl_;
    const auto x = net.valueOf(input, "input");
    const auto id = net.addLayer(LayerType::kRESIZE, {x}, 1);
    // TensorRT's defaults, written out so that the plan and inspect show them.
    auto& attrs = net.graph().node(id).attrs;
    attrs.set("mode", InterpolationMode::kNEAREST);
    attrs.set("coordinate_transformation", ResizeCoordinateTransformation::kASYMMETRIC);
    attrs.set("selector", ResizeSelector::kFORMULA);
    attrs.set("nearest_rounding", ResizeRoundMode::kFLOOR);
    attrs.set("cubic_coeff", -0.75);
    attrs.set("exclude_outside", false);
    net.inferLayer(id);
    return id;
  });
}

void ResizeLayer::setOutputDimensions(const Dims& dims) {
  detail::writeLayer(*this, "ResizeLayer::setOutputDimensions", [&](ir::Node& node, ir::NodeId) {
    if (dims.nbDims < 0 || dims.nbDims > Dims::kMaxRank) {
      fail(ErrorCode::kINVALID_ARGUMENT, "rank ", dims.nbDims, " is outside [0, ", Dims::kMaxRank,
           "]");
    }
    node.attrs.set("output_dims", dims);
    node.attrs.erase("scales");
  });
}

Dims ResizeLayer::outputDimensions() const {
  Dims unset;
  unset.nbDims = -1;
  return detail::getDimsAttr(*this, "ResizeLayer::outputDimensions", "output_dims", unset);
}

void ResizeLayer::setScales(std::span<const float> scales) {
  detail::writeLayer(*this, "ResizeLayer::setScales", [&](ir::Node& node, ir::NodeId) {
    if (scales.size() > static_cast<std::size_t>(Dims::kMaxRank)) {
      fail(ErrorCode::kINVALID_ARGUMENT, scales.size(), " scales given; tensors have at most ",
           Dims::kMaxRank, " dimensions");
    }
    node.attrs.set("scales", std::vector<double>(scales.begin(), scales.end()));
    node.attrs.erase("output_dims");
  });
}

std::vector<float> ResizeLayer::scales() const {
  return detail::readLayer<std::vector<float>>(*this, "ResizeLayer::scales",
                                               [](const ir::Node& node) {
                                                 const auto values = node.attrs.getFloats("scales");
                                                 return std::vector<float>(values.begin(),
                                                                           values.end());
                                               },
                                               {});
}

void ResizeLayer::setResizeMode(InterpolationMode mode) {
  detail::setAttr(*this, "ResizeLayer::setResizeMode", "mode", mode);
}

InterpolationMode ResizeLayer::resizeMode() const {
  return detail::getEnumAttr(*this, "ResizeLayer::resizeMode", "mode", InterpolationMode::kNEAREST);
}

void ResizeLayer::setCoordinateTransformation(ResizeCoordinateTransformation transformation) {
  detail::setAttr(*this, "ResizeLayer::setCoordinateTransformation", "coordinate_transformation",
                  transformation);
}

ResizeCoordinateTransformation ResizeLayer::coordinateTransformation() const {
  return detail::getEnumAttr(*this, "ResizeLayer::coordinateTransformation",
                             "coordinate_transformation",
                             ResizeCoordinateTransformation::kASYMMETRIC);
}

void ResizeLayer::setSelectorForSinglePixel(ResizeSelector selector) {
  detail::setAttr(*this, "ResizeLayer::setSelectorForSinglePixel", "selector", selector);
}

ResizeSelector ResizeLayer::selectorForSinglePixel() const {
  return detail::getEnumAttr(*this, "ResizeLayer::selectorForSinglePixel", "selector",
                             ResizeSelector::kFORMULA);
}

void ResizeLayer::setNearestRounding(ResizeRoundMode mode) {
  detail::setAttr(*this, "ResizeLayer::setNearestRounding", "nearest_rounding", mode);
}

ResizeRoundMode ResizeLayer::nearestRounding() const {
  return detail::getEnumAttr(*this, "ResizeLayer::nearestRounding", "nearest_rounding",
                             ResizeRoundMode::kFLOOR);
}

void ResizeLayer::setCubicCoeff(float a) {
  detail::setAttr(*this, "ResizeLayer::setCubicCoeff", "cubic_coeff", a);
}

float ResizeLayer::cubicCoeff() const {
  return static_cast<float>(
      detail::getFloatAttr(*this, "ResizeLayer::cubicCoeff", "cubic_coeff", -0.75));
}

void ResizeLayer::setExcludeOutside(bool exclude) {
  detail::setAttr(*this, "ResizeLayer::setExcludeOutside", "exclude_outside", exclude);
}

bool ResizeLayer::excludeOutside() const {
  return detail::getIntAttr(*this, "ResizeLayer::excludeOutside", "exclude_outside", 0) != 0;
}

void ResizeLayer::setRegionOfInterest(std::span<const float> roi) {
  detail::writeLayer(*this, "ResizeLayer::setRegionOfInterest", [&](ir::Node& node, ir::NodeId) {
    if (roi.size() > static_cast<std::size_t>(2 * Dims::kMaxRank)) {
      fail(ErrorCode::kINVALID_ARGUMENT, roi.size(),
           " region-of-interest values given; tensors have at most ", Dims::kMaxRank,
           " dimensions (2 values each)");
    }
    node.attrs.set("roi", std::vector<double>(roi.begin(), roi.end()));
  });
}

std::vector<float> ResizeLayer::regionOfInterest() const {
  return detail::readLayer<std::vector<float>>(*this, "ResizeLayer::regionOfInterest",
                                               [](const ir::Node& node) {
                                                 const auto values = node.attrs.getFloats("roi");
                                                 return std::vector<float>(values.begin(),
                                                                           values.end());
                                               },
                                               {});
}

void ResizeLayer::setExtrapolationValue(float value) {
  detail::setAttr(*this, "ResizeLayer::setExtrapolationValue", "extrapolation_value", value);
}

float ResizeLayer::extrapolationValue() const {
  return static_cast<float>(
      detail::getFloatAttr(*this, "ResizeLayer::extrapolationValue", "extrapolation_value", 0.0));
}

}  // namespace kiln
