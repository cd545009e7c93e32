#include "parsers/onnx/node_import.h"

#include <algorithm>

#include "core/error.h"

namespace kiln::parsers::onnx_import {

namespace {
const ::onnx::AttributeProto* findAttr(const ::onnx::NodeProto& node, std::string_view name) {
  for (const auto& a : node.attribute()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}

std::string typeOfAttr(const ::onnx::AttributeProto& a) {
  return ::onnx::AttributeProto::AttributeType_Name(a.type());
}
}  // namespace

Tensor ImportState::materialize(const std::string& name) {
  Value& value = values.at(name);
  if (value.tensor) return value.tensor;
  KILN_ASSERT(value.constant != nullptr);
  const ConstTensor& c = *value.constant;
  const auto bytes = c.kilnBytes("tensor '" + name + "'");
  Weights weights{c.kilnType(), bytes.empty() ? nullptr : bytes.data(), c.count()};
  ConstantLayer layer = network.addConstant(c.dims(), weights);
  if (!layer) {
    fail(ErrorCode::kINVALID_MODEL, "the network refused constant '", name,
         "' (its reason is logged above)");
  }
  layer.setName(name);
  Tensor tensor = layer.output(0);
  tensor.setName(name);
  value.tensor = tensor;
  return tensor;
}

NodeImport::NodeImport(ImportState& state, const ::onnx::NodeProto& node, std::string name,
                       int64_t opsetVersion)
    : network(state.network),
      proto(node),
      opset(opsetVersion),
      state_(state),
      name_(std::move(name)) {}

bool NodeImport::hasInput(int32_t i) const noexcept {
  return i >= 0 && i < proto.input_size() && !proto.input(i).empty();
}

const std::string& NodeImport::inputName(int32_t i) const {
  static const std::string kAbsent;
  return i >= 0 && i < proto.input_size() ? proto.input(i) : kAbsent;
}

const ConstTensor* NodeImport::constantInput(int32_t i) const {
  if (!hasInput(i)) return nullptr;
  return state_.values.at(proto.input(i)).constant.get();
}

bool NodeImport::allInputsConstant() const {
  for (int32_t i = 0; i < nbInputs(); ++i) {
    if (hasInput(i) && constantInput(i) == nullptr) return false;
  }
  return true;
}

const ConstTensor& NodeImport::requireConstant(int32_t i, std::string_view what) const {
  if (!hasInput(i)) invalid(std::string(what) + " (input " + std::to_string(i) + ") is missing");
  const ConstTensor* c = constantInput(i);
  if (c == nullptr) {
    unsupported(std::string(what) + " (input " + std::to_string(i) + " '" + proto.input(i) +
                "') must be known when the network is built (an initializer, a Constant, or "
                "shape arithmetic on static shapes); it is computed at run time here");
  }
  return *c;
}

Tensor NodeImport::input(int32_t i) {
  if (!hasInput(i)) invalid("input " + std::to_string(i) + " is missing");
  return state_.materialize(proto.input(i));
}

Tensor NodeImport::shapeInput(int32_t i) {
  Tensor tensor = input(i);
  // The int32 conversion of an int64 input, and a Cast of it (a window's Cast(size) to float).
  Tensor source = tensor;
  for (int32_t hop = 0; hop < 2; ++hop) {
    const Layer producer = source.producer();
    if (!producer || producer.type() != LayerType::kIDENTITY || producer.nbInputs() != 1) break;
    source = producer.input(0);
    if (source.isNetworkInput()) return source;
  }
  return tensor;
}

bool NodeImport::isShapeTensorInput(int32_t i, bool orFloat) {
  if (!hasInput(i) || constantInput(i) != nullptr) return false;
  const Tensor t = shapeInput(i);
  const Dims dims = t.dimensions();
  return t.isNetworkInput() &&
         (t.type() == DataType::kINT32 || t.type() == DataType::kINT64 ||
          (orFloat && t.type() == DataType::kFLOAT)) &&
         dims.nbDims >= 0 && dims.nbDims <= 1;
}

Dims NodeImport::inputDims(int32_t i) const {
  if (!hasInput(i)) invalid("input " + std::to_string(i) + " is missing");
  const Value& v = state_.values.at(proto.input(i));
  if (v.constant) return v.constant->dims();
  const Dims dims = v.tensor.dimensions();
  // Importers compute with the rank and extents; a shape the network could not infer (its
  // reason is logged) must not reach them as rank -1.
  if (dims.nbDims < 0) {
    fail(ErrorCode::kINVALID_ARGUMENT, "the shape of input ", i, " ('", proto.input(i),
         "') could not be inferred (the reason is logged above)");
  }
  return dims;
}

DataType NodeImport::inputType(int32_t i) const {
  if (!hasInput(i)) invalid("input " + std::to_string(i) + " is missing");
  const Value& v = state_.values.at(proto.input(i));
  if (v.constant) return v.constant->kilnType();
  return v.tensor.type();
}

const ::onnx::AttributeProto* NodeImport::attr(std::string_view name) const {
  return findAttr(proto, name);
}

int64_t NodeImport::attrInt(std::string_view name, int64_t fallback) const {
  const auto* a = attr(name);
  if (a == nullptr) return fallback;
  if (a->type() != ::onnx::AttributeProto::INT && !(a->type() == 0 && a->has_i())) {
    invalid("attribute '" + std::string(name) + "' must be an INT, not " + typeOfAttr(*a));
  }
  return a->i();
}

float NodeImport::attrFloat(std::string_view name, float fallback) const {
  const auto* a = attr(name);
  if (a == nullptr) return fallback;
  if (a->type() == ::onnx::AttributeProto::INT) return static_cast<float>(a->i());
  if (a->type() != ::onnx::AttributeProto::FLOAT && !(a->type() == 0 && a->has_f())) {
    invalid("attribute '" + std::string(name) + "' must be a FLOAT, not " + typeOfAttr(*a));
  }
  return a->f();
}

std::string NodeImport::attrString(std::string_view name, std::string_view fallback) const {
  const auto* a = attr(name);
  if (a == nullptr) return std::string(fallback);
  if (a->type() != ::onnx::AttributeProto::STRING && !(a->type() == 0 && a->has_s())) {
    invalid("attribute '" + std::string(name) + "' must be a STRING, not " + typeOfAttr(*a));
  }
  return a->s();
}

std::vector<int64_t> NodeImport::attrInts(std::string_view name) const {
  const auto* a = attr(name);
  if (a == nullptr) return {};
  if (a->type() != ::onnx::AttributeProto::INTS && a->type() != 0) {
    invalid("attribute '" + std::string(name) + "' must be INTS, not " + typeOfAttr(*a));
  }
  return {a->ints().begin(), a->ints().end()};
}

std::vector<float> NodeImport::attrFloats(std::string_view name) const {
  const auto* a = attr(name);
  if (a == nullptr) return {};
  if (a->type() != ::onnx::AttributeProto::FLOATS && a->type() != 0) {
    invalid("attribute '" + std::string(name) + "' must be FLOATS, not " + typeOfAttr(*a));
  }
  return {a->floats().begin(), a->floats().end()};
}

std::optional<ConstTensor> NodeImport::attrTensor(std::string_view name) const {
  const auto* a = attr(name);
  if (a == nullptr) return std::nullopt;
  if (a->type() != ::onnx::AttributeProto::TENSOR && !(a->type() == 0 && a->has_t())) {
    invalid("attribute '" + std::string(name) + "' must be a TENSOR, not " + typeOfAttr(*a));
  }
  return decodeTensor(a->t(), state_.root, state_.constants,
                      "attribute '" + std::string(name) + "'");
}

bool NodeImport::outputUsed(int32_t i) const {
  if (i < 0 || i >= proto.output_size() || proto.output(i).empty()) return false;
  return state_.consumed.count(proto.output(i)) != 0;
}

void NodeImport::setOutput(int32_t i, Tensor tensor) {
  KILN_ASSERT(i >= 0);
  // Trailing optional outputs may be left out of the list, as "" may name them.
  if (i >= proto.output_size() || proto.output(i).empty()) return;
  if (!tensor) fail(ErrorCode::kINVALID_ARGUMENT, "the network rejected output ", i);
  if (!tensor.isNetworkInput()) tensor.setName(proto.output(i));
  // Profiles and messages name layers; the one writing the node's output carries its name.
  if (!plainNameUsed_) {
    const Layer producer = tensor.producer();
    if (std::find(added_.begin(), added_.end(), producer) != added_.end()) {
      Layer(producer).setName(name_);
      plainNameUsed_ = true;
    }
  }
  Value& v = state_.values[proto.output(i)];
  v.tensor = tensor;
  v.constant.reset();
}

void NodeImport::setOutput(int32_t i, ConstTensor values) {
  KILN_ASSERT(i >= 0);
  if (i >= proto.output_size() || proto.output(i).empty()) return;
  Value& v = state_.values[proto.output(i)];
  v.tensor = Tensor();
  v.constant = std::make_shared<const ConstTensor>(std::move(values));
}

void NodeImport::forward(int32_t j, int32_t i) {
  if (!hasInput(j)) invalid("input " + std::to_string(j) + " is missing");
  if (i >= proto.output_size() || proto.output(i).empty()) return;
  const Value source = state_.values.at(proto.input(j));
  Value& v = state_.values[proto.output(i)];
  v.tensor = source.tensor;
  v.constant = source.constant;
}

bool NodeImport::outputSet(int32_t i) const {
  if (i >= proto.output_size() || proto.output(i).empty()) return true;
  const auto it = state_.values.find(proto.output(i));
  return it != state_.values.end() && (it->second.tensor || it->second.constant);
}

void NodeImport::checkAdded(const Layer& layer, std::string_view role) {
  if (!layer) {
    fail(ErrorCode::kINVALID_ARGUMENT, "the network rejected the ",
         role.empty() ? std::string("layer") : "'" + std::string(role) + "' layer",
         " for this node (its reason is logged above)");
  }
  added_.push_back(layer);
  Layer named = layer;
  if (role.empty() && !plainNameUsed_) {
    named.setName(name_);
    plainNameUsed_ = true;
  } else {
    named.setName(name_ + "/" +
                  (role.empty() ? "layer" + std::to_string(added_.size()) : std::string(role)));
  }
  // Settings are checked lazily; ask for the shapes now so a problem names this node.
  for (int32_t o = 0; o < layer.nbOutputs(); ++o) {
    if (layer.output(o).dimensions().nbDims < 0) {
      state_.broken = true;
      fail(ErrorCode::kINVALID_ARGUMENT, "the network rejected the settings of layer '",
           layer.name(), "' (its reason is logged above)");
    }
  }
}

Tensor NodeImport::constant(const ConstTensor& values, std::string_view role) {
  const auto bytes = values.kilnBytes("a constant of node '" + name_ + "'");
  Weights weights{values.kilnType(), bytes.empty() ? nullptr : bytes.data(), values.count()};
  return add(network.addConstant(values.dims(), weights), role).output(0);
}

Tensor NodeImport::scalar(float value, int32_t rank, std::string_view role) {
  return constant(ConstTensor::floats(filled(rank, 1), {value}), role);
}

Tensor NodeImport::scalarInt(int32_t value, int32_t rank, std::string_view role) {
  return constant(ConstTensor::ints(filled(rank, 1), {value}, kOnnxInt32), role);
}

Tensor NodeImport::reshape(Tensor x, const Dims& dims, std::string_view role) {
  ShuffleLayer layer = network.addShuffle(x);
  if (layer) {
    layer.setReshapeDimensions(dims);
    layer.setZeroIsPlaceholder(false);
  }
  return add(layer, role).output(0);
}

Tensor NodeImport::transpose(Tensor x, std::span<const int32_t> perm, std::string_view role) {
  ShuffleLayer layer = network.addShuffle(x);
  if (layer) layer.setFirstTranspose(perm);
  return add(layer, role).output(0);
}

Tensor NodeImport::cast(Tensor x, DataType type, std::string_view role) {
  if (x.type() == type) return x;
  return add(network.addCast(x, type), role).output(0);
}

Tensor NodeImport::elementWise(Tensor a, Tensor b, ElementWiseOperation op, std::string_view role) {
  return add(network.addElementWise(a, b, op), role).output(0);
}

Tensor NodeImport::unary(Tensor x, UnaryOperation op, std::string_view role) {
  return add(network.addUnary(x, op), role).output(0);
}

Tensor NodeImport::activation(Tensor x, ActivationType type, std::string_view role,
                              std::optional<float> alpha, std::optional<float> beta) {
  ActivationLayer layer = network.addActivation(x, type);
  if (layer && alpha) layer.setAlpha(*alpha);
  if (layer && beta) layer.setBeta(*beta);
  return add(layer, role).output(0);
}

Tensor NodeImport::reduce(Tensor x, ReduceOperation op, uint32_t axes, bool keep,
                          std::string_view role) {
  return add(network.addReduce(x, op, axes, keep), role).output(0);
}

Tensor NodeImport::slice(Tensor x, const Dims& start, const Dims& size, const Dims& stride,
                         std::string_view role) {
  return add(network.addSlice(x, start, size, stride), role).output(0);
}

void NodeImport::unsupported(const std::string& reason) const {
  throw UnsupportedNode(reason);
}

void NodeImport::invalid(const std::string& message) const {
  fail(ErrorCode::kINVALID_MODEL, message);
}

int32_t normalizeAxis(const NodeImport& n, int64_t axis, int32_t rank, std::string_view what) {
  if (rank < 0) n.invalid(std::string(what) + " refers to a tensor whose shape is unknown");
  const int64_t resolved = axis < 0 ? axis + rank : axis;
  if (resolved < 0 || resolved >= rank) {
    n.invalid(std::string(what) + " " + std::to_string(axis) + " is outside [" +
              std::to_string(-rank) + ", " + std::to_string(rank - 1) + "] for rank " +
              std::to_string(rank));
  }
  return static_cast<int32_t>(resolved);
}

uint32_t axesMask(const NodeImport& n, std::span<const int64_t> axes, int32_t rank,
                  std::string_view what) {
  uint32_t mask = 0;
  for (int64_t axis : axes) {
    const int32_t a = normalizeAxis(n, axis, rank, what);
    if ((mask >> a) & 1u)
      n.invalid(std::string(what) + " names dimension " + std::to_string(a) + " twice");
    mask |= 1u << a;
  }
  return mask;
}

Dims filled(int32_t rank, int64_t value) {
  Dims dims;
  dims.nbDims = rank;
  for (int32_t i = 0; i < rank; ++i) dims[i] = value;
  return dims;
}

Dims toDims(const NodeImport& n, std::span<const int64_t> values, std::string_view what) {
  if (values.size() > static_cast<std::size_t>(Dims::kMaxRank)) {
    n.unsupported(std::string(what) + " has " + std::to_string(values.size()) +
                  " entries; kiln tensors have at most " + std::to_string(Dims::kMaxRank) +
                  " dimensions");
  }
  Dims dims;
  dims.nbDims = static_cast<int32_t>(values.size());
  for (int32_t i = 0; i < dims.nbDims; ++i) dims[i] = values[static_cast<std::size_t>(i)];
  return dims;
}

Dims broadcastDims(const NodeImport& n, const Dims& a, const Dims& b) {
  Dims out;
  out.nbDims = std::max(a.nbDims, b.nbDims);
  for (int32_t i = 0; i < out.nbDims; ++i) {
    const int32_t ia = a.nbDims - out.nbDims + i;
    const int32_t ib = b.nbDims - out.nbDims + i;
    const int64_t ea = ia >= 0 ? a[ia] : 1;
    const int64_t eb = ib >= 0 ? b[ib] : 1;
    if (ea != eb && ea != 1 && eb != 1) {
      n.invalid("shapes " + toString(a) + " and " + toString(b) + " do not broadcast");
    }
    out[i] = ea == 1 ? eb : ea;
  }
  return out;
}

}  // namespace kiln::parsers::onnx_import
