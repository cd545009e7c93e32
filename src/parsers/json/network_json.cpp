// parseNetworkJson: reads the whole description, reporting every problem it finds (not only
// the first), and populates the network through the public API only.
#include "kiln/parsers/network_json.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "parsers/json/diagnostics.h"
#include "parsers/json/enum_names.h"
#include "parsers/json/json_document.h"
#include "parsers/json/layer_import.h"
#include "parsers/json/object_reader.h"
#include "parsers/json/weights.h"

namespace kiln::parsers {

namespace {

using namespace netjson;

// A named tensor layers may use. A tensor whose layer failed is kept as "failed", so layers
// reading it are skipped quietly instead of reporting it unknown once per use.
struct NamedTensor {
  Tensor tensor;
  bool failed = false;
  std::string producer;
};

class NetworkReader {
 public:
  NetworkReader(NetworkDefinition& network, Diagnostics& diag, WeightsReader& weights,
                const ModelLimits& limits)
      : network_(network), diag_(diag), weights_(weights), limits_(limits) {}

  bool read(const Json& root) {
    if (!root.is_object()) {
      diag_.error("", "the network description must be a JSON object, got " + describe(root));
      return false;
    }
    ObjectReader fields(root, diag_, "network");
    const auto name = fields.string("name");
    const Json* inputs = fields.field("inputs");
    const Json* layers = fields.field("layers", Need::kRequired);
    const Json* outputs = fields.field("outputs", Need::kRequired);
    fields.finish("the network");
    if (name) network_.setName(*name);

    if (inputs != nullptr) {
      if (inputs->is_array()) {
        for (std::size_t i = 0; i < inputs->size(); ++i) readInput((*inputs)[i], i);
      } else {
        fields.error("inputs", "expected an array of inputs, got " + describe(*inputs));
      }
    }
    if (layers != nullptr) {
      if (layers->is_array() && limits_.maxLayers >= 0 &&
          layers->size() > static_cast<uint64_t>(limits_.maxLayers)) {
        fields.error("layers", "has " + std::to_string(layers->size()) +
                                   " layers, more than the limit of " +
                                   std::to_string(limits_.maxLayers) + " (ModelLimits::maxLayers)");
      } else if (layers->is_array()) {
        for (std::size_t i = 0; i < layers->size(); ++i) readLayer((*layers)[i], i);
      } else {
        fields.error("layers", "expected an array of layers, got " + describe(*layers));
      }
    }
    if (outputs != nullptr) readOutputs(fields);
    return diag_.errorCount() == 0;
  }

 private:
  void readInput(const Json& json, std::size_t index) {
    std::string where = "inputs[" + std::to_string(index) + "]";
    if (!json.is_object()) {
      diag_.error(where, "expected an object with name, type and shape, got " + describe(json));
      return;
    }
    ObjectReader f(json, diag_, where);
    const int32_t errorsBefore = diag_.errorCount();
    const auto name = f.string("name", Need::kRequired);
    if (name) f.setWhere(where + " '" + *name + "'");
    const auto type = f.enumeration("type", dataTypeNames());
    const auto shape = f.dims("shape", Need::kRequired);
    f.finish("a network input");
    if (name && name->empty()) f.error("name", "may not be empty");
    if (name && tensors_.count(*name) != 0) {
      f.error("name", "another input is already named '" + *name + "'");
      return;
    }
    if (shape) {
      for (int32_t i = 0; i < shape->nbDims; ++i) {
        if ((*shape)[i] < -1) {
          f.error("shape", "extents must be positive, 0, or -1 (known at run time only), got " +
                               dimsText(*shape));
          break;
        }
      }
      checkInputSize(f, *shape, type.value_or(DataType::kFLOAT));
    }
    if (!name) return;
    Tensor tensor;
    if (diag_.errorCount() == errorsBefore) {
      tensor = network_.addInput(*name, type.value_or(DataType::kFLOAT), *shape);
      if (!tensor) f.error("the network rejected this input; its reason is logged above");
    }
    tensors_[*name] = NamedTensor{tensor, !tensor, "network input"};
  }

  // Every input is allocated by whoever runs the network: its known extents must fit the cap.
  void checkInputSize(ObjectReader& f, const Dims& shape, DataType type) {
    std::optional<int64_t> count = static_cast<int64_t>(elementSize(type));
    for (int32_t i = 0; count && i < shape.nbDims; ++i) {
      if (shape[i] >= 0) count = checkedProduct({*count, shape[i]});
    }
    if (!count || static_cast<uint64_t>(*count) > limits_.maxTensorBytes) {
      f.error("shape", dimsText(shape) + " of " + toString(type) + " needs " +
                           (count ? std::to_string(*count) : std::string("more than 2^63")) +
                           " bytes, more than the limit of " +
                           std::to_string(limits_.maxTensorBytes) +
                           " (ModelLimits::maxTensorBytes)");
    }
  }

  void readLayer(const Json& json, std::size_t index) {
    const std::string position = "layer " + std::to_string(index);
    if (!json.is_object()) {
      diag_.error(position, "expected an object, got " + describe(json));
      return;
    }
    ObjectReader f(json, diag_, position);
    const int32_t errorsBefore = diag_.errorCount();
    const auto name = f.string("name", Need::kRequired);
    const auto type = f.string("type", Need::kRequired);
    const std::string where =
        position + (name ? " '" + *name + "'" : "") + (type ? " (" + *type + ")" : "");
    f.setWhere(where);
    const ImporterInfo* info = type ? findImporter(*type) : nullptr;
    if (type && info == nullptr) {
      std::vector<std::string_view> known;
      for (const auto& entry : importers()) known.push_back(entry.type);
      f.error("type", "unknown layer type '" + *type + "'" + didYouMean(*type, known) +
                          "; known types: " + joinNames(known));
    }
    const bool needsInputs = info != nullptr && info->minInputs > 0;
    const auto inputNames = f.strings("inputs", needsInputs ? Need::kRequired : Need::kOptional);
    const auto outputNames = f.strings("outputs");
    const auto precision = f.enumeration("precision", dataTypeNames());
    const auto outputTypes = f.enumerations("output_types", dataTypeNames());

    if (name && name->empty()) f.error("name", "may not be empty");
    if (name && !name->empty() && !layerNames_.insert(*name).second) {
      f.error("name", "another layer is already named '" + *name + "'");
    }
    const int32_t nbOutputs = info != nullptr ? info->nbOutputs : 1;
    if (info != nullptr && inputNames) {
      const auto n = static_cast<int32_t>(inputNames->size());
      if (n < info->minInputs || (info->maxInputs >= 0 && n > info->maxInputs)) {
        std::string expected = std::to_string(info->minInputs);
        if (info->maxInputs < 0) expected = "at least " + expected;
        if (info->maxInputs > info->minInputs) expected += " or " + std::to_string(info->maxInputs);
        f.error("inputs", "layer type '" + *type + "' takes " + expected + " input" +
                              (info->maxInputs == 1 ? "" : "s") + ", got " + std::to_string(n));
      }
    }
    if (info != nullptr && outputNames && static_cast<int32_t>(outputNames->size()) != nbOutputs) {
      f.error("outputs", "names " + std::to_string(outputNames->size()) + " outputs; layer type '" +
                             *type + "' has " + std::to_string(nbOutputs));
    }
    if (info != nullptr && outputTypes && static_cast<int32_t>(outputTypes->size()) != nbOutputs) {
      f.error("output_types", "gives " + std::to_string(outputTypes->size()) +
                                  " types; layer type '" + *type + "' has " +
                                  std::to_string(nbOutputs) + " outputs");
    }
    const auto outs = outputTensorNames(f, name, outputNames, nbOutputs);

    std::vector<Tensor> inputs;
    bool resolved = inputNames.has_value() || !needsInputs;
    if (inputNames) {
      for (const auto& inputName : *inputNames) {
        const auto it = tensors_.find(inputName);
        if (it == tensors_.end()) {
          f.error("inputs", "unknown tensor '" + inputName + "'" + didYouMean(inputName, names()) +
                                "; an input must be a network input or an output of an earlier "
                                "layer");
          resolved = false;
        } else if (it->second.failed) {
          resolved = false;
        } else {
          inputs.push_back(it->second.tensor);
        }
      }
    }

    const int32_t layersBefore = network_.nbLayers();
    Layer layer;
    if (info != nullptr) {
      const bool buildable = resolved && !networkBroken_ && diag_.errorCount() == errorsBefore;
      LayerImport import(network_, f, weights_, name.value_or(""), *type, inputs, buildable);
      layer = info->import(import);
      f.finish(*type);
      if (!layer && buildable && diag_.errorCount() == errorsBefore) {
        f.error("the network rejected the layer; its reason is logged above");
      }
    }
    if (layer) {
      // Settings the network refuses are logged by it and read back here.
      if (precision) {
        layer.setPrecision(*precision);
        if (!layer.precisionIsSet() || layer.precision() != *precision) {
          f.error("precision", "the network refused this value; its reason is logged above");
          layer = Layer();
        }
      }
      for (int32_t i = 0; layer && outputTypes && i < nbOutputs; ++i) {
        const DataType t = (*outputTypes)[static_cast<std::size_t>(i)];
        layer.setOutputType(i, t);
        if (layer.outputType(i) != t) {
          f.error("output_types", "the network refused " + toString(t) + " for output " +
                                      std::to_string(i) + "; its reason is logged above");
          layer = Layer();
        }
      }
      // Settings are checked lazily, so a bad stride or axis shows only when shapes are asked.
      for (int32_t i = 0; i < layer.nbOutputs(); ++i) {
        if (layer.output(i).dimensions().nbDims < 0) {
          f.error("the network rejected the layer's settings; its reason is logged above");
          // The layer stays in the network and fails every later shape inference, so later
          // layers are only checked, not added.
          networkBroken_ = true;
          layer = Layer();
          break;
        }
      }
    }
    if (!layer && !networkBroken_ && network_.nbLayers() > layersBefore) {
      // Added, then refused a setting: the settings it kept may still not fit together.
      const Layer last = network_.layer(network_.nbLayers() - 1);
      networkBroken_ = last.nbOutputs() > 0 && last.output(0).dimensions().nbDims < 0;
    }
    for (std::size_t i = 0; i < outs.size(); ++i) {
      Tensor tensor;
      if (layer && static_cast<int32_t>(i) < layer.nbOutputs()) {
        tensor = layer.output(static_cast<int32_t>(i));
        tensor.setName(outs[i]);
      }
      tensors_[outs[i]] = NamedTensor{tensor, !tensor, where};
    }
  }

  // The names this layer's outputs get: the given ones, or the layer's name (one output) or
  // "<name>_<i>" (several). Names already taken are reported and left out (which also keeps the
  // layer from being added, so the names never get out of step with the layer's outputs).
  std::vector<std::string> outputTensorNames(ObjectReader& f,
                                             const std::optional<std::string>& name,
                                             const std::optional<std::vector<std::string>>& given,
                                             int32_t nbOutputs) {
    std::vector<std::string> out;
    if (given) {
      out = *given;
    } else if (name && !name->empty()) {
      for (int32_t i = 0; i < nbOutputs; ++i) {
        out.push_back(nbOutputs == 1 ? *name : *name + "_" + std::to_string(i));
      }
    }
    std::vector<std::string> kept;
    for (const auto& tensor : out) {
      if (tensor.empty()) {
        f.error("outputs", "an output name may not be empty");
        continue;
      }
      const auto it = tensors_.find(tensor);
      if (it != tensors_.end()) {
        f.error("outputs",
                "tensor name '" + tensor + "' is already the output of " + it->second.producer);
        continue;
      }
      if (std::find(kept.begin(), kept.end(), tensor) != kept.end()) {
        f.error("outputs", "tensor name '" + tensor + "' is given twice");
        continue;
      }
      kept.push_back(tensor);
    }
    return kept;
  }

  void readOutputs(ObjectReader& fields) {
    const auto outputs = fields.strings("outputs");
    if (!outputs) return;
    if (outputs->empty()) fields.error("outputs", "a network needs at least one output");
    std::set<std::string> marked;
    for (std::size_t i = 0; i < outputs->size(); ++i) {
      const std::string& tensorName = (*outputs)[i];
      const auto it = tensors_.find(tensorName);
      if (it == tensors_.end()) {
        fields.error("outputs", "unknown tensor '" + tensorName + "'" +
                                    didYouMean(tensorName, names()) +
                                    "; outputs must name a network input or a layer output");
        continue;
      }
      if (!marked.insert(tensorName).second) {
        fields.error("outputs", "tensor '" + tensorName + "' is listed twice");
        continue;
      }
      if (!it->second.failed && !network_.markOutput(it->second.tensor)) {
        fields.error("outputs", "the network refused to mark '" + tensorName +
                                    "' as an output; its reason is logged above");
      }
    }
  }

  std::vector<std::string_view> names() const {
    std::vector<std::string_view> out;
    for (const auto& [tensorName, entry] : tensors_) out.push_back(tensorName);
    return out;
  }

  NetworkDefinition& network_;
  Diagnostics& diag_;
  WeightsReader& weights_;
  const ModelLimits& limits_;
  std::map<std::string, NamedTensor, std::less<>> tensors_;
  std::set<std::string, std::less<>> layerNames_;
  bool networkBroken_ = false;
};

bool parseText(std::string_view text, const std::filesystem::path& baseDir,
               NetworkDefinition& network, Diagnostics& diag, const NetworkJsonOptions& options) {
  const ModelLimits& limits = options.limits;
  if (text.size() > limits.maxModelBytes) {
    diag.error("", "the network description has " + std::to_string(text.size()) +
                       " bytes, more than the limit of " + std::to_string(limits.maxModelBytes) +
                       " (ModelLimits::maxModelBytes)");
    return false;
  }
  Json root;
  if (!parseDocument(text, diag, root, limits.maxNestingDepth)) return false;
  WeightsReader weights(baseDir.empty() ? std::filesystem::path(".") : baseDir,
                        options.randomWeightsSeed, limits, text.size());
  NetworkReader reader(network, diag, weights, limits);
  if (!reader.read(root)) {
    const int32_t n = diag.errorCount();
    diag.error("", std::to_string(n) + (n == 1 ? " problem" : " problems") +
                       " found; the network was not read completely");
    return false;
  }
  std::string summary = "read network '" + std::string(network.name()) +
                        "': " + std::to_string(network.nbLayers()) + " layers, " +
                        std::to_string(network.nbInputs()) + " inputs, " +
                        std::to_string(network.nbOutputs()) + " outputs";
  if (weights.nbRandomLayers() > 0) {
    summary += "; random weights in " + std::to_string(weights.nbRandomLayers()) +
               " layers (seed " + std::to_string(options.randomWeightsSeed) + ")";
  }
  diag.info(summary);
  return true;
}

// The last line of defence of "never throws": a library bug or bad_alloc becomes an error.
template <typename Body>
bool guarded(Logger& logger, const std::string& source, Body&& body) noexcept {
  try {
    return body();
  } catch (const std::exception& e) {
    logger.log(Severity::kINTERNAL_ERROR,
               source + ": internal error while reading the network: " + e.what());
  } catch (...) {
    logger.log(Severity::kINTERNAL_ERROR, source + ": internal error while reading the network");
  }
  return false;
}

}  // namespace

bool parseNetworkJson(const std::filesystem::path& path, NetworkDefinition& network, Logger& logger,
                      const NetworkJsonOptions& options) {
  const std::string source = path.string();
  return guarded(logger, source, [&] {
    Diagnostics diag(logger, source);
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(status)) {
      diag.error("", "cannot open the network description: " +
                         (ec ? ec.message() : std::string("no such file")));
      return false;
    }
    if (std::filesystem::is_directory(status)) {
      diag.error("", "is a directory, not a network description");
      return false;
    }
    // Checked before reading, so a huge file is never loaded (parseText checks it again).
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec && size > options.limits.maxModelBytes) {
      diag.error("", "the network description has " + std::to_string(size) +
                         " bytes, more than the limit of " +
                         std::to_string(options.limits.maxModelBytes) +
                         " (ModelLimits::maxModelBytes)");
      return false;
    }
    std::ifstream in(path, std::ios::binary);
    std::string text;
    if (in) text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (!in && !in.eof()) {
      diag.error("", "cannot read the network description");
      return false;
    }
    return parseText(text, path.parent_path(), network, diag, options);
  });
}

bool parseNetworkJsonString(std::string_view text, const std::filesystem::path& baseDir,
                            NetworkDefinition& network, Logger& logger,
                            const NetworkJsonOptions& options) {
  const std::string source = "<network JSON string>";
  return guarded(logger, source, [&] {
    Diagnostics diag(logger, source);
    return parseText(text, baseDir, network, diag, options);
  });
}

}  // namespace kiln::parsers
