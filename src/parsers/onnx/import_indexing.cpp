// CumSum, OneHot and Trilu, onto CumulativeLayer, OneHotLayer and TriluLayer. CumSum's axis and
// Trilu's k may be computed at run time; OneHot's depth fixes the output shape, so it must be a
// known constant or a shape-tensor network input.
#include "parsers/onnx/node_import.h"

namespace kiln::parsers::onnx_import {

void importCumSum(NodeImport& n) {
  const int32_t rank = n.inputRank(0);
  if (const ConstTensor* axis = n.constantInput(1)) {
    if (axis->count() != 1) {
      n.invalid("axis has shape " + toString(axis->dims()) + "; it must be a scalar");
    }
    normalizeAxis(n, axis->asInt(0), rank, "axis");
  }
  const bool exclusive = n.attrInt("exclusive", 0) != 0;
  const bool reverse = n.attrInt("reverse", 0) != 0;
  n.setOutput(0, n.add(n.network.addCumulative(n.input(0), n.input(1), CumulativeOperation::kSUM,
                                               exclusive, reverse))
                     .output(0));
}

void importOneHot(NodeImport& n) {
  // A network input's depth is a shape tensor: its value comes when the engine is built.
  const bool depthAtBuildTime = n.isShapeTensorInput(1, true);
  if (!depthAtBuildTime) {
    const ConstTensor& depth = n.requireConstant(1, "depth");
    if (depth.count() != 1) {
      n.invalid("depth has shape " + toString(depth.dims()) + "; it must be a scalar");
    }
    if (depth.asDouble(0) < 1) {
      n.invalid("depth is " + std::to_string(depth.asDouble(0)) + "; it must be at least 1");
    }
  }
  const ConstTensor* values = n.constantInput(2);
  if (values != nullptr && values->count() != 2) {
    n.invalid("values has " + std::to_string(values->count()) +
              " elements; it must hold two, [off, on]");
  }
  const int32_t rank = n.inputRank(0);
  const int32_t axis = normalizeAxis(n, n.attrInt("axis", -1), rank + 1, "axis");
  const Tensor depth = depthAtBuildTime ? n.shapeInput(1) : n.input(1);
  n.setOutput(0, n.add(n.network.addOneHot(n.input(0), n.input(2), depth, axis)).output(0));
}

void importTrilu(NodeImport& n) {
  const bool upper = n.attrInt("upper", 1) != 0;
  if (n.inputRank(0) < 2) {
    n.invalid("the input has shape " + toString(n.inputDims(0)) + "; Trilu needs rank >= 2");
  }
  int64_t k = 0;
  const bool runtimeK = n.hasInput(1) && n.constantInput(1) == nullptr;
  if (n.hasInput(1) && !runtimeK) {
    const ConstTensor& c = *n.constantInput(1);
    if (c.count() != 1) n.invalid("k has shape " + toString(c.dims()) + "; it must be a scalar");
    k = c.asInt(0);
  }
  TriluLayer layer = n.network.addTrilu(n.input(0), upper, k);
  if (layer && runtimeK) layer.setInput(1, n.input(1));
  n.setOutput(0, n.add(layer).output(0));
}

}  // namespace kiln::parsers::onnx_import
