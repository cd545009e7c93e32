// Lowering: the rewrites every build needs before optimization passes and tactic selection.
#pragma once

#include "ir/graph.h"

namespace kiln::builder {

//! Checks what a buildable network must satisfy (outputs marked, IO names unique, shapes known,
//! outputs written by layers); throws kINVALID_ARGUMENT naming the tensor or layer at fault.
void checkBuildable(const ir::Graph& graph);

//! Inserts an Identity cast after every layer output whose requested type (Layer::setOutputType,
//! Tensor::setType) differs from the type its op produces. Shapes must be inferred.
void insertRequestedCasts(ir::Graph& graph);

//! Replaces the outputs of Constant layers by their constants (except where a Constant is a
//! network output, which a layer must write).
void foldConstantLayers(ir::Graph& graph);

//! Keeps only the layers that network outputs depend on, in execution order.
void pruneAndOrder(ir::Graph& graph);

}  // namespace kiln::builder
