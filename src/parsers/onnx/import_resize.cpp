// Resampling: Resize (opsets 10 to 19), Upsample (opsets 7 and 9) and GridSample (opsets 16 and
// 20, 2-D), onto ResizeLayer and GridSampleLayer. The output shape of Resize and Upsample is
// fixed when the network is built, so their scales or sizes must be known constants or
// shape-tensor network inputs (whose values come from an optimization profile).
#include <algorithm>
#include <cmath>
#include <vector>

#include "parsers/onnx/node_import.h"

namespace kiln::parsers::onnx_import {

namespace {

InterpolationMode interpolationMode(const NodeImport& n, const std::string& mode) {
  if (mode == "nearest") return InterpolationMode::kNEAREST;
  if (mode == "linear" || mode == "bilinear") return InterpolationMode::kLINEAR;
  if (mode == "cubic" || mode == "bicubic") return InterpolationMode::kCUBIC;
  n.invalid("mode '" + mode + "' is not nearest, linear or cubic");
}

ResizeCoordinateTransformation coordinateTransformation(const NodeImport& n,
                                                        const std::string& mode) {
  using CT = ResizeCoordinateTransformation;
  if (mode == "half_pixel") return CT::kHALF_PIXEL;
  if (mode == "pytorch_half_pixel") return CT::kPYTORCH_HALF_PIXEL;
  if (mode == "align_corners") return CT::kALIGN_CORNERS;
  if (mode == "asymmetric") return CT::kASYMMETRIC;
  if (mode == "tf_half_pixel_for_nn") return CT::kTF_HALF_PIXEL_FOR_NN;
  if (mode == "half_pixel_symmetric") return CT::kHALF_PIXEL_SYMMETRIC;
  if (mode == "tf_crop_and_resize") return CT::kTF_CROP_AND_RESIZE;
  n.invalid("coordinate_transformation_mode '" + mode +
            "' is not half_pixel, half_pixel_symmetric, pytorch_half_pixel, align_corners, "
            "asymmetric, tf_half_pixel_for_nn or tf_crop_and_resize");
}

ResizeRoundMode nearestRounding(const NodeImport& n, const std::string& mode) {
  if (mode == "round_prefer_floor") return ResizeRoundMode::kROUND_PREFER_FLOOR;
  if (mode == "round_prefer_ceil") return ResizeRoundMode::kROUND_PREFER_CEIL;
  if (mode == "floor") return ResizeRoundMode::kFLOOR;
  if (mode == "ceil") return ResizeRoundMode::kCEIL;
  n.invalid("nearest_mode '" + mode +
            "' is not round_prefer_floor, round_prefer_ceil, floor or ceil");
}

// Scales and sizes as the model gives them, spread over every dimension of the input.
struct ResizeTarget {
  std::vector<float> scales;  //!< one per dimension, or empty
  Dims sizes;                 //!< nbDims -1 when scales are used
};

// The dimensions the scales or sizes of opset 18's "axes" attribute address (all without it).
std::vector<int32_t> resizedAxes(const NodeImport& n, int32_t rank) {
  std::vector<int32_t> axes;
  const auto listed = n.attrInts("axes");
  if (listed.empty()) {
    for (int32_t d = 0; d < rank; ++d) axes.push_back(d);
    return axes;
  }
  axesMask(n, listed, rank, "axes");  // rejects repeats
  for (int64_t a : listed) axes.push_back(normalizeAxis(n, a, rank, "axes"));
  return axes;
}

ResizeTarget readScales(const NodeImport& n, const ConstTensor& c, const Dims& in,
                        const std::vector<int32_t>& axes) {
  if (c.dims().nbDims != 1 || c.count() != static_cast<int64_t>(axes.size())) {
    n.invalid("scales has shape " + toString(c.dims()) + "; it needs one value per resized axis (" +
              std::to_string(axes.size()) + ")");
  }
  ResizeTarget t;
  t.sizes.nbDims = -1;
  t.scales.assign(static_cast<std::size_t>(in.nbDims), 1.f);
  const auto values = c.toFloats();
  for (std::size_t i = 0; i < axes.size(); ++i) {
    const float s = values[i];
    if (!(s > 0) || !std::isfinite(s)) {
      n.invalid("scale " + std::to_string(s) + " of dimension " + std::to_string(axes[i]) +
                " must be positive and finite");
    }
    t.scales[static_cast<std::size_t>(axes[i])] = s;
  }
  return t;
}

ResizeTarget readSizes(const NodeImport& n, const ConstTensor& c, const Dims& in,
                       const std::vector<int32_t>& axes) {
  if (c.dims().nbDims != 1 || c.count() != static_cast<int64_t>(axes.size())) {
    n.invalid("sizes has shape " + toString(c.dims()) + "; it needs one value per resized axis (" +
              std::to_string(axes.size()) + ")");
  }
  const auto values = c.toInts("sizes");
  for (std::size_t i = 0; i < axes.size(); ++i) {
    if (values[i] < 0) {
      n.invalid("size " + std::to_string(values[i]) + " of dimension " + std::to_string(axes[i]) +
                " is negative");
    }
  }
  ResizeTarget t;
  t.sizes = in;
  const std::string policy = n.attrString("keep_aspect_ratio_policy", "stretch");
  if (policy == "stretch") {
    for (std::size_t i = 0; i < axes.size(); ++i) t.sizes[axes[i]] = values[i];
    return t;
  }
  if (policy != "not_larger" && policy != "not_smaller") {
    n.invalid("keep_aspect_ratio_policy '" + policy +
              "' is not stretch, not_larger or not_smaller");
  }
  // One scale for every resized axis: the smallest (largest) ratio of size to input length;
  // each output length is that scale times the input length, rounded half up.
  double scale = policy == "not_larger" ? INFINITY : 0.0;
  for (std::size_t i = 0; i < axes.size(); ++i) {
    const int64_t length = in[axes[i]];
    if (length == 0) n.invalid("dimension " + std::to_string(axes[i]) + " of the input is empty");
    const double ratio = static_cast<double>(values[i]) / static_cast<double>(length);
    scale = policy == "not_larger" ? std::min(scale, ratio) : std::max(scale, ratio);
  }
  // The reference maps coordinates with that one scale. A ResizeLayer with scales rounds
  // lengths down, so it takes the scale when no length rounds up, and the sizes otherwise
  // (coordinates then map with each axis' output / input length).
  bool roundsDown = true;
  for (int32_t axis : axes) {
    const double exact = scale * static_cast<double>(in[axis]);
    if (!(exact < static_cast<double>(int64_t{1} << 40))) {
      n.invalid("output dimension " + std::to_string(axis) + " would have " +
                std::to_string(exact) + " elements, more than 2^40");
    }
    t.sizes[axis] = static_cast<int64_t>(std::floor(exact + 0.5));
    // The layer's length: floor(input length * the scale as float).
    const double layer =
        std::floor(static_cast<double>(static_cast<float>(scale)) * static_cast<double>(in[axis]));
    roundsDown = roundsDown && static_cast<double>(t.sizes[axis]) == layer;
  }
  if (roundsDown) {
    t.scales.assign(static_cast<std::size_t>(in.nbDims), 1.f);
    for (int32_t axis : axes) t.scales[static_cast<std::size_t>(axis)] = static_cast<float>(scale);
  }
  return t;
}

void applyTarget(ResizeLayer layer, const ResizeTarget& t) {
  if (!layer) return;
  if (t.scales.empty()) {
    layer.setOutputDimensions(t.sizes);
  } else {
    layer.setScales(t.scales);
  }
}

// A float32 network input at input @p i (scales), which the layer can take as a shape tensor.
bool isFloatShapeTensorInput(NodeImport& n, int32_t i) {
  return n.isShapeTensorInput(i, true) && n.inputType(i) == DataType::kFLOAT;
}

// Scales of Upsample (attribute in opset 7, input 1 from opset 9) and of Resize opset 10.
ResizeTarget upsampleScales(const NodeImport& n, const Dims& in) {
  std::vector<int32_t> axes;
  for (int32_t d = 0; d < in.nbDims; ++d) axes.push_back(d);
  if (n.opType() == "Upsample" && n.opset < 9) {
    const auto values = n.attrFloats("scales");
    if (values.empty()) n.invalid("attribute 'scales' is required");
    const Dims dims{static_cast<int64_t>(values.size())};
    return readScales(n, ConstTensor::copyOf(dims, values, kOnnxFloat, n.constantLimit()), in,
                      axes);
  }
  return readScales(n, n.requireConstant(1, "scales"), in, axes);
}

// Upsample and Resize-10: asymmetric coordinates, nearest takes floor (Upsample's definition).
void importUpsampleLike(NodeImport& n) {
  const Dims in = n.inputDims(0);
  const std::string mode = n.attrString("mode", "nearest");
  if (mode != "nearest" && mode != "linear" && mode != "bilinear") {
    n.invalid("mode '" + mode + "' is not nearest or linear");
  }
  // Scales of a network input (opset 9 on) are a shape tensor, known when the engine is built.
  const bool scalesAtBuildTime =
      !(n.opType() == "Upsample" && n.opset < 9) && isFloatShapeTensorInput(n, 1);
  const ResizeTarget target = scalesAtBuildTime ? ResizeTarget{} : upsampleScales(n, in);
  if (mode == "bilinear" && in.nbDims != 4) {
    n.invalid("mode 'bilinear' needs a 4-D input, not " + toString(in));
  }
  ResizeLayer layer = n.network.addResize(n.input(0));
  if (layer) {
    layer.setResizeMode(interpolationMode(n, mode));
    layer.setCoordinateTransformation(ResizeCoordinateTransformation::kASYMMETRIC);
    layer.setNearestRounding(ResizeRoundMode::kFLOOR);
    if (scalesAtBuildTime) {
      layer.setInput(1, n.shapeInput(1));
    } else {
      applyTarget(layer, target);
    }
  }
  n.setOutput(0, n.add(layer).output(0));
}

}  // namespace

void importUpsample(NodeImport& n) {
  importUpsampleLike(n);
}

void importResize(NodeImport& n) {
  if (n.opset < 11) {
    importUpsampleLike(n);
    return;
  }
  const Dims in = n.inputDims(0);
  const int32_t rank = in.nbDims;
  const InterpolationMode mode = interpolationMode(n, n.attrString("mode", "nearest"));
  const auto transform =
      coordinateTransformation(n, n.attrString("coordinate_transformation_mode", "half_pixel"));
  const ResizeRoundMode rounding =
      nearestRounding(n, n.attrString("nearest_mode", "round_prefer_floor"));
  const std::vector<int32_t> axes = resizedAxes(n, rank);

  // Scales (input 2) win when given with values; otherwise sizes (input 3).
  const bool hasScales =
      n.hasInput(2) && !(n.constantInput(2) != nullptr && n.constantInput(2)->count() == 0);
  const bool hasSizes = n.hasInput(3);
  if (hasScales && hasSizes) n.invalid("scales and sizes are both given; give one of them");
  if (!hasScales && !hasSizes) n.invalid("neither scales (input 2) nor sizes (input 3) is given");
  // Sizes known only when the engine is built (a shape-tensor network input) of every
  // dimension: the Resize layer reads them from its input 1.
  const bool sizesAtBuildTime = hasSizes && n.isShapeTensorInput(3) && !n.hasAttr("axes") &&
                                n.attrString("keep_aspect_ratio_policy", "stretch") == "stretch" &&
                                n.attrInt("antialias", 0) == 0;
  // Likewise scales of every dimension from a float32 network input.
  const bool scalesAtBuildTime = hasScales && isFloatShapeTensorInput(n, 2) && !n.hasAttr("axes") &&
                                 n.attrInt("antialias", 0) == 0;
  const int32_t atBuildTime = sizesAtBuildTime ? 3 : scalesAtBuildTime ? 2 : -1;
  // tf_crop_and_resize's region of interest computed at run time (of every axis): the layer reads
  // it when it runs; it does not change the output shape.
  const bool roiAtRunTime = transform == ResizeCoordinateTransformation::kTF_CROP_AND_RESIZE &&
                            n.hasInput(1) && n.constantInput(1) == nullptr && !n.hasAttr("axes");
  if (roiAtRunTime && n.inputDims(1) != Dims{2 * rank}) {
    n.invalid("roi has shape " + toString(n.inputDims(1)) + "; it needs " +
              std::to_string(2 * rank) + " values (starts, then ends, of every axis)");
  }
  const ResizeTarget target = atBuildTime >= 0 ? ResizeTarget{}
                              : hasScales ? readScales(n, n.requireConstant(2, "scales"), in, axes)
                                          : readSizes(n, n.requireConstant(3, "sizes"), in, axes);

  if (atBuildTime < 0 && n.attrInt("antialias", 0) != 0 && mode != InterpolationMode::kNEAREST) {
    // Antialiasing widens the filter only where the input is made smaller.
    bool shrinks = false;
    for (int32_t d = 0; d < rank; ++d) {
      const double out = target.scales.empty()
                             ? static_cast<double>(target.sizes[d])
                             : std::floor(in[d] * static_cast<double>(target.scales[d]));
      shrinks = shrinks || out < static_cast<double>(in[d]);
    }
    if (shrinks) {
      n.unsupported("antialias 1 (a widened filter when downsampling) is not supported");
    }
  }

  ResizeLayer layer = n.network.addResize(n.input(0));
  if (layer) {
    layer.setResizeMode(mode);
    layer.setCoordinateTransformation(transform);
    layer.setNearestRounding(rounding);
    layer.setCubicCoeff(n.attrFloat("cubic_coeff_a", -0.75f));
    layer.setExcludeOutside(n.attrInt("exclude_outside", 0) != 0);
    if (roiAtRunTime) {
      layer.setExtrapolationValue(n.attrFloat("extrapolation_value", 0.f));
    } else if (transform == ResizeCoordinateTransformation::kTF_CROP_AND_RESIZE) {
      std::vector<float> roi;
      if (n.hasInput(1)) roi = n.requireConstant(1, "roi").toFloats();
      if (roi.size() != 2 * axes.size()) {
        n.invalid("tf_crop_and_resize needs roi with " + std::to_string(2 * axes.size()) +
                  " values (starts, then ends, of the resized axes), not " +
                  std::to_string(roi.size()));
      }
      // Spread over every dimension: dimensions not resized keep [0, 1].
      std::vector<float> full(static_cast<std::size_t>(2 * rank), 0.f);
      for (int32_t d = 0; d < rank; ++d) full[static_cast<std::size_t>(rank + d)] = 1.f;
      for (std::size_t i = 0; i < axes.size(); ++i) {
        full[static_cast<std::size_t>(axes[i])] = roi[i];
        full[static_cast<std::size_t>(rank + axes[i])] = roi[axes.size() + i];
      }
      layer.setRegionOfInterest(full);
      layer.setExtrapolationValue(n.attrFloat("extrapolation_value", 0.f));
    }
    if (atBuildTime >= 0) {
      layer.setInput(1, n.shapeInput(atBuildTime));
    } else {
      applyTarget(layer, target);
    }
    if (roiAtRunTime) {
      // The layer takes the region at input 2, so input 1 holds the scales or sizes.
      if (atBuildTime < 0) {
        const bool scales = !target.scales.empty();
        std::vector<int64_t> sizes;
        for (int32_t d = 0; d < target.sizes.nbDims; ++d) sizes.push_back(target.sizes[d]);
        layer.setInput(1, n.constant(scales ? ConstTensor::floats(Dims{rank}, target.scales)
                                            : ConstTensor::vector(std::move(sizes)),
                                     scales ? "scales" : "sizes"));
      }
      layer.setInput(2, n.cast(n.input(1), DataType::kFLOAT, "roi"));
    }
  }
  n.setOutput(0, n.add(layer).output(0));
}

void importGridSample(NodeImport& n) {
  const int32_t rank = n.inputRank(0);
  if (rank != 4) {
    n.unsupported("kiln samples 2-D images [N, C, H, W]; the input has rank " +
                  std::to_string(rank));
  }
  const std::string padding = n.attrString("padding_mode", "zeros");
  SampleMode sample = SampleMode::kFILL;
  if (padding == "border") {
    sample = SampleMode::kCLAMP;
  } else if (padding == "reflection") {
    sample = SampleMode::kREFLECT;
  } else if (padding != "zeros") {
    n.invalid("padding_mode '" + padding + "' is not zeros, border or reflection");
  }
  // Opset 16 names the modes bilinear and bicubic, opset 20 linear and cubic.
  const std::string mode = n.attrString("mode", n.opset >= 20 ? "linear" : "bilinear");
  const InterpolationMode interpolation = interpolationMode(n, mode);
  GridSampleLayer layer = n.network.addGridSample(n.input(0), n.input(1));
  if (layer) {
    layer.setInterpolationMode(interpolation);
    layer.setAlignCorners(n.attrInt("align_corners", 0) != 0);
    layer.setSampleMode(sample);
  }
  n.setOutput(0, n.add(layer).output(0));
}

}  // namespace kiln::parsers::onnx_import
