// Reduce* (axes as attribute or input by opset, keepdims, noop_with_empty_axes), ArgMax/ArgMin
// (TopK with k = 1) and TopK.
#include <limits>
#include <vector>

#include "parsers/onnx/fold.h"
#include "parsers/onnx/node_import.h"

namespace kiln::parsers::onnx_import {

namespace {

// The opset from which each reduction takes its axes as input 1 instead of an attribute.
int64_t axesInputOpset(const std::string& op) {
  return op == "ReduceSum" ? 13 : 18;
}

Dims reducedDims(const Dims& in, uint32_t mask, bool keep) {
  Dims out;
  for (int32_t i = 0; i < in.nbDims; ++i) {
    if ((mask >> i) & 1u) {
      if (keep) out[out.nbDims++] = 1;
    } else {
      out[out.nbDims++] = in[i];
    }
  }
  return out;
}

}  // namespace

void importReduce(NodeImport& n) {
  const std::string& op = n.opType();
  const int32_t rank = n.inputRank(0);
  const bool keep = n.attrInt("keepdims", 1) != 0;
  std::vector<int64_t> axes;
  // Axes known only when the engine is built (a shape-tensor network input): the Reduce
  // layers read them from input 1.
  const bool runtimeAxes =
      n.opset >= axesInputOpset(op) && n.isShapeTensorInput(1) && op != "ReduceLogSumExp";
  const auto reduceBy = [&](Tensor x, ReduceOperation rop, uint32_t mask, std::string_view role) {
    if (!runtimeAxes) return n.reduce(x, rop, mask, keep, role);
    ReduceLayer layer = n.network.addReduce(x, rop, 1u, keep);
    layer.setInput(1, n.shapeInput(1));
    layer.setEmptyAxesNoop(n.attrInt("noop_with_empty_axes", 0) != 0);
    return n.add(layer, role).output(0);
  };
  if (runtimeAxes) {
    // The mask below is a stand-in: input 1 replaces it.
  } else if (n.opset >= axesInputOpset(op)) {
    if (n.hasInput(1)) axes = n.requireConstant(1, "axes").toInts("axes");
  } else {
    axes = n.attrInts("axes");
  }
  if (axes.empty() && !runtimeAxes) {
    if (n.attrInt("noop_with_empty_axes", 0) != 0 && n.opset >= axesInputOpset(op)) {
      n.forward(0, 0);
      return;
    }
    for (int32_t i = 0; i < rank; ++i) axes.push_back(i);
  }
  const uint32_t mask = runtimeAxes ? 1u : axesMask(n, axes, rank, "axes");
  if (mask == 0) {  // a scalar: nothing to reduce over
    n.forward(0, 0);
    return;
  }

  if (const ConstTensor* c = runtimeAxes ? nullptr : n.constantInput(0)) {
    std::optional<FoldReduce> fold;
    if (op == "ReduceSum") fold = FoldReduce::kSum;
    if (op == "ReduceProd") fold = FoldReduce::kProd;
    if (op == "ReduceMax") fold = FoldReduce::kMax;
    if (op == "ReduceMin") fold = FoldReduce::kMin;
    if (op == "ReduceMean") fold = FoldReduce::kMean;
    if (fold) {
      if (auto folded = tryFold([&] { return foldReduce(*c, *fold, mask, keep, n.foldLimit()); })) {
        n.setOutput(0, *folded);
        return;
      }
    }
  }

  Tensor x = n.input(0);
  Tensor y;
  if (op == "ReduceSum") {
    y = reduceBy(x, ReduceOperation::kSUM, mask, {});
  } else if (op == "ReduceMean") {
    y = reduceBy(x, ReduceOperation::kAVG, mask, {});
  } else if (op == "ReduceMax") {
    y = reduceBy(x, ReduceOperation::kMAX, mask, {});
  } else if (op == "ReduceMin") {
    y = reduceBy(x, ReduceOperation::kMIN, mask, {});
  } else if (op == "ReduceProd") {
    y = reduceBy(x, ReduceOperation::kPROD, mask, {});
  } else if (op == "ReduceL1") {
    y = reduceBy(n.unary(x, UnaryOperation::kABS, "abs"), ReduceOperation::kSUM, mask, "sum");
  } else if (op == "ReduceL2" || op == "ReduceSumSquare") {
    Tensor square = n.elementWise(x, x, ElementWiseOperation::kPROD, "square");
    y = reduceBy(square, ReduceOperation::kSUM, mask, "sum");
    if (op == "ReduceL2") y = n.unary(y, UnaryOperation::kSQRT, "sqrt");
  } else if (op == "ReduceLogSum") {
    y = n.unary(reduceBy(x, ReduceOperation::kSUM, mask, "sum"), UnaryOperation::kLOG, "log");
  } else if (op == "ReduceLogSumExp") {
    // max + log(sum(exp(x - max))): no exp overflows.
    Tensor m = n.reduce(x, ReduceOperation::kMAX, mask, true, "max");
    Tensor e = n.unary(n.elementWise(x, m, ElementWiseOperation::kSUB, "shift"),
                       UnaryOperation::kEXP, "exp");
    Tensor s =
        n.unary(n.reduce(e, ReduceOperation::kSUM, mask, true, "sum"), UnaryOperation::kLOG, "log");
    y = n.elementWise(s, m, ElementWiseOperation::kSUM, "unshift");
    if (!keep) y = n.reshape(y, reducedDims(n.inputDims(0), mask, false), "drop_axes");
  } else {
    n.unsupported("no reduction importer for " + op);
  }
  n.setOutput(0, y);
}

// ArgMax / ArgMin: the indices of TopK with k = 1. select_last_index searches the reversed axis
// and maps the index back.
void importArgMinMax(NodeImport& n) {
  const Dims dims = n.inputDims(0);
  const int32_t rank = dims.nbDims;
  if (rank == 0) n.invalid("the input is a scalar");
  const int32_t axis = normalizeAxis(n, n.attrInt("axis", 0), rank, "axis");
  const bool keep = n.attrInt("keepdims", 1) != 0;
  const bool last = n.attrInt("select_last_index", 0) != 0;
  const auto op = n.opType() == "ArgMax" ? TopKOperation::kMAX : TopKOperation::kMIN;
  Tensor x = n.input(0);
  if (last) {
    Dims start = filled(rank, 0), stride = filled(rank, 1);
    start[axis] = dims[axis] - 1;
    stride[axis] = -1;
    x = n.slice(x, start, dims, stride, "reverse");
  }
  TopKLayer top = n.network.addTopK(x, op, 1, 1u << axis);
  Tensor index = n.add(top, "topk").output(1);
  if (last) {
    Tensor extent = n.scalarInt(static_cast<int32_t>(dims[axis] - 1), rank, "last");
    index = n.elementWise(extent, index, ElementWiseOperation::kSUB, "unreverse");
  }
  if (!keep) index = n.reshape(index, reducedDims(dims, 1u << axis, false), "drop_axis");
  n.setOutput(0, index);
}

void importTopK(NodeImport& n) {
  const int32_t rank = n.inputRank(0);
  if (rank == 0) n.invalid("the input is a scalar");
  int64_t k = 0;
  if (n.opset >= 10 && n.isShapeTensorInput(1)) {
    // K known only when the engine is built (a shape-tensor network input): the layer reads it.
    const int32_t axis = normalizeAxis(n, n.attrInt("axis", -1), rank, "axis");
    const auto op = n.attrInt("largest", 1) != 0 ? TopKOperation::kMAX : TopKOperation::kMIN;
    TopKLayer top = n.network.addTopK(n.input(0), op, 1, 1u << axis);
    top.setInput(1, n.shapeInput(1));
    n.add(top);
    n.setOutput(0, top.output(0));
    n.setOutput(1, top.output(1));
    return;
  }
  if (n.opset >= 10) {
    const ConstTensor& kt = n.requireConstant(1, "K");
    if (kt.count() != 1) n.invalid("K must hold one value, not " + std::to_string(kt.count()));
    k = kt.asInt(0);
  } else {
    k = n.attrInt("k", 0);
  }
  const int32_t axis = normalizeAxis(n, n.attrInt("axis", -1), rank, "axis");
  if (k < 1 || k > std::numeric_limits<int32_t>::max()) {
    n.unsupported("K = " + std::to_string(k) + ": kiln's TopK needs k >= 1");
  }
  const auto op = n.attrInt("largest", 1) != 0 ? TopKOperation::kMAX : TopKOperation::kMIN;
  TopKLayer top = n.network.addTopK(n.input(0), op, static_cast<int32_t>(k), 1u << axis);
  n.add(top);
  n.setOutput(0, top.output(0));
  n.setOutput(1, top.output(1));
}

}  // namespace kiln::parsers::onnx_import
