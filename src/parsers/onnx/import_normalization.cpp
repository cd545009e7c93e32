// BatchNormalization (folded into a per-channel Scale when its statistics are constants,
// decomposed otherwise), InstanceNormalization and
// LayerNormalization (decomposed into Reduce, ElementWise and Unary layers), LRN.
#include <cmath>
#include <vector>

#include "parsers/onnx/node_import.h"

namespace kiln::parsers::onnx_import {

namespace {

Weights floatWeights(const std::vector<float>& values) {
  return Weights{DataType::kFLOAT, values.empty() ? nullptr : values.data(),
                 static_cast<int64_t>(values.size())};
}

std::vector<float> perChannel(const NodeImport& n, int32_t input, std::string_view what,
                              int64_t channels) {
  const ConstTensor& c = n.requireConstant(input, what);
  if (c.count() != channels) {
    n.invalid(std::string(what) + " has " + std::to_string(c.count()) + " values (shape " +
              toString(c.dims()) + "); the input has " + std::to_string(channels) + " channels");
  }
  return c.toFloats();
}

// (x - mean) / sqrt(var + epsilon) over the dims of @p mask, as the ONNX definitions compute
// it (biased variance). @p mean and @p denominator receive the intermediate tensors.
Tensor normalize(NodeImport& n, Tensor x, uint32_t mask, float epsilon, Tensor* mean = nullptr,
                 Tensor* denominator = nullptr) {
  const int32_t rank = x.dimensions().nbDims;
  Tensor mu = n.reduce(x, ReduceOperation::kAVG, mask, true, "mean");
  Tensor d = n.elementWise(x, mu, ElementWiseOperation::kSUB, "center");
  Tensor square = n.elementWise(d, d, ElementWiseOperation::kPROD, "square");
  Tensor var = n.reduce(square, ReduceOperation::kAVG, mask, true, "variance");
  Tensor eps = n.scalar(epsilon, rank, "epsilon");
  Tensor sd = n.unary(n.elementWise(var, eps, ElementWiseOperation::kSUM, "add_epsilon"),
                      UnaryOperation::kSQRT, "sqrt");
  if (mean != nullptr) *mean = mu;
  if (denominator != nullptr) *denominator = sd;
  return n.elementWise(d, sd, ElementWiseOperation::kDIV, "normalize");
}

}  // namespace

namespace {

// Per-channel input @p input ([C]) as a float tensor of shape [1, C, 1, ...] (rank @p rank) that
// broadcasts over [N, C, spatial...]; for values computed at run time.
Tensor channelTensor(NodeImport& n, int32_t input, std::string_view what, int64_t channels,
                     int32_t rank) {
  if (!n.hasInput(input))
    n.invalid(std::string(what) + " (input " + std::to_string(input) + ") is missing");
  const Dims d = n.inputDims(input);
  if (d.nbDims != 1 || d[0] != channels) {
    n.invalid(std::string(what) + " has shape " + toString(d) + "; the input has " +
              std::to_string(channels) + " channels, so it needs one value per channel (shape " +
              std::to_string(channels) + ")");
  }
  Dims shape = filled(rank, 1);
  shape[1] = channels;
  const std::string role(what);
  return n.reshape(n.cast(n.input(input), DataType::kFLOAT, role + "_float"), shape, role);
}

// y = (x - mean) / sqrt(var + epsilon) * scale + B with every per-channel operand a tensor.
Tensor batchNormalize(NodeImport& n, Tensor x, Tensor mean, Tensor var, Tensor scale, Tensor bias,
                      float epsilon, int32_t rank) {
  Tensor centered = n.elementWise(x, mean, ElementWiseOperation::kSUB, "center");
  Tensor eps = n.scalar(epsilon, rank, "epsilon");
  Tensor sd = n.unary(n.elementWise(var, eps, ElementWiseOperation::kSUM, "add_epsilon"),
                      UnaryOperation::kSQRT, "sqrt");
  Tensor normalized = n.elementWise(centered, sd, ElementWiseOperation::kDIV, "normalize");
  Tensor scaled = n.elementWise(normalized, scale, ElementWiseOperation::kPROD, "scale");
  return n.elementWise(scaled, bias, ElementWiseOperation::kSUM, "bias");
}

}  // namespace

void importBatchNormalization(NodeImport& n) {
  if (n.opset < 9 && n.attrInt("spatial", 1) == 0) {
    n.unsupported("spatial 0 (per-element statistics) is not supported");
  }
  const bool training = n.attrInt("training_mode", 0) != 0;
  if (!training) {
    for (int32_t o = 1; o < n.nbOutputs(); ++o) {
      if (n.outputUsed(o)) {
        n.unsupported("the running statistics outputs exist only with training_mode 1");
      }
    }
  }
  const Dims x = n.inputDims(0);
  if (x.nbDims < 2) n.invalid("the input has shape " + toString(x) + "; it needs [N, C, ...]");
  const int64_t channels = x[1];
  const double epsilon = n.attrFloat("epsilon", 1e-5f);
  bool allConstant = true;
  for (int32_t i = 1; i <= 4; ++i) allConstant = allConstant && n.constantInput(i) != nullptr;

  if (training) {
    // Statistics of this batch (biased variance over every axis but 1), as the ONNX reference;
    // the running statistics outputs blend them into the given ones with momentum.
    const int32_t rank = x.nbDims;
    uint32_t mask = 0;
    for (int32_t i = 0; i < rank; ++i) mask |= i == 1 ? 0u : 1u << i;
    Tensor input = n.input(0);
    Tensor mean = n.reduce(input, ReduceOperation::kAVG, mask, true, "batch_mean");
    Tensor d = n.elementWise(input, mean, ElementWiseOperation::kSUB, "batch_center");
    Tensor var = n.reduce(n.elementWise(d, d, ElementWiseOperation::kPROD, "batch_square"),
                          ReduceOperation::kAVG, mask, true, "batch_variance");
    Tensor scale = channelTensor(n, 1, "scale", channels, rank);
    Tensor bias = channelTensor(n, 2, "B", channels, rank);
    n.setOutput(
        0, batchNormalize(n, input, mean, var, scale, bias, static_cast<float>(epsilon), rank));
    const float momentum = n.attrFloat("momentum", 0.9f);
    const auto running = [&](int32_t output, int32_t given, Tensor current, std::string_view what) {
      if (!n.outputUsed(output)) return;
      const std::string role(what);
      Tensor old = n.cast(n.input(given), DataType::kFLOAT, role + "_float");
      Tensor flat = n.reshape(current, Dims{channels}, role + "_flat");
      Tensor kept = n.elementWise(old, n.scalar(momentum, 1, role + "_momentum"),
                                  ElementWiseOperation::kPROD, role + "_kept");
      Tensor added = n.elementWise(flat, n.scalar(1.f - momentum, 1, role + "_rate"),
                                   ElementWiseOperation::kPROD, role + "_added");
      n.setOutput(output, n.elementWise(kept, added, ElementWiseOperation::kSUM, role));
    };
    running(1, 3, mean, "running_mean");
    running(2, 4, var, "running_var");
    return;
  }

  if (!allConstant) {
    // Statistics or affine parameters computed at run time: the same formula, layer by layer.
    const int32_t rank = x.nbDims;
    n.setOutput(0, batchNormalize(n, n.input(0), channelTensor(n, 3, "mean", channels, rank),
                                  channelTensor(n, 4, "var", channels, rank),
                                  channelTensor(n, 1, "scale", channels, rank),
                                  channelTensor(n, 2, "B", channels, rank),
                                  static_cast<float>(epsilon), rank));
    return;
  }
  const auto scale = perChannel(n, 1, "scale", channels);
  const auto bias = perChannel(n, 2, "B", channels);
  const auto mean = perChannel(n, 3, "mean", channels);
  const auto var = perChannel(n, 4, "var", channels);
  std::vector<float> s(static_cast<std::size_t>(channels)), shift(s.size());
  for (std::size_t c = 0; c < s.size(); ++c) {
    const double k =
        static_cast<double>(scale[c]) / std::sqrt(static_cast<double>(var[c]) + epsilon);
    s[c] = static_cast<float>(k);
    shift[c] = static_cast<float>(static_cast<double>(bias[c]) - static_cast<double>(mean[c]) * k);
  }
  ScaleLayer layer = n.network.addScale(n.input(0), ScaleMode::kCHANNEL, floatWeights(shift),
                                        floatWeights(s), Weights{});
  n.setOutput(0, n.add(layer).output(0));
}

void importInstanceNormalization(NodeImport& n) {
  const Dims x = n.inputDims(0);
  if (x.nbDims < 3) n.invalid("the input has shape " + toString(x) + "; it needs [N, C, D1, ...]");
  const int64_t channels = x[1];
  uint32_t mask = 0;
  for (int32_t i = 2; i < x.nbDims; ++i) mask |= 1u << i;
  if (n.constantInput(1) == nullptr || n.constantInput(2) == nullptr) {
    Tensor scale = channelTensor(n, 1, "scale", channels, x.nbDims);
    Tensor bias = channelTensor(n, 2, "B", channels, x.nbDims);
    Tensor y = normalize(n, n.input(0), mask, n.attrFloat("epsilon", 1e-5f));
    y = n.elementWise(y, scale, ElementWiseOperation::kPROD, "scale");
    n.setOutput(0, n.elementWise(y, bias, ElementWiseOperation::kSUM, "bias"));
    return;
  }
  const auto scale = perChannel(n, 1, "scale", channels);
  const auto bias = perChannel(n, 2, "B", channels);
  Tensor y = normalize(n, n.input(0), mask, n.attrFloat("epsilon", 1e-5f));
  ScaleLayer affine = n.network.addScale(y, ScaleMode::kCHANNEL, floatWeights(bias),
                                         floatWeights(scale), Weights{});
  n.setOutput(0, n.add(affine, "affine").output(0));
}

void importLayerNormalization(NodeImport& n) {
  const int32_t rank = n.inputRank(0);
  if (rank == 0) n.invalid("the input is a scalar");
  const int32_t axis = normalizeAxis(n, n.attrInt("axis", -1), rank, "axis");
  uint32_t mask = 0;
  for (int32_t i = axis; i < rank; ++i) mask |= 1u << i;
  Tensor mean, sd;
  Tensor y = normalize(n, n.input(0), mask, n.attrFloat("epsilon", 1e-5f), &mean, &sd);
  y = n.elementWise(y, n.input(1), ElementWiseOperation::kPROD, "scale");
  if (n.hasInput(2)) y = n.elementWise(y, n.input(2), ElementWiseOperation::kSUM, "bias");
  n.setOutput(0, y);
  if (n.outputUsed(1)) n.setOutput(1, mean);
  if (n.outputUsed(2)) n.setOutput(2, n.unary(sd, UnaryOperation::kRECIP, "inv_std_dev"));
}

void importLRN(NodeImport& n) {
  const int64_t size = n.attrInt("size", 0);
  if (size < 1) n.invalid("attribute 'size' must be given and positive");
  LRNLayer lrn = n.network.addLRN(n.input(0), size, n.attrFloat("alpha", 1e-4f),
                                  n.attrFloat("beta", 0.75f), n.attrFloat("bias", 1.0f));
  n.setOutput(0, n.add(lrn).output(0));
}

}  // namespace kiln::parsers::onnx_import
