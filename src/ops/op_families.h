// Each op family (one file in src/ops/) registers its ops here; registerAllOps calls them all.
// Explicit calls rather than static registrars, so nothing is lost when linking statically.
#pragma once

namespace kiln::ir {
class OpRegistry;
}

namespace kiln::ops {

void registerConvolutionOps(ir::OpRegistry& registry);    // Convolution, Deconvolution
void registerPoolingOps(ir::OpRegistry& registry);        // Pooling
void registerNormalizationOps(ir::OpRegistry& registry);  // LRN
void registerMatMulOps(ir::OpRegistry& registry);         // FullyConnected, MatrixMultiply
void registerActivationOps(ir::OpRegistry& registry);     // Activation
void registerSoftMaxOps(ir::OpRegistry& registry);        // SoftMax
void registerScaleOps(ir::OpRegistry& registry);          // Scale
void registerElementWiseOps(ir::OpRegistry& registry);    // ElementWise, Select
void registerUnaryOps(ir::OpRegistry& registry);          // Unary
void registerReduceOps(ir::OpRegistry& registry);         // Reduce, TopK
void registerShapeOps(ir::OpRegistry& registry);          // Shuffle, Concatenation, Slice, Padding,
                                                          // PadToChannelsLast,
                                                          // BlockChannels, UnblockChannels
void registerDataOps(ir::OpRegistry& registry);           // Constant, Identity, Gather
void registerResizeOps(ir::OpRegistry& registry);         // Resize
void registerGridSampleOps(ir::OpRegistry& registry);     // GridSample
void registerScatterOps(ir::OpRegistry& registry);        // Scatter
void registerCumulativeOps(ir::OpRegistry& registry);     // Cumulative
void registerOneHotOps(ir::OpRegistry& registry);         // OneHot
void registerTriluOps(ir::OpRegistry& registry);          // Trilu
void registerRangeOps(ir::OpRegistry& registry);          // Range
void registerLossOps(ir::OpRegistry& registry);           // Loss
void registerQuantizeOps(ir::OpRegistry& registry);       // Quantize, Dequantize
void registerDeterminantOps(ir::OpRegistry& registry);    // Determinant
void registerReverseSequenceOps(ir::OpRegistry& registry);  // ReverseSequence
void registerRoiAlignOps(ir::OpRegistry& registry);         // RoiAlign
void registerMaxPoolIndicesOps(ir::OpRegistry& registry);   // MaxPoolIndices
void registerEinsumOps(ir::OpRegistry& registry);           // Einsum
void registerDftOps(ir::OpRegistry& registry);              // DFT
void registerTfIdfVectorizerOps(ir::OpRegistry& registry);  // TfIdfVectorizer
void registerMaxUnpoolOps(ir::OpRegistry& registry);        // MaxUnpool
void registerDropoutOps(ir::OpRegistry& registry);          // Dropout
void registerRecurrentOps(ir::OpRegistry& registry);        // LSTM, GRU, RNN
// NonZero, Compress, Unique, NMS: outputs of data-dependent shape
void registerDataDependentOps(ir::OpRegistry& registry);

// The fused ops LayerNorm, Attention and PointwiseChain, which only the builder's optimization
// passes (src/builder/passes) make.
void registerLayerNormOps(ir::OpRegistry& registry);
void registerAttentionOps(ir::OpRegistry& registry);
void registerPointwiseChainOps(ir::OpRegistry& registry);

inline void registerAllOps(ir::OpRegistry& registry) {
  registerConvolutionOps(registry);
  registerPoolingOps(registry);
  registerNormalizationOps(registry);
  registerMatMulOps(registry);
  registerActivationOps(registry);
  registerSoftMaxOps(registry);
  registerScaleOps(registry);
  registerElementWiseOps(registry);
  registerUnaryOps(registry);
  registerReduceOps(registry);
  registerShapeOps(registry);
  registerDataOps(registry);
  registerResizeOps(registry);
  registerGridSampleOps(registry);
  registerScatterOps(registry);
  registerCumulativeOps(registry);
  registerOneHotOps(registry);
  registerTriluOps(registry);
  registerRangeOps(registry);
  registerLayerNormOps(registry);
  registerAttentionOps(registry);
  registerPointwiseChainOps(registry);
  registerLossOps(registry);
  registerQuantizeOps(registry);
  registerDeterminantOps(registry);
  registerReverseSequenceOps(registry);
  registerRoiAlignOps(registry);
  registerMaxPoolIndicesOps(registry);
  registerEinsumOps(registry);
  registerDftOps(registry);
  registerTfIdfVectorizerOps(registry);
  registerMaxUnpoolOps(registry);
  registerDropoutOps(registry);
  registerRecurrentOps(registry);
  registerDataDependentOps(registry);
}

}  // namespace kiln::ops
