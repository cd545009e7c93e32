// residual-fusion: z = op(x) + r, with r of z's shape (the skip connection of a residual
// block), becomes op's epilogue residual (ops/epilogue.h) when op is a Convolution,
// Deconvolution, FullyConnected or MatrixMultiply whose output only the add reads and whose
// epilogue has no activation or residual yet (an activation there would have to come after the
// add; a MatrixMultiply's epilogue bias comes before it and may be there).
#include "builder/passes/fusable_layers.h"
#include "builder/passes/passes.h"
#include "builder/passes/pattern_util.h"
#include "kiln/network.h"
#include "ops/epilogue.h"

namespace kiln::builder {

namespace {

bool sameDims(const Dims& a, const Dims& b) {
  if (a.nbDims != b.nbDims) return false;
  for (int32_t i = 0; i < a.nbDims; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

}  // namespace

int32_t fuseResidualAdd(ir::Graph& graph, const PassContext& context) {
  int32_t changes = 0;
  Uses uses(graph);
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& add = graph.nodes[n];
    if (!isElementWise(add, ElementWiseOperation::kSUM)) continue;
    const ir::Value& out = graph.value(add.outputs[0]);
    if (out.dtype != DataType::kFLOAT) continue;
    for (int32_t side = 0; side < 2; ++side) {
      const ir::ValueId x = add.inputs[static_cast<std::size_t>(side)];
      const ir::ValueId r = add.inputs[static_cast<std::size_t>(1 - side)];
      if (x == r || !sameDims(graph.value(x).dims, out.dims) ||
          !sameDims(graph.value(r).dims, out.dims) || graph.value(r).dtype != DataType::kFLOAT) {
        continue;
      }
      const ir::NodeId p = producerId(graph, x);
      if (p == ir::kNoNode) continue;
      const ir::Node& layer = graph.node(p);
      // A bias (matmul-bias) comes before the residual in the epilogue; an activation after.
      const ops::Epilogue e = ops::Epilogue::of(layer.attrs);
      if (!hasEpilogue(layer.op) || layer.outputs.size() != 1 ||
          !uses.onlyUser(x, static_cast<ir::NodeId>(n)) || e.activation || e.residualInput ||
          layer.precision != add.precision) {
        continue;
      }
      const std::string what = "fused the residual add " + joinNames(add.fusedFrom) +
                               " into the epilogue of '" + layer.name + "' (" + layer.op + ")";
      ir::Node& target = graph.node(p);
      addEpilogueInput(target, "epilogue.residual", r, residualSlot(target));
      absorb(graph, p, static_cast<ir::NodeId>(n));
      context.log(what);
      ++changes;
      uses.refresh();
      break;
    }
  }
  return changes;
}

}  // namespace kiln::builder
