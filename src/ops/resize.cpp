// Resize: inputs [x, optional constant shape input], attributes "mode" (InterpolationMode),
// "coordinate_transformation" (ResizeCoordinateTransformation), "selector" (ResizeSelector),
// "nearest_rounding" (ResizeRoundMode), "cubic_coeff", "exclude_outside", "roi" and
// "extrapolation_value" (kTF_CROP_AND_RESIZE), and the output shape as
// "output_dims" (Dims) or "scales" (doubles) when input 1 is absent. Input 1, when present, is a
// constant vector of float32 scales or of int32/int64 output dimensions (either may also come
// from a shape-tensor network input: unknown extents until the build gives its values). Input 2,
// when present, is the region of interest of kTF_CROP_AND_RESIZE as a float32 tensor read at run
// time (it replaces "roi"; it does not change the output shape).
//
// The semantics are ONNX Resize's (opsets 10 to 19 without antialias and axes), as its reference
// implementation computes them: every dimension is resampled on its own
// (dimensions of scale 1 come out unchanged, except with kTF_HALF_PIXEL_FOR_NN, whose half-pixel
// shift applies to them too), and the N-d result is the separable product of the 1-d ones.
// Per dimension, output coordinate x maps to input coordinate x_in; nearest takes one input
// element, linear the two around x_in, cubic the four around it, with indices outside the input
// clamped to its edge (the reference pads with edge values). The output length of a scale s is
// floor(length * s); with output dimensions given, s = output length / input length.
#include "ops/resize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "kiln/network.h"
#include "ops/data_movement.h"
#include "ops/infer_checks.h"
#include "ops/interpolation.h"
#include "ops/op_families.h"

namespace kiln::ops {

namespace {

using CT = ResizeCoordinateTransformation;

struct ResizeParams {
  InterpolationMode mode = InterpolationMode::kNEAREST;
  CT transform = CT::kASYMMETRIC;
  ResizeSelector selector = ResizeSelector::kFORMULA;
  ResizeRoundMode rounding = ResizeRoundMode::kFLOOR;
  double cubicA = -0.75;
  bool excludeOutside = false;
  std::vector<double> roi;  // kTF_CROP_AND_RESIZE: starts, then ends
  double extrapolation = 0;
  std::vector<double> scales;  // one per dimension
  Dims outDims;
};

// Input 1 as both shape inference and the kernel see it.
struct ShapeInput {
  bool present = false;
  DataType dtype = DataType::kFLOAT;
  Dims dims;
  const void* data = nullptr;
};

// Input 2 (the region of interest at run time) as shape inference and the kernel see it.
struct RoiInput {
  bool present = false;
  const void* data = nullptr;  // null in shape inference while computed at run time
};

// Reads the settings and works out the scales and output shape of input shape @p in. Throws
// kINVALID_ARGUMENT saying what is wrong (shape inference prefixes the layer).
ResizeParams resizeParams(const ir::Attributes& attrs, const Dims& in, const ShapeInput& shape,
                          const RoiInput& roi = {}) {
  ResizeParams p;
  p.mode = attrs.getEnum("mode", InterpolationMode::kNEAREST);
  p.transform = attrs.getEnum("coordinate_transformation", CT::kASYMMETRIC);
  p.selector = attrs.getEnum("selector", ResizeSelector::kFORMULA);
  p.rounding = attrs.getEnum("nearest_rounding", ResizeRoundMode::kFLOOR);
  p.cubicA = attrs.getFloat("cubic_coeff", -0.75);
  p.excludeOutside = attrs.getInt("exclude_outside", 0) != 0;
  if (p.mode < InterpolationMode::kNEAREST || p.mode > InterpolationMode::kCUBIC) {
    fail(ErrorCode::kINVALID_ARGUMENT, "unknown resize mode ", static_cast<int64_t>(p.mode));
  }
  if (p.transform < CT::kALIGN_CORNERS || p.transform > CT::kTF_CROP_AND_RESIZE) {
    fail(ErrorCode::kINVALID_ARGUMENT, "unknown coordinate transformation ",
         static_cast<int64_t>(p.transform));
  }
  if (p.selector != ResizeSelector::kFORMULA && p.selector != ResizeSelector::kUPPER) {
    fail(ErrorCode::kINVALID_ARGUMENT, "unknown single-pixel selector ",
         static_cast<int64_t>(p.selector));
  }
  if (p.rounding < ResizeRoundMode::kROUND_PREFER_FLOOR || p.rounding > ResizeRoundMode::kCEIL) {
    fail(ErrorCode::kINVALID_ARGUMENT, "unknown nearest rounding ",
         static_cast<int64_t>(p.rounding));
  }
  if (!std::isfinite(p.cubicA)) {
    fail(ErrorCode::kINVALID_ARGUMENT, "the cubic coefficient must be finite, not ", p.cubicA);
  }

  const int32_t r = in.nbDims;
  if (p.transform == CT::kTF_CROP_AND_RESIZE) {
    if (!roi.present) {
      p.roi = attrs.getFloats("roi");
    } else if (roi.data != nullptr) {
      const auto* values = static_cast<const float*>(roi.data);
      p.roi.assign(values, values + 2 * r);  // shape inference checked the count
    } else {
      // Known only at run time; it does not change the output shape.
      p.roi.assign(static_cast<std::size_t>(2 * r), 0.0);
      std::fill(p.roi.begin() + r, p.roi.end(), 1.0);
    }
    p.extrapolation = attrs.getFloat("extrapolation_value", 0.0);
    if (static_cast<int32_t>(p.roi.size()) != 2 * r) {
      fail(ErrorCode::kINVALID_ARGUMENT, "tf_crop_and_resize needs a region of interest of ", 2 * r,
           " values (a start and an end per dimension), not ", p.roi.size());
    }
    for (double v : p.roi) {
      if (!std::isfinite(v)) {
        fail(ErrorCode::kINVALID_ARGUMENT, "the region of interest must be finite, not ", v);
      }
    }
  }
  std::vector<double> scales;
  std::vector<int64_t> sizes;
  if (shape.present) {
    if (shape.dims.nbDims != 1 || shape.dims[0] != r) {
      fail(ErrorCode::kINVALID_ARGUMENT,
           "input 1 (scales or output dimensions) must be a vector of ", r,
           " values, one per input dimension, not of shape ", toString(shape.dims));
    }
    const bool isFloat = shape.dtype == DataType::kFLOAT;
    if (!isFloat && shape.dtype != DataType::kINT32 && shape.dtype != DataType::kINT64) {
      fail(ErrorCode::kINVALID_ARGUMENT,
           "input 1 must hold float32 scales or int32/int64 output dimensions, not ",
           toString(shape.dtype));
    }
    if (shape.data == nullptr) {
      fail(ErrorCode::kINVALID_ARGUMENT, "input 1 (", isFloat ? "scales" : "output dimensions",
           ") must be a constant: the output shape is fixed when the engine is built");
    }
    for (int32_t d = 0; d < r; ++d) {
      if (isFloat) {
        scales.push_back(static_cast<const float*>(shape.data)[d]);
      } else if (shape.dtype == DataType::kINT32) {
        sizes.push_back(static_cast<const int32_t*>(shape.data)[d]);
      } else {
        sizes.push_back(static_cast<const int64_t*>(shape.data)[d]);
      }
    }
  } else if (attrs.has("output_dims")) {
    const Dims out = attrs.getDims("output_dims");
    if (out.nbDims != r) {
      fail(ErrorCode::kINVALID_ARGUMENT, "the output dimensions ", toString(out), " have rank ",
           out.nbDims, " but the input ", toString(in), " has rank ", r);
    }
    for (int32_t d = 0; d < r; ++d) sizes.push_back(out[d]);
  } else if (attrs.has("scales")) {
    scales = attrs.getFloats("scales");
    if (static_cast<int32_t>(scales.size()) != r) {
      fail(ErrorCode::kINVALID_ARGUMENT, scales.size(), " scales given but the input ",
           toString(in), " has rank ", r, " (one scale per dimension)");
    }
  } else {
    fail(ErrorCode::kINVALID_ARGUMENT,
         "neither output dimensions nor scales are set (setOutputDimensions, setScales, or a "
         "constant input 1)");
  }

  p.outDims = in;
  p.scales.assign(static_cast<std::size_t>(r), 1.0);
  for (int32_t d = 0; d < r; ++d) {
    const auto du = static_cast<std::size_t>(d);
    if (!scales.empty()) {
      const double s = scales[du];
      if (!(s > 0) || !std::isfinite(s)) {
        fail(ErrorCode::kINVALID_ARGUMENT, "the scale of dimension ", d, " is ", s,
             "; scales must be positive and finite");
      }
      const double length = std::floor(static_cast<double>(in[d]) * s);
      if (length > static_cast<double>(kMaxTensorElements)) {
        fail(ErrorCode::kINVALID_ARGUMENT, "scale ", s, " makes dimension ", d,
             " of the output too large");
      }
      p.scales[du] = s;
      p.outDims[d] = static_cast<int64_t>(length);
    } else {
      const int64_t size = sizes[du];
      if (size < 0) {
        fail(ErrorCode::kINVALID_ARGUMENT, "output dimension ", d, " is ", size,
             "; it must be >= 0");
      }
      if (in[d] == 0 && size > 0) {
        fail(ErrorCode::kINVALID_ARGUMENT, "dimension ", d,
             " of the input is empty and cannot be resized to ", size);
      }
      p.outDims[d] = size;
      p.scales[du] = in[d] == 0 ? 1.0 : static_cast<double>(size) / static_cast<double>(in[d]);
    }
  }
  return p;
}

// The input coordinate that output coordinate @p x of one dimension maps to.
double sourceCoordinate(const ResizeParams& p, int32_t d, int64_t x, double scale, int64_t inLength,
                        int64_t outLength) {
  if (p.selector == ResizeSelector::kUPPER && outLength == 1) return 0.0;
  const double xd = static_cast<double>(x);
  // The reference uses the fractional output length in align_corners and half_pixel_symmetric.
  const double fractional = scale * static_cast<double>(inLength);
  switch (p.transform) {
    case CT::kALIGN_CORNERS:
      return fractional == 1.0 ? 0.0 : xd * static_cast<double>(inLength - 1) / (fractional - 1.0);
    case CT::kASYMMETRIC:
      return xd / scale;
    case CT::kHALF_PIXEL:
      return (xd + 0.5) / scale - 0.5;
    case CT::kPYTORCH_HALF_PIXEL:
      return outLength > 1 ? (xd + 0.5) / scale - 0.5 : 0.0;
    case CT::kTF_HALF_PIXEL_FOR_NN:
      return (xd + 0.5) / scale;
    case CT::kHALF_PIXEL_SYMMETRIC: {
      const double adjustment = static_cast<double>(outLength) / fractional;
      const double offset = static_cast<double>(inLength) / 2.0 * (1.0 - adjustment);
      return offset + (xd + 0.5) / scale - 0.5;
    }
    case CT::kTF_CROP_AND_RESIZE: {
      const auto r = p.roi.size() / 2;
      const double start = p.roi[static_cast<std::size_t>(d)];
      const double end = p.roi[r + static_cast<std::size_t>(d)];
      const auto span = static_cast<double>(inLength - 1);
      if (outLength == 1) return 0.5 * (start + end) * span;
      return start * span + xd * (end - start) * span / static_cast<double>(outLength - 1);
    }
  }
  return xd;
}

int64_t nearestIndex(double x, ResizeRoundMode rounding) {
  const double f = std::floor(x);
  const auto lower = static_cast<int64_t>(f);
  if (x == f) return lower;
  const double t = x - f;
  switch (rounding) {
    case ResizeRoundMode::kROUND_PREFER_FLOOR:
      return t <= 0.5 ? lower : lower + 1;
    case ResizeRoundMode::kROUND_PREFER_CEIL:
      return t < 0.5 ? lower : lower + 1;
    case ResizeRoundMode::kFLOOR:
      return lower;
    case ResizeRoundMode::kCEIL:
      return lower + 1;
  }
  return lower;
}

// The taps of one dimension: output coordinate y reads input indices index[y * taps + t]
// (clamped into the input) with weights weight[y * taps + t].
struct DimTaps {
  int32_t taps = 1;
  std::vector<int64_t> index;
  std::vector<double> weight;
  bool identity = false;      // output y is input y, unweighted
  std::vector<char> outside;  // kTF_CROP_AND_RESIZE: output y maps outside the input
  bool anyOutside = false;
};

DimTaps dimTaps(const ResizeParams& p, int32_t d, int64_t inLength, int64_t outLength) {
  DimTaps t;
  t.taps = p.mode == InterpolationMode::kNEAREST ? 1 : p.mode == InterpolationMode::kLINEAR ? 2 : 4;
  const auto n = static_cast<std::size_t>(t.taps);
  t.index.resize(static_cast<std::size_t>(outLength) * n);
  t.weight.resize(t.index.size());
  t.outside.assign(static_cast<std::size_t>(outLength), 0);
  const double scale = p.scales[static_cast<std::size_t>(d)];
  // Coordinates far outside the input (impossible for valid scales) are limited so that the
  // integer conversions below stay defined; they end up clamped to the edge anyway.
  const double limit = static_cast<double>(inLength) + 8.0;
  for (int64_t y = 0; y < outLength; ++y) {
    const double source = sourceCoordinate(p, d, y, scale, inLength, outLength);
    if (p.transform == CT::kTF_CROP_AND_RESIZE &&
        (source < 0 || source > static_cast<double>(inLength - 1))) {
      t.outside[static_cast<std::size_t>(y)] = 1;
      t.anyOutside = true;
    }
    const double x = std::clamp(source, -limit, limit);
    int64_t* idx = &t.index[static_cast<std::size_t>(y) * n];
    double* w = &t.weight[static_cast<std::size_t>(y) * n];
    if (p.mode == InterpolationMode::kNEAREST) {
      idx[0] = nearestIndex(x, p.rounding);
      w[0] = 1.0;
    } else {
      const double f = std::floor(x);
      const double frac = x - f;
      const auto lower = static_cast<int64_t>(f);
      if (p.mode == InterpolationMode::kLINEAR) {
        idx[0] = lower;
        idx[1] = lower + 1;
        w[0] = 1.0 - frac;
        w[1] = frac;
      } else {
        const auto c = cubicCoefficients(frac, p.cubicA);
        for (std::size_t k = 0; k < 4; ++k) {
          idx[k] = lower - 1 + static_cast<int64_t>(k);
          w[k] = c[k];
        }
      }
      if (p.excludeOutside) {
        double sum = 0;
        for (std::size_t k = 0; k < n; ++k) {
          if (idx[k] < 0 || idx[k] >= inLength) w[k] = 0;
          sum += w[k];
        }
        if (sum != 0) {
          for (std::size_t k = 0; k < n; ++k) w[k] /= sum;
        }
      }
    }
    for (std::size_t k = 0; k < n; ++k) idx[k] = std::clamp<int64_t>(idx[k], 0, inLength - 1);
  }
  t.identity = inLength == outLength && !t.anyOutside;
  for (int64_t y = 0; y < outLength && t.identity; ++y) {
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t i = static_cast<std::size_t>(y) * n + k;
      if (t.weight[i] != 0 && (t.weight[i] != 1.0 || t.index[i] != y)) t.identity = false;
    }
  }
  return t;
}

void inferResize(ir::InferContext& ctx) {
  const auto& in = ctx.input(0);
  RoiInput roi;
  if (ctx.hasInput(2)) {
    const auto& t = ctx.input(2);
    if (t.dtype != DataType::kFLOAT || t.dims.nbDims != 1 || t.dims[0] != 2 * in.dims.nbDims) {
      ctx.fail("input 2 (the region of interest) must be a float32 vector of ", 2 * in.dims.nbDims,
               " values (a start and an end per dimension), not ", toString(t.dtype), " of shape ",
               toString(t.dims));
    }
    roi = {true, t.constData};
  }
  ShapeInput shape;
  if (ctx.hasInput(1)) {
    const auto& s = ctx.input(1);
    shape = {true, s.dtype, s.dims, s.constData};
    if (s.constData == nullptr &&
        (s.dtype == DataType::kINT32 || s.dtype == DataType::kINT64 ||
         s.dtype == DataType::kFLOAT) &&
        s.dims.nbDims == 1 && s.dims[0] == in.dims.nbDims) {
      // Output dimensions or scales from a shape-tensor network input: known once the build
      // gives values.
      Dims out = in.dims;
      for (int32_t d = 0; d < out.nbDims; ++d) out[d] = -1;
      ctx.setOutput(0, in.dtype, out);
      return;
    }
  }
  const ResizeParams p = withLayerContext(ctx, [&] {
    ResizeParams params = resizeParams(ctx.attrs(), in.dims, shape, roi);
    checkedVolume(params.outDims, "the output");
    return params;
  });
  if (p.transform == CT::kTF_CROP_AND_RESIZE && in.dtype != DataType::kFLOAT) {
    ctx.fail("tf_crop_and_resize needs float32 input, not ", toString(in.dtype));
  }
  if (p.mode != InterpolationMode::kNEAREST && in.dtype != DataType::kFLOAT) {
    ctx.fail(p.mode == InterpolationMode::kLINEAR ? "linear" : "cubic",
             " resize needs float32 input, not ", toString(in.dtype),
             " (use kNEAREST, or convert with addCast)");
  }
  ctx.setOutput(0, in.dtype, p.outDims);
}

// Nearest: every output element copies one input element (any type).
void runNearest(const ir::KernelContext& ctx, const std::vector<DimTaps>& taps) {
  const auto& in = ctx.input(0);
  const auto& out = ctx.output(0);
  const std::size_t esize = elementSize(in.dtype);
  const Dims strides = contiguousStrides(in.dims);
  const auto* src = in.as<const std::byte>();
  auto* dst = out.as<std::byte>();
  for (Odometer it(out.dims); it.valid(); it.next()) {
    int64_t offset = 0;
    for (int32_t d = 0; d < out.dims.nbDims; ++d) {
      offset +=
          taps[static_cast<std::size_t>(d)].index[static_cast<std::size_t>(it[d])] * strides[d];
    }
    std::memcpy(dst, src + static_cast<std::size_t>(offset) * esize, esize);
    dst += esize;
  }
}

// Linear and cubic: one weighted pass per resized dimension, in double.
void runInterpolating(const ir::KernelContext& ctx, const std::vector<DimTaps>& taps) {
  const auto& in = ctx.input(0);
  const auto& out = ctx.output(0);
  const float* x = in.as<const float>();
  std::vector<double> current(x, x + in.count());
  Dims dims = in.dims;
  for (int32_t d = 0; d < dims.nbDims; ++d) {
    const DimTaps& t = taps[static_cast<std::size_t>(d)];
    if (t.identity) continue;
    int64_t outer = 1;
    for (int32_t k = 0; k < d; ++k) outer *= dims[k];
    int64_t inner = 1;
    for (int32_t k = d + 1; k < dims.nbDims; ++k) inner *= dims[k];
    const int64_t inLength = dims[d];
    const int64_t outLength = out.dims[d];
    std::vector<double> next(static_cast<std::size_t>(outer * outLength * inner), 0.0);
    const auto n = static_cast<std::size_t>(t.taps);
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t y = 0; y < outLength; ++y) {
        double* row = &next[static_cast<std::size_t>((o * outLength + y) * inner)];
        for (std::size_t k = 0; k < n; ++k) {
          const double w = t.weight[static_cast<std::size_t>(y) * n + k];
          if (w == 0) continue;
          const int64_t i = t.index[static_cast<std::size_t>(y) * n + k];
          const double* source = &current[static_cast<std::size_t>((o * inLength + i) * inner)];
          for (int64_t j = 0; j < inner; ++j) row[j] += w * source[j];
        }
      }
    }
    current = std::move(next);
    dims[d] = outLength;
  }
  float* y = out.as<float>();
  for (std::size_t i = 0; i < current.size(); ++i) y[i] = static_cast<float>(current[i]);
}

void runResize(const ir::KernelContext& ctx) {
  const auto& in = ctx.input(0);
  const auto& out = ctx.output(0);
  ShapeInput shape;
  if (ctx.hasInput(1)) {
    const auto& s = ctx.input(1);
    shape = {true, s.dtype, s.dims, s.data};
  }
  RoiInput roi;
  if (ctx.hasInput(2)) roi = {true, ctx.input(2).data};
  const ResizeParams p = resizeParams(ctx.attrs(), in.dims, shape, roi);
  if (out.count() == 0) return;
  std::vector<DimTaps> taps;
  for (int32_t d = 0; d < in.dims.nbDims; ++d) {
    taps.push_back(dimTaps(p, d, in.dims[d], out.dims[d]));
  }
  if (p.mode == InterpolationMode::kNEAREST) {
    runNearest(ctx, taps);
  } else {
    runInterpolating(ctx, taps);
  }
  if (std::any_of(taps.begin(), taps.end(), [](const DimTaps& t) { return t.anyOutside; })) {
    // An output is extrapolated when its coordinate falls outside the input in any dimension.
    const auto value = static_cast<float>(p.extrapolation);
    float* y = out.as<float>();
    for (Odometer it(out.dims); it.valid(); it.next(), ++y) {
      for (int32_t d = 0; d < out.dims.nbDims; ++d) {
        if (taps[static_cast<std::size_t>(d)].outside[static_cast<std::size_t>(it[d])] != 0) {
          *y = value;
          break;
        }
      }
    }
  }
}

}  // namespace

std::vector<std::vector<int64_t>> nearestResizeIndices(const ir::Attributes& attrs,
                                                       const Dims& in) {
  const ResizeParams p = resizeParams(attrs, in, ShapeInput{});
  if (p.mode != InterpolationMode::kNEAREST) return {};
  std::vector<std::vector<int64_t>> indices;
  for (int32_t d = 0; d < in.nbDims; ++d) {
    DimTaps t = dimTaps(p, d, in[d], p.outDims[d]);
    if (t.anyOutside) return {};
    indices.push_back(std::move(t.index));
  }
  return indices;
}

void registerResizeOps(ir::OpRegistry& registry) {
  registry.add({.name = "Resize",
                .minInputs = 1,
                .maxInputs = 3,
                .nbOutputs = 1,
                .infer = inferResize,
                .reference = runResize,
                .shapeInputs = {1}});
}

}  // namespace kiln::ops
