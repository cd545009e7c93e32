#include "parsers/onnx/importer_docs.h"

#include <algorithm>
#include <array>

#include "parsers/onnx/graph_importer.h"
#include "parsers/onnx/legacy_opsets.h"

namespace kiln::parsers::onnx_import {

namespace {

// "Known" means an initializer, a Constant or shape arithmetic the parser folds: kiln builds
// for fixed shapes, so arguments that decide an output shape cannot be computed at run time.
// "A shape tensor" is an int network input whose values an optimization profile gives.
constexpr auto kDocs = std::to_array<ImporterDoc>({
    // convolution and pooling
    {"Conv", "Convolution",
     "1 to 3 spatial dimensions; negative pads are not supported; W and B may be computed at run "
     "time"},
    {"ConvTranspose", "Deconvolution",
     "1 to 3 spatial dimensions; W and B may be computed at run time"},
    {"MaxPool", "Pooling (MaxPoolingIndices with dilations or the Indices output)",
     "1 to 3 spatial dimensions; storage_order 0 only"},
    {"AveragePool", "Pooling", "1 to 3 spatial dimensions"},
    {"MaxUnpool", "MaxUnpool",
     "1 to 3 spatial dimensions; output_shape must be known or a shape tensor; indices are offsets "
     "into the output "
     "as given"},
    {"GlobalMaxPool", "Reduce", ""},
    {"GlobalAveragePool", "Reduce", ""},
    // linear algebra
    {"Gemm", "FullyConnected or MatrixMultiply + ElementWise", ""},
    {"MatMul", "MatrixMultiply", ""},
    {"Einsum", "Einsum", "float32 and int32 (int64 computed in int32); at most 16 inputs"},
    // activations
    {"Relu", "Activation (ElementWise for integers)", ""},
    {"LeakyRelu", "Activation", ""},
    {"Elu", "Activation", ""},
    {"Selu", "Activation", ""},
    {"Sigmoid", "Activation", ""},
    {"HardSigmoid", "Activation", ""},
    {"Tanh", "Activation", ""},
    {"Softplus", "Activation", ""},
    {"Softsign", "Activation", ""},
    {"ThresholdedRelu", "Activation", "", 10},
    {"Gelu", "Activation", "", 20},
    {"Clip", "Activation, or ElementWise max/min for run-time bounds and integers", ""},
    {"PRelu", "ElementWise", ""},
    {"HardSwish", "Activation + ElementWise", "", 14},
    {"Mish", "Activation + ElementWise", "", 18},
    {"Celu", "Activation + ElementWise", "", 12},
    {"Softmax", "SoftMax (Shuffle to 2-D before opset 13)", ""},
    {"LogSoftmax", "Reduce + ElementWise + Unary", ""},
    {"Hardmax", "TopK + ElementWise", ""},
    // element-wise
    {"Add", "ElementWise", "opsets 1 to 6: broadcast with axis only where numpy agrees"},
    {"Sub", "ElementWise", "opsets 1 to 6: broadcast with axis only where numpy agrees"},
    {"Mul", "ElementWise", "opsets 1 to 6: broadcast with axis only where numpy agrees"},
    {"Div", "ElementWise", "opsets 1 to 6: broadcast with axis only where numpy agrees"},
    {"Pow", "ElementWise", "opsets 1 to 6: broadcast with axis only where numpy agrees"},
    {"Max", "ElementWise", ""},
    {"Min", "ElementWise", ""},
    {"Sum", "ElementWise", ""},
    {"Mean", "ElementWise", ""},
    {"Equal", "ElementWise", ""},
    {"Greater", "ElementWise", ""},
    {"Less", "ElementWise", ""},
    {"GreaterOrEqual", "ElementWise", "", 12},
    {"LessOrEqual", "ElementWise", "", 12},
    {"And", "ElementWise", ""},
    {"Or", "ElementWise", ""},
    {"Xor", "ElementWise", ""},
    {"Not", "Unary", ""},
    {"Where", "Select", "", 9},
    // unary functions
    {"Abs", "Unary", ""},
    {"Neg", "Unary", ""},
    {"Exp", "Unary", ""},
    {"Log", "Unary", ""},
    {"Sqrt", "Unary", ""},
    {"Reciprocal", "Unary", ""},
    {"Sin", "Unary", "", 7},
    {"Cos", "Unary", "", 7},
    {"Tan", "Unary", "", 7},
    {"Asin", "Unary", "", 7},
    {"Acos", "Unary", "", 7},
    {"Atan", "Unary", "", 7},
    {"Sinh", "Unary", "", 9},
    {"Cosh", "Unary", "", 9},
    {"Asinh", "Unary", "", 9},
    {"Acosh", "Unary", "", 9},
    {"Atanh", "Unary", "", 9},
    {"Floor", "Unary", ""},
    {"Ceil", "Unary", ""},
    {"Sign", "Unary", "", 9},
    {"Round", "Unary", "", 11},
    {"Erf", "Unary", "", 9},
    {"IsNaN", "Unary", "", 9},
    {"IsInf", "Unary", "", 10},
    // normalization
    {"BatchNormalization", "Scale (decomposed when the statistics are computed at run time)",
     "inference only: training_mode 1, spatial 0 and, before opset 7, is_test 0 are not "
     "supported"},
    {"InstanceNormalization", "Reduce + ElementWise + Unary", ""},
    {"LayerNormalization", "Reduce + ElementWise + Unary", ""},
    {"LRN", "LRN", ""},
    // reductions
    {"ReduceSum", "Reduce", "axes must be known or a shape tensor"},
    {"ReduceMean", "Reduce", "axes must be known or a shape tensor"},
    {"ReduceMax", "Reduce", "axes must be known or a shape tensor"},
    {"ReduceMin", "Reduce", "axes must be known or a shape tensor"},
    {"ReduceProd", "Reduce", "axes must be known or a shape tensor"},
    {"ReduceL1", "Reduce + Unary", "axes must be known or a shape tensor"},
    {"ReduceL2", "Reduce + ElementWise + Unary", "axes must be known or a shape tensor"},
    {"ReduceLogSum", "Reduce + Unary", "axes must be known or a shape tensor"},
    {"ReduceLogSumExp", "Reduce + ElementWise + Unary", "axes must be known"},
    {"ReduceSumSquare", "ElementWise + Reduce", "axes must be known or a shape tensor"},
    {"ArgMax", "TopK (k = 1)", ""},
    {"ArgMin", "TopK (k = 1)", ""},
    {"TopK", "TopK", "K must be known or a shape tensor, and at least 1"},
    // shapes and types
    {"Reshape", "Shuffle (folded on known values)", "the shape must be known or a shape tensor"},
    {"Flatten", "Shuffle", ""},
    {"Transpose", "Shuffle", ""},
    {"Squeeze", "Shuffle", "axes must be known or a shape tensor"},
    {"Unsqueeze", "Shuffle", "axes must be known or a shape tensor"},
    {"Identity", "(none: the input is forwarded)", ""},
    {"Dropout",
     "(none: the input is forwarded); Dropout when training_mode is computed at run time",
     "inference only: a known training_mode true is not supported; one computed at run time fails "
     "the inference when it is true with a ratio above 0"},
    {"Cast", "Identity (cast)",
     "to real numeric types and bool, not float8, 4-bit or complex (computed as float32 or int32)"},
    {"CastLike", "Identity (cast)", ""},
    {"Constant", "Constant (when a layer reads it)", "no sparse or string constants"},
    {"Shape", "(folded: shapes are static)", ""},
    {"Size", "(folded: shapes are static)", ""},
    {"ConstantOfShape", "Constant (Constant + Slice for a shape tensor)",
     "the shape must be known or a shape tensor", 9},
    {"Range", "Constant (Range for shape tensors)",
     "start, limit and delta must be known or shape tensors", 11},
    // data movement
    {"Concat", "Concatenation", ""},
    {"Split", "Slice", "split sizes must be known or a shape tensor"},
    {"Slice", "Slice", "starts, ends, axes and steps must be known or a shape tensor"},
    {"Gather", "Gather", ""},
    {"GatherElements", "Gather (element mode)", "", 11},
    {"GatherND", "Gather (ND mode)", "", 11},
    {"Expand", "Shuffle + Slice (stride 0)", "the shape must be known or a shape tensor", 8},
    {"Tile", "Concatenation (Slice for a shape tensor)", "repeats must be known or a shape tensor"},
    {"Pad", "Padding",
     "pads must be known or a shape tensor (then of every axis); mode wrap is not supported"},
    {"DepthToSpace", "Shuffle", ""},
    {"SpaceToDepth", "Shuffle", ""},
    // resampling, scatter, indexing
    {"Resize", "Resize",
     "scales or sizes must be known (scales or sizes of every axis may be a shape tensor); "
     "tf_crop_and_resize's roi may be computed at run time (of every axis); antialias 1 only "
     "where no axis shrinks (or with nearest); "
     "keep_aspect_ratio_policy: where a length rounds up, coordinates map with output / input "
     "lengths instead of the common scale"},
    {"Upsample", "Resize", "scales must be known or a shape tensor"},
    {"GridSample", "GridSample", "2-D only ([N, C, H, W] input)"},
    {"Scatter", "Scatter (element mode)", ""},
    {"ScatterElements", "Scatter (element mode)", ""},
    {"ScatterND", "Scatter (ND mode)", ""},
    {"CumSum", "Cumulative", "the axis may be computed at run time"},
    {"OneHot", "OneHot", "depth must be known or a shape tensor"},
    {"Trilu", "Trilu", "k may be computed at run time"},
    // losses
    {"NegativeLogLikelihoodLoss", "Loss", "reduction none, sum or mean; weight; ignore_index"},
    {"SoftmaxCrossEntropyLoss", "Loss",
     "reduction none, sum or mean; weight; ignore_index; log_prob"},
    // more math
    {"Mod", "ElementWise (kMOD, kFMOD)", "integers computed in int32"},
    {"BitShift", "ElementWise (kSHIFT_LEFT, kSHIFT_RIGHT)",
     "computed in int32: results beyond the element type's range saturate instead of wrapping"},
    {"DFT", "DFT", "dft_length and (opset 20) axis must be known; no inverse with onesided"},
    {"TfIdfVectorizer", "TfIdfVectorizer", "int32 and int64 input (pool_int64s); no strings"},
    {"Shrink", "ElementWise + Select", ""},
    {"MeanVarianceNormalization", "Reduce + ElementWise", ""},
    {"EyeLike", "Constant", "the input's shape must be known"},
    {"HannWindow", "Constant (Slice + Cumulative + ElementWise + Unary for a shape tensor)",
     "size must be known or a shape tensor"},
    {"HammingWindow", "Constant (Slice + Cumulative + ElementWise + Unary for a shape tensor)",
     "size must be known or a shape tensor"},
    {"BlackmanWindow", "Constant (Slice + Cumulative + ElementWise + Unary for a shape tensor)",
     "size must be known or a shape tensor"},
    {"Det", "Determinant", "float32"},
    {"ReverseSequence", "ReverseSequence", ""},
    {"RoiAlign", "RoiAlign", "avg and max modes; half_pixel and output_half_pixel"},
    // recurrent layers
    {"LSTM", "RNN (LSTM)",
     "all inputs and attributes; activations other than Affine; W, R and B may be computed at "
     "run time"},
    {"GRU", "RNN (GRU)",
     "all inputs and attributes; activations other than Affine; W, R and B may be computed at "
     "run time"},
    {"RNN", "RNN",
     "all inputs and attributes; activations other than Affine; W, R and B may be computed at "
     "run time"},
    // quantization (computed in float32; exact while sums stay below 2^24)
    {"QuantizeLinear", "Quantize", "uint8 and int8; per tensor or per axis"},
    {"DequantizeLinear", "Dequantize", "uint8, int8 and int32; per tensor or per axis"},
    {"DynamicQuantizeLinear", "Reduce + ElementWise + Quantize", "uint8"},
    {"ConvInteger", "Dequantize + Convolution", ""},
    {"QLinearConv", "Dequantize + Convolution + Quantize", ""},
    {"MatMulInteger", "Dequantize + MatrixMultiply", ""},
    {"QLinearMatMul", "Dequantize + MatrixMultiply + Quantize", ""},
    // data-dependent output shapes: graph outputs only (optionally cast), read with an
    // OutputAllocator
    {"NonZero", "NonZero", "output shape data-dependent: a graph output only"},
    {"Compress", "Compress", "output shape data-dependent: a graph output only"},
    {"Unique", "Unique", "output shapes data-dependent: graph outputs only"},
    {"NonMaxSuppression", "NMS", "output shape data-dependent: a graph output only"},
});

}  // namespace

std::span<const ImporterDoc> importerDocs() {
  return kDocs;
}

const ImporterDoc* findImporterDoc(std::string_view opType) {
  for (const auto& doc : kDocs) {
    if (doc.opType == opType) return &doc;
  }
  return nullptr;
}

int64_t oldestImportedOpset(const ImporterInfo& info) {
  const int64_t legacy = legacyOldestOpset(info.opType);
  int64_t oldest = legacy > 0 ? legacy : kLegacyOpsetEnd;
  oldest = std::max({oldest, info.sinceOpset, kMinOpset});
  if (const ImporterDoc* doc = findImporterDoc(info.opType))
    oldest = std::max(oldest, doc->onnxSince);
  return oldest;
}

}  // namespace kiln::parsers::onnx_import
