// NetworkDefinition, Tensor and Layer: the parts shared by every layer type. Each layer family
// adds its add* function and settings in src/network/layers/<family>.cpp.
#include <algorithm>
#include <array>
#include <cstring>

#include "core/half.h"
#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "network/network_impl.h"

namespace kiln {

using detail::HandleAccess;
using detail::NetworkImpl;

namespace detail {

namespace {
struct LayerTypeName {
  LayerType type;
  std::string_view op;
};
constexpr std::array kLayerTypeNames = {
    LayerTypeName{LayerType::kCONVOLUTION, "Convolution"},
    LayerTypeName{LayerType::kDECONVOLUTION, "Deconvolution"},
    LayerTypeName{LayerType::kPOOLING, "Pooling"},
    LayerTypeName{LayerType::kFULLY_CONNECTED, "FullyConnected"},
    LayerTypeName{LayerType::kMATRIX_MULTIPLY, "MatrixMultiply"},
    LayerTypeName{LayerType::kACTIVATION, "Activation"},
    LayerTypeName{LayerType::kSOFTMAX, "SoftMax"},
    LayerTypeName{LayerType::kELEMENTWISE, "ElementWise"},
    LayerTypeName{LayerType::kUNARY, "Unary"},
    LayerTypeName{LayerType::kSCALE, "Scale"},
    LayerTypeName{LayerType::kCONCATENATION, "Concatenation"},
    LayerTypeName{LayerType::kSHUFFLE, "Shuffle"},
    LayerTypeName{LayerType::kCONSTANT, "Constant"},
    LayerTypeName{LayerType::kPADDING, "Padding"},
    LayerTypeName{LayerType::kLRN, "LRN"},
    LayerTypeName{LayerType::kREDUCE, "Reduce"},
    LayerTypeName{LayerType::kTOPK, "TopK"},
    LayerTypeName{LayerType::kGATHER, "Gather"},
    LayerTypeName{LayerType::kSLICE, "Slice"},
    LayerTypeName{LayerType::kIDENTITY, "Identity"},
    LayerTypeName{LayerType::kSELECT, "Select"},
    LayerTypeName{LayerType::kRESIZE, "Resize"},
    LayerTypeName{LayerType::kSCATTER, "Scatter"},
    LayerTypeName{LayerType::kCUMULATIVE, "Cumulative"},
    LayerTypeName{LayerType::kONE_HOT, "OneHot"},
    LayerTypeName{LayerType::kGRID_SAMPLE, "GridSample"},
    LayerTypeName{LayerType::kTRILU, "Trilu"},
    LayerTypeName{LayerType::kLOSS, "Loss"},
    LayerTypeName{LayerType::kQUANTIZE, "Quantize"},
    LayerTypeName{LayerType::kDEQUANTIZE, "Dequantize"},
    LayerTypeName{LayerType::kDETERMINANT, "Determinant"},
    LayerTypeName{LayerType::kREVERSE_SEQUENCE, "ReverseSequence"},
    LayerTypeName{LayerType::kROI_ALIGN, "RoiAlign"},
    LayerTypeName{LayerType::kMAX_POOLING_INDICES, "MaxPoolIndices"},
    LayerTypeName{LayerType::kEINSUM, "Einsum"},
    LayerTypeName{LayerType::kDFT, "DFT"},
    LayerTypeName{LayerType::kTFIDF_VECTORIZER, "TfIdfVectorizer"},
    LayerTypeName{LayerType::kMAX_UNPOOL, "MaxUnpool"},
    LayerTypeName{LayerType::kDROPOUT, "Dropout"},
    LayerTypeName{LayerType::kNON_ZERO, "NonZero"},
    LayerTypeName{LayerType::kNMS, "NMS"},
    LayerTypeName{LayerType::kCOMPRESS, "Compress"},
    LayerTypeName{LayerType::kUNIQUE, "Unique"},
    LayerTypeName{LayerType::kRANGE, "Range"},
    // One layer type, three ops (each with its own outputs): opName gives the first.
    LayerTypeName{LayerType::kRNN, "RNN"},
    LayerTypeName{LayerType::kRNN, "LSTM"},
    LayerTypeName{LayerType::kRNN, "GRU"},
};
}  // namespace

std::string_view opName(LayerType type) noexcept {
  for (const auto& entry : kLayerTypeNames) {
    if (entry.type == type) return entry.op;
  }
  return "Unknown";
}

bool layerTypeOf(std::string_view op, LayerType& type) noexcept {
  for (const auto& entry : kLayerTypeNames) {
    if (entry.op == op) {
      type = entry.type;
      return true;
    }
  }
  return false;
}

ir::ValueId NetworkImpl::valueOf(const Tensor& tensor, std::string_view what) const {
  if (!tensor) fail(ErrorCode::kINVALID_ARGUMENT, what, " is a null tensor");
  if (HandleAccess::net(tensor) != this) {
    fail(ErrorCode::kINVALID_ARGUMENT, what, " belongs to another network");
  }
  const int32_t id = HandleAccess::id(tensor);
  if (id < 0 || static_cast<std::size_t>(id) >= graph_.values.size()) {
    fail(ErrorCode::kINVALID_ARGUMENT, what, " is no longer part of the network");
  }
  return id;
}

std::string NetworkImpl::uniqueLayerName(LayerType type) const {
  return std::string(opName(type)) + "_" + std::to_string(graph_.nodes.size());
}

ir::NodeId NetworkImpl::addLayer(LayerType type, std::vector<ir::ValueId> inputs,
                                 int32_t nbOutputs) {
  const ir::NodeId id = graph_.addNode(uniqueLayerName(type), std::string(opName(type)),
                                       std::move(inputs), nbOutputs);
  return id;
}

namespace {

bool hasDynamicExtent(std::span<const ir::TensorInfo> inputs) {
  for (const auto& info : inputs) {
    for (int32_t i = 0; info.present && i < info.dims.nbDims; ++i) {
      if (info.dims[i] < 0) return true;
    }
  }
  return false;
}

// Shapes of a layer whose inputs have extents of -1 (dynamic inputs, known once an optimization
// profile fixes them): inferred twice with the -1s replaced by two different probe extents; an
// output extent that differs between the two depends on them and is -1. The builder infers
// every shape again at the profile's real shapes, so these shapes only inform (parsers and
// Tensor::dimensions); a layer that cannot be inferred with the probes is reported as usual.
std::vector<ir::TensorInfo> inferWithDynamicExtents(const ir::Node& node,
                                                    std::span<const ir::TensorInfo> inputs) {
  constexpr std::array<int64_t, 2> kProbes = {97, 131};
  std::array<std::vector<ir::TensorInfo>, 2> results;
  for (std::size_t p = 0; p < kProbes.size(); ++p) {
    std::vector<ir::TensorInfo> probed(inputs.begin(), inputs.end());
    for (auto& info : probed) {
      for (int32_t i = 0; i < info.dims.nbDims; ++i) {
        if (info.dims[i] < 0) info.dims[i] = kProbes[p];
      }
    }
    results[p] = ir::inferNode(node, probed);
  }
  std::vector<ir::TensorInfo> outputs = results[0];
  for (std::size_t o = 0; o < outputs.size(); ++o) {
    Dims& dims = outputs[o].dims;
    const Dims& other = results[1][o].dims;
    if (dims.nbDims != other.nbDims) {
      fail(ErrorCode::kUNSUPPORTED_STATE, "layer '", node.name, "' (", node.op,
           "): the rank of output ", o, " depends on a dynamic input extent");
    }
    for (int32_t i = 0; i < dims.nbDims; ++i) {
      if (dims[i] != other[i]) dims[i] = -1;
    }
  }
  return outputs;
}

}  // namespace

void NetworkImpl::inferNodeLeniently(ir::NodeId id) {
  problems_.resize(graph_.nodes.size());
  problems_[static_cast<std::size_t>(id)].reset();
  const ir::Node& node = graph_.node(id);
  std::vector<ir::TensorInfo> inputs;
  bool inputsKnown = true;
  for (ir::ValueId v : node.inputs) {
    ir::TensorInfo info;
    if (v == ir::kNoValue) {
      info.present = false;
    } else {
      const ir::Value& value = graph_.value(v);
      info.dtype = value.dtype;
      info.dims = value.dims;
      info.constData = ir::knownConstantData(graph_, v);
      info.boundedExtents = value.boundedExtents;
      inputsKnown = inputsKnown && value.dims.nbDims >= 0;
    }
    inputs.push_back(info);
  }
  std::vector<ir::TensorInfo> outputs(node.outputs.size());
  if (inputsKnown) {
    try {
      outputs = hasDynamicExtent(inputs) ? inferWithDynamicExtents(node, inputs)
                                         : ir::inferNode(node, inputs);
    } catch (const Error& e) {
      problems_[static_cast<std::size_t>(id)] = e;
      inputsKnown = false;
    }
  }
  for (std::size_t i = 0; i < node.outputs.size(); ++i) {
    ir::Value& out = graph_.value(node.outputs[i]);
    if (inputsKnown) {
      out.dtype = outputs[i].dtype;
      out.dims = outputs[i].dims;
      out.boundedExtents = outputs[i].boundedExtents;
    } else {
      out.dims = Dims{};
      out.dims.nbDims = -1;  // unknown until the layer (or one before it) is fixed
    }
  }
}

void NetworkImpl::inferLayer(ir::NodeId id) {
  if (dirty_) {
    ensureShapes();
  } else {
    inferNodeLeniently(id);
  }
  if (const auto& problem = problems_[static_cast<std::size_t>(id)]) {
    reporter_.verbose(std::string("shapes not valid yet (checked again when needed): ") +
                      problem->what());
  }
}

Dims NetworkImpl::dimsOf(ir::ValueId value) {
  ensureShapes();
  const Dims dims = graph_.value(value).dims;
  if (dims.nbDims >= 0) return dims;
  // Find the layer at fault among those @p value depends on.
  std::vector<bool> seen(graph_.values.size(), false);
  std::vector<ir::ValueId> pending{value};
  while (!pending.empty()) {
    const ir::ValueId v = pending.back();
    pending.pop_back();
    if (v == ir::kNoValue || seen[static_cast<std::size_t>(v)]) continue;
    seen[static_cast<std::size_t>(v)] = true;
    const ir::NodeId producer = graph_.value(v).producer;
    if (producer == ir::kNoNode) continue;
    if (problems_[static_cast<std::size_t>(producer)]) {
      inferNodeLeniently(producer);  // again, so the message carries the layer's current name
      if (const auto& problem = problems_[static_cast<std::size_t>(producer)]) throw *problem;
    }
    for (ir::ValueId in : graph_.node(producer).inputs) pending.push_back(in);
  }
  return dims;
}

namespace {
// Copies user weights of @p type into @p out as FP32 (asFloat) or as they are.
std::vector<std::byte> copyWeights(const Weights& weights, bool asFloat, DataType& storedType) {
  const auto count = static_cast<std::size_t>(weights.count);
  if (!asFloat || weights.type == DataType::kFLOAT ||
      (weights.type != DataType::kHALF && weights.type != DataType::kBF16)) {
    storedType = weights.type;
    std::vector<std::byte> bytes(count * elementSize(weights.type));
    if (!bytes.empty()) std::memcpy(bytes.data(), weights.values, bytes.size());
    return bytes;
  }
  storedType = DataType::kFLOAT;
  std::vector<std::byte> bytes(count * sizeof(float));
  const auto* src = static_cast<const uint16_t*>(weights.values);
  auto* dst = reinterpret_cast<float*>(bytes.data());
  for (std::size_t i = 0; i < count; ++i) {
    dst[i] = weights.type == DataType::kHALF ? halfToFloat(src[i]) : bfloat16ToFloat(src[i]);
  }
  return bytes;
}
}  // namespace

ir::ValueId NetworkImpl::addWeights(std::string name, const Dims& dims, const Weights& weights,
                                    std::string_view what, bool asFloat) {
  if (!isValidDataType(static_cast<int32_t>(weights.type))) {
    fail(ErrorCode::kINVALID_ARGUMENT, what, " has unknown data type ",
         static_cast<int32_t>(weights.type));
  }
  if (weights.count < 0) {
    fail(ErrorCode::kINVALID_ARGUMENT, what, " has a negative count (", weights.count, ")");
  }
  if (weights.values == nullptr && weights.count > 0) {
    fail(ErrorCode::kINVALID_ARGUMENT, what, " has count ", weights.count, " but no values");
  }
  const int64_t expected = checkedVolume(dims, what);
  if (weights.count != expected) {
    fail(ErrorCode::kINVALID_ARGUMENT, what, " has ", weights.count, " values; shape ",
         toString(dims), " needs ", expected);
  }
  DataType stored = weights.type;
  auto bytes = copyWeights(weights, asFloat, stored);
  return graph_.addConstant(std::move(name), stored, dims, std::move(bytes));
}

void NetworkImpl::setWeightsInput(ir::NodeId nodeId, int32_t inputIndex, const Dims& dims,
                                  const Weights& weights, std::string_view what) {
  ir::Node& node = graph_.node(nodeId);
  const std::string name = node.name + "." + std::string(what);
  const ir::ValueId value = addWeights(name, dims, weights, what);
  ir::Node& same = graph_.node(nodeId);  // addWeights may have grown the vectors
  if (static_cast<std::size_t>(inputIndex) >= same.inputs.size()) {
    same.inputs.resize(static_cast<std::size_t>(inputIndex) + 1, ir::kNoValue);
  }
  same.inputs[static_cast<std::size_t>(inputIndex)] = value;
  (void)node;
  dirty_ = true;
}

void NetworkImpl::ensureShapes() {
  if (!dirty_) return;
  problems_.assign(graph_.nodes.size(), std::nullopt);
  for (ir::NodeId n : graph_.topologicalOrder()) inferNodeLeniently(n);
  dirty_ = false;
}

void NetworkImpl::reportNull(std::string_view api) const {
  reporter_.error(ErrorCode::kINVALID_ARGUMENT, std::string(api) + ": called on a null handle");
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Tensor

namespace {
// Runs @p body on the value behind @p t, logging errors; @p fallback for null handles.
template <typename Result, typename Body>
Result withValue(const Tensor& t, std::string_view api, Result fallback, Body&& body) {
  NetworkImpl* net = HandleAccess::net(t);
  if (net == nullptr) return fallback;
  try {
    return body(*net, HandleAccess::id(t));
  } catch (const Error& e) {
    net->reporter().error(e.code(), std::string(api) + ": " + e.what());
  } catch (const std::exception& e) {
    net->reporter().error(ErrorCode::kINTERNAL_ERROR, std::string(api) + ": " + e.what());
  }
  return fallback;
}
}  // namespace

std::string_view Tensor::name() const {
  return withValue<std::string_view>(
      *this, "Tensor::name", {},
      [](NetworkImpl& net, int32_t id) -> std::string_view { return net.graph().value(id).name; });
}

void Tensor::setName(std::string_view name) {
  withValue<int>(*this, "Tensor::setName", 0, [&](NetworkImpl& net, int32_t id) {
    if (name.empty()) fail(ErrorCode::kINVALID_ARGUMENT, "a tensor name may not be empty");
    net.graph().value(id).name = std::string(name);
    return 0;
  });
}

Dims Tensor::dimensions() const {
  Dims unknown;
  unknown.nbDims = -1;
  return withValue<Dims>(*this, "Tensor::dimensions", unknown, [](NetworkImpl& net, int32_t id) {
    // Data-dependent extents are -1, as TensorRT shows them.
    Dims dims = net.dimsOf(id);
    const uint32_t bounded = net.graph().value(id).boundedExtents;
    for (int32_t i = 0; i < dims.nbDims; ++i) {
      if ((bounded >> i) & 1u) dims[i] = -1;
    }
    return dims;
  });
}

void Tensor::setDimensions(const Dims& dims) {
  withValue<int>(*this, "Tensor::setDimensions", 0, [&](NetworkImpl& net, int32_t id) {
    if (!net.graph().isGraphInput(id)) {
      fail(ErrorCode::kINVALID_ARGUMENT, "tensor '", net.graph().value(id).name,
           "' is not a network input; only input shapes can be set");
    }
    if (dims.nbDims < 0 || dims.nbDims > Dims::kMaxRank) {
      fail(ErrorCode::kINVALID_ARGUMENT, "rank ", dims.nbDims, " is outside [0, 8]");
    }
    net.graph().value(id).dims = dims;
    net.markDirty();
    return 0;
  });
}

DataType Tensor::type() const {
  return withValue<DataType>(
      *this, "Tensor::type", DataType::kFLOAT, [](NetworkImpl& net, int32_t id) {
        net.ensureShapes();
        const auto& value = net.graph().value(id);
        if (value.producer != ir::kNoNode) {
          const auto& req = net.graph()
                                .node(value.producer)
                                .outputTypes[static_cast<std::size_t>(value.producerOutput)];
          if (req) return *req;
        }
        return value.dtype;
      });
}

void Tensor::setType(DataType type) {
  withValue<int>(*this, "Tensor::setType", 0, [&](NetworkImpl& net, int32_t id) {
    if (!isValidDataType(static_cast<int32_t>(type))) {
      fail(ErrorCode::kINVALID_ARGUMENT, "unknown data type ", static_cast<int32_t>(type));
    }
    auto& value = net.graph().value(id);
    if (value.producer == ir::kNoNode) {
      if (value.isConstant()) {
        fail(ErrorCode::kINVALID_ARGUMENT, "tensor '", value.name,
             "' is a constant; its type comes from its weights");
      }
      value.dtype = type;
    } else {
      net.graph().node(value.producer).outputTypes[static_cast<std::size_t>(value.producerOutput)] =
          type;
    }
    net.markDirty();
    return 0;
  });
}

bool Tensor::isNetworkInput() const {
  return withValue<bool>(*this, "Tensor::isNetworkInput", false,
                         [](NetworkImpl& net, int32_t id) { return net.graph().isGraphInput(id); });
}

bool Tensor::isShapeTensor() const {
  return withValue<bool>(*this, "Tensor::isShapeTensor", false, [](NetworkImpl& net, int32_t id) {
    const ir::Graph& graph = net.graph();
    const ir::Value& value = graph.value(id);
    return graph.isGraphInput(id) &&
           (value.dtype == DataType::kINT32 || value.dtype == DataType::kINT64 ||
            value.dtype == DataType::kFLOAT) &&
           value.dims.nbDims >= 0 && value.dims.nbDims <= 1 &&
           ir::shapeInputUse(graph, id).first != ir::kNoNode;
  });
}

bool Tensor::isNetworkOutput() const {
  return withValue<bool>(*this, "Tensor::isNetworkOutput", false, [](NetworkImpl& net, int32_t id) {
    return net.graph().isGraphOutput(id);
  });
}

Layer Tensor::producer() const {
  return withValue<Layer>(*this, "Tensor::producer", Layer(), [](NetworkImpl& net, int32_t id) {
    const auto producer = net.graph().value(id).producer;
    return producer == ir::kNoNode ? Layer() : HandleAccess::layer<Layer>(&net, producer);
  });
}

// ---------------------------------------------------------------------------------------------
// Layer

std::string_view toString(LayerType type) noexcept {
  return detail::opName(type);
}

LayerType Layer::type() const {
  return detail::readLayer<LayerType>(
      *this, "Layer::type",
      [](const ir::Node& node) {
        LayerType type = LayerType::kIDENTITY;
        detail::layerTypeOf(node.op, type);
        return type;
      },
      LayerType::kIDENTITY);
}

std::string_view Layer::name() const {
  return detail::readLayer<std::string_view>(
      *this, "Layer::name", [](const ir::Node& node) -> std::string_view { return node.name; }, {});
}

void Layer::setName(std::string_view name) {
  // Names do not affect shapes: read-only access keeps the network's shapes valid (a parser
  // naming every layer would otherwise re-infer the whole graph per layer).
  detail::writeLayer(
      *this, "Layer::setName",
      [&](ir::Node& node, ir::NodeId) {
        if (name.empty()) fail(ErrorCode::kINVALID_ARGUMENT, "a layer name may not be empty");
        node.name = std::string(name);
        node.fusedFrom = {node.name};
      },
      detail::ShapeEffect::kNone);
}

int32_t Layer::nbInputs() const {
  return detail::readLayer<int32_t>(
      *this, "Layer::nbInputs",
      [](const ir::Node& node) { return static_cast<int32_t>(node.inputs.size()); }, 0);
}

Tensor Layer::input(int32_t index) const {
  return detail::readLayer<Tensor>(
      *this, "Layer::input",
      [&](const ir::Node& node) {
        if (index < 0 || static_cast<std::size_t>(index) >= node.inputs.size()) {
          fail(ErrorCode::kINVALID_ARGUMENT, "layer '", node.name, "' has no input ", index);
        }
        const auto v = node.inputs[static_cast<std::size_t>(index)];
        return v == ir::kNoValue ? Tensor() : HandleAccess::tensor(net_, v);
      },
      Tensor());
}

void Layer::setInput(int32_t index, Tensor tensor) {
  detail::writeLayer(*this, "Layer::setInput", [&](ir::Node& node, ir::NodeId) {
    const ir::ValueId v = net_->valueOf(tensor, "the new input");
    if (index < 0 || static_cast<std::size_t>(index) > node.inputs.size()) {
      fail(ErrorCode::kINVALID_ARGUMENT, "layer '", node.name, "' has ", node.inputs.size(),
           " inputs; index ", index, " is out of range");
    }
    if (static_cast<std::size_t>(index) == node.inputs.size()) {
      node.inputs.push_back(v);
    } else {
      node.inputs[static_cast<std::size_t>(index)] = v;
    }
  });
}

int32_t Layer::nbOutputs() const {
  return detail::readLayer<int32_t>(
      *this, "Layer::nbOutputs",
      [](const ir::Node& node) { return static_cast<int32_t>(node.outputs.size()); }, 0);
}

Tensor Layer::output(int32_t index) const {
  return detail::readLayer<Tensor>(
      *this, "Layer::output",
      [&](const ir::Node& node) {
        if (index < 0 || static_cast<std::size_t>(index) >= node.outputs.size()) {
          fail(ErrorCode::kINVALID_ARGUMENT, "layer '", node.name, "' has no output ", index);
        }
        return HandleAccess::tensor(net_, node.outputs[static_cast<std::size_t>(index)]);
      },
      Tensor());
}

void Layer::setPrecision(DataType type) {
  detail::writeLayer(*this, "Layer::setPrecision",
                     [&](ir::Node& node, ir::NodeId) { node.precision = type; });
}

DataType Layer::precision() const {
  return detail::readLayer<DataType>(
      *this, "Layer::precision",
      [](const ir::Node& node) { return node.precision.value_or(DataType::kFLOAT); },
      DataType::kFLOAT);
}

bool Layer::precisionIsSet() const {
  return detail::readLayer<bool>(
      *this, "Layer::precisionIsSet",
      [](const ir::Node& node) { return node.precision.has_value(); }, false);
}

void Layer::setOutputType(int32_t index, DataType type) {
  detail::writeLayer(*this, "Layer::setOutputType", [&](ir::Node& node, ir::NodeId) {
    if (index < 0 || static_cast<std::size_t>(index) >= node.outputs.size()) {
      fail(ErrorCode::kINVALID_ARGUMENT, "layer '", node.name, "' has no output ", index);
    }
    if (!isValidDataType(static_cast<int32_t>(type))) {
      fail(ErrorCode::kINVALID_ARGUMENT, "unknown data type ", static_cast<int32_t>(type));
    }
    node.outputTypes[static_cast<std::size_t>(index)] = type;
  });
}

DataType Layer::outputType(int32_t index) const {
  NetworkImpl* net = net_;
  if (net == nullptr) return DataType::kFLOAT;
  return output(index).type();
}

// ---------------------------------------------------------------------------------------------
// NetworkDefinition

NetworkDefinition::NetworkDefinition(std::unique_ptr<detail::NetworkImpl> impl)
    : impl_(std::move(impl)) {}

NetworkDefinition::~NetworkDefinition() = default;

Tensor NetworkDefinition::addInput(std::string_view name, DataType type, const Dims& dims) {
  try {
    if (name.empty()) fail(ErrorCode::kINVALID_ARGUMENT, "an input needs a name");
    if (!isValidDataType(static_cast<int32_t>(type))) {
      fail(ErrorCode::kINVALID_ARGUMENT, "input '", name, "' has unknown data type ",
           static_cast<int32_t>(type));
    }
    if (dims.nbDims < 0 || dims.nbDims > Dims::kMaxRank) {
      fail(ErrorCode::kINVALID_ARGUMENT, "input '", name, "' has rank ", dims.nbDims,
           ", outside [0, 8]");
    }
    for (int32_t i = 0; i < dims.nbDims; ++i) {
      if (dims[i] < -1) {
        fail(ErrorCode::kINVALID_ARGUMENT, "input '", name, "' has extent ", dims[i],
             " in dimension ", i, " (use -1 for a dimension known only at run time)");
      }
    }
    auto& graph = impl_->graph();
    for (ir::ValueId v : graph.inputs) {
      if (graph.value(v).name == name) {
        fail(ErrorCode::kINVALID_ARGUMENT, "the network already has an input named '", name, "'");
      }
    }
    const ir::ValueId id = graph.addValue(std::string(name), type, dims);
    graph.inputs.push_back(id);
    impl_->markDirty();
    return HandleAccess::tensor(impl_.get(), id);
  } catch (const Error& e) {
    impl_->reporter().error(e.code(), std::string("addInput: ") + e.what());
  }
  return Tensor();
}

bool NetworkDefinition::markOutput(Tensor tensor) {
  try {
    const ir::ValueId v = impl_->valueOf(tensor, "markOutput's tensor");
    auto& outputs = impl_->graph().outputs;
    if (std::find(outputs.begin(), outputs.end(), v) == outputs.end()) outputs.push_back(v);
    return true;
  } catch (const Error& e) {
    impl_->reporter().error(e.code(), std::string("markOutput: ") + e.what());
  }
  return false;
}

void NetworkDefinition::unmarkOutput(Tensor tensor) {
  try {
    const ir::ValueId v = impl_->valueOf(tensor, "unmarkOutput's tensor");
    auto& outputs = impl_->graph().outputs;
    outputs.erase(std::remove(outputs.begin(), outputs.end(), v), outputs.end());
  } catch (const Error& e) {
    impl_->reporter().error(e.code(), std::string("unmarkOutput: ") + e.what());
  }
}

int32_t NetworkDefinition::nbInputs() const {
  return static_cast<int32_t>(impl_->graph().inputs.size());
}

Tensor NetworkDefinition::input(int32_t index) const {
  const auto& inputs = impl_->graph().inputs;
  if (index < 0 || static_cast<std::size_t>(index) >= inputs.size()) return Tensor();
  return HandleAccess::tensor(impl_.get(), inputs[static_cast<std::size_t>(index)]);
}

int32_t NetworkDefinition::nbOutputs() const {
  return static_cast<int32_t>(impl_->graph().outputs.size());
}

Tensor NetworkDefinition::output(int32_t index) const {
  const auto& outputs = impl_->graph().outputs;
  if (index < 0 || static_cast<std::size_t>(index) >= outputs.size()) return Tensor();
  return HandleAccess::tensor(impl_.get(), outputs[static_cast<std::size_t>(index)]);
}

int32_t NetworkDefinition::nbLayers() const {
  return static_cast<int32_t>(impl_->graph().nodes.size());
}

Layer NetworkDefinition::layer(int32_t index) const {
  if (index < 0 || index >= nbLayers()) return Layer();
  return HandleAccess::layer<Layer>(impl_.get(), index);
}

Tensor NetworkDefinition::tensor(std::string_view name) const {
  const auto& values = impl_->graph().values;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i].name == name) return HandleAccess::tensor(impl_.get(), static_cast<int32_t>(i));
  }
  return Tensor();
}

void NetworkDefinition::setName(std::string_view name) {
  impl_->graph().name = std::string(name);
}

std::string_view NetworkDefinition::name() const {
  return impl_->graph().name;
}

}  // namespace kiln
