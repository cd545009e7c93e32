#include "parsers/onnx/graph_importer.h"

#include <algorithm>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "parsers/onnx/legacy_opsets.h"
#include "parsers/onnx/node_import.h"

namespace kiln::parsers::onnx_import {

namespace {

struct UnsupportedEntry {
  int index;
  std::string label;
  std::string reason;
};

bool isDefaultDomain(const std::string& domain) {
  return domain.empty() || domain == "ai.onnx";
}

std::string dimsText(const ::onnx::TensorShapeProto& shape) {
  std::string out = "[";
  for (int i = 0; i < shape.dim_size(); ++i) {
    if (i > 0) out += ", ";
    const auto& d = shape.dim(i);
    if (d.has_dim_value()) {
      out += std::to_string(d.dim_value());
    } else if (d.has_dim_param() && !d.dim_param().empty()) {
      out += "'" + d.dim_param() + "'";
    } else {
      out += "?";
    }
  }
  return out + "]";
}

class GraphImporter {
 public:
  GraphImporter(const ::onnx::ModelProto& model, const ImportOptions& options,
                NetworkDefinition& network, Diagnostics& diag)
      : model_(model),
        graph_(model.graph()),
        options_(options),
        network_(network),
        diag_(diag),
        state_(network, options.root, options.maxConstantBytes) {}

  bool run(int64_t& opset) {
    if (!readOpsets()) return false;
    opset = opset_;
    if (!model_.has_graph()) {
      diag_.error(ErrorCode::kINVALID_MODEL, "the model has no graph");
      return false;
    }
    if (graph_.sparse_initializer_size() > 0) {
      diag_.error(ErrorCode::kUNSUPPORTED_STATE,
                  "the graph has sparse initializers, which kiln does not read yet");
    }
    readInitializers();
    readInputs();
    std::vector<int> order;
    const bool ordered = orderNodes(order);
    checkSupport();
    if (ordered && diag_.errorCount() == 0) {
      for (int index : order) importNode(index);
      markOutputs();
    }
    reportUnsupported();
    if (diag_.errorCount() > 0) return false;
    const auto count = [](int64_t k, const char* word) {
      return std::to_string(k) + " " + word + (k == 1 ? "" : "s");
    };
    diag_.info("parsed the model (opset " + std::to_string(opset_) + ", " +
               count(graph_.node_size(), "node") + ") into " + count(network_.nbLayers(), "layer") +
               ", " + count(network_.nbInputs(), "input") + " and " +
               count(network_.nbOutputs(), "output"));
    return true;
  }

 private:
  bool readOpsets() {
    for (const auto& entry : model_.opset_import()) {
      if (isDefaultDomain(entry.domain())) {
        opset_ = entry.version();
      } else {
        domains_[entry.domain()] = entry.version();
      }
    }
    if (opset_ == 0) {
      diag_.error(ErrorCode::kINVALID_MODEL,
                  "the model imports no ai.onnx opset (opset_import has no entry for the default "
                  "domain); kiln reads opsets " +
                      std::to_string(kMinOpset) + " and later");
      return false;
    }
    if (opset_ < kMinOpset) {
      diag_.error(ErrorCode::kUNSUPPORTED_STATE,
                  "the model uses opset " + std::to_string(opset_) + "; kiln reads opsets " +
                      std::to_string(kMinOpset) +
                      " and later (convert it with onnx.version_converter)");
      return false;
    }
    if (opset_ > kMaxOpset) {
      diag_.warning("the model uses opset " + std::to_string(opset_) + ", newer than " +
                    std::to_string(kMaxOpset) +
                    ", the newest kiln knows; ops are read with the semantics of opset " +
                    std::to_string(kMaxOpset));
    }
    return true;
  }

  void readInitializers() {
    for (const auto& init : graph_.initializer()) {
      const std::string what = "initializer '" + init.name() + "'";
      if (init.name().empty()) {
        diag_.error(ErrorCode::kINVALID_MODEL, "an initializer has no name");
        continue;
      }
      if (state_.values.count(init.name()) != 0) {
        diag_.error(ErrorCode::kINVALID_MODEL, what + " is defined twice");
        continue;
      }
      try {
        Value v;
        v.constant = std::make_shared<const ConstTensor>(
            decodeTensor(init, options_.root, state_.constants, what));
        state_.values[init.name()] = std::move(v);
      } catch (const Error& e) {
        diag_.error(e.code(), e.what());
        state_.values[init.name()].failed = true;
      }
    }
  }

  void readInputs() {
    std::set<std::string, std::less<>> inputNames;
    for (const auto& input : graph_.input()) {
      if (state_.values.count(input.name()) != 0) continue;  // an initializer: a constant
      inputNames.insert(input.name());
      declareInput(input);
    }
    for (const auto& [name, dims] : options_.inputShapes) {
      if (inputNames.count(name) == 0) {
        std::string known;
        for (const auto& n : inputNames) known += (known.empty() ? "" : ", ") + ("'" + n + "'");
        diag_.error(ErrorCode::kINVALID_ARGUMENT,
                    "a shape was given for input '" + name + "', but the model has no such input" +
                        (known.empty() ? std::string() : " (its inputs: " + known + ")"));
      }
    }
  }

  void declareInput(const ::onnx::ValueInfoProto& input) {
    const std::string& name = input.name();
    const std::string what = "input '" + name + "'";
    Value& value = state_.values[name];
    value.failed = true;
    if (name.empty()) {
      diag_.error(ErrorCode::kINVALID_MODEL, "a graph input has no name");
      return;
    }
    if (!input.type().has_tensor_type()) {
      diag_.error(ErrorCode::kUNSUPPORTED_STATE,
                  what + " is not a tensor (sequence, map and optional inputs are not supported)");
      return;
    }
    const auto& tensorType = input.type().tensor_type();
    const int32_t elem = tensorType.elem_type();
    DataType declared = DataType::kFLOAT;
    switch (elem) {
      case kOnnxFloat:
        declared = DataType::kFLOAT;
        break;
      case kOnnxFloat16:
        declared = DataType::kHALF;
        break;
      case kOnnxBfloat16:
        declared = DataType::kBF16;
        break;
      case kOnnxInt32:
        declared = DataType::kINT32;
        break;
      case kOnnxInt64:
        declared = DataType::kINT64;
        break;
      case kOnnxInt8:
        declared = DataType::kINT8;
        break;
      case kOnnxUint8:
        declared = DataType::kUINT8;
        break;
      case kOnnxInt16:
        declared = DataType::kINT16;
        break;
      case kOnnxUint16:
        declared = DataType::kUINT16;
        break;
      case kOnnxUint32:
        declared = DataType::kUINT32;
        break;
      case kOnnxUint64:
        declared = DataType::kUINT64;
        break;
      case kOnnxBool:
        declared = DataType::kBOOL;
        break;
      case kOnnxDouble:
        diag_.warning(what +
                      " is float64; kiln computes in float32, so the engine input is "
                      "float32");
        declared = DataType::kFLOAT;
        break;
      case kOnnxUndefined:
        diag_.error(ErrorCode::kINVALID_MODEL, what + " has no element type");
        return;
      default:
        diag_.error(ErrorCode::kUNSUPPORTED_STATE,
                    what + " has element type " + onnxTypeName(elem) +
                        ", which kiln has no tensors of (inputs may be float32, float16, "
                        "bfloat16, float64, int64, int32, int16, int8, uint64, uint32, uint16, "
                        "uint8 or bool)");
        return;
    }

    const auto override = options_.inputShapes.find(name);
    Dims dims;
    if (tensorType.has_shape()) {
      const auto& shape = tensorType.shape();
      if (shape.dim_size() > Dims::kMaxRank) {
        diag_.error(ErrorCode::kUNSUPPORTED_STATE,
                    what + " has rank " + std::to_string(shape.dim_size()) +
                        "; kiln tensors have at most " + std::to_string(Dims::kMaxRank) +
                        " dimensions");
        return;
      }
      dims.nbDims = shape.dim_size();
      for (int i = 0; i < shape.dim_size(); ++i) {
        const auto& d = shape.dim(i);
        if (d.has_dim_value() && d.dim_value() < 0) {
          diag_.error(ErrorCode::kINVALID_MODEL,
                      what + " has extent " + std::to_string(d.dim_value()) + " in dimension " +
                          std::to_string(i) +
                          " (extents are >= 0; a dynamic dimension has a dim_param or no value)");
          return;
        }
        dims[i] = d.has_dim_value() ? d.dim_value() : -1;
      }
      if (override != options_.inputShapes.end()) {
        const Dims& given = override->second;
        bool fits = given.nbDims == dims.nbDims;
        for (int32_t i = 0; fits && i < dims.nbDims; ++i) {
          fits = given[i] >= 0 && (dims[i] < 0 || dims[i] == given[i]);
        }
        if (!fits) {
          diag_.error(ErrorCode::kINVALID_ARGUMENT,
                      "the shape " + toString(given) + " given for " + what +
                          " does not fit its shape in the model, " + dimsText(shape) +
                          " (the rank and every fixed dimension must match)");
          return;
        }
        dims = given;
      }
      // Dimensions left dynamic stay -1: the builder needs an optimization profile for them.
    } else if (override != options_.inputShapes.end()) {
      dims = override->second;
    } else {
      diag_.error(ErrorCode::kINVALID_ARGUMENT,
                  what +
                      " has no shape in the model; give it one with OnnxParser::setInputShape "
                      "(kiln --shapes=" +
                      name + ":...)");
      return;
    }

    // The network takes any extents, but no engine can hold such a tensor: refuse it here rather
    // than build a plan that no runtime loads.
    Dims known = dims;  // a dynamic extent counts as 1 here; its profile bounds it later
    for (int32_t i = 0; i < known.nbDims; ++i) known[i] = std::max<int64_t>(known[i], 1);
    if (elementCount(known) > kMaxConstElements) {
      diag_.error(ErrorCode::kINVALID_MODEL, what + " has shape " + toString(dims) +
                                                 ", more than 2^40 elements (kiln's limit of one "
                                                 "tensor)");
      return;
    }
    Tensor tensor = network_.addInput(name, declared, dims);
    if (!tensor) {
      diag_.error(ErrorCode::kINVALID_ARGUMENT,
                  "the network refused " + what + " (its reason is logged above)");
      return;
    }
    // Inside the network integers are int32 and floats float32; the engine keeps the model's
    // input type and converts once at the start (integers saturating to the int32 range).
    DataType compute = declared;
    if (declared == DataType::kHALF || declared == DataType::kBF16) {
      compute = DataType::kFLOAT;
    } else if (declared != DataType::kFLOAT && declared != DataType::kINT32 &&
               declared != DataType::kBOOL) {
      compute = DataType::kINT32;
    }
    if (compute != declared) {
      IdentityLayer cast = network_.addCast(tensor, compute);
      if (!cast) {
        diag_.error(ErrorCode::kINVALID_ARGUMENT, "the network refused the conversion of " + what);
        return;
      }
      cast.setName(name + "/to_" + toString(compute));
      tensor = cast.output(0);
      tensor.setName(name + "/" + toString(compute));
    }
    value.tensor = tensor;
    value.failed = false;
  }

  std::string nodeName(int index) const {
    const auto& node = graph_.node(index);
    if (!node.name().empty()) return node.name();
    return node.op_type() + "_" + std::to_string(index);
  }

  int64_t nodeOpset(const ::onnx::NodeProto& node) const {
    if (isDefaultDomain(node.domain())) return opset_;
    const auto it = domains_.find(node.domain());
    return it == domains_.end() ? 0 : it->second;
  }

  std::string label(int index) const {
    const auto& node = graph_.node(index);
    std::string text = "node '" + nodeName(index) + "' (" + node.op_type();
    if (!isDefaultDomain(node.domain())) text += ", domain '" + node.domain() + "'";
    const int64_t version = nodeOpset(node);
    if (version > 0) text += ", opset " + std::to_string(version);
    return text + ")";
  }

  // Checks names (every input defined, no tensor written twice) and orders the nodes so that
  // every node comes after the nodes it reads (stable: the file's order where it allows).
  bool orderNodes(std::vector<int>& order) {
    const int n = graph_.node_size();
    std::map<std::string, int, std::less<>> producer;
    bool ok = true;
    for (int i = 0; i < n; ++i) {
      for (const auto& out : graph_.node(i).output()) {
        if (out.empty()) continue;
        if (state_.values.count(out) != 0) {
          diag_.error(ErrorCode::kINVALID_MODEL,
                      label(i) + " writes tensor '" + out +
                          "', which is already a graph input or an initializer");
          ok = false;
          continue;
        }
        const auto [it, inserted] = producer.emplace(out, i);
        if (!inserted) {
          diag_.error(ErrorCode::kINVALID_MODEL, label(i) + " writes tensor '" + out + "', which " +
                                                     label(it->second) +
                                                     " already writes; tensor names must be "
                                                     "unique");
          ok = false;
        }
      }
    }
    std::vector<int> pending(static_cast<std::size_t>(n), 0);
    std::vector<std::vector<int>> readers(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      for (const auto& in : graph_.node(i).input()) {
        if (in.empty()) continue;
        state_.consumed.insert(in);
        if (state_.values.count(in) != 0) continue;
        const auto it = producer.find(in);
        if (it == producer.end()) {
          diag_.error(ErrorCode::kINVALID_MODEL,
                      label(i) + " reads tensor '" + in +
                          "', which no node, graph input or initializer defines");
          ok = false;
          continue;
        }
        ++pending[static_cast<std::size_t>(i)];
        readers[static_cast<std::size_t>(it->second)].push_back(i);
      }
    }
    for (const auto& out : graph_.output()) {
      state_.consumed.insert(out.name());
      if (state_.values.count(out.name()) == 0 && producer.count(out.name()) == 0) {
        diag_.error(ErrorCode::kINVALID_MODEL,
                    "graph output '" + out.name() +
                        "' is not written by any node and is not a graph input or an "
                        "initializer");
        ok = false;
      }
    }
    if (graph_.output_size() == 0) {
      diag_.error(ErrorCode::kINVALID_MODEL, "the graph has no outputs");
      ok = false;
    }
    if (!ok) return false;

    std::priority_queue<int, std::vector<int>, std::greater<>> ready;
    for (int i = 0; i < n; ++i) {
      if (pending[static_cast<std::size_t>(i)] == 0) ready.push(i);
    }
    while (!ready.empty()) {
      const int i = ready.top();
      ready.pop();
      order.push_back(i);
      for (int reader : readers[static_cast<std::size_t>(i)]) {
        if (--pending[static_cast<std::size_t>(reader)] == 0) ready.push(reader);
      }
    }
    if (static_cast<int>(order.size()) != n) {
      std::string cycle;
      int listed = 0;
      for (int i = 0; i < n && listed < 5; ++i) {
        if (pending[static_cast<std::size_t>(i)] > 0) {
          cycle += (listed++ > 0 ? ", " : "") + label(i);
        }
      }
      diag_.error(ErrorCode::kINVALID_MODEL,
                  "the graph has a cycle; these nodes wait on each other: " + cycle);
      return false;
    }
    return true;
  }

  // Finds the nodes no importer can take, by op type and domain, before anything is imported,
  // so the report lists them even when import stops early.
  void checkSupport() {
    for (int i = 0; i < graph_.node_size(); ++i) {
      const auto& node = graph_.node(i);
      if (!isDefaultDomain(node.domain())) {
        addUnsupported(i, "operators of domain '" + node.domain() +
                              "' are not supported (kiln imports the ai.onnx domain)");
        continue;
      }
      const ImporterInfo* info = findImporter(node.op_type());
      if (info == nullptr) {
        addUnsupported(i, missingImporterReason(node.op_type()));
      } else if (opset_ < info->sinceOpset) {
        addUnsupported(i, "kiln imports " + node.op_type() + " from opset " +
                              std::to_string(info->sinceOpset));
      } else if (std::string why = legacyOpsetProblem(node.op_type(), opset_); !why.empty()) {
        addUnsupported(i, std::move(why));
      }
    }
  }

  void addUnsupported(int index, std::string reason) {
    if (!unsupportedNodes_.insert(index).second) return;
    unsupported_.push_back({index, label(index), std::move(reason)});
  }

  void poison(const ::onnx::NodeProto& node) {
    for (const auto& out : node.output()) {
      if (out.empty()) continue;
      Value& v = state_.values[out];
      v = Value();
      v.failed = true;
    }
  }

  void importNode(int index) {
    const auto& node = graph_.node(index);
    if (unsupportedNodes_.count(index) != 0 || state_.broken) {
      poison(node);
      return;
    }
    for (const auto& in : node.input()) {
      if (!in.empty() && state_.values.at(in).failed) {
        poison(node);  // its producer was reported already
        return;
      }
    }
    const ImporterInfo* info = findImporter(node.op_type());
    NodeImport n(state_, node, nodeName(index), nodeOpset(node));
    try {
      checkLegacyNode(n);
      info->import(n);
      for (int32_t o = 0; o < n.nbOutputs(); ++o) {
        if (n.outputUsed(o) && !n.outputSet(o)) {
          addUnsupported(index, "output " + std::to_string(o) + " ('" + node.output(o) +
                                    "') is not produced by kiln's importer of " + node.op_type());
          poison(node);
          return;
        }
      }
      return;
    } catch (const UnsupportedNode& e) {
      addUnsupported(index, e.what());
    } catch (const Error& e) {
      diag_.error(e.code() == ErrorCode::kUNSUPPORTED_STATE ? ErrorCode::kINVALID_MODEL : e.code(),
                  label(index) + ": " + e.what());
    } catch (const std::exception& e) {
      diag_.error(ErrorCode::kINTERNAL_ERROR,
                  label(index) + ": internal error while importing: " + e.what());
    }
    // After a layer with bad settings (state_.broken) later nodes are only checked for support.
    poison(node);
  }

  void markOutputs() {
    std::set<std::string> marked;
    for (const auto& out : graph_.output()) {
      const std::string& name = out.name();
      if (!marked.insert(name).second) {
        diag_.error(ErrorCode::kINVALID_MODEL, "graph output '" + name + "' is listed twice");
        continue;
      }
      Value& value = state_.values.at(name);
      if (value.failed || state_.broken) continue;
      try {
        Tensor tensor = state_.materialize(name);
        // One tensor is one engine IO binding: an input, or a tensor that is already another
        // output, is copied so each output has its own name.
        if (tensor.isNetworkInput() || tensor.isNetworkOutput()) {
          IdentityLayer copy = network_.addIdentity(tensor);
          if (!copy) fail(ErrorCode::kINVALID_ARGUMENT, "the network refused a copy");
          copy.setName(name + "/copy");
          tensor = copy.output(0);
        }
        tensor.setName(name);
        if (!network_.markOutput(tensor)) {
          fail(ErrorCode::kINVALID_ARGUMENT, "the network refused to mark it as an output");
        }
        setOutputType(out, tensor);
      } catch (const Error& e) {
        diag_.error(e.code(), "graph output '" + name + "': " + e.what());
      }
    }
  }

  // Engine outputs keep the model's element type where kiln has it (int64 results are computed
  // in int32 and widened at the end).
  void setOutputType(const ::onnx::ValueInfoProto& out, Tensor tensor) {
    if (!out.type().has_tensor_type()) return;
    DataType type = tensor.type();
    switch (out.type().tensor_type().elem_type()) {
      case kOnnxInt64:
        type = DataType::kINT64;
        break;
      case kOnnxInt8:
        type = DataType::kINT8;
        break;
      case kOnnxUint8:
        type = DataType::kUINT8;
        break;
      case kOnnxInt16:
        type = DataType::kINT16;
        break;
      case kOnnxUint16:
        type = DataType::kUINT16;
        break;
      case kOnnxUint32:
        type = DataType::kUINT32;
        break;
      case kOnnxUint64:
        type = DataType::kUINT64;
        break;
      case kOnnxFloat16:
        type = DataType::kHALF;
        break;
      case kOnnxBfloat16:
        type = DataType::kBF16;
        break;
      case kOnnxDouble:
        diag_.warning("graph output '" + out.name() +
                      "' is float64; kiln computes in float32, so the engine output is float32");
        break;
      default:
        break;
    }
    if (type != tensor.type()) tensor.setType(type);
  }

  void reportUnsupported() {
    if (unsupported_.empty()) return;
    std::stable_sort(unsupported_.begin(), unsupported_.end(),
                     [](const auto& a, const auto& b) { return a.index < b.index; });
    std::string text = std::to_string(unsupported_.size()) + " unsupported node" +
                       (unsupported_.size() == 1 ? "" : "s") + " (of " +
                       std::to_string(graph_.node_size()) + "):";
    for (const auto& entry : unsupported_) text += "\n  " + entry.label + ": " + entry.reason;
    diag_.error(ErrorCode::kUNSUPPORTED_NODE, text);
  }

  const ::onnx::ModelProto& model_;
  const ::onnx::GraphProto& graph_;
  const ImportOptions& options_;
  NetworkDefinition& network_;
  Diagnostics& diag_;
  ImportState state_;
  int64_t opset_ = 0;
  std::map<std::string, int64_t> domains_;
  std::vector<UnsupportedEntry> unsupported_;
  std::set<int> unsupportedNodes_;
};

}  // namespace

bool importModel(const ::onnx::ModelProto& model, const ImportOptions& options,
                 NetworkDefinition& network, Diagnostics& diag, int64_t& opset) {
  GraphImporter importer(model, options, network, diag);
  return importer.run(opset);
}

}  // namespace kiln::parsers::onnx_import
