// Reduced precision (BuilderFlag::kFP16 / kBF16): which layers run with their float tensors in
// FP16 or BF16, and the casts between them and the FP32 rest of the engine (graph inputs and
// outputs keep their declared types).
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "builder/builder_config.h"
#include "core/reporter.h"
#include "ir/graph.h"
#include "ir/op_registry.h"

namespace kiln::builder {

//! Whether a fast kernel runs @p node with the given tensors (its float tensors already in the
//! reduced type; float constants' constData holds converted values).
using ReducedSupport = std::function<bool(const ir::Node& node, std::span<const ir::TensorInfo>,
                                          std::span<const ir::TensorInfo>)>;

struct PrecisionSummary {
  int32_t reducedLayers = 0;  //!< layers now in FP16/BF16
  int32_t casts = 0;          //!< cast layers inserted at the boundaries
};

//! Moves to reduced precision every layer that @p supported accepts in it: the type is the
//! layer's own request (Layer::setPrecision: kHALF with kFP16, kBF16 with kBF16; kFLOAT keeps it
//! FP32), else kHALF with kFP16, else kBF16. Layers with a requested output type keep their
//! types. A layer whose float constants do not fit FP16 stays FP32, with a warning naming them.
//! Does nothing unless @p config allows kFP16 or kBF16. With @p decisionsOf (the graph of a
//! dynamic engine's first profile), layers take the types they have there instead, so that all
//! profiles share one graph.
PrecisionSummary assignReducedPrecision(ir::Graph& graph, const detail::BuilderConfigData& config,
                                        const ReducedSupport& supported, const Reporter& reporter,
                                        const ir::Graph* decisionsOf = nullptr);

//! The support test of a GPU build: some registered GPU tactic other than the host fallback
//! supports the node.
ReducedSupport gpuReducedSupport();

}  // namespace kiln::builder
