// concatenation, shuffle, constant, padding, slice, gather.
#include <limits>

#include "parsers/json/enum_names.h"
#include "parsers/json/layer_import.h"

namespace kiln::parsers::netjson {

namespace {
std::optional<std::vector<int32_t>> permutation(ObjectReader& f, std::string_view key) {
  const auto values = f.integers(key);
  if (!values) return std::nullopt;
  std::vector<int32_t> out;
  for (int64_t v : *values) {
    if (v < 0 || v >= Dims::kMaxRank || values->size() > std::size_t{Dims::kMaxRank}) {
      f.error(key, "must be a permutation of the input's dimensions, got element " +
                       std::to_string(v) + " of " + std::to_string(values->size()));
      return std::nullopt;
    }
    out.push_back(static_cast<int32_t>(v));
  }
  return out;
}
}  // namespace

Layer importConcatenation(LayerImport& l) {
  const auto axis = l.fields.integer("axis", Need::kOptional, -Dims::kMaxRank, Dims::kMaxRank - 1);
  if (!l.ready()) return {};
  auto layer = l.added(l.network.addConcatenation(l.inputs));
  if (!layer) return {};
  using L = ConcatenationLayer;
  return l.apply(layer, "axis", axis, &L::setAxis, &L::axis) ? layer : Layer();
}

Layer importShuffle(LayerImport& l) {
  auto& f = l.fields;
  const auto first = permutation(f, "first_transpose");
  const auto reshape = f.dims("reshape_dimensions");
  const auto second = permutation(f, "second_transpose");
  const auto zeroIsPlaceholder = f.boolean("zero_is_placeholder");
  if (!l.ready()) return {};
  auto layer = l.added(l.network.addShuffle(l.inputs[0]));
  if (!layer) return {};
  using L = ShuffleLayer;
  // Before the reshape, which it changes the meaning of.
  bool ok = l.apply(layer, "zero_is_placeholder", zeroIsPlaceholder, &L::setZeroIsPlaceholder,
                    &L::zeroIsPlaceholder);
  ok = l.apply(layer, "first_transpose", first, &L::setFirstTranspose, &L::firstTranspose) && ok;
  ok = l.apply(layer, "reshape_dimensions", reshape, &L::setReshapeDimensions,
               &L::reshapeDimensions) &&
       ok;
  ok =
      l.apply(layer, "second_transpose", second, &L::setSecondTranspose, &L::secondTranspose) && ok;
  return ok ? layer : Layer();
}

Layer importConstant(LayerImport& l) {
  auto& f = l.fields;
  const auto shape = f.dims("shape", Need::kRequired);
  const auto type = f.enumeration("data_type", constantTypeNames());
  const auto values = l.readValues("values");
  if (shape) {
    for (int32_t i = 0; i < shape->nbDims; ++i) {
      if ((*shape)[i] < 0) {
        f.error("shape", "extents must be known and not negative, got " + dimsText(*shape));
        break;
      }
    }
  }
  if (!l.ready() || !values) return {};
  // Without data_type, a .npy file's own type decides; otherwise float32.
  DataType dataType = DataType::kFLOAT;
  if (type) {
    dataType = *type;
  } else if (values->kind == WeightsSource::Kind::kFile) {
    dataType = values->array.type;
  }
  const WeightsNeed need{dataType, checkedVolume(*shape, 0, shape->nbDims),
                         "the constant " + dimsText(*shape) + " of " + toString(dataType), 1.0};
  const auto buffer = l.materialize(*values, need, "values", /*layerField=*/true);
  if (!buffer) return {};
  return l.added(l.network.addConstant(*shape, buffer->view()));
}

Layer importPadding(LayerImport& l) {
  auto& f = l.fields;
  const auto pre = f.dims("pre_padding", Need::kRequired);
  const auto post = f.dims("post_padding", Need::kRequired);
  const auto fill = f.enumeration("fill", paddingFillNames());
  const auto value = f.number("value");
  if (!l.ready()) return {};
  auto layer = l.added(l.network.addPadding(l.inputs[0], *pre, *post));
  if (!layer) return {};
  using L = PaddingLayer;
  bool ok = l.apply(layer, "fill", fill, &L::setFill, &L::fill);
  ok = l.apply(layer, "value", value, &L::setValue, &L::value) && ok;
  return ok ? layer : Layer();
}

Layer importSlice(LayerImport& l) {
  auto& f = l.fields;
  const auto start = f.dims("start", Need::kRequired);
  const auto size = f.dims("size", Need::kRequired);
  auto stride = f.dims("stride");
  if (!l.ready()) return {};
  if (!stride) {
    stride = Dims();
    for (int32_t i = 0; i < start->nbDims; ++i) (*stride)[stride->nbDims++] = 1;
  }
  return l.added(l.network.addSlice(l.inputs[0], *start, *size, *stride));
}

Layer importGather(LayerImport& l) {
  auto& f = l.fields;
  const auto mode = f.enumeration("mode", gatherModeNames());
  const auto axis = f.integer("gather_axis", Need::kOptional, -Dims::kMaxRank, Dims::kMaxRank - 1);
  const auto elementWiseDims =
      f.integer("nb_element_wise_dims", Need::kOptional, 0, Dims::kMaxRank);
  if (!l.ready()) return {};
  using L = GatherLayer;
  L layer;
  if (mode.value_or(GatherMode::kDEFAULT) == GatherMode::kDEFAULT) {
    layer = l.added(
        l.network.addGather(l.inputs[0], l.inputs[1], static_cast<int32_t>(axis.value_or(0))));
  } else {
    layer = l.added(l.network.addGatherV2(l.inputs[0], l.inputs[1], *mode));
    if (layer && !l.apply(layer, "gather_axis", axis, &L::setGatherAxis, &L::gatherAxis)) {
      return {};
    }
  }
  if (!layer) return {};
  return l.apply(layer, "nb_element_wise_dims", elementWiseDims, &L::setNbElementWiseDims,
                 &L::nbElementWiseDims)
             ? layer
             : Layer();
}

}  // namespace kiln::parsers::netjson
