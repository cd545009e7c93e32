// The passes themselves, one per file of this folder; pass_manager.cpp lists them in order.
#pragma once

#include "builder/passes/pass_context.h"

namespace kiln::builder {

int32_t eliminateDeadLayers(ir::Graph& graph, const PassContext& context);
int32_t foldConstants(ir::Graph& graph, const PassContext& context);
int32_t sliceGathers(ir::Graph& graph, const PassContext& context);
int32_t foldShuffles(ir::Graph& graph, const PassContext& context);
int32_t foldPadding(ir::Graph& graph, const PassContext& context);
int32_t fuseConvScale(ir::Graph& graph, const PassContext& context);
int32_t fuseMatMulBias(ir::Graph& graph, const PassContext& context);
int32_t fuseResidualAdd(ir::Graph& graph, const PassContext& context);
int32_t fuseSwish(ir::Graph& graph, const PassContext& context);
int32_t fuseEpilogueActivation(ir::Graph& graph, const PassContext& context);
int32_t fuseGelu(ir::Graph& graph, const PassContext& context);
int32_t fuseLayerNorm(ir::Graph& graph, const PassContext& context);
int32_t fuseAttention(ir::Graph& graph, const PassContext& context);
int32_t lowerScales(ir::Graph& graph, const PassContext& context);
int32_t fusePointwiseChains(ir::Graph& graph, const PassContext& context);

}  // namespace kiln::builder
