// Helpers of the tests of graph-level builder steps (layout passes): constants, a reference run of
// a whole graph on the ops' reference kernels, and lookups by name and op.
#pragma once

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ir/graph.h"
#include "ir/op_registry.h"
#include "support/test_util.h"

namespace kiln::test {

inline Dims dimsOf(std::initializer_list<int64_t> extents) {
  Dims d;
  for (int64_t e : extents) d[d.nbDims++] = e;
  return d;
}

inline std::vector<std::byte> bytesOf(const std::vector<float>& values) {
  std::vector<std::byte> bytes(values.size() * sizeof(float));
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

inline std::vector<float> floatsOf(const std::vector<std::byte>& bytes) {
  std::vector<float> values(bytes.size() / sizeof(float));
  if (!values.empty()) std::memcpy(values.data(), bytes.data(), bytes.size());
  return values;
}

inline ir::ValueId randomConstant(ir::Graph& g, const std::string& name, const Dims& dims,
                                  uint32_t seed) {
  return g.addConstant(name, DataType::kFLOAT, dims,
                       bytesOf(test::randomFloats(volume(dims), seed)));
}

// Runs @p g on the reference kernels; returns each graph output's values by name.
inline std::map<std::string, std::vector<float>> runReference(const ir::Graph& g,
                                                              const std::vector<float>& x) {
  std::map<ir::ValueId, std::vector<float>> values;
  values[g.inputs[0]] = x;
  for (ir::NodeId id : g.topologicalOrder()) {
    const ir::Node& node = g.node(id);
    std::vector<ir::TensorView> inputs;
    for (ir::ValueId v : node.inputs) {
      if (v == ir::kNoValue) {
        inputs.push_back({DataType::kFLOAT, Dims{}, nullptr, false});
        continue;
      }
      const ir::Value& value = g.value(v);
      if (value.isConstant() && values.count(v) == 0) values[v] = floatsOf(*value.constant);
      inputs.push_back({value.dtype, value.dims, values[v].data(), true});
    }
    std::vector<ir::TensorView> outputs;
    for (ir::ValueId v : node.outputs) {
      values[v].assign(static_cast<std::size_t>(volume(g.value(v).dims)), 0.f);
      outputs.push_back({g.value(v).dtype, g.value(v).dims, values[v].data(), true});
    }
    const ir::KernelContext ctx{.node = node, .inputs = inputs, .outputs = outputs};
    ir::OpRegistry::instance().get(node.op).reference(ctx);
  }
  std::map<std::string, std::vector<float>> result;
  for (ir::ValueId v : g.outputs) result[g.value(v).name] = values[v];
  return result;
}

inline const ir::Node* nodeNamed(const ir::Graph& g, std::string_view name) {
  for (const auto& n : g.nodes) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

inline int32_t count(const ir::Graph& g, std::string_view op) {
  int32_t n = 0;
  for (const auto& node : g.nodes) n += node.op == op ? 1 : 0;
  return n;
}

}  // namespace kiln::test
