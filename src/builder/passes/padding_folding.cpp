// padding-folding: a zero Padding of the spatial dimensions before a Convolution with explicit
// padding becomes part of the convolution's own padding; before an average Pooling that counts
// its padding cells (exclude_padding off) or has none of its own, part of the pooling's padding,
// counted (Inception's branches: a Pad then a 3x3 average pool). Max pooling is left alone: it
// ignores its padding cells, unlike padded zeros.
#include <vector>

#include "builder/passes/passes.h"
#include "kiln/network.h"

namespace kiln::builder {

namespace {

bool noPadding(const ir::Attributes& attrs) {
  for (const char* name : {"pre_padding", "post_padding"}) {
    if (!attrs.has(name)) continue;
    for (const int64_t a : attrs.getInts(name)) {
      if (a != 0) return false;
    }
  }
  return true;
}

// The spatial rank of the window of @p node when zero padding before it can become its own;
// 0 otherwise.
int32_t foldableWindowRank(const ir::Node& node) {
  if (node.inputs.empty()) return 0;
  if (node.op == "Convolution") return node.attrs.getDims("kernel").nbDims;
  if (node.op == "Pooling" &&
      node.attrs.getEnum("type", PoolingType::kMAX) == PoolingType::kAVERAGE &&
      (node.attrs.getInt("exclude_padding", 1) == 0 || noPadding(node.attrs))) {
    return node.attrs.getDims("window").nbDims;
  }
  return 0;
}

}  // namespace

int32_t foldPadding(ir::Graph& graph, const PassContext& context) {
  int32_t changes = 0;
  Uses uses(graph);
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& conv = graph.nodes[n];
    const int32_t spatial = foldableWindowRank(conv);
    if (spatial == 0) continue;
    const auto mode = conv.attrs.getEnum("padding_mode", PaddingMode::kEXPLICIT_ROUND_DOWN);
    // Rounding up keeps windows by where they start, which moving padding would change.
    if (mode != PaddingMode::kEXPLICIT_ROUND_DOWN) continue;
    const ir::NodeId p = producerId(graph, conv.inputs[0]);
    if (p == ir::kNoNode) continue;
    const ir::Node& pad = graph.node(p);
    if (pad.op != "Padding" || !uses.onlyUser(conv.inputs[0], static_cast<ir::NodeId>(n)) ||
        pad.attrs.getEnum("fill", PaddingFill::kCONSTANT) != PaddingFill::kCONSTANT ||
        pad.attrs.getFloat("value", 0.0) != 0.0 || pad.precision != conv.precision) {
      continue;
    }
    const int32_t rank = graph.value(pad.inputs[0]).dims.nbDims;
    const auto pre = pad.attrs.getInts("pre");
    const auto post = pad.attrs.getInts("post");
    if (pre.size() != post.size() || rank != spatial + 2) continue;
    // Amounts apply to the last pre.size() dims: only spatial ones may be non-zero, none < 0.
    const auto r = static_cast<int32_t>(pre.size());
    bool ok = r <= rank;
    std::vector<int64_t> addPre(static_cast<std::size_t>(spatial), 0);
    std::vector<int64_t> addPost(addPre);
    for (int32_t i = 0; ok && i < r; ++i) {
      const int32_t dim = rank - r + i;
      const auto a = pre[static_cast<std::size_t>(i)];
      const auto b = post[static_cast<std::size_t>(i)];
      if (a < 0 || b < 0) ok = false;
      if (dim < 2) {
        ok = ok && a == 0 && b == 0;
      } else {
        addPre[static_cast<std::size_t>(dim - 2)] = a;
        addPost[static_cast<std::size_t>(dim - 2)] = b;
      }
    }
    if (!ok) continue;
    context.log("folded padding " + joinNames(pad.fusedFrom) + " into '" + conv.name + "'");
    ir::Node& target = graph.nodes[n];
    std::vector<int64_t> newPre = target.attrs.getInts("pre_padding");
    std::vector<int64_t> newPost = target.attrs.getInts("post_padding");
    newPre.resize(static_cast<std::size_t>(spatial), 0);
    newPost.resize(static_cast<std::size_t>(spatial), 0);
    for (std::size_t i = 0; i < newPre.size(); ++i) {
      newPre[i] += addPre[i];
      newPost[i] += addPost[i];
    }
    target.attrs.set("pre_padding", newPre);
    target.attrs.set("post_padding", newPost);
    // The padded zeros were averaged in: so are the cells of the pooling's own padding now.
    if (target.op == "Pooling") target.attrs.set("exclude_padding", int64_t{0});
    target.inputs[0] = pad.inputs[0];
    std::vector<std::string> names = pad.fusedFrom;
    names.insert(names.end(), target.fusedFrom.begin(), target.fusedFrom.end());
    target.fusedFrom = std::move(names);
    removeNode(graph, p);
    ++changes;
    uses.refresh();
  }
  return changes;
}

}  // namespace kiln::builder
