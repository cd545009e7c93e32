// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (opset 12+) as kiln's Loss layer.
#include <string>

#include "parsers/onnx/node_import.h"

namespace kiln::parsers::onnx_import {

void importLoss(NodeImport& n) {
  const bool softmax = n.opType() == "SoftmaxCrossEntropyLoss";
  const std::string reductionName = n.attrString("reduction", "mean");
  LossReduction reduction = LossReduction::kMEAN;
  if (reductionName == "none") {
    reduction = LossReduction::kNONE;
  } else if (reductionName == "sum") {
    reduction = LossReduction::kSUM;
  } else if (reductionName != "mean") {
    n.invalid("reduction '" + reductionName + "' is not none, sum or mean");
  }
  Tensor scores = n.cast(n.input(0), DataType::kFLOAT, "scores_float");
  LossLayer loss = n.network.addLoss(
      scores, n.input(1),
      softmax ? LossType::kSOFTMAX_CROSS_ENTROPY : LossType::kNEGATIVE_LOG_LIKELIHOOD, reduction);
  if (loss) {
    if (n.hasAttr("ignore_index")) loss.setIgnoreIndex(n.attrInt("ignore_index", 0));
    if (n.hasInput(2)) loss.setInput(2, n.cast(n.input(2), DataType::kFLOAT, "weight_float"));
  }
  n.add(loss);
  n.setOutput(0, loss.output(0));
  if (softmax && n.nbOutputs() > 1) n.setOutput(1, loss.output(1));
}

}  // namespace kiln::parsers::onnx_import
