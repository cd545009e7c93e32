// Scatter (opsets 9 and 10: ScatterElements without reduction), ScatterElements and ScatterND
// (reductions add and mul from opset 16, max and min from opset 18), onto ScatterLayer.
#include "parsers/onnx/node_import.h"

namespace kiln::parsers::onnx_import {

namespace {

ScatterReduction scatterReduction(const NodeImport& n) {
  const std::string reduction = n.attrString("reduction", "none");
  if (reduction == "none") return ScatterReduction::kNONE;
  if (reduction == "add") return ScatterReduction::kADD;
  if (reduction == "mul") return ScatterReduction::kMUL;
  if (reduction == "max") return ScatterReduction::kMAX;
  if (reduction == "min") return ScatterReduction::kMIN;
  n.invalid("reduction '" + reduction + "' is not none, add, mul, max or min");
}

}  // namespace

void importScatter(NodeImport& n) {
  const bool nd = n.opType() == "ScatterND";
  const ScatterReduction reduction = scatterReduction(n);
  const int32_t rank = n.inputRank(0);
  const int32_t axis = nd ? 0 : normalizeAxis(n, n.attrInt("axis", 0), rank, "axis");
  if (!nd && n.inputRank(1) != rank) {
    n.invalid("indices have rank " + std::to_string(n.inputRank(1)) + " but data has rank " +
              std::to_string(rank) + "; ScatterElements needs them equal");
  }
  ScatterLayer layer = n.network.addScatter(n.input(0), n.input(1), n.input(2),
                                            nd ? ScatterMode::kND : ScatterMode::kELEMENT);
  if (layer) {
    if (!nd) layer.setAxis(axis);
    layer.setReduction(reduction);
  }
  n.setOutput(0, n.add(layer).output(0));
}

}  // namespace kiln::parsers::onnx_import
