// The channel-blocked layout NCHW8c (ops/window_util.h) for the CPU's blocked kernels: depthwise
// convolutions over blocks of 8 channels run two to three times faster when their rows arrive as
// pixel vectors of 8 channels than when they transpose NCHW rows in and out, and the 1x1 and
// direct convolutions read and write such vectors with no transposes at all. This step moves
// connected regions of those convolutions (MobileNet's inverted residual blocks, ResNet's
// bottlenecks, SqueezeNet's and GoogLeNet's bodies with their concatenations and pools) to
// NCHW8c, with one reformat (BlockChannels, UnblockChannels) at each region entry and exit but
// the entries depthwise and direct convolutions read in place. Graph inputs and outputs keep
// their names and NCHW shapes.
#pragma once

#include <cstdint>

#include "core/cpu_info.h"
#include "core/reporter.h"
#include "ir/graph.h"

namespace kiln::builder {

struct BlockingSummary {
  int32_t regions = 0;       //!< regions converted
  int32_t convolutions = 0;  //!< convolutions now NCHW8c
  int32_t reformats = 0;     //!< BlockChannels and UnblockChannels nodes inserted
};

//! Whether the blocked kernels are the widest @p cpu runs: AVX2 with FMA and no AVX-512. On an
//! AVX-512 CPU the NCHW kernels take 16 lanes to the blocked kernels' 8: on a Xeon with AVX-512,
//! blocked MobileNetV2 ran 1.2-1.3x and ResNet-50 1.3-1.5x slower than NCHW.
bool blockedLayoutPays(const CpuInfo& cpu);

//! Converts the regions that pay to NCHW8c. Anchors are float32 2-d Convolutions in NCHW with
//! constant weights, a constant bias or none, input and output channels multiples of 8: depthwise
//! with a square 3x3, 5x5 or 7x7 window, stride 1 or 2 and no dilation; 1x1 with stride 1 or 2,
//! no padding and one group; or any other window of one group (direct, or blocked Winograd for
//! 3x3 stride 1), but the 3x3 stride-1 ones the NCHW Winograd does better. Concatenations along the
//! channels, and 2-d max and average pools whose x an anchor makes, join too. A region is a set of
//! these joined by the tensors between them (the x or residual of one, the output of another). A
//! region is converted when it has a depthwise convolution and needs no more reformats than it has
//! convolutions, or when its 1x1 and direct convolutions do at least 128 multiply-adds per element
//! its reformats move (ResNet-50's bottlenecks, their 14x14 Winograd 3x3 convolutions left NCHW). A
//! depthwise or direct convolution reads an entry of its region in place (x stays NCHW); every
//! other entry gets a BlockChannels. Nothing is converted unless @p blockedKernels
//! (blockedLayoutPays on the host). With @p decisionsOf (the graph of a dynamic engine's first
//! profile), the converted nodes are those that are NCHW8c there, so all profiles share one graph.
//! Shapes are inferred again at the end.
BlockingSummary assignBlockedChannels(ir::Graph& graph, bool blockedKernels,
                                      const Reporter& reporter,
                                      const ir::Graph* decisionsOf = nullptr);

}  // namespace kiln::builder
