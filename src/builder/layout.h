// Channels-last layout for GPU tensor-core convolutions (#9): cuDNN's fast FP16/BF16 kernels read
// NHWC activations and KRSC filters; NCHW half convolutions transpose internally. This pass moves
// connected regions of rank-4 tensors around reduced-precision convolutions to NHWC, with one
// transpose (a Shuffle) at each region entry and exit. Graph inputs and outputs keep their names
// and NCHW shapes.
#pragma once

#include <cstdint>

#include "builder/precision.h"
#include "core/reporter.h"
#include "ir/graph.h"

namespace kiln::builder {

struct LayoutOptions {
  //! Only convolutions in FP16/BF16 (ir::kReducedPrecision) anchor a region: FP32 ones gain
  //! nothing from NHWC on the GPU. Tests turn it off to run the pass on FP32 graphs.
  bool reducedOnly = true;
};

struct LayoutSummary {
  int32_t regions = 0;       //!< regions converted
  int32_t convolutions = 0;  //!< convolutions now NHWC
  int32_t transposes = 0;    //!< Shuffle nodes inserted at region entries and exits
};

//! Converts the regions that pay to NHWC. A region is a connected set of
//! - anchors: 2-d Convolutions (constant weights, one group or depthwise, C and K multiples of 8;
//!   reduced precision unless @p options say otherwise) and 2-d Poolings that @p supported
//!   accepts with layout NHWC;
//! - layout-transparent nodes: Activation, Unary, ElementWise, PointwiseChain, Identity,
//!   Concatenation along channels and Reduce over H and W, whose non-constant inputs and outputs
//!   are rank 4 (a Reduce over H and W without keep_dims ends a region: its [N, C] output is the
//!   same in both layouts);
//! joined by the rank-4 tensors between them. A region is converted when it has a convolution
//! and needs no more transposes than it has convolutions. Constants of transparent nodes are
//! permuted as numpy broadcasting aligns them ([C, 1, 1] becomes [1, 1, 1, C]); convolution
//! weights go from KCRS to KRSC. With @p decisionsOf (the graph of a dynamic engine's first
//! profile), the anchors are the nodes that are NHWC there, so all profiles share one graph.
//! Shapes are inferred again at the end.
LayoutSummary assignChannelsLast(ir::Graph& graph, const ReducedSupport& supported,
                                 const Reporter& reporter, const ir::Graph* decisionsOf = nullptr,
                                 LayoutOptions options = {});

}  // namespace kiln::builder
