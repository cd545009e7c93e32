// The one table of ONNX ops: op_type -> importer (and the oldest opset it is imported from).
#include <algorithm>
#include <array>

#include "parsers/onnx/node_import.h"

namespace kiln::parsers::onnx_import {

std::span<const ImporterInfo> importers() {
  static constexpr auto kImporters = std::to_array<ImporterInfo>({
      // convolution and pooling
      {"Conv", importConv},
      {"ConvTranspose", importConvTranspose},
      {"MaxPool", importMaxPool},
      {"AveragePool", importAveragePool},
      {"GlobalMaxPool", importGlobalPool},
      {"GlobalAveragePool", importGlobalPool},
      // linear algebra
      {"Gemm", importGemm},
      {"MatMul", importMatMul},
      // activations
      {"Relu", importActivation},
      {"LeakyRelu", importActivation},
      {"Elu", importActivation},
      {"Selu", importActivation},
      {"Sigmoid", importActivation},
      {"HardSigmoid", importActivation},
      {"Tanh", importActivation},
      {"Softplus", importActivation},
      {"Softsign", importActivation},
      {"ThresholdedRelu", importActivation},
      {"Gelu", importActivation},
      {"Clip", importClip},
      {"PRelu", importPRelu},
      {"HardSwish", importComposedActivation},
      {"Mish", importComposedActivation},
      {"Celu", importComposedActivation},
      {"Softmax", importSoftmax},
      {"LogSoftmax", importSoftmax},
      {"Hardmax", importHardmax},
      // element-wise
      {"Add", importBinary},
      {"Sub", importBinary},
      {"Mul", importBinary},
      {"Div", importBinary},
      {"Pow", importBinary},
      {"Max", importVariadic},
      {"Min", importVariadic},
      {"Sum", importVariadic},
      {"Mean", importVariadic},
      {"Equal", importComparison},
      {"Greater", importComparison},
      {"Less", importComparison},
      {"GreaterOrEqual", importComparison},
      {"LessOrEqual", importComparison},
      {"And", importLogical},
      {"Or", importLogical},
      {"Xor", importLogical},
      {"Not", importUnary},
      {"Where", importWhere},
      {"Abs", importUnary},
      {"Neg", importUnary},
      {"Exp", importUnary},
      {"Log", importUnary},
      {"Sqrt", importUnary},
      {"Reciprocal", importUnary},
      {"Sin", importUnary},
      {"Cos", importUnary},
      {"Tan", importUnary},
      {"Asin", importUnary},
      {"Acos", importUnary},
      {"Atan", importUnary},
      {"Sinh", importUnary},
      {"Cosh", importUnary},
      {"Asinh", importUnary},
      {"Acosh", importUnary},
      {"Atanh", importUnary},
      {"Floor", importUnary},
      {"Ceil", importUnary},
      {"Sign", importUnary},
      {"Round", importUnary},
      {"Erf", importUnary},
      {"IsNaN", importUnary},
      {"IsInf", importUnary},
      // normalization
      {"BatchNormalization", importBatchNormalization},
      {"InstanceNormalization", importInstanceNormalization},
      {"LayerNormalization", importLayerNormalization, 17},
      {"LRN", importLRN},
      // reductions
      {"ReduceSum", importReduce},
      {"ReduceMean", importReduce},
      {"ReduceMax", importReduce},
      {"ReduceMin", importReduce},
      {"ReduceProd", importReduce},
      {"ReduceL1", importReduce},
      {"ReduceL2", importReduce},
      {"ReduceLogSum", importReduce},
      {"ReduceLogSumExp", importReduce},
      {"ReduceSumSquare", importReduce},
      {"ArgMax", importArgMinMax},
      {"ArgMin", importArgMinMax},
      {"TopK", importTopK},
      // shapes and types
      {"Reshape", importReshape},
      {"Flatten", importFlatten},
      {"Transpose", importTranspose},
      {"Squeeze", importSqueeze},
      {"Unsqueeze", importUnsqueeze},
      {"Identity", importIdentity},
      {"Dropout", importIdentity},
      {"Cast", importCast},
      {"CastLike", importCast, 15},
      {"Constant", importConstant},
      {"Shape", importShape},
      {"Size", importSize},
      {"ConstantOfShape", importConstantOfShape},
      {"Range", importRange},
      // data movement
      {"Concat", importConcat},
      {"Split", importSplit},
      {"Slice", importSlice},
      {"Gather", importGather},
      {"GatherElements", importGatherElements},
      {"GatherND", importGatherND},
      {"Expand", importExpand},
      {"Tile", importTile},
      {"Pad", importPad},
      {"DepthToSpace", importDepthToSpace},
      {"SpaceToDepth", importSpaceToDepth},
      // resampling, scatter, indexing, einsum
      {"Resize", importResize, 10},
      {"Upsample", importUpsample, 7},
      {"GridSample", importGridSample, 16},
      {"Scatter", importScatter, 9},
      {"ScatterElements", importScatter, 11},
      {"ScatterND", importScatter, 11},
      {"CumSum", importCumSum, 11},
      {"OneHot", importOneHot, 9},
      {"Trilu", importTrilu, 14},
      {"Einsum", importEinsum, 12},
      // losses
      {"NegativeLogLikelihoodLoss", importLoss, 12},
      {"SoftmaxCrossEntropyLoss", importLoss, 12},
      // more math
      {"Mod", importMod, 10},
      {"BitShift", importBitShift, 11},
      {"DFT", importDFT, 17},
      {"TfIdfVectorizer", importTfIdfVectorizer, 9},
      // data-dependent output shapes
      {"NonZero", importNonZero, 9},
      {"Compress", importCompress, 9},
      {"Unique", importUnique, 11},
      {"NonMaxSuppression", importNonMaxSuppression, 10},
      {"MaxUnpool", importMaxUnpool, 9},
      {"Shrink", importShrink, 9},
      {"MeanVarianceNormalization", importMeanVarianceNormalization, 9},
      {"EyeLike", importEyeLike, 9},
      {"HannWindow", importWindow, 17},
      {"HammingWindow", importWindow, 17},
      {"BlackmanWindow", importWindow, 17},
      {"Det", importDet, 11},
      {"ReverseSequence", importReverseSequence, 10},
      {"RoiAlign", importRoiAlign, 10},
      // recurrent layers (opset 7 dropped output_sequence and gave them today's form)
      {"LSTM", importRecurrent, 7},
      {"GRU", importRecurrent, 7},
      {"RNN", importRecurrent, 7},
      // quantization
      {"QuantizeLinear", importQuantizeLinear, 10},
      {"DequantizeLinear", importDequantizeLinear, 10},
      {"DynamicQuantizeLinear", importDynamicQuantizeLinear, 11},
      {"ConvInteger", importConvInteger, 10},
      {"QLinearConv", importQLinearConv, 10},
      {"MatMulInteger", importMatMulInteger, 10},
      {"QLinearMatMul", importQLinearMatMul, 10},
  });
  return kImporters;
}

const ImporterInfo* findImporter(std::string_view opType) {
  for (const auto& info : importers()) {
    if (info.opType == opType) return &info;
  }
  return nullptr;
}

std::string missingImporterReason(std::string_view opType) {
  static constexpr std::array kControlFlow = {"If", "Loop", "Scan"};
  static constexpr std::array kSequences = {
      "SequenceAt",     "SequenceConstruct",  "SequenceEmpty",     "SequenceErase",
      "SequenceInsert", "SequenceLength",     "SplitToSequence",   "ConcatFromSequence",
      "Optional",       "OptionalGetElement", "OptionalHasElement"};
  // Ops of the ai.onnx domain that kiln has no layer for yet.
  static constexpr std::array kKnown = {"Resize",
                                        "Upsample",
                                        "NonZero",
                                        "Einsum",
                                        "ScatterND",
                                        "ScatterElements",
                                        "Scatter",
                                        "CumSum",
                                        "OneHot",
                                        "Trilu",
                                        "NonMaxSuppression",
                                        "GridSample",
                                        "QLinearConv",
                                        "QLinearMatMul",
                                        "ConvInteger",
                                        "MatMulInteger",
                                        "LpPool",
                                        "GlobalLpPool",
                                        "LpNormalization",
                                        "GroupNormalization",
                                        "MaxRoiPool",
                                        "Compress",
                                        "Unique",
                                        "RandomNormal",
                                        "RandomUniform",
                                        "RandomNormalLike",
                                        "RandomUniformLike",
                                        "Multinomial",
                                        "Bernoulli",
                                        "STFT",
                                        "Col2Im",
                                        "CenterCropPad",
                                        "MelWeightMatrix",
                                        "StringNormalizer",
                                        "BitwiseAnd",
                                        "BitwiseOr",
                                        "BitwiseXor",
                                        "BitwiseNot",
                                        "AffineGrid",
                                        "ImageDecoder",
                                        "RegexFullMatch",
                                        "StringConcat",
                                        "StringSplit",
                                        "DeformConv",
                                        "Gradient"};
  const auto has = [&](const auto& list) {
    return std::find(list.begin(), list.end(), opType) != list.end();
  };
  if (has(kControlFlow)) return "control flow (subgraphs) is not in kiln yet";
  if (has(kSequences)) return "sequence and optional values are not in kiln yet";
  if (has(kKnown)) return "no kiln layer yet";
  return "not an ONNX operator kiln knows";
}

}  // namespace kiln::parsers::onnx_import
