// Shapes and types: Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Identity, Dropout, Cast,
// CastLike, Constant, Shape, Size, ConstantOfShape, Range. Most fold on known constants, which
// is how shape subgraphs (Shape -> Gather -> Concat -> Reshape) become constant arguments.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "parsers/onnx/fold.h"
#include "parsers/onnx/node_import.h"

namespace kiln::parsers::onnx_import {

namespace {

// The input as a reshaped constant when it is known, else a Shuffle layer (or the input
// itself when the shape does not change).
void setReshaped(NodeImport& n, const Dims& out) {
  if (const ConstTensor* c = n.constantInput(0)) {
    n.setOutput(0, c->reshaped(out));
  } else if (n.inputDims(0) == out) {
    n.forward(0, 0);
  } else {
    n.setOutput(0, n.reshape(n.input(0), out, {}));
  }
}

std::string listText(const std::vector<int64_t>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i)
    out += (i > 0 ? ", " : "") + std::to_string(values[i]);
  return out + "]";
}

// Squeeze and Unsqueeze take their axes as an attribute before opset 13, as input 1 after.
std::vector<int64_t> axesOf(NodeImport& n) {
  if (n.opset >= 13) {
    if (!n.hasInput(1)) return {};
    return n.requireConstant(1, "axes").toInts("axes");
  }
  return n.attrInts("axes");
}

}  // namespace

void importReshape(NodeImport& n) {
  const Dims in = n.inputDims(0);
  std::vector<int64_t> shape;
  if (n.opset >= 5) {
    if (n.isShapeTensorInput(1)) {
      // A shape tensor (a network input given values by an optimization profile).
      ShuffleLayer shuffle = n.add(n.network.addShuffle(n.input(0)));
      shuffle.setInput(1, n.shapeInput(1));
      shuffle.setZeroIsPlaceholder(n.attrInt("allowzero", 0) == 0);
      n.setOutput(0, shuffle.output(0));
      return;
    }
    shape = n.requireConstant(1, "the shape").toInts("the shape");
  } else {
    shape = n.attrInts("shape");
  }
  const bool allowZero = n.attrInt("allowzero", 0) != 0;
  Dims out = toDims(n, shape, "the shape");
  int32_t inferred = -1;
  int64_t known = 1;
  for (int32_t i = 0; i < out.nbDims; ++i) {
    if (out[i] == 0 && !allowZero) {
      if (i >= in.nbDims) {
        n.invalid("shape " + listText(shape) + " copies dimension " + std::to_string(i) +
                  " (0), but the input " + toString(in) + " has rank " + std::to_string(in.nbDims));
      }
      out[i] = in[i];
    } else if (out[i] == -1) {
      if (inferred >= 0) n.invalid("shape " + listText(shape) + " has more than one -1");
      inferred = i;
      continue;
    } else if (out[i] < 0) {
      n.invalid("shape " + listText(shape) + " has a negative extent");
    }
    if (__builtin_mul_overflow(known, out[i], &known)) {
      n.invalid("shape " + listText(shape) + " has more elements than 64 bits count");
    }
  }
  const int64_t count = elementCount(in);
  if (inferred >= 0) {
    if (known == 0 || count % known != 0) {
      n.invalid("cannot reshape " + toString(in) + " (" + std::to_string(count) + " elements) to " +
                listText(shape));
    }
    out[inferred] = count / known;
  }
  if (elementCount(out) != count) {
    n.invalid("cannot reshape " + toString(in) + " (" + std::to_string(count) + " elements) to " +
              listText(shape) + " (" + std::to_string(elementCount(out)) + " elements)");
  }
  setReshaped(n, out);
}

void importFlatten(NodeImport& n) {
  const Dims in = n.inputDims(0);
  const int64_t raw = n.attrInt("axis", 1);
  const int64_t axis = raw < 0 ? raw + in.nbDims : raw;
  if (axis < 0 || axis > in.nbDims) {
    n.invalid("axis " + std::to_string(raw) + " is outside [" + std::to_string(-in.nbDims) + ", " +
              std::to_string(in.nbDims) + "]");
  }
  int64_t rows = 1, cols = 1;
  for (int32_t i = 0; i < in.nbDims; ++i) (i < axis ? rows : cols) *= in[i];
  setReshaped(n, Dims{rows, cols});
}

void importTranspose(NodeImport& n) {
  const int32_t rank = n.inputRank(0);
  std::vector<int32_t> perm(static_cast<std::size_t>(rank));
  const auto given = n.attrInts("perm");
  if (given.empty()) {
    for (int32_t i = 0; i < rank; ++i) perm[static_cast<std::size_t>(i)] = rank - 1 - i;
  } else {
    if (static_cast<int32_t>(given.size()) != rank) {
      n.invalid("perm has " + std::to_string(given.size()) + " entries; the input has rank " +
                std::to_string(rank));
    }
    std::vector<bool> seen(static_cast<std::size_t>(rank), false);
    for (int32_t i = 0; i < rank; ++i) {
      const int64_t p = given[static_cast<std::size_t>(i)];
      if (p < 0 || p >= rank || seen[static_cast<std::size_t>(p)]) {
        n.invalid("perm " + listText(given) + " is not a permutation of 0.." +
                  std::to_string(rank - 1));
      }
      seen[static_cast<std::size_t>(p)] = true;
      perm[static_cast<std::size_t>(i)] = static_cast<int32_t>(p);
    }
  }
  bool identity = true;
  for (int32_t i = 0; i < rank; ++i) identity = identity && perm[static_cast<std::size_t>(i)] == i;
  if (identity) {
    n.forward(0, 0);
    return;
  }
  if (const ConstTensor* c = n.constantInput(0)) {
    if (auto folded = tryFold([&] { return foldTranspose(*c, perm, n.foldLimit()); })) {
      n.setOutput(0, *folded);
      return;
    }
  }
  n.setOutput(0, n.transpose(n.input(0), perm, {}));
}

// Squeeze/Unsqueeze whose axes are known only when the engine is built (a shape-tensor
// network input): a Shuffle reads them from its input 1. False when the axes are known.
bool axesAtBuildTime(NodeImport& n, bool squeeze) {
  if (n.opset < 13 || !n.isShapeTensorInput(1)) return false;
  ShuffleLayer shuffle = n.network.addShuffle(n.input(0));
  shuffle.setInput(1, n.shapeInput(1));
  shuffle.setAxesInput(squeeze);
  n.setOutput(0, n.add(shuffle).output(0));
  return true;
}

void importSqueeze(NodeImport& n) {
  if (axesAtBuildTime(n, true)) return;
  const Dims in = n.inputDims(0);
  const auto axes = axesOf(n);
  uint32_t mask = 0;
  if (axes.empty()) {
    for (int32_t i = 0; i < in.nbDims; ++i) {
      if (in[i] == 1) mask |= 1u << i;
    }
  } else {
    mask = axesMask(n, axes, in.nbDims, "axes");
  }
  Dims out;
  for (int32_t i = 0; i < in.nbDims; ++i) {
    if ((mask >> i) & 1u) {
      if (in[i] != 1) {
        n.invalid("cannot squeeze dimension " + std::to_string(i) + " of shape " + toString(in) +
                  ": its extent is " + std::to_string(in[i]) + ", not 1");
      }
    } else {
      out[out.nbDims++] = in[i];
    }
  }
  setReshaped(n, out);
}

void importUnsqueeze(NodeImport& n) {
  if (axesAtBuildTime(n, false)) return;
  const Dims in = n.inputDims(0);
  const auto axes = axesOf(n);
  if (axes.empty()) n.invalid("axes are required");
  const auto rank = static_cast<int32_t>(in.nbDims + static_cast<int32_t>(axes.size()));
  if (rank > Dims::kMaxRank) {
    n.unsupported("the result would have rank " + std::to_string(rank) +
                  "; kiln tensors have at most " + std::to_string(Dims::kMaxRank) + " dimensions");
  }
  const uint32_t mask = axesMask(n, axes, rank, "axes");
  Dims out;
  out.nbDims = rank;
  int32_t next = 0;
  for (int32_t i = 0; i < rank; ++i) out[i] = ((mask >> i) & 1u) ? 1 : in[next++];
  setReshaped(n, out);
}

void importIdentity(NodeImport& n) {
  if (n.opType() == "Dropout") {
    // Inference: the output is the input. From opset 12 a training_mode input may ask for
    // training behaviour, which needs a random mask.
    if (const ConstTensor* training = n.hasInput(2) ? n.constantInput(2) : nullptr) {
      if (training->count() > 0 && training->asInt(0) != 0) {
        n.unsupported("training_mode true (random dropout) is not supported for inference");
      }
    } else if (n.hasInput(2)) {
      // Known only at run time: DropoutLayer passes the input through, and fails the inference
      // if it is asked to drop values (training mode with a non-zero ratio).
      Tensor ratio =
          n.hasInput(1) ? n.input(1) : n.constant(ConstTensor::floats({}, {0.5f}), "ratio");
      if (ratio.type() != DataType::kFLOAT) ratio = n.cast(ratio, DataType::kFLOAT, "ratio_float");
      DropoutLayer dropout = n.network.addDropout(n.input(0), ratio, n.input(2));
      n.add(dropout);
      n.setOutput(0, dropout.output(0));
      if (n.nbOutputs() > 1) n.setOutput(1, dropout.output(1));
      return;
    }
    if (n.outputUsed(1)) {  // all true: a constant of the input's shape
      ConstTensor mask = ConstTensor::allocate(n.inputDims(0), kOnnxBool, n.constantLimit());
      std::fill(mask.intData().begin(), mask.intData().end(), 1);
      n.setOutput(1, std::move(mask));
    }
  }
  n.forward(0, 0);
}

void importCast(NodeImport& n) {
  int32_t to = kOnnxUndefined;
  if (n.opType() == "CastLike") {
    if (const ConstTensor* like = n.constantInput(1)) {
      to = like->onnxType();
    } else {
      switch (n.inputType(1)) {
        case DataType::kFLOAT:
          to = kOnnxFloat;
          break;
        case DataType::kBOOL:
          to = kOnnxBool;
          break;
        default:
          to = kOnnxInt32;
          break;
      }
    }
  } else {
    if (!n.hasAttr("to")) n.invalid("attribute 'to' is required");
    to = static_cast<int32_t>(n.attrInt("to", 0));
  }
  DataType type = DataType::kFLOAT;
  if (!kilnTypeOf(to, type)) n.unsupported("casts to " + onnxTypeName(to) + " are not supported");
  if (const ConstTensor* c = n.constantInput(0)) {
    if (auto folded = tryFold([&] { return foldCast(*c, to, n.foldLimit()); })) {
      n.setOutput(0, *folded);
      return;
    }
  }
  if (n.inputType(0) == type) {
    n.forward(0, 0);
    return;
  }
  n.setOutput(0, n.cast(n.input(0), type, {}));
}

void importConstant(NodeImport& n) {
  if (auto t = n.attrTensor("value")) {
    n.setOutput(0, std::move(*t));
  } else if (n.hasAttr("value_float")) {
    n.setOutput(0, ConstTensor::floats({}, {n.attrFloat("value_float", 0.f)}));
  } else if (n.hasAttr("value_floats")) {
    const auto values = n.attrFloats("value_floats");
    const auto count = static_cast<int64_t>(values.size());
    n.setOutput(0, ConstTensor::copyOf(Dims{count}, values, kOnnxFloat, n.constantLimit()));
  } else if (n.hasAttr("value_int")) {
    n.setOutput(0, ConstTensor::ints({}, {n.attrInt("value_int", 0)}));
  } else if (n.hasAttr("value_ints")) {
    const auto values = n.attrInts("value_ints");
    const auto count = static_cast<int64_t>(values.size());
    n.setOutput(0, ConstTensor::copyOf(Dims{count}, values, kOnnxInt64, n.constantLimit()));
  } else if (n.hasAttr("sparse_value")) {
    n.unsupported("sparse constants are not supported");
  } else if (n.hasAttr("value_string") || n.hasAttr("value_strings")) {
    n.unsupported("string constants are not supported");
  } else {
    n.invalid("has no value attribute");
  }
}

void importShape(NodeImport& n) {
  const Dims dims = n.inputDims(0);
  const int64_t rank = dims.nbDims;
  int64_t start = n.attrInt("start", 0);
  int64_t end = n.hasAttr("end") ? n.attrInt("end", rank) : rank;
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, 0, rank);
  std::vector<int64_t> values;
  for (int64_t i = start; i < end; ++i) values.push_back(dims[static_cast<int32_t>(i)]);
  n.setOutput(0, ConstTensor::vector(std::move(values)));
}

void importSize(NodeImport& n) {
  n.setOutput(0, ConstTensor::ints({}, {elementCount(n.inputDims(0))}));
}

void importConstantOfShape(NodeImport& n) {
  if (n.isShapeTensorInput(0)) {
    // A shape known only when the engine is built (a shape-tensor network input): the value
    // broadcast to it.
    ConstTensor value = ConstTensor::floats(Dims{1}, {0.f});
    if (auto given = n.attrTensor("value")) {
      if (given->count() != 1) n.invalid("attribute 'value' must hold one element");
      value = std::move(*given);
    }
    const Dims shapeDims = n.inputDims(0);
    const int64_t count = shapeDims.nbDims == 0 ? 1 : shapeDims[0];
    if (count > Dims::kMaxRank) n.unsupported("the shape has more dimensions than kiln holds");
    Tensor one = n.constant(value.reshaped(filled(static_cast<int32_t>(count), 1)), "value");
    n.setOutput(0, sliceToTarget(n, one, 0, false));
    return;
  }
  const auto shape = n.requireConstant(0, "the shape").toInts("the shape");
  const Dims dims = toDims(n, shape, "the shape");
  for (int32_t i = 0; i < dims.nbDims; ++i) {
    if (dims[i] < 0) n.invalid("the shape " + listText(shape) + " has a negative extent");
  }
  ConstTensor value = ConstTensor::floats(Dims{1}, {0.f});
  if (auto given = n.attrTensor("value")) {
    if (given->count() != 1) n.invalid("attribute 'value' must hold one element");
    value = std::move(*given);
  }
  ConstTensor out = ConstTensor::allocate(dims, value.onnxType(), n.constantLimit());
  if (out.isFloat()) {
    std::fill(out.floatData().begin(), out.floatData().end(), value.floatValues()[0]);
  } else {
    std::fill(out.intData().begin(), out.intData().end(), value.intValues()[0]);
  }
  n.setOutput(0, std::move(out));
}

void importRange(NodeImport& n) {
  for (int32_t i = 0; i < 3; ++i) {
    if (!n.hasInput(i))
      n.invalid("input " + std::to_string(i) + " (start, limit, delta) is missing");
  }
  if (!n.allInputsConstant()) {
    // Bounds that are constants or shape-tensor network inputs (values given when the engine
    // is built): a Range layer. Bounds computed by layers are not supported.
    for (int32_t i = 0; i < 3; ++i) {
      if (n.constantInput(i) == nullptr && !n.isShapeTensorInput(i, true)) {
        n.unsupported("Range with bounds computed at run time (input " + std::to_string(i) + " '" +
                      n.inputName(i) +
                      "'): kiln takes constants or shape-tensor network inputs there");
      }
    }
    // A shape tensor may be read through a Cast (NodeImport::shapeInput); the layer converts
    // limit and delta to start's type as that Cast would, but takes its type from start.
    const auto bound = [&](int32_t i) {
      return n.constantInput(i) != nullptr ? n.input(i) : n.shapeInput(i);
    };
    if ((bound(0).type() == DataType::kFLOAT) != (n.inputType(0) == DataType::kFLOAT)) {
      n.unsupported("start is a network input cast between float and integer types");
    }
    const Tensor range = n.add(n.network.addRange(bound(0), bound(1), bound(2))).output(0);
    // int64 values are computed in int32 inside the network, as other int64 results are.
    n.setOutput(
        0, range.type() == DataType::kINT64 ? n.cast(range, DataType::kINT32, "int32") : range);
    return;
  }
  const ConstTensor& start = n.requireConstant(0, "start");
  const ConstTensor& limit = n.requireConstant(1, "limit");
  const ConstTensor& delta = n.requireConstant(2, "delta");
  if (start.count() != 1 || limit.count() != 1 || delta.count() != 1) {
    n.invalid("start, limit and delta must be scalars");
  }
  if (start.isFloat()) {
    const double s = start.asDouble(0), l = limit.asDouble(0), d = delta.asDouble(0);
    if (d == 0) n.invalid("delta is 0");
    const double steps = std::max(std::ceil((l - s) / d), 0.0);
    if (std::isnan(steps)) n.invalid("start, limit and delta give no length (NaN)");
    // Past INT64_MAX steps the count saturates; no limit admits it, and the limit names it.
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    const int64_t count = steps < 0x1p63 ? static_cast<int64_t>(steps) : kMax;
    ConstTensor out = ConstTensor::allocate(Dims{count}, start.onnxType(), n.constantLimit());
    const std::span<float> values = out.floatData();
    for (std::size_t i = 0; i < values.size(); ++i) {
      values[i] = static_cast<float>(s + static_cast<double>(i) * d);
    }
    n.setOutput(0, std::move(out));
    return;
  }
  const int64_t s = start.asInt(0), l = limit.asInt(0), d = delta.asInt(0);
  if (d == 0) n.invalid("delta is 0");
  // max(ceil((l - s) / d), 0) in 128 bits: l - s overflows int64 for far-apart bounds.
  const __int128 span = static_cast<__int128>(l) - s;
  const __int128 steps = span == 0 || (span > 0) != (d > 0) ? 0 : (span + d - (d > 0 ? 1 : -1)) / d;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  const int64_t count = steps < kMax ? static_cast<int64_t>(steps) : kMax;
  ConstTensor out = ConstTensor::allocate(Dims{count}, start.onnxType(), n.constantLimit());
  const std::span<int64_t> values = out.intData();
  for (std::size_t i = 0; i < values.size(); ++i) {
    values[i] = static_cast<int64_t>(s + static_cast<__int128>(i) * d);
  }
  n.setOutput(0, std::move(out));
}

}  // namespace kiln::parsers::onnx_import
