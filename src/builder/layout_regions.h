// What the builder's layout steps (layout.h: NHWC on the GPU; channel_blocking.h: NCHW8c on the
// CPU) share about their regions: which convolutions' extra inputs a region can take, and the
// exits, where readers outside a region and the graph's outputs read a copy back in NCHW.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "ir/graph.h"

namespace kiln::builder {

//! Whether the inputs of convolution @p node from input 2 on suit a layout region: the epilogue's
//! residual as @p residualFits says, any other (the bias) a constant.
bool extraInputsFit(const ir::Graph& graph, const ir::Node& node,
                    const std::function<bool(ir::ValueId)>& residualFits);

//! For every value marked in @p regionValues (by value id), points each reader that is not marked
//! in @p regionNodes (by node id; nodes added since count as outside) and each graph output at
//! @p exitOf(value), the NCHW copy (made once per value by the caller). A graph output keeps its
//! name and NCHW shape: the copy takes the name over and the region's value gets @p suffix.
void routeRegionExits(ir::Graph& graph, const std::vector<bool>& regionNodes,
                      const std::vector<bool>& regionValues,
                      const std::function<ir::ValueId(ir::ValueId)>& exitOf,
                      std::string_view suffix);

}  // namespace kiln::builder
