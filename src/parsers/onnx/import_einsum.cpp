// Einsum (opset 12), onto EinsumLayer. The layer computes in float32 or int32, the types every
// ONNX tensor of kiln becomes.
#include <string>
#include <vector>

#include "parsers/onnx/node_import.h"

namespace kiln::parsers::onnx_import {

void importEinsum(NodeImport& n) {
  if (!n.hasAttr("equation")) n.invalid("attribute 'equation' is required");
  const std::string equation = n.attrString("equation", "");
  if (n.nbInputs() < 1) n.invalid("needs at least one input");
  std::vector<Tensor> inputs;
  for (int32_t i = 0; i < n.nbInputs(); ++i) {
    if (!n.hasInput(i)) n.invalid("input " + std::to_string(i) + " is missing");
    inputs.push_back(n.input(i));
  }
  const DataType type = inputs[0].type();
  if (type != DataType::kFLOAT && type != DataType::kINT32) {
    n.unsupported("Einsum of " + std::string(toString(type)) + " tensors is not supported");
  }
  n.setOutput(
      0, n.add(n.network.addEinsum(inputs.data(), static_cast<int32_t>(inputs.size()), equation))
             .output(0));
}

}  // namespace kiln::parsers::onnx_import
