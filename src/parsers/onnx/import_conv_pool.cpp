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

}  // namespace

void importConv(NodeImport& n) {
  const int32_t spatial = spatialRank(n, n.inputRank(0));
  const ConstTensor& w = n.requireConstant(1, "the kernel W");
  if (w.dims().nbDims != spatial + 2) {
    n.invalid("the kernel W has shape " + toString(w.dims()) + "; an input of rank " +
              std::to_string(spatial + 2) + " needs a kernel of rank " +
              std::to_string(spatial + 2));
  }
  const Window window = readWindow(n, spatial, kernelShape(n, spatial, w.dims()));
  const int64_t group = n.attrInt("group", 1);
  const std::vector<float> kernel = w.toFloats();
  std::vector<float> bias;
  if (n.hasInput(2)) bias = n.requireConstant(2, "the bias B").toFloats();

  ConvolutionLayer conv = n.network.addConvolution(n.input(0), w.dims()[0], window.kernel,
                                                   floatWeights(kernel), floatWeights(bias));
  if (conv) {
    conv.setNbGroups(group);
    conv.setStride(window.strides);
    conv.setDilation(window.dilations);
    conv.setPrePadding(window.pre);
    conv.setPostPadding(window.post);
    conv.setPaddingMode(paddingMode(window, false));
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
  const ConstTensor& w = n.requireConstant(1, "the kernel W");
  if (w.dims().nbDims != spatial + 2) {
    n.invalid("the kernel W has shape " + toString(w.dims()) + "; an input of rank " +
              std::to_string(spatial + 2) + " needs a kernel of rank " +
              std::to_string(spatial + 2));
  }
  const Window window = readWindow(n, spatial, kernelShape(n, spatial, w.dims()));
  const int64_t group = n.attrInt("group", 1);
  const int64_t outputs = w.dims()[1] * group;
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
  Dims pre = filled(spatial, 0), post = filled(spatial, 0);
  for (int32_t i = 0; i < spatial; ++i) {
    const int64_t in = x[2 + i];
    const int64_t full =
        (in - 1) * window.strides[i] + (window.kernel[i] - 1) * window.dilations[i] + 1;
    if (!outputShape.empty() || same) {
      const int64_t out =
          outputShape.empty() ? in * window.strides[i] : outputShape[static_cast<std::size_t>(i)];
      const int64_t total = full + outputPadding[i] - out;
      if (window.autoPad == "SAME_UPPER") {
        pre[i] = total / 2;
      } else {
        pre[i] = total - total / 2;
      }
      post[i] = full - pre[i] - out;
    } else {
      pre[i] = window.pre[i];
      post[i] = window.post[i] - outputPadding[i];
    }
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

  const std::vector<float> kernel = w.toFloats();
  std::vector<float> bias;
  if (n.hasInput(2)) bias = n.requireConstant(2, "the bias B").toFloats();
  DeconvolutionLayer deconv =
      n.network.addDeconvolution(n.input(0), outputs, window.kernel, floatWeights(kernel),
                                 floatWeights(grows ? std::vector<float>{} : bias));
  if (deconv) {
    deconv.setNbGroups(group);
    deconv.setStride(window.strides);
    deconv.setDilation(window.dilations);
    deconv.setPrePadding(crop);
    deconv.setPostPadding(cropEnd);
  }
  Tensor y = n.add(deconv).output(0);
  if (grows) {
    PaddingLayer pad = n.network.addPadding(y, grow, growEnd);
    y = n.add(pad, "output_padding").output(0);
    if (!bias.empty()) {
      ScaleLayer scale =
          n.network.addScale(y, ScaleMode::kCHANNEL, floatWeights(bias), Weights{}, Weights{});
      y = n.add(scale, "bias").output(0);
    }
  }
  n.setOutput(0, y);
}

namespace {
void importPooling(NodeImport& n, PoolingType type) {
  const int32_t spatial = spatialRank(n, n.inputRank(0));
  const auto kernelList = n.attrInts("kernel_shape");
  if (static_cast<int32_t>(kernelList.size()) != spatial) {
    n.invalid("kernel_shape has " + std::to_string(kernelList.size()) + " entries; the input has " +
              std::to_string(spatial) + " spatial dimensions");
  }
  const Window window = readWindow(n, spatial, toDims(n, kernelList, "kernel_shape"));
  for (int32_t i = 0; i < spatial; ++i) {
    if (window.dilations[i] != 1) n.unsupported("dilated pooling: no kiln layer yet");
  }
  if (type == PoolingType::kMAX && n.outputUsed(1)) {
    n.unsupported("the Indices output of MaxPool: no kiln layer yet");
  }
  if (n.attrInt("storage_order", 0) != 0 && n.outputUsed(1)) {
    n.unsupported("storage_order 1 is not supported");
  }
  const bool ceil = n.attrInt("ceil_mode", 0) != 0;
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
