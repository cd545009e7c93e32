#include "ir/graph.h"

#include <algorithm>
#include <queue>
#include <unordered_map>

#include "core/error.h"

namespace kiln::ir {

ValueId Graph::addValue(std::string valueName, DataType dtype, const Dims& dims) {
  Value v;
  v.name = std::move(valueName);
  v.dtype = dtype;
  v.dims = dims;
  values.push_back(std::move(v));
  return static_cast<ValueId>(values.size() - 1);
}

ValueId Graph::addConstant(std::string valueName, DataType dtype, const Dims& dims,
                           std::vector<std::byte> bytes) {
  const ValueId id = addValue(std::move(valueName), dtype, dims);
  values.back().constant = std::make_shared<const std::vector<std::byte>>(std::move(bytes));
  return id;
}

NodeId Graph::addNode(std::string nodeName, std::string op, std::vector<ValueId> nodeInputs,
                      int32_t nbOutputs) {
  Node n;
  n.name = std::move(nodeName);
  n.op = std::move(op);
  n.inputs = std::move(nodeInputs);
  n.fusedFrom = {n.name};
  const auto id = static_cast<NodeId>(nodes.size());
  for (int32_t i = 0; i < nbOutputs; ++i) {
    std::string outName = n.name + (nbOutputs == 1 ? "_output" : "_output_" + std::to_string(i));
    const ValueId v = addValue(std::move(outName), DataType::kFLOAT, Dims{});
    values[static_cast<std::size_t>(v)].producer = id;
    values[static_cast<std::size_t>(v)].producerOutput = i;
    n.outputs.push_back(v);
  }
  n.outputTypes.resize(static_cast<std::size_t>(nbOutputs));
  nodes.push_back(std::move(n));
  return id;
}

Value& Graph::value(ValueId id) {
  KILN_ASSERT(id >= 0 && static_cast<std::size_t>(id) < values.size());
  return values[static_cast<std::size_t>(id)];
}
const Value& Graph::value(ValueId id) const {
  KILN_ASSERT(id >= 0 && static_cast<std::size_t>(id) < values.size());
  return values[static_cast<std::size_t>(id)];
}
Node& Graph::node(NodeId id) {
  KILN_ASSERT(id >= 0 && static_cast<std::size_t>(id) < nodes.size());
  return nodes[static_cast<std::size_t>(id)];
}
const Node& Graph::node(NodeId id) const {
  KILN_ASSERT(id >= 0 && static_cast<std::size_t>(id) < nodes.size());
  return nodes[static_cast<std::size_t>(id)];
}

bool Graph::isGraphInput(ValueId id) const {
  return std::find(inputs.begin(), inputs.end(), id) != inputs.end();
}
bool Graph::isGraphOutput(ValueId id) const {
  return std::find(outputs.begin(), outputs.end(), id) != outputs.end();
}

std::vector<std::vector<NodeId>> Graph::consumers() const {
  std::vector<std::vector<NodeId>> result(values.size());
  for (std::size_t n = 0; n < nodes.size(); ++n) {
    for (ValueId v : nodes[n].inputs) {
      if (v != kNoValue) result[static_cast<std::size_t>(v)].push_back(static_cast<NodeId>(n));
    }
  }
  return result;
}

std::vector<NodeId> Graph::topologicalOrder() const {
  // Kahn's algorithm, smallest node id first so the order is stable (network order when valid).
  std::vector<int32_t> pending(nodes.size(), 0);
  const auto users = consumers();
  for (std::size_t n = 0; n < nodes.size(); ++n) {
    for (ValueId v : nodes[n].inputs) {
      if (v != kNoValue && value(v).producer != kNoNode) ++pending[n];
    }
  }
  std::priority_queue<NodeId, std::vector<NodeId>, std::greater<>> ready;
  for (std::size_t n = 0; n < nodes.size(); ++n) {
    if (pending[n] == 0) ready.push(static_cast<NodeId>(n));
  }
  std::vector<NodeId> order;
  order.reserve(nodes.size());
  while (!ready.empty()) {
    const NodeId n = ready.top();
    ready.pop();
    order.push_back(n);
    for (ValueId out : node(n).outputs) {
      for (NodeId user : users[static_cast<std::size_t>(out)]) {
        // A node reading the same value twice was counted twice above.
        if (--pending[static_cast<std::size_t>(user)] == 0) ready.push(user);
      }
    }
  }
  if (order.size() != nodes.size()) {
    for (std::size_t n = 0; n < nodes.size(); ++n) {
      if (pending[n] > 0) {
        fail(ErrorCode::kINVALID_ARGUMENT, "the graph has a cycle through layer '", nodes[n].name,
             "' (", nodes[n].op, ")");
      }
    }
  }
  return order;
}

void Graph::rebuild(const std::vector<NodeId>& order) {
  std::vector<Node> newNodes;
  newNodes.reserve(order.size());
  for (NodeId n : order) newNodes.push_back(std::move(node(n)));

  std::vector<ValueId> remap(values.size(), kNoValue);
  std::vector<Value> newValues;
  auto keep = [&](ValueId v) -> ValueId {
    if (v == kNoValue) return kNoValue;
    auto& slot = remap[static_cast<std::size_t>(v)];
    if (slot == kNoValue) {
      slot = static_cast<ValueId>(newValues.size());
      newValues.push_back(std::move(value(v)));
      newValues.back().producer = kNoNode;
    }
    return slot;
  };
  std::vector<ValueId> newInputs;
  for (ValueId v : inputs) newInputs.push_back(keep(v));
  for (std::size_t n = 0; n < newNodes.size(); ++n) {
    for (ValueId& v : newNodes[n].inputs) v = keep(v);
    for (std::size_t o = 0; o < newNodes[n].outputs.size(); ++o) {
      ValueId& v = newNodes[n].outputs[o];
      v = keep(v);
      newValues[static_cast<std::size_t>(v)].producer = static_cast<NodeId>(n);
      newValues[static_cast<std::size_t>(v)].producerOutput = static_cast<int32_t>(o);
    }
  }
  std::vector<ValueId> newOutputs;
  for (ValueId v : outputs) newOutputs.push_back(keep(v));
  nodes = std::move(newNodes);
  values = std::move(newValues);
  inputs = std::move(newInputs);
  outputs = std::move(newOutputs);
}

void Graph::validate() const {
  const auto nbValues = static_cast<ValueId>(values.size());
  auto checkValue = [&](ValueId v, const std::string& where) {
    if (v < 0 || v >= nbValues) {
      fail(ErrorCode::kINVALID_ARGUMENT, where, " refers to tensor #", v, ", which does not exist");
    }
  };
  for (ValueId v : inputs) checkValue(v, "graph input list");
  for (ValueId v : outputs) checkValue(v, "graph output list");
  for (std::size_t n = 0; n < nodes.size(); ++n) {
    const Node& node = nodes[n];
    const std::string where = "layer '" + node.name + "' (" + node.op + ")";
    for (ValueId v : node.inputs) {
      if (v != kNoValue) checkValue(v, where);
    }
    for (ValueId v : node.outputs) {
      checkValue(v, where);
      if (values[static_cast<std::size_t>(v)].producer != static_cast<NodeId>(n)) {
        fail(ErrorCode::kINVALID_ARGUMENT, where, " writes tensor '",
             values[static_cast<std::size_t>(v)].name, "', which another layer also writes");
      }
    }
  }
  for (std::size_t v = 0; v < values.size(); ++v) {
    const Value& value = values[v];
    if (value.producer != kNoNode &&
        (value.producer < 0 || static_cast<std::size_t>(value.producer) >= nodes.size())) {
      fail(ErrorCode::kINVALID_ARGUMENT, "tensor '", value.name, "' names a producer that does ",
           "not exist");
    }
  }
}

}  // namespace kiln::ir
