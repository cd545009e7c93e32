// Mod, Shrink, MeanVarianceNormalization, and the ops whose output the parser knows from
// shapes and attributes alone (EyeLike, the signal windows): math beyond the plain binary and
// unary ops.
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "parsers/onnx/node_import.h"

namespace kiln::parsers::onnx_import {

// fmod 0 takes the divisor's sign (integers only, in ONNX; floats get numpy.mod), fmod 1 the
// dividend's (C fmod).
void importMod(NodeImport& n) {
  if (!n.hasInput(0) || !n.hasInput(1)) n.invalid("Mod needs two inputs");
  const int64_t fmod = n.attrInt("fmod", 0);
  if (fmod != 0 && fmod != 1) n.invalid("fmod " + std::to_string(fmod) + " is not 0 or 1");
  Tensor a = n.input(0);
  Tensor b = n.input(1);
  if (a.type() != b.type()) {
    n.invalid("the inputs have different element types (" + std::string(toString(a.type())) +
              " and " + std::string(toString(b.type())) + ")");
  }
  n.setOutput(
      0, n.elementWise(a, b, fmod == 1 ? ElementWiseOperation::kFMOD : ElementWiseOperation::kMOD,
                       {}));
}

// BitShift is defined on unsigned integers, which the network holds as int32.
void importBitShift(NodeImport& n) {
  if (!n.hasInput(0) || !n.hasInput(1)) n.invalid("BitShift needs two inputs");
  const std::string direction = n.attrString("direction", "");
  if (direction != "LEFT" && direction != "RIGHT") {
    n.invalid("direction must be \"LEFT\" or \"RIGHT\", not \"" + direction + "\"");
  }
  Tensor a = n.input(0);
  Tensor b = n.input(1);
  if (a.type() != DataType::kINT32 || b.type() != DataType::kINT32) {
    n.invalid("BitShift needs integer inputs, not " + std::string(toString(a.type())) + " and " +
              std::string(toString(b.type())));
  }
  n.setOutput(0, n.elementWise(a, b,
                               direction == "LEFT" ? ElementWiseOperation::kSHIFT_LEFT
                                                   : ElementWiseOperation::kSHIFT_RIGHT,
                               {}));
}

// y = x + bias where x < -lambd, x - bias where x > lambd, 0 elsewhere.
void importShrink(NodeImport& n) {
  const float lambd = n.attrFloat("lambd", 0.5f);
  const float bias = n.attrFloat("bias", 0.f);
  Tensor input = n.input(0);
  const DataType type = input.type();
  if (type != DataType::kFLOAT && type != DataType::kINT32) {
    n.unsupported("Shrink of " + std::string(toString(type)) + " values");
  }
  Tensor x = n.cast(input, DataType::kFLOAT, "to_float");
  const int32_t rank = n.inputRank(0);
  Tensor below =
      n.elementWise(x, n.scalar(-lambd, rank, "minus_lambd"), ElementWiseOperation::kLESS, "below");
  Tensor above =
      n.elementWise(x, n.scalar(lambd, rank, "lambd"), ElementWiseOperation::kGREATER, "above");
  Tensor b = n.scalar(bias, rank, "bias");
  Tensor raised = n.elementWise(x, b, ElementWiseOperation::kSUM, "plus_bias");
  Tensor lowered = n.elementWise(x, b, ElementWiseOperation::kSUB, "minus_bias");
  SelectLayer inner = n.network.addSelect(above, lowered, n.scalar(0.f, rank, "zero"));
  Tensor upper = n.add(inner, "upper").output(0);
  SelectLayer outer = n.network.addSelect(below, raised, upper);
  Tensor y = n.add(outer, type == DataType::kFLOAT ? std::string_view{} : "select").output(0);
  n.setOutput(0, n.cast(y, type, {}));
}

// (x - mean) / (sqrt(variance) + 1e-9) over "axes" (default [0, 2, 3]), as the ONNX function.
void importMeanVarianceNormalization(NodeImport& n) {
  const int32_t rank = n.inputRank(0);
  std::vector<int64_t> axes = n.attrInts("axes");
  if (!n.hasAttr("axes")) axes = {0, 2, 3};
  const uint32_t mask = axesMask(n, axes, rank, "axes");
  Tensor x = n.input(0);
  Tensor mean = n.reduce(x, ReduceOperation::kAVG, mask, true, "mean");
  Tensor centered = n.elementWise(x, mean, ElementWiseOperation::kSUB, "center");
  Tensor square = n.elementWise(centered, centered, ElementWiseOperation::kPROD, "square");
  Tensor variance = n.reduce(square, ReduceOperation::kAVG, mask, true, "variance");
  Tensor sd =
      n.elementWise(n.unary(variance, UnaryOperation::kSQRT, "sqrt"),
                    n.scalar(1e-9f, rank, "epsilon"), ElementWiseOperation::kSUM, "add_epsilon");
  n.setOutput(0, n.elementWise(centered, sd, ElementWiseOperation::kDIV, {}));
}

namespace {
// The ONNX element type the network's @p type stands for.
int32_t onnxTypeFor(DataType type) {
  switch (type) {
    case DataType::kFLOAT:
      return kOnnxFloat;
    case DataType::kBOOL:
      return kOnnxBool;
    default:
      return kOnnxInt32;
  }
}

// A constant of @p dims and ONNX @p type whose element k is value(k).
template <typename Value>
ConstTensor typedValues(const NodeImport& n, const Dims& dims, int32_t type, Value value) {
  DataType kiln = DataType::kFLOAT;
  if (!kilnTypeOf(type, kiln)) n.unsupported("output element type " + onnxTypeName(type));
  ConstTensor out = ConstTensor::allocate(dims, type, n.constantLimit());
  const int64_t count = out.count();
  for (int64_t k = 0; k < count; ++k) {
    const double v = value(k);
    const auto at = static_cast<std::size_t>(k);
    if (out.isFloat()) {
      out.floatData()[at] = static_cast<float>(v);
    } else {
      out.intData()[at] = out.isBool() ? (v != 0 ? 1 : 0) : static_cast<int64_t>(v);
    }
  }
  return out;
}
}  // namespace

// Ones where column - row == k: known from the input's shape, so a constant.
void importEyeLike(NodeImport& n) {
  const Dims dims = n.inputDims(0);
  if (dims.nbDims != 2) n.invalid("the input has shape " + toString(dims) + "; EyeLike needs 2-D");
  if (dims[0] < 0 || dims[1] < 0) n.unsupported("EyeLike of an input with dynamic shape");
  const ConstTensor* c = n.constantInput(0);
  const int32_t type = static_cast<int32_t>(
      n.attrInt("dtype", c != nullptr ? c->onnxType() : onnxTypeFor(n.inputType(0))));
  const int64_t k = n.attrInt("k", 0);
  const int64_t columns = dims[1];
  // Compared as column - row == k, which cannot overflow for any k (extents are below 2^40).
  n.setOutput(0, typedValues(n, dims, type, [&](int64_t at) {
                return at % columns - at / columns == k ? 1.0 : 0.0;
              }));
}

// HannWindow, HammingWindow, BlackmanWindow of a size known when the network is built:
// w[i] = a0 - a1 cos(2 pi i / M) + a2 cos(4 pi i / M), M = size (periodic) or size - 1.
void importWindow(NodeImport& n) {
  const bool atBuildTime = n.isShapeTensorInput(0);
  const ConstTensor* sizeConstant =
      atBuildTime ? nullptr : &n.requireConstant(0, "the window size");
  double a0 = 0.5, a1 = 0.5, a2 = 0.0;
  if (n.opType() == "HammingWindow") {
    a0 = 25.0 / 46.0;
    a1 = 1.0 - a0;
  } else if (n.opType() == "BlackmanWindow") {
    a0 = 0.42;
    a2 = 0.08;
  }
  const bool periodic = n.attrInt("periodic", 1) != 0;
  const auto type = static_cast<int32_t>(n.attrInt("output_datatype", kOnnxFloat));
  if (sizeConstant == nullptr) {
    // A size known only when the engine is built (a shape-tensor network input): the positions
    // 0..size-1 are an exclusive running sum of ones broadcast to the size, and the formula is
    // layers.
    DataType kiln = DataType::kFLOAT;
    if (!kilnTypeOf(type, kiln)) n.unsupported("output element type " + onnxTypeName(type));
    if (n.inputDims(0).nbDims > 1 || elementCount(n.inputDims(0)) != 1) {
      n.invalid("the window size must be a scalar");
    }
    Tensor ones = sliceToTarget(n, n.scalar(1.f, 1, "one"), 0, false);
    CumulativeLayer running =
        n.network.addCumulative(ones, n.scalarInt(0, 0, "axis"), CumulativeOperation::kSUM,
                                /*exclusive=*/true, /*reverse=*/false);
    const Tensor positions = n.add(running, "positions").output(0);
    Tensor m = n.cast(n.reshape(n.input(0), Dims{1}, "size_vector"), DataType::kFLOAT, "size");
    if (!periodic)
      m = n.elementWise(m, n.scalar(1.f, 1, "one_less"), ElementWiseOperation::kSUB, "period");
    const Tensor t = n.elementWise(
        n.elementWise(positions, n.scalar(static_cast<float>(2.0 * std::numbers::pi), 1, "two_pi"),
                      ElementWiseOperation::kPROD, "angle"),
        m, ElementWiseOperation::kDIV, "t");
    Tensor w = n.elementWise(n.scalar(static_cast<float>(a0), 1, "a0"),
                             n.elementWise(n.scalar(static_cast<float>(a1), 1, "a1"),
                                           n.unary(t, UnaryOperation::kCOS, "cos"),
                                           ElementWiseOperation::kPROD, "first"),
                             ElementWiseOperation::kSUB, "w1");
    if (a2 != 0.0) {
      const Tensor t2 =
          n.elementWise(t, n.scalar(2.f, 1, "two"), ElementWiseOperation::kPROD, "t2");
      w = n.elementWise(w,
                        n.elementWise(n.scalar(static_cast<float>(a2), 1, "a2"),
                                      n.unary(t2, UnaryOperation::kCOS, "cos2"),
                                      ElementWiseOperation::kPROD, "second"),
                        ElementWiseOperation::kSUM, "w2");
    }
    if (kiln != DataType::kFLOAT) w = n.cast(w, kiln, "output_type");
    n.setOutput(0, w);
    return;
  }
  const ConstTensor& sizeValue = *sizeConstant;
  if (sizeValue.count() != 1) n.invalid("the window size must be a scalar");
  const int64_t size = sizeValue.asInt(0);
  if (size < 0) n.invalid("the window size " + std::to_string(size) + " is negative");
  const double m = static_cast<double>(periodic ? size : size - 1);
  n.setOutput(0, typedValues(n, Dims{size}, type, [&](int64_t i) {
                if (m <= 0) return 1.0;
                const double t = 2.0 * std::numbers::pi * static_cast<double>(i) / m;
                return a0 - a1 * std::cos(t) + a2 * std::cos(2.0 * t);
              }));
}

}  // namespace kiln::parsers::onnx_import

namespace kiln::parsers::onnx_import {

void importDet(NodeImport& n) {
  n.setOutput(0, n.add(n.network.addDeterminant(n.input(0))).output(0));
}

void importReverseSequence(NodeImport& n) {
  ReverseSequenceLayer layer = n.network.addReverseSequence(n.input(0), n.input(1));
  if (layer) {
    layer.setBatchAxis(static_cast<int32_t>(n.attrInt("batch_axis", 1)));
    layer.setSequenceAxis(static_cast<int32_t>(n.attrInt("time_axis", 0)));
  }
  n.setOutput(0, n.add(layer).output(0));
}

}  // namespace kiln::parsers::onnx_import
