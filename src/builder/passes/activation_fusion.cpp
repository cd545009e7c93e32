// activation-fusion: an Activation after a Convolution, Deconvolution, FullyConnected or
// MatrixMultiply (bias and residual already fused or not) becomes that layer's epilogue
// activation (ops/epilogue.h), when the activation alone reads the layer's output.
#include "builder/passes/fusable_layers.h"
#include "builder/passes/passes.h"
#include "kiln/network.h"
#include "ops/activation.h"
#include "ops/epilogue.h"

namespace kiln::builder {

int32_t fuseEpilogueActivation(ir::Graph& graph, const PassContext& context) {
  int32_t changes = 0;
  Uses uses(graph);
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& act = graph.nodes[n];
    if (act.op != "Activation" || act.inputs.size() != 1) continue;
    const ir::ValueId x = act.inputs[0];
    const ir::NodeId p = producerId(graph, x);
    if (p == ir::kNoNode) continue;
    const ir::Node& layer = graph.node(p);
    if (!hasEpilogue(layer.op) || layer.outputs.size() != 1 ||
        !uses.onlyUser(x, static_cast<ir::NodeId>(n)) || layer.precision != act.precision ||
        ops::Epilogue::of(layer.attrs).activation) {
      continue;
    }
    const auto type = act.attrs.getEnum("type", ActivationType::kRELU);
    const double alpha = act.attrs.getFloat("alpha", ops::activationDefaultAlpha(type));
    const double beta = act.attrs.getFloat("beta", ops::activationDefaultBeta(type));
    const std::string what = "fused the activation " + joinNames(act.fusedFrom) +
                             " into the epilogue of '" + layer.name + "' (" + layer.op + ")";
    ir::Node& target = graph.node(p);
    target.attrs.set("epilogue.activation", type);
    target.attrs.set("epilogue.alpha", alpha);
    target.attrs.set("epilogue.beta", beta);
    absorb(graph, p, static_cast<ir::NodeId>(n));
    context.log(what);
    ++changes;
    uses.refresh();
  }
  return changes;
}

}  // namespace kiln::builder
