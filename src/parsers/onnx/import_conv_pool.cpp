// Conv, ConvTranspose, MaxPool, AveragePool, GlobalMaxPool, GlobalAveragePool.
#include <algorithm>
#include <string>

#include "parsers/onnx/node_import.h"

namespace kiln::parsers::onnx_import {

namespace {

// The window attributes convolutions and pooling share, as ONNX spells them.
struct Window {
  Dims kernel, strides, dilations, pre, post;
  std::string autoPad = "NOTSET";
};

Dims spatialList(const NodeImport& n, std::string_view attr, int32_t spatial, int64_t fallback,
                 int64_t minValue) {
  const auto values = n.attrInts(attr);
  if (values.empty()) return filled(spatial, fallback);
  if (static_cast<int32_t>(values.size()) != spatial) {
    n.invalid("attribute '" + std::string(attr) + "' has " + std::to_string(values.size()) +
              " entries; the input has " + std::to_string(spatial) + " spatial dimensions");
  }
  for (int64_t v : values) {
    if (v < minValue) {
      n.invalid("attribute '" + std::string(attr) + "' has value " + std::to_string(v) +
                "; values must be at least " + std::to_string(minValue));
    }
  }
  return toDims(n, values, attr);
}

Window readWindow(const NodeImport& n, int32_t spatial, const Dims& kernel) {
  Window w;
  w.kernel = kernel;
  w.strides = spatialList(n, "strides", spatial, 1, 1);
  w.dilations = spatialList(n, "dilations", spatial, 1, 1);
  w.pre = filled(spatial, 0);
  w.post = filled(spatial, 0);
  w.autoPad = n.attrString("auto_pad", "NOTSET");
  if (w.autoPad != "NOTSET" && w.autoPad != "VALID" && w.autoPad != "SAME_UPPER" &&
      w.autoPad != "SAME_LOWER") {
    n.invalid("auto_pad '" + w.autoPad + "' is not NOTSET, VALID, SAME_UPPER or SAME_LOWER");
  }
  const auto pads = n.attrInts("pads");
  if (!pads.empty() && w.autoPad == "NOTSET") {
    if (static_cast<int32_t>(pads.size()) != 2 * spatial) {
      n.invalid("attribute 'pads' has " + std::to_string(pads.size()) + " entries; " +
                std::to_string(spatial) + " spatial dimensions need " +
                std::to_string(2 * spatial) + " (all begins, then all ends)");
    }
    for (int32_t i = 0; i < spatial; ++i) {
      w.pre[i] = pads[static_cast<std::size_t>(i)];
      w.post[i] = pads[static_cast<std::size_t>(i + spatial)];
      if (w.pre[i] < 0 || w.post[i] < 0) n.unsupported("negative pads are not supported");
    }
  }
  return w;
}

PaddingMode paddingMode(const Window& w, bool ceil) {
  if (w.autoPad == "SAME_UPPER") return PaddingMode::kSAME_UPPER;
  if (w.autoPad == "SAME_LOWER") return PaddingMode::kSAME_LOWER;
  return ceil ? PaddingMode::kEXPLICIT_ROUND_UP : PaddingMode::kEXPLICIT_ROUND_DOWN;
}

int32_t spatialRank(const NodeImport& n, int32_t inputRank) {
  if (inputRank < 3 || inputRank > 5) {
    n.unsupported("the input has rank " + std::to_string(inputRank) +
                  "; kiln convolves and pools 1, 2 or 3 spatial dimensions (rank 3 to 5)");
  }
  return inputRank - 2;
}

Dims kernelShape(const NodeImport& n, int32_t spatial, const Dims& weights) {
  Dims kernel;
  kernel.nbDims = spatial;
  for (int32_t i = 0; i < spatial; ++i) kernel[i] = weights[2 + i];
  const auto given = n.attrInts("kernel_shape");
  if (!given.empty() && toDims(n, given, "kernel_shape") != kernel) {
    n.invalid("kernel_shape " + toString(toDims(n, given, "kernel_shape")) +
              " disagrees with the kernel W of shape " + toString(weights));
  }
  return kernel;
}

Weights floatWeights(const std::vector<float>& values) {
  return Weights{DataType::kFLOAT, values.empty() ? nullptr : values.data(),
                 static_cast<int64_t>(values.size())};
}

// The shape of the kernel W (input 1), constant or not, checked against the input's rank.
Dims kernelDims(const NodeImport& n, int32_t spatial) {
  if (!n.hasInput(1)) n.invalid("the kernel W (input 1) is missing");
  const Dims w = n.inputDims(1);
  if (w.nbDims != spatial + 2) {
    n.invalid("the kernel W has shape " + toString(w) + "; an input of rank " +
              std::to_string(spatial + 2) + " needs a kernel of rank " +
              std::to_string(spatial + 2));
  }
  return w;
}

// The values of W and B where they are known at parse time (empty where computed at run time
// or, for B, absent).
struct KernelAndBias {
  std::vector<float> kernel, bias;
};

KernelAndBias readKernelAndBias(const NodeImport& n) {
  KernelAndBias out;
  if (const ConstTensor* w = n.constantInput(1)) out.kernel = w->toFloats();
  if (const ConstTensor* b = n.constantInput(2)) out.bias = b->toFloats();
  return out;
}

// Wires W and B computed at run time into @p layer (inputs 1 and 2); @p withBias false leaves
// B to the caller.
void setRunTimeWeights(NodeImport& n, Layer layer, bool withBias) {
  if (n.constantInput(1) == nullptr) layer.setInput(1, n.cast(n.input(1), DataType::kFLOAT, "W"));
  if (withBias && n.hasInput(2) && n.constantInput(2) == nullptr) {
    layer.setInput(2, n.cast(n.input(2), DataType::kFLOAT, "B"));
  }
}

}  // namespace

// The kernel W and bias B are usually initializers, but may be computed at run time (graph
// inputs, other nodes' outputs): those reach the layer through setInput, and shape inference
// checks their shapes as it checks weights.
void importConv(NodeImport& n) {
  const int32_t spatial = spatialRank(n, n.inputRank(0));
  const Dims wDims = kernelDims(n, spatial);
  const Window window = readWindow(n, spatial, kernelShape(n, spatial, wDims));
  const int64_t group = n.attrInt("group", 1);
  const KernelAndBias weights = readKernelAndBias(n);

  ConvolutionLayer conv =
      n.network.addConvolution(n.input(0), wDims[0], window.kernel, floatWeights(weights.kernel),
                               floatWeights(weights.bias));
  if (conv) {
    conv.setNbGroups(group);
    conv.setStride(window.strides);
    conv.setDilation(window.dilations);
    conv.setPrePadding(window.pre);
    conv.setPostPadding(window.post);
    conv.setPaddingMode(paddingMode(window, false));
    setRunTimeWeights(n, conv, true);
  }
  n.setOutput(0, n.add(conv).output(0));
}

// ONNX ConvTranspose: output_padding and output_shape extend or crop the full transposed
// output. kiln's deconvolution crops with non-negative padding only; where the output reaches
// beyond the full result (cells no input reaches, which hold just the bias), a zero Padding
// layer adds the cells and the bias follows as a separate per-channel Scale.
void importConvTranspose(NodeImport& n) {
  const Dims x = n.inputDims(0);
  const int32_t spatial = spatialRank(n, x.nbDims);
  const Dims wDims = kernelDims(n, spatial);
  const Window window = readWindow(n, spatial, kernelShape(n, spatial, wDims));
  const int64_t group = n.attrInt("group", 1);
  if (group < 1) n.invalid("group " + std::to_string(group) + " must be positive");
  const int64_t outputs = wDims[1] * group;
  const Dims outputPadding = spatialList(n, "output_padding", spatial, 0, 0);
  auto outputShape = n.attrInts("output_shape");
  if (outputShape.size() == static_cast<std::size_t>(spatial + 2)) {
    outputShape.erase(outputShape.begin(), outputShape.begin() + 2);
  }
  if (!outputShape.empty() && outputShape.size() != static_cast<std::size_t>(spatial)) {
    n.invalid("output_shape has " + std::to_string(outputShape.size()) +
              " entries; the input has " + std::to_string(spatial) + " spatial dimensions");
  }
  const bool same = window.autoPad == "SAME_UPPER" || window.autoPad == "SAME_LOWER";

  // Per dimension: cells cropped at the start (pre, negative: added) and at the end (post).
  // Computed in 128 bits: strides, dilations, output_shape and output_padding are any int64.
  const auto fits = [](__int128 v) {
    return v >= -(__int128{1} << 40) && v <= (__int128{1} << 40);
  };
  Dims pre = filled(spatial, 0), post = filled(spatial, 0);
  for (int32_t i = 0; i < spatial; ++i) {
    const __int128 in = x[2 + i];
    const __int128 full =
        (in - 1) * window.strides[i] + (__int128{window.kernel[i]} - 1) * window.dilations[i] + 1;
    __int128 start = window.pre[i], end = __int128{window.post[i]} - outputPadding[i];
    if (!outputShape.empty() || same) {
      const __int128 out =
          outputShape.empty() ? in * window.strides[i] : outputShape[static_cast<std::size_t>(i)];
      const __int128 total = full + outputPadding[i] - out;
      // Python's floor division, as the ONNX definition: an output larger than the full result
      // (negative total) grows at the end first.
      const __int128 half = total >= 0 ? total / 2 : -((1 - total) / 2);
      start = window.autoPad == "SAME_UPPER" ? half : total - half;
      end = full - start - out;
    }
    if (!fits(full) || !fits(start) || !fits(end)) {
      n.invalid("along spatial dimension " + std::to_string(i) +
                ", the input extent, strides, kernel, dilations, padding and output shape give "
                "lengths past 2^40");
    }
    pre[i] = static_cast<int64_t>(start);
    post[i] = static_cast<int64_t>(end);
  }
  Dims crop = filled(spatial, 0), cropEnd = filled(spatial, 0);
  Dims grow = filled(spatial, 0), growEnd = filled(spatial, 0);
  bool grows = false;
  for (int32_t i = 0; i < spatial; ++i) {
    crop[i] = std::max<int64_t>(pre[i], 0);
    cropEnd[i] = std::max<int64_t>(post[i], 0);
    grow[i] = std::max<int64_t>(-pre[i], 0);
    growEnd[i] = std::max<int64_t>(-post[i], 0);
    grows = grows || grow[i] > 0 || growEnd[i] > 0;
  }

  const KernelAndBias weights = readKernelAndBias(n);
  const bool runTimeBias = n.hasInput(2) && n.constantInput(2) == nullptr;
  DeconvolutionLayer deconv =
      n.network.addDeconvolution(n.input(0), outputs, window.kernel, floatWeights(weights.kernel),
                                 floatWeights(grows ? std::vector<float>{} : weights.bias));
  if (deconv) {
    deconv.setNbGroups(group);
    deconv.setStride(window.strides);
    deconv.setDilation(window.dilations);
    deconv.setPrePadding(crop);
    deconv.setPostPadding(cropEnd);
    setRunTimeWeights(n, deconv, !grows);
  }
  Tensor y = n.add(deconv).output(0);
  if (grows) {
    PaddingLayer pad = n.network.addPadding(y, grow, growEnd);
    y = n.add(pad, "output_padding").output(0);
    if (!weights.bias.empty()) {
      ScaleLayer scale = n.network.addScale(y, ScaleMode::kCHANNEL, floatWeights(weights.bias),
                                            Weights{}, Weights{});
      y = n.add(scale, "bias").output(0);
    } else if (runTimeBias) {
      // A bias computed at run time: [K] broadcast over [N, K, spatial...].
      Dims shape = filled(spatial + 2, 1);
      shape[1] = outputs;
      Tensor b = n.reshape(n.cast(n.input(2), DataType::kFLOAT, "B"), shape, "bias_shape");
      y = n.elementWise(y, b, ElementWiseOperation::kSUM, "bias");
    }
  }
  n.setOutput(0, y);
}

namespace {
// MaxPool with dilations or its Indices output (int64 in ONNX: int32 here, widened at the end).
void importMaxPoolWithIndices(NodeImport& n, const Window& window, bool ceil) {
  Tensor x = n.input(0);
  const bool integer = x.type() == DataType::kINT32;
  if (integer) x = n.cast(x, DataType::kFLOAT, "to_float");
  MaxPoolingIndicesLayer pool = n.network.addMaxPoolingWithIndices(x, window.kernel);
  if (pool) {
    pool.setStride(window.strides);
    pool.setDilation(window.dilations);
    pool.setPrePadding(window.pre);
    pool.setPostPadding(window.post);
    pool.setPaddingMode(paddingMode(window, ceil));
    pool.setColumnMajorIndices(n.attrInt("storage_order", 0) != 0);
  }
  Tensor y = n.add(pool).output(0);
  if (integer) y = n.cast(y, DataType::kINT32, "to_int");
  n.setOutput(0, y);
  if (n.nbOutputs() > 1) n.setOutput(1, pool.output(1));
}

void importPooling(NodeImport& n, PoolingType type) {
  const int32_t spatial = spatialRank(n, n.inputRank(0));
  const auto kernelList = n.attrInts("kernel_shape");
  if (static_cast<int32_t>(kernelList.size()) != spatial) {
    n.invalid("kernel_shape has " + std::to_string(kernelList.size()) + " entries; the input has " +
              std::to_string(spatial) + " spatial dimensions");
  }
  const Window window = readWindow(n, spatial, toDims(n, kernelList, "kernel_shape"));
  bool dilated = false;
  for (int32_t i = 0; i < spatial; ++i) dilated = dilated || window.dilations[i] != 1;
  if (dilated && type != PoolingType::kMAX) {
    n.unsupported("dilated average pooling: no kiln layer yet");
  }
  const bool ceil = n.attrInt("ceil_mode", 0) != 0;
  if (type == PoolingType::kMAX && (dilated || n.outputUsed(1))) {
    importMaxPoolWithIndices(n, window, ceil);
    return;
  }
  // MaxPool of 8-bit integers (opset 12) pools them as floats, which hold every such value
  // exactly, and converts back.
  Tensor x = n.input(0);
  const bool integer = x.type() == DataType::kINT32;
  if (integer && type != PoolingType::kMAX) n.invalid("AveragePool needs a floating-point input");
  if (integer) x = n.cast(x, DataType::kFLOAT, "to_float");
  PoolingLayer pool = n.network.addPooling(x, type, window.kernel);
  if (pool) {
    pool.setStride(window.strides);
    pool.setPrePadding(window.pre);
    pool.setPostPadding(window.post);
    pool.setPaddingMode(paddingMode(window, ceil));
    if (type == PoolingType::kAVERAGE) {
      pool.setAverageCountExcludesPadding(n.attrInt("count_include_pad", 0) == 0);
    }
  }
  Tensor y = n.add(pool).output(0);
  if (integer) y = n.cast(y, DataType::kINT32, "to_int");
  n.setOutput(0, y);
}
}  // namespace

void importMaxPool(NodeImport& n) {
  importPooling(n, PoolingType::kMAX);
}

void importAveragePool(NodeImport& n) {
  importPooling(n, PoolingType::kAVERAGE);
}

void importGlobalPool(NodeImport& n) {
  const int32_t rank = n.inputRank(0);
  if (rank < 3) {
    n.invalid("the input has rank " + std::to_string(rank) + "; global pooling needs [N, C, ...]");
  }
  uint32_t mask = 0;
  for (int32_t i = 2; i < rank; ++i) mask |= 1u << i;
  const auto op = n.opType() == "GlobalMaxPool" ? ReduceOperation::kMAX : ReduceOperation::kAVG;
  n.setOutput(0, n.reduce(n.input(0), op, mask, true, {}));
}

}  // namespace kiln::parsers::onnx_import

namespace kiln::parsers::onnx_import {

void importRoiAlign(NodeImport& n) {
  const std::string mode = n.attrString("mode", "avg");
  if (mode != "avg" && mode != "max") n.invalid("mode '" + mode + "' is not avg or max");
  // Opset 16 added the coordinate transformation; before it, regions were output_half_pixel.
  const std::string transform = n.attrString("coordinate_transformation_mode",
                                             n.opset >= 16 ? "half_pixel" : "output_half_pixel");
  if (transform != "half_pixel" && transform != "output_half_pixel") {
    n.invalid("coordinate_transformation_mode '" + transform +
              "' is not half_pixel or output_half_pixel");
  }
  RoiAlignLayer layer = n.network.addRoiAlign(n.input(0), n.input(1), n.input(2));
  if (layer) {
    layer.setMode(mode == "max" ? RoiAlignMode::kMAX : RoiAlignMode::kAVERAGE);
    layer.setOutputSize(n.attrInt("output_height", 1), n.attrInt("output_width", 1));
    layer.setSamplingRatio(n.attrInt("sampling_ratio", 0));
    layer.setSpatialScale(n.attrFloat("spatial_scale", 1.f));
    layer.setAligned(transform == "half_pixel");
  }
  n.setOutput(0, n.add(layer).output(0));
}

// A convolution of float32 tensors computed at run time (ConvInteger and QLinearConv, after
// their inputs are dequantized), with the node's window attributes.
Tensor convolveTensors(NodeImport& n, Tensor x, Tensor w, Tensor bias) {
  const int32_t spatial = spatialRank(n, x.dimensions().nbDims);
  const Dims wDims = w.dimensions();
  if (wDims.nbDims != spatial + 2) {
    n.invalid("the kernel W has shape " + toString(wDims) + "; an input of rank " +
              std::to_string(spatial + 2) + " needs a kernel of rank " +
              std::to_string(spatial + 2));
  }
  const Window window = readWindow(n, spatial, kernelShape(n, spatial, wDims));
  ConvolutionLayer conv =
      n.network.addConvolution(x, wDims[0], window.kernel, Weights{}, Weights{});
  if (conv) {
    conv.setNbGroups(n.attrInt("group", 1));
    conv.setStride(window.strides);
    conv.setDilation(window.dilations);
    conv.setPrePadding(window.pre);
    conv.setPostPadding(window.post);
    conv.setPaddingMode(paddingMode(window, false));
    conv.setInput(1, w);
    if (bias) conv.setInput(2, bias);
  }
  return n.add(conv, "conv").output(0);
}

// MaxUnpool: the indices are int64 in ONNX (int32 here); a known output_shape overrides the
// computed one.
void importMaxUnpool(NodeImport& n) {
  const int32_t spatial = spatialRank(n, n.inputRank(0));
  const auto kernelList = n.attrInts("kernel_shape");
  if (static_cast<int32_t>(kernelList.size()) != spatial) {
    n.invalid("kernel_shape has " + std::to_string(kernelList.size()) + " entries; the input has " +
              std::to_string(spatial) + " spatial dimensions");
  }
  const Window window = readWindow(n, spatial, toDims(n, kernelList, "kernel_shape"));
  Tensor x = n.input(0);
  if (x.type() != DataType::kFLOAT) {
    n.unsupported("MaxUnpool of " + std::string(toString(x.type())) + " values");
  }
  MaxUnpoolLayer unpool = n.network.addMaxUnpool(x, n.input(1), window.kernel);
  if (unpool) {
    unpool.setStride(window.strides);
    unpool.setPrePadding(window.pre);
    unpool.setPostPadding(window.post);
    if (n.isShapeTensorInput(2)) {
      // An output shape known only when the engine is built (a shape-tensor network input).
      unpool.setInput(2, n.shapeInput(2));
    } else if (n.hasInput(2)) {
      const auto shape = n.requireConstant(2, "output_shape").toInts("output_shape");
      unpool.setOutputDimensions(toDims(n, shape, "output_shape"));
    }
  }
  n.setOutput(0, n.add(unpool).output(0));
}

}  // namespace kiln::parsers::onnx_import
