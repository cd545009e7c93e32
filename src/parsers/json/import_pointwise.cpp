// activation, softmax, elementwise, unary, identity, cast, select.
#include "parsers/json/enum_names.h"
#include "parsers/json/layer_import.h"

namespace kiln::parsers::netjson {

Layer importActivation(LayerImport& l) {
  auto& f = l.fields;
  const auto type = f.enumeration("activation_type", activationTypeNames(), Need::kRequired);
  const auto alpha = f.number("alpha");
  const auto beta = f.number("beta");
  if (!l.ready()) return {};
  auto layer = l.added(l.network.addActivation(l.inputs[0], *type));
  if (!layer) return {};
  using L = ActivationLayer;
  bool ok = l.apply(layer, "alpha", alpha, &L::setAlpha, &L::alpha);
  ok = l.apply(layer, "beta", beta, &L::setBeta, &L::beta) && ok;
  return ok ? layer : Layer();
}

Layer importSoftMax(LayerImport& l) {
  const auto axis = l.fields.integer("axis", Need::kOptional, -Dims::kMaxRank, Dims::kMaxRank - 1);
  if (!l.ready()) return {};
  auto layer = l.added(l.network.addSoftMax(l.inputs[0]));
  if (!layer) return {};
  return l.apply(layer, "axis", axis, &SoftMaxLayer::setAxis, &SoftMaxLayer::axis) ? layer
                                                                                   : Layer();
}

Layer importElementWise(LayerImport& l) {
  const auto op = l.fields.enumeration("operation", elementWiseOperationNames(), Need::kRequired);
  if (!l.ready()) return {};
  return l.added(l.network.addElementWise(l.inputs[0], l.inputs[1], *op));
}

Layer importUnary(LayerImport& l) {
  const auto op = l.fields.enumeration("operation", unaryOperationNames(), Need::kRequired);
  if (!l.ready()) return {};
  return l.added(l.network.addUnary(l.inputs[0], *op));
}

Layer importIdentity(LayerImport& l) {
  if (!l.ready()) return {};
  return l.added(l.network.addIdentity(l.inputs[0]));
}

Layer importCast(LayerImport& l) {
  const auto type = l.fields.enumeration("data_type", dataTypeNames(), Need::kRequired);
  if (!l.ready()) return {};
  return l.added(l.network.addCast(l.inputs[0], *type));
}

Layer importSelect(LayerImport& l) {
  if (!l.ready()) return {};
  return l.added(l.network.addSelect(l.inputs[0], l.inputs[1], l.inputs[2]));
}

}  // namespace kiln::parsers::netjson
