#include "builder/passes/pass_context.h"

#include <algorithm>
#include <cstring>

#include "core/shape_util.h"

namespace kiln::builder {

std::optional<std::vector<std::byte>> PassContext::newConstant(const ir::Graph& graph,
                                                               const Dims& dims, DataType type,
                                                               ir::ValueId replaces) const {
  if (!isFullyKnown(dims)) return std::nullopt;
  uint64_t limit = constantFoldLimitBytes;
  if (replaces != ir::kNoValue && graph.value(replaces).isConstant()) {
    limit = std::max<uint64_t>(limit, graph.value(replaces).constant->size());
  }
  uint64_t bytes = elementSize(type);
  for (int32_t i = 0; i < dims.nbDims; ++i) {
    if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(dims[i]), &bytes)) return std::nullopt;
  }
  if (bytes > limit) return std::nullopt;
  return std::vector<std::byte>(static_cast<std::size_t>(bytes));
}

void PassContext::log(const std::string& what) const {
  reporter.verbose("pass " + std::string(pass) + ": " + what);
}

bool Uses::onlyUser(ir::ValueId v, ir::NodeId node) const {
  if (graph_.isGraphOutput(v)) return false;
  for (ir::NodeId user : of(v)) {
    if (user != node) return false;
  }
  return !of(v).empty();
}

ir::NodeId Uses::soleUser(ir::ValueId v) const {
  if (graph_.isGraphOutput(v) || of(v).empty()) return ir::kNoNode;
  const ir::NodeId first = of(v).front();
  return onlyUser(v, first) ? first : ir::kNoNode;
}

ir::NodeId producerId(const ir::Graph& graph, ir::ValueId v) {
  if (v == ir::kNoValue) return ir::kNoNode;
  const ir::Value& value = graph.value(v);
  if (value.isConstant()) return ir::kNoNode;
  return value.producer;
}

const ir::Node* producerOf(const ir::Graph& graph, ir::ValueId v, std::string_view op) {
  const ir::NodeId p = producerId(graph, v);
  if (p == ir::kNoNode) return nullptr;
  const ir::Node& node = graph.node(p);
  return op.empty() || node.op == op ? &node : nullptr;
}

std::vector<float> floatConstant(const ir::Graph& graph, ir::ValueId v) {
  if (v == ir::kNoValue) return {};
  const ir::Value& value = graph.value(v);
  if (!value.isConstant() || value.dtype != DataType::kFLOAT) return {};
  std::vector<float> values(value.constant->size() / sizeof(float));
  if (!values.empty()) std::memcpy(values.data(), value.constant->data(), values.size() * 4);
  return values;
}

bool uniformConstant(const ir::Graph& graph, ir::ValueId v, double& result) {
  const std::vector<float> values = floatConstant(graph, v);
  if (values.empty()) return false;
  for (float x : values) {
    if (x != values.front()) return false;
  }
  result = values.front();
  return true;
}

std::span<float> floatsOf(std::vector<std::byte>& storage) {
  // Storage from operator new is aligned for any scalar; kernels read constants the same way.
  return {reinterpret_cast<float*>(storage.data()), storage.size() / sizeof(float)};
}

ir::ValueId addFloatConstant(ir::Graph& graph, const std::string& name, const Dims& dims,
                             std::vector<std::byte> storage) {
  return graph.addConstant(name, DataType::kFLOAT, dims, std::move(storage));
}

void replaceUses(ir::Graph& graph, ir::ValueId from, ir::ValueId to) {
  for (auto& node : graph.nodes) {
    for (auto& in : node.inputs) {
      if (in == from) in = to;
    }
  }
}

void absorb(ir::Graph& graph, ir::NodeId keep, ir::NodeId absorbed) {
  ir::Node& gone = graph.node(absorbed);
  const ir::ValueId out = gone.outputs.at(0);
  std::vector<std::string> names = std::move(gone.fusedFrom);
  removeNode(graph, absorbed);
  ir::Node& node = graph.node(keep);
  node.outputs.at(0) = out;
  graph.value(out).producer = keep;
  graph.value(out).producerOutput = 0;
  node.fusedFrom.insert(node.fusedFrom.end(), names.begin(), names.end());
}

ir::NodeId splitAfter(ir::Graph& graph, ir::NodeId node, const std::string& suffix,
                      const Dims& dims, std::string op, std::vector<ir::ValueId> extraInputs) {
  const ir::ValueId out = graph.node(node).outputs.at(0);
  const std::string name = graph.node(node).name + suffix;
  const ir::ValueId middle = graph.addValue(name, graph.value(out).dtype, dims);
  graph.node(node).outputs[0] = middle;
  graph.value(middle).producer = node;
  extraInputs.insert(extraInputs.begin(), middle);
  const ir::NodeId next = graph.addNode(name + "_next", std::move(op), std::move(extraInputs), 0);
  ir::Node& added = graph.node(next);
  const ir::Node& first = graph.node(node);
  added.outputs = {out};
  added.outputTypes = first.outputTypes;
  added.precision = first.precision;
  added.fusedFrom.clear();
  graph.value(out).producer = next;
  graph.value(out).producerOutput = 0;
  return next;
}

void removeNode(ir::Graph& graph, ir::NodeId node) {
  ir::Node& n = graph.node(node);
  n.inputs.clear();
  n.outputs.clear();
  n.outputTypes.clear();
  n.fusedFrom.clear();
}

bool bypassNode(ir::Graph& graph, const Uses& uses, ir::NodeId node) {
  ir::Node& n = graph.node(node);
  const ir::ValueId in = n.inputs.at(0);
  const ir::ValueId out = n.outputs.at(0);
  if (!graph.isGraphOutput(out)) {
    replaceUses(graph, out, in);
    removeNode(graph, node);
    return true;
  }
  // The output must stay written by a layer: the input's producer writes it directly.
  const ir::NodeId p = producerId(graph, in);
  if (p == ir::kNoNode || !uses.onlyUser(in, node)) return false;
  ir::Node& producer = graph.node(p);
  const int32_t index = graph.value(in).producerOutput;
  producer.outputs[static_cast<std::size_t>(index)] = out;
  graph.value(out).producer = p;
  graph.value(out).producerOutput = index;
  std::vector<std::string> names = std::move(n.fusedFrom);
  removeNode(graph, node);
  producer.fusedFrom.insert(producer.fusedFrom.end(), names.begin(), names.end());
  return true;
}

std::string joinNames(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) {
    if (!text.empty()) text += " + ";
    text += "'" + name + "'";
  }
  return text;
}

}  // namespace kiln::builder
