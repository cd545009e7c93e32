// Activations (Relu ... Gelu, Clip, PRelu, HardSwish, Mish, Celu) and Softmax, LogSoftmax,
// Hardmax.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "parsers/onnx/node_import.h"

namespace kiln::parsers::onnx_import {

namespace {

struct ActivationSpec {
  std::string_view op;
  ActivationType type;
  std::string_view alphaAttr;  //!< empty: no alpha
  float alpha;
  std::string_view betaAttr;
  float beta;
};

constexpr ActivationSpec kActivations[] = {
    {"Relu", ActivationType::kRELU, {}, 0.f, {}, 0.f},
    {"LeakyRelu", ActivationType::kLEAKY_RELU, "alpha", 0.01f, {}, 0.f},
    {"Elu", ActivationType::kELU, "alpha", 1.0f, {}, 0.f},
    {"Selu", ActivationType::kSELU, "alpha", 1.67326319217681884765625f, "gamma",
     1.05070102214813232421875f},
    {"Sigmoid", ActivationType::kSIGMOID, {}, 0.f, {}, 0.f},
    {"HardSigmoid", ActivationType::kHARD_SIGMOID, "alpha", 0.2f, "beta", 0.5f},
    {"Tanh", ActivationType::kTANH, {}, 0.f, {}, 0.f},
    {"Softplus", ActivationType::kSOFTPLUS, {}, 1.f, {}, 1.f},
    {"Softsign", ActivationType::kSOFTSIGN, {}, 0.f, {}, 0.f},
    {"ThresholdedRelu", ActivationType::kTHRESHOLDED_RELU, "alpha", 1.0f, {}, 0.f},
};

bool isInteger(DataType type) {
  return type == DataType::kINT32;
}

// The rank-r constant of one value broadcasting against a tensor of the input's type.
Tensor scalarLike(NodeImport& n, DataType type, double value, int32_t rank, std::string_view role) {
  if (isInteger(type)) {
    if (std::isnan(value)) n.invalid("the " + std::string(role) + " bound is NaN");
    // A bound beyond the int32 range clips no more than the range's end does.
    const double clamped = std::clamp(value, double{std::numeric_limits<int32_t>::min()},
                                      double{std::numeric_limits<int32_t>::max()});
    return n.scalarInt(static_cast<int32_t>(clamped), rank, role);
  }
  return n.scalar(static_cast<float>(value), rank, role);
}

}  // namespace

void importActivation(NodeImport& n) {
  if (n.opType() == "Gelu") {
    const std::string approximate = n.attrString("approximate", "none");
    if (approximate != "none" && approximate != "tanh") {
      n.invalid("approximate '" + approximate + "' is not 'none' or 'tanh'");
    }
    const auto type =
        approximate == "tanh" ? ActivationType::kGELU_TANH : ActivationType::kGELU_ERF;
    n.setOutput(0, n.activation(n.input(0), type, {}));
    return;
  }
  for (const auto& spec : kActivations) {
    if (spec.op != n.opType()) continue;
    // Relu of integers (opset 14) is max(x, 0); the activation layer is float32 only.
    if (spec.type == ActivationType::kRELU && isInteger(n.inputType(0))) {
      Tensor zero = n.scalarInt(0, n.inputRank(0), "zero");
      n.setOutput(0, n.elementWise(n.input(0), zero, ElementWiseOperation::kMAX, {}));
      return;
    }
    std::optional<float> alpha, beta;
    if (spec.type == ActivationType::kSOFTPLUS) {
      alpha = 1.f;
      beta = 1.f;
    }
    if (!spec.alphaAttr.empty()) alpha = n.attrFloat(spec.alphaAttr, spec.alpha);
    if (!spec.betaAttr.empty()) beta = n.attrFloat(spec.betaAttr, spec.beta);
    n.setOutput(0, n.activation(n.input(0), spec.type, {}, alpha, beta));
    return;
  }
  n.unsupported("no activation importer for " + n.opType());
}

// Clip: bounds from attributes (opset < 11) or optional inputs. Known float bounds make one
// CLIP activation; bounds computed at run time, and integer inputs, use MAX and MIN.
void importClip(NodeImport& n) {
  const DataType type = n.inputType(0);
  const int32_t rank = n.inputRank(0);
  if (n.opset < 11) {
    const float lo = n.attrFloat("min", -std::numeric_limits<float>::max());
    const float hi = n.attrFloat("max", std::numeric_limits<float>::max());
    n.setOutput(0, n.activation(n.input(0), ActivationType::kCLIP, {}, lo, hi));
    return;
  }
  const ConstTensor* lo = n.hasInput(1) ? n.constantInput(1) : nullptr;
  const ConstTensor* hi = n.hasInput(2) ? n.constantInput(2) : nullptr;
  const bool knownLo = !n.hasInput(1) || (lo != nullptr && lo->count() == 1);
  const bool knownHi = !n.hasInput(2) || (hi != nullptr && hi->count() == 1);
  if (type == DataType::kFLOAT && knownLo && knownHi) {
    const float a = lo != nullptr ? static_cast<float>(lo->asDouble(0))
                                  : -std::numeric_limits<float>::infinity();
    const float b = hi != nullptr ? static_cast<float>(hi->asDouble(0))
                                  : std::numeric_limits<float>::infinity();
    n.setOutput(0, n.activation(n.input(0), ActivationType::kCLIP, {}, a, b));
    return;
  }
  Tensor y = n.input(0);
  if (n.hasInput(1)) {
    Tensor bound =
        knownLo && lo != nullptr ? scalarLike(n, type, lo->asDouble(0), rank, "min") : n.input(1);
    y = n.elementWise(y, bound, ElementWiseOperation::kMAX, "max");
  }
  if (n.hasInput(2)) {
    Tensor bound =
        knownHi && hi != nullptr ? scalarLike(n, type, hi->asDouble(0), rank, "max") : n.input(2);
    y = n.elementWise(y, bound, ElementWiseOperation::kMIN, "min");
  }
  if (!n.hasInput(1) && !n.hasInput(2)) {
    n.forward(0, 0);
    return;
  }
  n.setOutput(0, y);
}

// PRelu(x) = max(x, 0) + slope * min(x, 0): exact, since one of the two terms is zero.
void importPRelu(NodeImport& n) {
  Tensor x = n.input(0);
  Tensor zero = n.scalar(0.f, n.inputRank(0), "zero");
  Tensor positive = n.elementWise(x, zero, ElementWiseOperation::kMAX, "positive");
  Tensor negative = n.elementWise(x, zero, ElementWiseOperation::kMIN, "negative");
  Tensor scaled = n.elementWise(negative, n.input(1), ElementWiseOperation::kPROD, "slope");
  n.setOutput(0, n.elementWise(positive, scaled, ElementWiseOperation::kSUM, "sum"));
}

void importComposedActivation(NodeImport& n) {
  Tensor x = n.input(0);
  const int32_t rank = n.inputRank(0);
  if (n.opType() == "HardSwish") {
    // x * max(0, min(1, x / 6 + 0.5))
    Tensor gate = n.activation(x, ActivationType::kHARD_SIGMOID, "gate", 1.f / 6.f, 0.5f);
    n.setOutput(0, n.elementWise(x, gate, ElementWiseOperation::kPROD, "product"));
  } else if (n.opType() == "Mish") {
    // x * tanh(softplus(x))
    Tensor sp = n.activation(x, ActivationType::kSOFTPLUS, "softplus", 1.f, 1.f);
    Tensor t = n.activation(sp, ActivationType::kTANH, "tanh");
    n.setOutput(0, n.elementWise(x, t, ElementWiseOperation::kPROD, "product"));
  } else {
    // Celu(x) = alpha * elu(x / alpha) with elu's alpha 1.
    const float alpha = n.attrFloat("alpha", 1.f);
    if (alpha == 1.f) {
      n.setOutput(0, n.activation(x, ActivationType::kELU, {}, 1.f));
      return;
    }
    Tensor scaled =
        n.elementWise(x, n.scalar(alpha, rank, "alpha"), ElementWiseOperation::kDIV, "divide");
    Tensor elu = n.activation(scaled, ActivationType::kELU, "elu", 1.f);
    n.setOutput(0, n.elementWise(elu, n.scalar(alpha, rank, "alpha_out"),
                                 ElementWiseOperation::kPROD, "multiply"));
  }
}

namespace {

// Opsets before 13 define Softmax, LogSoftmax and Hardmax on the input flattened to 2-D at
// "axis" (default 1); from 13 on a single axis (default -1). Returns the input to work on (2-D
// when flattened) and the axis; @p original receives the shape to restore.
Tensor prepareAxis(NodeImport& n, int32_t& axis, Dims& original, bool& flattened) {
  original = n.inputDims(0);
  const int32_t rank = original.nbDims;
  if (rank == 0) n.invalid("the input is a scalar");
  flattened = false;
  if (n.opset >= 13) {
    axis = normalizeAxis(n, n.attrInt("axis", -1), rank, "axis");
    return n.input(0);
  }
  const int32_t a = normalizeAxis(n, n.attrInt("axis", 1), rank, "axis");
  if (a == rank - 1) {
    axis = a;
    return n.input(0);
  }
  // An empty constant may have other extents far past 2^63 together (0 x 2^62 x 64).
  Dims leading = original, trailing = original;
  leading.nbDims = a;
  for (int32_t i = a; i < rank; ++i) trailing[i - a] = original[i];
  trailing.nbDims = rank - a;
  const int64_t rows = elementCount(leading), cols = elementCount(trailing);
  if (rows == std::numeric_limits<int64_t>::max() || cols == std::numeric_limits<int64_t>::max()) {
    n.invalid("the input of shape " + toString(original) + " does not flatten to 2-D at axis " +
              std::to_string(a) + " (more than 2^63 elements on one side)");
  }
  flattened = true;
  axis = 1;
  return n.reshape(n.input(0), Dims{rows, cols}, "flatten");
}

Tensor restore(NodeImport& n, Tensor y, const Dims& original, bool flattened) {
  return flattened ? n.reshape(y, original, "unflatten") : y;
}

}  // namespace

void importSoftmax(NodeImport& n) {
  int32_t axis = 0;
  Dims original;
  bool flattened = false;
  Tensor x = prepareAxis(n, axis, original, flattened);
  Tensor y;
  if (n.opType() == "Softmax") {
    SoftMaxLayer softmax = n.network.addSoftMax(x);
    if (softmax) softmax.setAxis(axis);
    y = n.add(softmax, "softmax").output(0);
  } else {
    // log softmax = (x - max) - log(sum(exp(x - max))): no exp overflows, and tiny
    // probabilities keep their logarithms instead of underflowing to log(0).
    const uint32_t mask = 1u << axis;
    Tensor m = n.reduce(x, ReduceOperation::kMAX, mask, true, "max");
    Tensor d = n.elementWise(x, m, ElementWiseOperation::kSUB, "shift");
    Tensor s =
        n.reduce(n.unary(d, UnaryOperation::kEXP, "exp"), ReduceOperation::kSUM, mask, true, "sum");
    y = n.elementWise(d, n.unary(s, UnaryOperation::kLOG, "log"), ElementWiseOperation::kSUB,
                      "subtract");
  }
  n.setOutput(0, restore(n, y, original, flattened));
}

// Hardmax: 1 where the first maximum along the axis is, 0 elsewhere: the index of the maximum
// (TopK k = 1 picks the lowest index among equals) compared with the positions of the axis.
void importHardmax(NodeImport& n) {
  int32_t axis = 0;
  Dims original;
  bool flattened = false;
  Tensor x = prepareAxis(n, axis, original, flattened);
  const Dims dims = x.dimensions();
  TopKLayer top = n.network.addTopK(x, TopKOperation::kMAX, 1, 1u << axis);
  Tensor index = n.add(top, "argmax").output(1);
  Dims positionsShape = filled(dims.nbDims, 1);
  positionsShape[axis] = dims[axis];
  ConstTensor positions = ConstTensor::allocate(positionsShape, kOnnxInt32, n.constantLimit());
  std::iota(positions.intData().begin(), positions.intData().end(), 0);
  Tensor iota = n.constant(positions, "positions");
  Tensor hit = n.elementWise(index, iota, ElementWiseOperation::kEQUAL, "equal");
  Tensor y = n.cast(hit, DataType::kFLOAT, "to_float");
  n.setOutput(0, restore(n, y, original, flattened));
}

}  // namespace kiln::parsers::onnx_import
