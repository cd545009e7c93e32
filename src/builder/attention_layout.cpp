#include "builder/attention_layout.h"

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "builder/lowering.h"
#include "builder/passes/pass_context.h"
#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "runtime/engine_impl.h"

namespace kiln::builder {

namespace {

using Perm = std::array<int64_t, 4>;
constexpr Perm kHeadsOut = {0, 2, 1, 3};   // [B, S, H, D] -> [B, H, S, D] and back
constexpr Perm kKeysByDim = {0, 2, 3, 1};  // [B, S, H, D] -> [B, H, D, S]
constexpr Perm kSwapLast = {0, 1, 3, 2};   // [B, H, S, D] -> [B, H, D, S]
// [B, S, 3, H, D] -> [3, B, H, S, D]: a fused QKV projection's head split.
constexpr std::array<int64_t, 5> kQkvOut = {2, 0, 3, 1, 4};

template <std::size_t N>
bool isPerm(const ir::Attributes& attrs, const char* name, const std::array<int64_t, N>& want) {
  if (!attrs.has(name)) return false;
  const std::vector<int64_t> perm = attrs.getInts(name);
  return perm.size() == want.size() && std::equal(perm.begin(), perm.end(), want.begin());
}

bool identityOrAbsent(const ir::Attributes& attrs, const char* name) {
  if (!attrs.has(name)) return true;
  const std::vector<int64_t> perm = attrs.getInts(name);
  for (std::size_t i = 0; i < perm.size(); ++i) {
    if (perm[i] != static_cast<int64_t>(i)) return false;
  }
  return true;
}

// A Shuffle with one tensor input and no reshape-shape input.
const ir::Node* plainShuffle(const ir::Graph& graph, ir::ValueId v) {
  const ir::Node* s = producerOf(graph, v, "Shuffle");
  if (s == nullptr || s->outputs.size() != 1) return nullptr;
  for (std::size_t i = 1; i < s->inputs.size(); ++i) {
    if (s->inputs[i] != ir::kNoValue) return nullptr;
  }
  return s;
}

// The [B, S, H*D] tensor that @p v ([B, H, S, D], or [B, H, D, S] when @p keysByDim) splits the
// heads of, and H; nullopt when @p v is not such a split.
struct Split {
  ir::ValueId packed = ir::kNoValue;
  int64_t heads = 0;
};
std::optional<Split> headSplit(const ir::Graph& graph, ir::ValueId v, bool keysByDim) {
  const ir::Node* s = plainShuffle(graph, v);
  if (s == nullptr || !identityOrAbsent(s->attrs, "first_perm") || !s->attrs.has("reshape") ||
      !isPerm(s->attrs, "second_perm", keysByDim ? kKeysByDim : kHeadsOut)) {
    return std::nullopt;
  }
  const ir::ValueId x = s->inputs[0];
  const Dims& in = graph.value(x).dims;
  const Dims& out = graph.value(v).dims;
  if (in.nbDims != 3 || out.nbDims != 4 || !isFullyKnown(in) || !isFullyKnown(out) ||
      graph.value(x).dtype != graph.value(v).dtype) {
    return std::nullopt;
  }
  const int64_t seq = keysByDim ? out[3] : out[2];
  const int64_t width = keysByDim ? out[2] : out[3];
  if (out[0] != in[0] || seq != in[1] || out[1] * width != in[2]) return std::nullopt;
  return Split{x, out[1]};
}

// A plain Slice (attributes only, unit strides) of @p v, as a Split makes.
const ir::Node* plainSlice(const ir::Graph& graph, ir::ValueId v) {
  const ir::Node* s = producerOf(graph, v, "Slice");
  if (s == nullptr || s->outputs.size() != 1 || s->inputs.empty() ||
      s->attrs.getInt("onnx_bounds", 0) != 0 || s->attrs.getInt("target_mode", 0) != 0 ||
      !s->attrs.has("start") || !s->attrs.has("size")) {
    return nullptr;
  }
  for (std::size_t i = 1; i < s->inputs.size(); ++i) {
    if (s->inputs[i] != ir::kNoValue) return nullptr;
  }
  if (s->attrs.has("stride")) {
    for (const int64_t step : s->attrs.getInts("stride")) {
      if (step != 1) return nullptr;
    }
  }
  return s;
}

// Q, K or V taken out of a fused QKV projection X [B, S, 3*H*D]: a Shuffle reshapes X to
// [B, S, 3, H, D] and permutes it to [3, B, H, S, D], a Slice takes entry @p index of the
// leading 3, and a Shuffle squeezes it to [B, H, S, D] (@p keysByDim: and swaps the last two dims,
// giving [B, H, D, S]). Returns X and H; nullopt when @p v is not such a part.
std::optional<Split> qkvPart(const ir::Graph& graph, ir::ValueId v, int64_t index, bool keysByDim) {
  const ir::Node* squeeze = plainShuffle(graph, v);
  if (squeeze == nullptr || !identityOrAbsent(squeeze->attrs, "first_perm") ||
      !squeeze->attrs.has("reshape") ||
      !(keysByDim ? isPerm(squeeze->attrs, "second_perm", kSwapLast)
                  : identityOrAbsent(squeeze->attrs, "second_perm"))) {
    return std::nullopt;
  }
  const ir::Node* slice = plainSlice(graph, squeeze->inputs[0]);
  if (slice == nullptr) return std::nullopt;
  const ir::Node* split = plainShuffle(graph, slice->inputs[0]);
  if (split == nullptr || !identityOrAbsent(split->attrs, "first_perm") ||
      !split->attrs.has("reshape") || !isPerm(split->attrs, "second_perm", kQkvOut)) {
    return std::nullopt;
  }
  const ir::ValueId x = split->inputs[0];
  const Dims& in = graph.value(x).dims;                     // [B, S, 3*H*D]
  const Dims& parts = graph.value(slice->inputs[0]).dims;   // [3, B, H, S, D]
  const Dims& part = graph.value(squeeze->inputs[0]).dims;  // [1, B, H, S, D]
  const Dims& out = graph.value(v).dims;                    // [B, H, S, D] or [B, H, D, S]
  if (in.nbDims != 3 || parts.nbDims != 5 || part.nbDims != 5 || out.nbDims != 4 ||
      !isFullyKnown(in) || !isFullyKnown(parts) || graph.value(x).dtype != graph.value(v).dtype) {
    return std::nullopt;
  }
  const int64_t heads = parts[2];
  const int64_t width = parts[4];
  if (parts[0] != 3 || parts[1] != in[0] || parts[3] != in[1] || 3 * heads * width != in[2]) {
    return std::nullopt;
  }
  const Dims start = slice->attrs.getDims("start");
  const Dims want{index, 0, 0, 0, 0};
  const Dims size{1, parts[1], parts[2], parts[3], parts[4]};
  const Dims squeezed =
      keysByDim ? Dims{parts[1], heads, width, parts[3]} : Dims{parts[1], heads, parts[3], width};
  if (start != want || slice->attrs.getDims("size") != size || out != squeezed) {
    return std::nullopt;
  }
  return Split{x, heads};
}

// The Shuffle that alone reads @p v ([B, H, Sq, Dv]) and merges its heads into [B, Sq, H*Dv].
ir::NodeId headMerge(const ir::Graph& graph, const Uses& uses, ir::ValueId v) {
  const ir::NodeId m = uses.soleUser(v);
  if (m == ir::kNoNode) return ir::kNoNode;
  const ir::Node& node = graph.node(m);
  if (node.op != "Shuffle" || node.inputs.empty() || node.inputs[0] != v ||
      node.outputs.size() != 1 || !isPerm(node.attrs, "first_perm", kHeadsOut) ||
      !identityOrAbsent(node.attrs, "second_perm")) {
    return ir::kNoNode;
  }
  for (std::size_t i = 1; i < node.inputs.size(); ++i) {
    if (node.inputs[i] != ir::kNoValue) return ir::kNoNode;
  }
  const Dims& in = graph.value(v).dims;
  const Dims& out = graph.value(node.outputs[0]).dims;
  if (in.nbDims != 4 || out.nbDims != 3 || !isFullyKnown(out) || out[0] != in[0] ||
      out[1] != in[2] || out[2] != in[1] * in[3] ||
      graph.value(node.outputs[0]).dtype != graph.value(v).dtype) {
    return ir::kNoNode;
  }
  return m;
}

struct Packing {
  ir::NodeId attention = ir::kNoNode;
  ir::NodeId merge = ir::kNoNode;
  std::array<ir::ValueId, 3> packed{};
  int64_t heads = 0;
  bool qkv = false;  //!< all three parts of one fused projection
  //! With qkv from sliced thirds: the thirds, which packed heads alone can read instead.
  std::optional<std::array<ir::ValueId, 3>> thirds;
};

// Q, K and V as parts 0, 1 and 2 of one fused QKV projection: that projection and H.
std::optional<Split> fusedQkv(const ir::Graph& graph, const ir::Node& node, bool transposeK) {
  std::optional<Split> whole;
  for (std::size_t i = 0; i < 3; ++i) {
    const auto part =
        qkvPart(graph, node.inputs[i], static_cast<int64_t>(i), i == 1 && !transposeK);
    if (!part || (whole && (part->packed != whole->packed || part->heads != whole->heads))) {
      return std::nullopt;
    }
    whole = part;
  }
  return whole;
}

// Head splits of Q, K and V that read thirds 0, 1 and 2 of one [B, S, 3*H*D] projection, sliced
// along its last axis (GPT-2's fused projection split in three): packed QKV reads the thirds
// where they lie instead of through three slice copies.
void readThirdsInPlace(const ir::Graph& graph, Packing& p) {
  ir::ValueId whole = ir::kNoValue;
  for (std::size_t i = 0; i < 3; ++i) {
    const ir::Node* slice = plainSlice(graph, p.packed[i]);
    if (slice == nullptr) return;
    const ir::ValueId from = slice->inputs[0];
    const Dims& in = graph.value(from).dims;
    const Dims& part = graph.value(p.packed[i]).dims;  // [B, S, H*D]
    if ((i > 0 && from != whole) || in.nbDims != 3 || part.nbDims != 3 || !isFullyKnown(in) ||
        in[0] != part[0] || in[1] != part[1] || in[2] != 3 * part[2] ||
        graph.value(from).dtype != graph.value(p.packed[i]).dtype ||
        slice->attrs.getDims("start") != Dims{0, 0, static_cast<int64_t>(i) * part[2]} ||
        slice->attrs.getDims("size") != part) {
      return;
    }
    whole = from;
  }
  p.thirds = p.packed;
  p.packed = {whole, whole, whole};
  p.qkv = true;
}

std::optional<Packing> packingOf(const ir::Graph& graph, const Uses& uses, ir::NodeId id) {
  const ir::Node& node = graph.node(id);
  if (node.op != "Attention" || node.inputs.size() < 3 || node.outputs.size() != 1 ||
      node.attrs.getInt("heads", 0) != 0) {
    return std::nullopt;
  }
  const bool transposeK = node.attrs.getInt("transpose_k", 0) != 0;
  Packing p;
  p.attention = id;
  if (const auto qkv = fusedQkv(graph, node, transposeK)) {
    p.heads = qkv->heads;
    p.packed = {qkv->packed, qkv->packed, qkv->packed};
    p.qkv = true;
  } else {
    for (std::size_t i = 0; i < 3; ++i) {
      const auto split = headSplit(graph, node.inputs[i], i == 1 && !transposeK);
      if (!split || (p.heads != 0 && split->heads != p.heads)) return std::nullopt;
      p.heads = split->heads;
      p.packed[i] = split->packed;
    }
    readThirdsInPlace(graph, p);
  }
  p.merge = headMerge(graph, uses, node.outputs[0]);
  if (p.merge == ir::kNoNode) return std::nullopt;
  return p;
}

// The Attention node @p p describes with its heads packed (inputs, attributes and output).
ir::Node packedNode(const ir::Graph& graph, const Packing& p) {
  ir::Node node = graph.node(p.attention);
  for (std::size_t i = 0; i < 3; ++i) node.inputs[i] = p.packed[i];
  node.attrs.set("heads", p.heads);
  node.attrs.set("transpose_k", int64_t{1});
  if (p.qkv) node.attrs.set("packed_qkv", int64_t{1});
  node.outputs = {graph.node(p.merge).outputs[0]};
  return node;
}

bool accepted(const ir::Graph& graph, const ir::Node& node, const ReducedSupport& supported) {
  const detail::NodeShapes shapes = detail::nodeShapes(graph, node);
  return supported(node, shapes.inputs, shapes.outputs);
}

}  // namespace

int32_t packAttentionHeads(ir::Graph& graph, const ReducedSupport& supported,
                           const Reporter& reporter, const ir::Graph* decisionsOf) {
  // The first profile's packed nodes, and whether each reads packed QKV.
  std::optional<std::map<std::string, bool, std::less<>>> given;
  if (decisionsOf != nullptr) {
    given.emplace();
    for (const ir::Node& node : decisionsOf->nodes) {
      if (node.op == "Attention" && node.attrs.getInt("heads", 0) > 0) {
        given->emplace(node.name, node.attrs.getInt("packed_qkv", 0) != 0);
      }
    }
  }
  auto take = [&](const ir::Node& node) {
    if (!given) return accepted(graph, node, supported);
    const auto it = given->find(node.name);
    return it != given->end() && it->second == (node.attrs.getInt("packed_qkv", 0) != 0);
  };
  const Uses uses(graph);
  // Each packing with its packed node, as the backend was asked about it.
  std::vector<std::pair<Packing, ir::Node>> packings;
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    const auto id = static_cast<ir::NodeId>(n);
    auto p = packingOf(graph, uses, id);
    if (!p) continue;
    ir::Node node = packedNode(graph, *p);
    bool taken = take(node);
    if (!taken && p->thirds) {
      // Packed QKV refused (the GPU's fused kernel reads packed heads only): the thirds' copies
      // stay, their head transposes still go.
      p->packed = *p->thirds;
      p->qkv = false;
      node = packedNode(graph, *p);
      taken = take(node);
    }
    if (taken) packings.emplace_back(*p, std::move(node));
  }
  if (packings.empty()) return 0;
  for (auto& [p, node] : packings) {
    // It keeps its own output's id; absorb() below gives it the merge's consumers.
    node.outputs = graph.node(p.attention).outputs;
    graph.node(p.attention) = std::move(node);
    // The Attention node writes the merged tensor itself; the split Shuffles that nothing else
    // reads are pruned below.
    absorb(graph, p.attention, p.merge);
  }
  pruneAndOrder(graph);
  ir::inferShapes(graph);
  reporter.info("attention heads: " + std::to_string(packings.size()) +
                " attention layer(s) read and write packed heads; their head split and merge "
                "transposes are gone");
  return static_cast<int32_t>(packings.size());
}

}  // namespace kiln::builder
