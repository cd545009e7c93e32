// NetworkImpl: the IR graph behind a NetworkDefinition, and the helpers that the layer files
// (src/network/layers/*.cpp) use to add layers and read or change their settings.
//
// Contract of every public API entry point: it never throws. Errors are reported through the
// Reporter (Logger + ErrorRecorder) and the call returns a null handle / default value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/reporter.h"
#include "ir/graph.h"
#include "kiln/network.h"

namespace kiln::detail {

//! IR op name of a layer type ("Convolution", ...), and back.
std::string_view opName(LayerType type) noexcept;
bool layerTypeOf(std::string_view op, LayerType& type) noexcept;

class NetworkImpl {
 public:
  explicit NetworkImpl(const Reporter& reporter) : reporter_(reporter) {}

  const Reporter& reporter() const noexcept { return reporter_; }
  ir::Graph& graph() noexcept { return graph_; }
  const ir::Graph& graph() const noexcept { return graph_; }

  //! The value behind @p tensor; throws kINVALID_ARGUMENT naming @p what when the handle is
  //! null or belongs to another network.
  ir::ValueId valueOf(const Tensor& tensor, std::string_view what) const;

  //! Appends a node for a layer of @p type with default name "<Op>_<n>". Set its attributes,
  //! then call inferLayer.
  ir::NodeId addLayer(LayerType type, std::vector<ir::ValueId> inputs, int32_t nbOutputs);

  //! Infers the outputs of the newly added @p node. As in TensorRT, settings may follow the add
  //! call (padding, axes, modes, setInput), so a layer whose shapes do not work out yet is kept:
  //! its problem is recorded and reported when its shapes are needed (dimsOf, the build).
  void inferLayer(ir::NodeId node);

  //! A constant value from user weights. @p dims gives the shape; Weights::count must match its
  //! volume. Float weights (FP32/FP16/BF16) are stored as FP32 when @p asFloat is set.
  //! Throws naming @p what on null values, count mismatch or unknown type.
  ir::ValueId addWeights(std::string name, const Dims& dims, const Weights& weights,
                         std::string_view what, bool asFloat = true);

  //! Replaces the constant behind input @p inputIndex of @p node with new weights, keeping
  //! the dims of @p dims (appends the input when absent).
  void setWeightsInput(ir::NodeId node, int32_t inputIndex, const Dims& dims,
                       const Weights& weights, std::string_view what);

  //! Re-infers every shape if anything changed since the last inference. A layer whose shapes
  //! cannot be inferred gets outputs of unknown rank (-1), as does every layer that depends on
  //! it; its problem is recorded. Throws only for a cycle.
  void ensureShapes();

  //! The dims of @p value. When a layer it depends on has invalid settings or inputs, throws
  //! that layer's problem ("layer 'NAME' (OP): ..."); problems of unrelated layers play no part.
  Dims dimsOf(ir::ValueId value);
  void markDirty() noexcept { dirty_ = true; }

  //! Runs @p body inside a transaction: on Error the graph is restored to its state before
  //! the call, the error is reported as "<api>: <message>", and the null handle is returned.
  template <typename Handle, typename Body>
  Handle guarded(std::string_view api, Body&& body);

  //! Reports an error for a call on a null handle.
  void reportNull(std::string_view api) const;

  std::string uniqueLayerName(LayerType type) const;

 private:
  // Infers one node's outputs, recording its problem instead of throwing.
  void inferNodeLeniently(ir::NodeId node);

  Reporter reporter_;
  ir::Graph graph_;
  bool dirty_ = true;
  std::vector<std::optional<Error>> problems_;  // per node, from the last inference
};

//! Access to the private fields of handles for library code.
struct HandleAccess {
  static NetworkImpl* net(const Tensor& t) noexcept { return t.net_; }
  static int32_t id(const Tensor& t) noexcept { return t.id_; }
  static NetworkImpl* net(const Layer& l) noexcept { return l.net_; }
  static int32_t id(const Layer& l) noexcept { return l.id_; }
  static Tensor tensor(NetworkImpl* net, int32_t id) noexcept { return Tensor(net, id); }
  template <typename LayerT>
  static LayerT layer(NetworkImpl* net, int32_t id) noexcept {
    return LayerT(net, id);
  }
};

template <typename Handle, typename Body>
Handle NetworkImpl::guarded(std::string_view api, Body&& body) {
  const auto nodeCount = graph_.nodes.size();
  const auto valueCount = graph_.values.size();
  try {
    const int32_t id = body();
    return HandleAccess::layer<Handle>(this, id);
  } catch (const Error& e) {
    graph_.nodes.resize(nodeCount);
    graph_.values.resize(valueCount);
    reporter_.error(e.code(), std::string(api) + ": " + e.what());
  } catch (const std::exception& e) {
    graph_.nodes.resize(nodeCount);
    graph_.values.resize(valueCount);
    reporter_.error(ErrorCode::kINTERNAL_ERROR, std::string(api) + ": " + e.what());
  }
  return Handle();
}

//! Reads a setting of @p layer through @p read(const ir::Node&); @p fallback for a null handle.
template <typename Result, typename Read>
Result readLayer(const Layer& layer, std::string_view api, Read&& read, Result fallback) {
  NetworkImpl* net = HandleAccess::net(layer);
  if (net == nullptr) return fallback;
  try {
    return read(net->graph().node(HandleAccess::id(layer)));
  } catch (const Error& e) {
    net->reporter().error(e.code(), std::string(api) + ": " + e.what());
  } catch (const std::exception& e) {
    net->reporter().error(ErrorCode::kINTERNAL_ERROR, std::string(api) + ": " + e.what());
  }
  return fallback;
}

//! Changes a setting of @p layer through @p write(ir::Node&, ir::NodeId); logs errors and marks
//! shapes for re-inference. A null handle has no network to log to: the call does nothing.
//! Whether a change can alter shapes (names and other labels cannot).
enum class ShapeEffect { kMayChange, kNone };

template <typename Write>
void writeLayer(const Layer& layer, std::string_view api, Write&& write,
                ShapeEffect effect = ShapeEffect::kMayChange) {
  NetworkImpl* net = HandleAccess::net(layer);
  if (net == nullptr) return;  // the add* call that returned the null handle logged why
  try {
    const int32_t id = HandleAccess::id(layer);
    write(net->graph().node(id), id);
    if (effect == ShapeEffect::kMayChange) net->markDirty();
  } catch (const Error& e) {
    net->reporter().error(e.code(), std::string(api) + ": " + e.what());
  } catch (const std::exception& e) {
    net->reporter().error(ErrorCode::kINTERNAL_ERROR, std::string(api) + ": " + e.what());
  }
}

//! Shorthands for the common attribute setters and getters of typed layers.
template <typename T>
void setAttr(const Layer& layer, std::string_view api, std::string_view attr, const T& value) {
  writeLayer(layer, api, [&](ir::Node& node, ir::NodeId) { node.attrs.set(attr, value); });
}
inline Dims getDimsAttr(const Layer& layer, std::string_view api, std::string_view attr,
                        const Dims& fallback) {
  return readLayer<Dims>(
      layer, api, [&](const ir::Node& node) { return node.attrs.getDims(attr, fallback); },
      fallback);
}
inline int64_t getIntAttr(const Layer& layer, std::string_view api, std::string_view attr,
                          int64_t fallback) {
  return readLayer<int64_t>(
      layer, api, [&](const ir::Node& node) { return node.attrs.getInt(attr, fallback); },
      fallback);
}
inline double getFloatAttr(const Layer& layer, std::string_view api, std::string_view attr,
                           double fallback) {
  return readLayer<double>(
      layer, api, [&](const ir::Node& node) { return node.attrs.getFloat(attr, fallback); },
      fallback);
}
template <typename Enum>
Enum getEnumAttr(const Layer& layer, std::string_view api, std::string_view attr, Enum fallback) {
  return static_cast<Enum>(getIntAttr(layer, api, attr, static_cast<int64_t>(fallback)));
}

}  // namespace kiln::detail
