// QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear as kiln's Quantize and Dequantize
// layers (float32 math; 8-bit values live as int32 inside the network).
#include <string>

#include "parsers/onnx/node_import.h"

namespace kiln::parsers::onnx_import {

namespace {

// The ONNX element type of input @p i where the parser can tell: a constant's, or a network
// input's declared type (integer inputs reach layers through a cast to int32); 0 otherwise.
int32_t elementTypeOf(NodeImport& n, int32_t i) {
  if (const ConstTensor* c = n.constantInput(i)) return c->onnxType();
  Tensor t = n.input(i);
  if (!t.isNetworkInput()) {
    const Layer producer = t.producer();
    if (producer && producer.type() == LayerType::kIDENTITY) t = producer.input(0);
  }
  if (!t || !t.isNetworkInput()) return kOnnxUndefined;
  switch (t.type()) {
    case DataType::kUINT8:
      return kOnnxUint8;
    case DataType::kINT8:
      return kOnnxInt8;
    case DataType::kINT32:
      return kOnnxInt32;
    default:
      return kOnnxUndefined;
  }
}

int32_t quantAxis(const NodeImport& n) {
  // Opset 10 knows per-tensor parameters only; the layer ignores the axis for those.
  return static_cast<int32_t>(n.opset >= 13 ? n.attrInt("axis", 1) : 1);
}

}  // namespace

void importQuantizeLinear(NodeImport& n) {
  // Without a zero point ONNX quantizes to uint8. A zero point computed by other nodes has a
  // type the parser does not track (integers are int32 inside the network): it is taken as
  // uint8 too, the type DynamicQuantizeLinear and its expansion produce.
  DataType to = DataType::kUINT8;
  if (n.hasInput(2)) {
    const int32_t type = elementTypeOf(n, 2);
    if (type == kOnnxInt8) {
      to = DataType::kINT8;
    } else if (type != kOnnxUint8 && type != kOnnxUndefined) {
      n.unsupported("a zero point of element type " + onnxTypeName(type) +
                    " (kiln quantizes to int8 and uint8)");
    }
  }
  Tensor x = n.cast(n.input(0), DataType::kFLOAT, "x_float");
  Tensor scale = n.cast(n.input(1), DataType::kFLOAT, "scale_float");
  QuantizeLayer q = n.network.addQuantize(x, scale, to);
  if (q) {
    q.setAxis(quantAxis(n));
    if (n.hasInput(2)) q.setInput(2, n.input(2));
  }
  n.setOutput(0, n.add(q).output(0));
}

void importDequantizeLinear(NodeImport& n) {
  Tensor scale = n.cast(n.input(1), DataType::kFLOAT, "scale_float");
  DequantizeLayer d = n.network.addDequantize(n.input(0), scale);
  if (d) {
    d.setAxis(quantAxis(n));
    if (n.hasInput(2)) d.setInput(2, n.input(2));
  }
  n.setOutput(0, n.add(d).output(0));
}

// The ONNX definition, layer by layer (uint8):
//   scale = (max(0, max(x)) - min(0, min(x))) / 255
//   zero_point = round_half_even(clip(-min(0, min(x)) / scale, 0, 255))
//   y = QuantizeLinear(x, scale, zero_point)
void importDynamicQuantizeLinear(NodeImport& n) {
  Tensor x = n.cast(n.input(0), DataType::kFLOAT, "x_float");
  const int32_t rank = n.inputRank(0);
  const uint32_t all = rank == 0 ? 0u : (rank == 32 ? ~0u : (1u << rank) - 1u);
  Tensor zero = n.scalar(0.f, 0, "zero");
  Tensor lo = n.elementWise(n.reduce(x, ReduceOperation::kMIN, all, false, "min"), zero,
                            ElementWiseOperation::kMIN, "min_with_zero");
  Tensor hi = n.elementWise(n.reduce(x, ReduceOperation::kMAX, all, false, "max"), zero,
                            ElementWiseOperation::kMAX, "max_with_zero");
  Tensor range = n.elementWise(hi, lo, ElementWiseOperation::kSUB, "range");
  Tensor scale =
      n.elementWise(range, n.scalar(255.f, 0, "qrange"), ElementWiseOperation::kDIV, "scale");
  Tensor shifted = n.elementWise(n.unary(lo, UnaryOperation::kNEG, "neg_min"), scale,
                                 ElementWiseOperation::kDIV, "zero_point_float");
  Tensor clipped = n.activation(shifted, ActivationType::kCLIP, "zero_point_clip", 0.f, 255.f);
  Tensor zeroPoint = n.cast(n.unary(clipped, UnaryOperation::kROUND, "zero_point_round"),
                            DataType::kINT32, "zero_point");
  QuantizeLayer q = n.network.addQuantize(x, scale, DataType::kUINT8);
  if (q) q.setInput(2, zeroPoint);
  n.setOutput(0, n.add(q).output(0));
  n.setOutput(1, scale);
  n.setOutput(2, zeroPoint);
}

namespace {

// @p v (one value, or [C]) shaped to broadcast along dimension @p axis of a tensor of rank
// @p rank.
Tensor alongAxis(NodeImport& n, Tensor v, int32_t rank, int32_t axis, std::string_view role) {
  const Dims d = v.dimensions();
  if (d.nbDims == 0 || (d.nbDims == 1 && d[0] == 1)) return v;
  if (d.nbDims != 1 || axis < 0 || axis >= rank) {
    n.invalid("a zero point or scale of shape " + toString(d) +
              " does not fit per-tensor or per-axis quantization");
  }
  Dims shape = filled(rank, 1);
  shape[axis] = d[0];
  return n.reshape(v, shape, role);
}

// Input @p x minus zero point @p zp (per tensor, or along @p axis), as float32.
Tensor centered(NodeImport& n, int32_t x, int32_t zp, int32_t axis, const std::string& role) {
  Tensor v = n.cast(n.input(x), DataType::kFLOAT, role + "_float");
  if (!n.hasInput(zp)) return v;
  const int32_t rank = v.dimensions().nbDims;
  Tensor z = alongAxis(n, n.cast(n.input(zp), DataType::kFLOAT, role + "_zero_float"), rank, axis,
                       role + "_zero_shape");
  return n.elementWise(v, z, ElementWiseOperation::kSUB, role + "_centered");
}

// DequantizeLinear of inputs (x, scale, zero point) of this node, along @p axis.
Tensor dequantized(NodeImport& n, int32_t x, int32_t scale, int32_t zp, int32_t axis,
                   const std::string& role) {
  DequantizeLayer d = n.network.addDequantize(
      n.input(x), n.cast(n.input(scale), DataType::kFLOAT, role + "_scale"));
  if (d) {
    d.setAxis(axis);
    if (n.hasInput(zp)) d.setInput(2, n.input(zp));
  }
  return n.add(d, role).output(0);
}

// QuantizeLinear of @p y with inputs (scale, zero point) of this node; its type from the zero
// point's.
Tensor quantized(NodeImport& n, Tensor y, int32_t scale, int32_t zp) {
  const int32_t type = elementTypeOf(n, zp);
  if (type != kOnnxUint8 && type != kOnnxInt8 && type != kOnnxUndefined) {
    n.unsupported("an output zero point of element type " + onnxTypeName(type));
  }
  QuantizeLayer q =
      n.network.addQuantize(y, n.cast(n.input(scale), DataType::kFLOAT, "y_scale_float"),
                            type == kOnnxInt8 ? DataType::kINT8 : DataType::kUINT8);
  if (q && n.hasInput(zp)) q.setInput(2, n.input(zp));
  return n.add(q).output(0);
}

Tensor matMul(NodeImport& n, Tensor a, Tensor b) {
  if (a.dimensions().nbDims < 2 || b.dimensions().nbDims < 2) {
    n.unsupported("integer matrix products of vectors (rank 1)");
  }
  return n
      .add(n.network.addMatrixMultiply(a, MatrixOperation::kNONE, b, MatrixOperation::kNONE),
           "matmul")
      .output(0);
}

}  // namespace

// The ONNX integer and quantized convolutions and products, computed in float32 from the
// dequantized (or zero-point-centered) inputs: exact while every sum of products stays below
// 2^24, which 8-bit operands over a few hundred terms do.

// y = conv(x - x_zero_point, w - w_zero_point) as int32; w's zero point may be per output map.
void importConvInteger(NodeImport& n) {
  Tensor x = centered(n, 0, 2, 1, "x");
  Tensor w = centered(n, 1, 3, 0, "w");
  n.setOutput(0, n.cast(convolveTensors(n, x, w, Tensor()), DataType::kINT32, {}));
}

// Inputs: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B (int32,
// scaled by x_scale * w_scale).
void importQLinearConv(NodeImport& n) {
  Tensor x = dequantized(n, 0, 1, 2, 1, "x");
  Tensor w = dequantized(n, 3, 4, 5, 0, "w");
  Tensor bias;
  if (n.hasInput(8)) {
    Tensor scale = n.elementWise(n.cast(n.input(1), DataType::kFLOAT, "x_scale_float"),
                                 n.cast(n.input(4), DataType::kFLOAT, "w_scale_float"),
                                 ElementWiseOperation::kPROD, "bias_scale");
    Tensor b = n.cast(n.input(8), DataType::kFLOAT, "bias_float");
    bias = n.elementWise(b, scale, ElementWiseOperation::kPROD, "bias");
  }
  n.setOutput(0, quantized(n, convolveTensors(n, x, w, bias), 6, 7));
}

// y = (a - a_zero_point) (b - b_zero_point) as int32; a's zero point may be per row, b's per
// column.
void importMatMulInteger(NodeImport& n) {
  const int32_t rankA = n.inputRank(0), rankB = n.inputRank(1);
  Tensor a = centered(n, 0, 2, rankA - 2, "a");
  Tensor b = centered(n, 1, 3, rankB - 1, "b");
  n.setOutput(0, n.cast(matMul(n, a, b), DataType::kINT32, {}));
}

// Inputs: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point.
void importQLinearMatMul(NodeImport& n) {
  Tensor a = dequantized(n, 0, 1, 2, n.inputRank(0) - 2, "a");
  Tensor b = dequantized(n, 3, 4, 5, n.inputRank(3) - 1, "b");
  n.setOutput(0, quantized(n, matMul(n, a, b), 6, 7));
}

}  // namespace kiln::parsers::onnx_import
