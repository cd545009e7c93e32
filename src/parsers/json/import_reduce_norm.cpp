// lrn, reduce, topk.
#include <limits>

#include "parsers/json/enum_names.h"
#include "parsers/json/layer_import.h"

namespace kiln::parsers::netjson {

Layer importLRN(LayerImport& l) {
  auto& f = l.fields;
  // No defaults: Caffe and ONNX disagree on alpha, so the file says what it means.
  const auto window = f.integer("window_size", Need::kRequired, 1);
  const auto alpha = f.number("alpha", Need::kRequired);
  const auto beta = f.number("beta", Need::kRequired);
  const auto k = f.number("k", Need::kRequired);
  if (!l.ready()) return {};
  return l.added(l.network.addLRN(l.inputs[0], *window, static_cast<float>(*alpha),
                                  static_cast<float>(*beta), static_cast<float>(*k)));
}

Layer importReduce(LayerImport& l) {
  auto& f = l.fields;
  const auto op = f.enumeration("operation", reduceOperationNames(), Need::kRequired);
  const auto axes = f.integers("reduce_axes", Need::kRequired);
  const auto keep = f.boolean("keep_dimensions");
  if (!l.ready()) return {};
  const auto mask = axesMask(f, "reduce_axes", *axes, l.inputDims(0).nbDims);
  if (!mask) return {};
  return l.added(l.network.addReduce(l.inputs[0], *op, *mask, keep.value_or(false)));
}

Layer importTopK(LayerImport& l) {
  auto& f = l.fields;
  const auto op = f.enumeration("operation", topKOperationNames(), Need::kRequired);
  const auto k = f.integer("k", Need::kRequired, 1, std::numeric_limits<int32_t>::max());
  const auto axes = f.integers("reduce_axes", Need::kRequired);
  if (!l.ready()) return {};
  const auto mask = axesMask(f, "reduce_axes", *axes, l.inputDims(0).nbDims);
  if (!mask) return {};
  return l.added(l.network.addTopK(l.inputs[0], *op, static_cast<int32_t>(*k), *mask));
}

}  // namespace kiln::parsers::netjson
