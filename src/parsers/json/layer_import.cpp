#include "parsers/json/layer_import.h"

#include <limits>

namespace kiln::parsers::netjson {

namespace {
const Json& emptyObject() {
  static const Json kEmpty = Json::object();
  return kEmpty;
}
}  // namespace

LayerImport::LayerImport(NetworkDefinition& network_, ObjectReader& fields_, WeightsReader& weights,
                         std::string name_, std::string type_, std::vector<Tensor> inputs_,
                         bool buildable)
    : network(network_),
      fields(fields_),
      name(std::move(name_)),
      type(std::move(type_)),
      inputs(std::move(inputs_)),
      weights_(weights),
      buildable_(buildable),
      errorsAtStart_(fields_.diagnostics().errorCount()) {}

std::vector<WeightsSource> LayerImport::readWeights(std::initializer_list<WeightsSlot> slots) {
  const Json* object = fields.field("weights");
  if (object != nullptr && !object->is_object()) {
    fields.error("weights",
                 "expected an object mapping weights names to values, got " + describe(*object));
    object = nullptr;
  }
  weightsFields_.emplace(object != nullptr ? *object : emptyObject(), fields.diagnostics(),
                         fields.where(), "weights.");
  std::vector<WeightsSource> sources;
  for (const WeightsSlot& slot : slots) {
    auto source = weights_.read(*weightsFields_, slot.name, slot.allowNone);
    if (source && slot.noneIfAbsent && source->kind == WeightsSource::Kind::kRandom) {
      source->kind = WeightsSource::Kind::kNone;
    }
    sources.push_back(source.value_or(WeightsSource{}));
  }
  weightsFields_->finish(type + " weights");
  return sources;
}

std::optional<WeightsSource> LayerImport::readValues(std::string_view key) {
  return weights_.read(fields, key, /*allowNone=*/false);
}

bool LayerImport::ready() {
  fields.finish(type);
  return buildable_ && fields.diagnostics().errorCount() == errorsAtStart_;
}

Dims LayerImport::inputDims(int32_t index) const {
  if (index < 0 || static_cast<std::size_t>(index) >= inputs.size()) {
    Dims unknown;
    unknown.nbDims = -1;
    return unknown;
  }
  return inputs[static_cast<std::size_t>(index)].dimensions();
}

std::optional<WeightsBuffer> LayerImport::materialize(const WeightsSource& source,
                                                      const WeightsNeed& need,
                                                      std::string_view slot, bool layerField) {
  ObjectReader& reader = (layerField || !weightsFields_) ? fields : *weightsFields_;
  return weights_.materialize(source, need, reader, slot, name);
}

std::optional<int64_t> checkedProduct(std::initializer_list<int64_t> factors) {
  int64_t product = 1;
  for (int64_t f : factors) {
    if (f < 0) return std::nullopt;
    if (f != 0 && product > std::numeric_limits<int64_t>::max() / f) return std::nullopt;
    product *= f;
  }
  return product;
}

std::optional<int64_t> checkedVolume(const Dims& dims, int32_t begin, int32_t end) {
  int64_t product = 1;
  for (int32_t i = begin; i < end; ++i) {
    const auto next = checkedProduct({product, dims[i]});
    if (!next) return std::nullopt;
    product = *next;
  }
  return product;
}

std::string dimsText(const Dims& dims) {
  std::string out = "[";
  for (int32_t i = 0; i < dims.nbDims; ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(dims[i]);
  }
  return out + "]";
}

std::optional<uint32_t> axesMask(ObjectReader& fields, std::string_view key,
                                 const std::vector<int64_t>& axes, int32_t rank) {
  uint32_t mask = 0;
  for (int64_t axis : axes) {
    const int64_t resolved = axis < 0 ? axis + rank : axis;
    if (resolved < 0 || resolved >= rank) {
      fields.error(key, "axis " + std::to_string(axis) + " is outside [" + std::to_string(-rank) +
                            ", " + std::to_string(rank) + ") for an input of rank " +
                            std::to_string(rank));
      return std::nullopt;
    }
    mask |= 1u << resolved;
  }
  return mask;
}

}  // namespace kiln::parsers::netjson
