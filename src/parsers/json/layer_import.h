// What an importer of one JSON layer sees, and the table "type" -> importer. An importer reads
// every field of its layer first (so that all problems are reported and unknown fields are
// found), then, when ready() says the layer can be added, adds it through the public API.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/network.h"
#include "parsers/json/object_reader.h"
#include "parsers/json/weights.h"

namespace kiln::parsers::netjson {

class LayerImport {
 public:
  struct WeightsSlot {
    std::string_view name;
    bool allowNone = false;     //!< null means "no weights" (a bias, a scale's shift)
    bool noneIfAbsent = false;  //!< absent means none instead of random (a scale's power)
  };

  LayerImport(NetworkDefinition& network, ObjectReader& fields, WeightsReader& weights,
              std::string name, std::string type, std::vector<Tensor> inputs, bool buildable);

  NetworkDefinition& network;
  ObjectReader& fields;
  const std::string name;
  const std::string type;
  //! Resolved inputs; all non-null when the layer is buildable.
  const std::vector<Tensor> inputs;

  //! Reads the layer's "weights" object with these slots; one source per slot, in order.
  std::vector<WeightsSource> readWeights(std::initializer_list<WeightsSlot> slots);
  //! Reads a weights-like field of the layer itself (a constant's "values").
  std::optional<WeightsSource> readValues(std::string_view key);

  //! True when the layer can be added: every field valid and known, inputs resolved, and the
  //! network still consistent. Reports unknown fields first.
  bool ready();

  //! Shape of input @p index (rank -1 when the network cannot tell).
  Dims inputDims(int32_t index) const;

  //! Values for a weights slot read by readWeights (or readValues when @p layerField).
  std::optional<WeightsBuffer> materialize(const WeightsSource& source, const WeightsNeed& need,
                                           std::string_view slot, bool layerField = false);

  //! Calls layer.*set(value) when @p value is given, then reads the setting back: the network
  //! logs why it refused a value and keeps the old one, so only the read-back tells. A refusal
  //! is reported against field @p key. False when refused.
  template <typename L, typename Arg, typename R, typename V>
  bool apply(L& layer, std::string_view key, const std::optional<V>& value, void (L::*set)(Arg),
             R (L::*get)() const) {
    if (!value) return true;
    (layer.*set)(static_cast<Arg>(*value));
    if ((layer.*get)() == static_cast<R>(*value)) return true;
    refused(key);
    return false;
  }

  //! Reports that the network refused the value of field @p key.
  void refused(std::string_view key) {
    fields.error(key, "the network refused this value; its reason is logged above");
  }

  //! Names a freshly added layer after the JSON, so the network's own messages use that name.
  template <typename L>
  L added(L layer) {
    if (layer) layer.setName(name);
    return layer;
  }

 private:
  WeightsReader& weights_;
  bool buildable_;
  int32_t errorsAtStart_;
  std::optional<ObjectReader> weightsFields_;
};

using Importer = Layer (*)(LayerImport&);

struct ImporterInfo {
  std::string_view type;
  Importer import;
  int32_t minInputs;
  int32_t maxInputs;  //!< -1: any number
  int32_t nbOutputs;
};

//! Every layer type of the format, in the order of NetworkDefinition's add* functions.
std::span<const ImporterInfo> importers();
const ImporterInfo* findImporter(std::string_view type);

// Importers, by family file.
Layer importConvolution(LayerImport& l);
Layer importDeconvolution(LayerImport& l);
Layer importPooling(LayerImport& l);
Layer importFullyConnected(LayerImport& l);
Layer importMatrixMultiply(LayerImport& l);
Layer importScale(LayerImport& l);
Layer importActivation(LayerImport& l);
Layer importSoftMax(LayerImport& l);
Layer importElementWise(LayerImport& l);
Layer importUnary(LayerImport& l);
Layer importIdentity(LayerImport& l);
Layer importCast(LayerImport& l);
Layer importSelect(LayerImport& l);
Layer importConcatenation(LayerImport& l);
Layer importShuffle(LayerImport& l);
Layer importConstant(LayerImport& l);
Layer importPadding(LayerImport& l);
Layer importSlice(LayerImport& l);
Layer importGather(LayerImport& l);
Layer importLRN(LayerImport& l);
Layer importReduce(LayerImport& l);
Layer importTopK(LayerImport& l);

// Helpers shared by the importers.

//! Product of @p factors; nullopt when one is negative (unknown) or the product overflows.
std::optional<int64_t> checkedProduct(std::initializer_list<int64_t> factors);
//! Product of dims [begin, end); nullopt as checkedProduct.
std::optional<int64_t> checkedVolume(const Dims& dims, int32_t begin, int32_t end);
//! "[20, 1, 5, 5]".
std::string dimsText(const Dims& dims);
//! Bitmask of @p axes (negative ones count from the end) for an input of @p rank; nullopt
//! after reporting an axis out of range.
std::optional<uint32_t> axesMask(ObjectReader& fields, std::string_view key,
                                 const std::vector<int64_t>& axes, int32_t rank);

}  // namespace kiln::parsers::netjson
