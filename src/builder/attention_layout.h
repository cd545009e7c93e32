// Packed attention heads: multi-head attention as exported from PyTorch splits the heads with a
// Reshape + Transpose of each projection ([B, S, H*D] -> [B, H, S, D]) and merges them back after
// the attention ([B, H, Sq, Dv] -> [B, Sq, H*Dv]): four transposes per layer, each a pass over
// the tensor. A fused QKV projection is split by one Reshape + Transpose to [3, B, H, S, D] and a
// Split into three, whose squeezes (and K's transpose) follow; or (GPT-2) split in three along its
// last axis, each third then split into heads. An Attention node with packed heads
// (ops/attention_geometry.h) reads the projections and writes the merged output where they lie,
// so the transposes, splits and copies go away.
#pragma once

#include <cstdint>

#include "builder/precision.h"
#include "core/reporter.h"
#include "ir/graph.h"

namespace kiln::builder {

//! Packs the heads of every Attention node whose Q, K and V are head splits — a Shuffle that
//! reshapes [B, S, H*D] to [B, S, H, D] and permutes it to [B, H, S, D] (K: [B, H, D, S], or
//! [B, H, S, D] with transpose_k), or parts 0, 1 and 2 of one fused projection [B, S, 3*H*D]
//! (reshaped to [B, S, 3, H, D], permuted to [3, B, H, S, D], split along the 3 and squeezed; K
//! then transposed to [B, H, D, S] or not; or head splits of its thirds, sliced along the last
//! axis) — and whose output only a head merge reads (a Shuffle
//! that permutes [B, H, Sq, Dv] to [B, Sq, H, Dv] and reshapes it to [B, Sq, H*Dv]), where
//! @p supported accepts the packed node. With @p decisionsOf (a dynamic engine's first profile),
//! the nodes packed there are the ones packed. Returns the number of nodes packed; shapes are
//! inferred again when there is one.
int32_t packAttentionHeads(ir::Graph& graph, const ReducedSupport& supported,
                           const Reporter& reporter, const ir::Graph* decisionsOf = nullptr);

}  // namespace kiln::builder
