// The one table of layer types: "type" string -> importer, with the input and output counts
// the dispatcher checks before the importer runs.
#include <array>

#include "parsers/json/layer_import.h"

namespace kiln::parsers::netjson {

std::span<const ImporterInfo> importers() {
  static constexpr std::array<ImporterInfo, 22> kImporters{{
      {"convolution", importConvolution, 1, 1, 1},
      {"deconvolution", importDeconvolution, 1, 1, 1},
      {"pooling", importPooling, 1, 1, 1},
      {"fully_connected", importFullyConnected, 1, 1, 1},
      {"matrix_multiply", importMatrixMultiply, 2, 2, 1},
      {"activation", importActivation, 1, 1, 1},
      {"softmax", importSoftMax, 1, 1, 1},
      {"elementwise", importElementWise, 2, 2, 1},
      {"unary", importUnary, 1, 1, 1},
      {"scale", importScale, 1, 1, 1},
      {"concatenation", importConcatenation, 1, -1, 1},
      {"shuffle", importShuffle, 1, 1, 1},
      {"constant", importConstant, 0, 0, 1},
      {"padding", importPadding, 1, 1, 1},
      {"lrn", importLRN, 1, 1, 1},
      {"reduce", importReduce, 1, 1, 1},
      {"topk", importTopK, 1, 1, 2},
      {"gather", importGather, 2, 2, 1},
      {"slice", importSlice, 1, 1, 1},
      {"identity", importIdentity, 1, 1, 1},
      {"cast", importCast, 1, 1, 1},
      {"select", importSelect, 3, 3, 1},
  }};
  return kImporters;
}

const ImporterInfo* findImporter(std::string_view type) {
  for (const auto& info : importers()) {
    if (info.type == type) return &info;
  }
  return nullptr;
}

}  // namespace kiln::parsers::netjson
