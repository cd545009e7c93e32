// shuffle-folding: two Shuffles in a row (a Shuffle is transpose -> reshape -> transpose) merge
// into one when at most one of them reshapes, or when the transposes between their reshapes
// cancel. Transposes that cancel become an identity Shuffle, which dead-layer-elimination
// then removes; reshapes become explicit (shapes are known at build time).
#include <optional>
#include <vector>

#include "builder/passes/passes.h"

namespace kiln::builder {

namespace {

using Perm = std::vector<int64_t>;

Perm identity(int32_t rank) {
  Perm p(static_cast<std::size_t>(rank));
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<int64_t>(i);
  return p;
}

bool isIdentity(const Perm& p) {
  return p == identity(static_cast<int32_t>(p.size()));
}

// transpose(transpose(x, a), b) == transpose(x, compose(a, b)); out dim k = in dim perm[k].
Perm compose(const Perm& a, const Perm& b) {
  Perm c(b.size());
  for (std::size_t k = 0; k < b.size(); ++k) c[k] = a[static_cast<std::size_t>(b[k])];
  return c;
}

struct ShuffleForm {
  Perm first;
  bool reshapes = false;
  Dims reshaped;  // after the reshape (before the second transpose)
  Perm second;
};

ShuffleForm formOf(const ir::Graph& graph, const ir::Node& node) {
  const Dims& in = graph.value(node.inputs[0]).dims;
  const Dims& out = graph.value(node.outputs[0]).dims;
  ShuffleForm f;
  f.first = node.attrs.has("first_perm") ? node.attrs.getInts("first_perm") : identity(in.nbDims);
  f.second =
      node.attrs.has("second_perm") ? node.attrs.getInts("second_perm") : identity(out.nbDims);
  f.reshapes =
      node.attrs.has("reshape") || (node.inputs.size() > 1 && node.inputs[1] != ir::kNoValue);
  f.reshaped.nbDims = out.nbDims;
  for (int32_t k = 0; k < out.nbDims; ++k) {
    f.reshaped[static_cast<int32_t>(f.second[static_cast<std::size_t>(k)])] = out[k];
  }
  return f;
}

std::optional<ShuffleForm> merge(const ShuffleForm& a, const ShuffleForm& b) {
  ShuffleForm m;
  if (!a.reshapes) {
    m.first = compose(compose(a.first, a.second), b.first);
    m.reshapes = b.reshapes;
    m.reshaped = b.reshaped;
    m.second = b.second;
    return m;
  }
  if (!b.reshapes) {
    m.first = a.first;
    m.reshapes = true;
    m.reshaped = a.reshaped;
    m.second = compose(compose(a.second, b.first), b.second);
    return m;
  }
  // Two reshapes merge when nothing moves bytes between them.
  if (isIdentity(compose(a.second, b.first))) {
    m.first = a.first;
    m.reshapes = true;
    m.reshaped = b.reshaped;
    m.second = b.second;
    return m;
  }
  return std::nullopt;
}

void writeForm(ir::Node& node, const ShuffleForm& f) {
  node.attrs.erase("first_perm");
  node.attrs.erase("second_perm");
  node.attrs.erase("reshape");
  if (!isIdentity(f.first)) node.attrs.set("first_perm", f.first);
  if (!isIdentity(f.second)) node.attrs.set("second_perm", f.second);
  if (f.reshapes) {
    std::vector<int64_t> dims(f.reshaped.d.begin(), f.reshaped.d.begin() + f.reshaped.nbDims);
    node.attrs.set("reshape", dims);
    node.attrs.set("zero_is_placeholder", int64_t{0});
  }
  node.inputs.resize(1);
}

}  // namespace

int32_t foldShuffles(ir::Graph& graph, const PassContext& context) {
  int32_t changes = 0;
  Uses uses(graph);
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& second = graph.nodes[n];
    if (second.op != "Shuffle" || second.inputs.empty()) continue;
    const ir::NodeId p = producerId(graph, second.inputs[0]);
    if (p == ir::kNoNode) continue;
    const ir::Node& first = graph.node(p);
    if (first.op != "Shuffle" || !uses.onlyUser(second.inputs[0], static_cast<ir::NodeId>(n)) ||
        first.precision != second.precision) {
      continue;
    }
    const auto merged = merge(formOf(graph, first), formOf(graph, second));
    if (!merged) continue;
    context.log("merged shuffle " + joinNames(first.fusedFrom) + " into '" + second.name + "'");
    ir::Node& target = graph.nodes[n];
    target.inputs[0] = first.inputs[0];
    writeForm(target, *merged);
    std::vector<std::string> names = first.fusedFrom;
    names.insert(names.end(), target.fusedFrom.begin(), target.fusedFrom.end());
    target.fusedFrom = std::move(names);
    removeNode(graph, p);
    ++changes;
    uses.refresh();
  }
  return changes;
}

}  // namespace kiln::builder
