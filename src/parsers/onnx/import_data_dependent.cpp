// Importers of the ONNX ops whose output shapes depend on the input values: NonZero, Compress,
// Unique and NonMaxSuppression (layers in src/network/layers/data_dependent.cpp).
#include "parsers/onnx/node_import.h"

namespace kiln::parsers::onnx_import {

void importNonZero(NodeImport& n) {
  n.setOutput(0, n.add(n.network.addNonZero(n.input(0))).output(0));
}

void importCompress(NodeImport& n) {
  if (n.inputType(1) != DataType::kBOOL) n.invalid("the condition must be a bool tensor");
  CompressLayer layer = n.network.addCompress(n.input(0), n.input(1));
  if (layer && n.hasAttr("axis")) {
    layer.setAxis(normalizeAxis(n, n.attrInt("axis", 0), n.inputRank(0), "axis"));
  }
  n.setOutput(0, n.add(layer).output(0));
}

void importUnique(NodeImport& n) {
  UniqueLayer layer = n.network.addUnique(n.input(0));
  if (layer) {
    layer.setSorted(n.attrInt("sorted", 1) != 0);
    if (n.hasAttr("axis")) {
      layer.setAxis(normalizeAxis(n, n.attrInt("axis", 0), n.inputRank(0), "axis"));
    }
  }
  n.add(layer);
  for (int32_t i = 0; i < n.nbOutputs() && i < 4; ++i) {
    if (n.outputUsed(i)) n.setOutput(i, layer.output(i));
  }
}

void importNonMaxSuppression(NodeImport& n) {
  const int64_t center = n.attrInt("center_point_box", 0);
  if (center != 0 && center != 1) {
    n.invalid("center_point_box must be 0 or 1, not " + std::to_string(center));
  }
  // Absent optional inputs take their defaults: no boxes per class, an IoU threshold of 0.
  Tensor limit = n.hasInput(2) ? n.input(2) : n.scalarInt(0, 0, "max_output_boxes_per_class");
  NMSLayer layer = n.network.addNMS(n.input(0), n.input(1), limit);
  if (layer) {
    if (center == 1) layer.setBoundingBoxFormat(BoundingBoxFormat::kCENTER_SIZES);
    if (n.hasInput(3) || n.hasInput(4)) {
      layer.setInput(3, n.hasInput(3) ? n.input(3) : n.scalar(0.0f, 0, "iou_threshold"));
    }
    if (n.hasInput(4)) layer.setInput(4, n.input(4));
  }
  n.setOutput(0, n.add(layer).output(0));
}

}  // namespace kiln::parsers::onnx_import
