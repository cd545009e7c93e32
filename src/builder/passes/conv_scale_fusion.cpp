// conv-scale-fusion: y = s[k] * op(x)[k] + t[k] after a Convolution, Deconvolution or
// FullyConnected layer with constant weights (BatchNorm, which the parsers import as a
// per-channel Scale; a Scale layer; an element-wise multiply/add/subtract/divide by a constant
// that is uniform or per output channel — the bias add of a layer without bias) is folded into
// that layer's weights: W'[k] = s[k] W[k], b'[k] = s[k] b[k] + t[k].
#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "builder/passes/passes.h"
#include "core/shape_util.h"
#include "kiln/network.h"
#include "ops/epilogue.h"

namespace kiln::builder {

namespace {

// Per-output-channel affine map; a single entry when uniform.
struct Affine {
  std::vector<double> scale;
  std::vector<double> shift;
};

int64_t outputChannels(const ir::Node& node) {
  return node.attrs.getInt("num_output", 0);
}

// The output-channel axis of @p node's output, or -1 when channels are not on one axis.
int32_t channelAxis(const ir::Graph& graph, const ir::Node& node) {
  if (node.op == "FullyConnected") {
    // [N, K] or [N, K, 1, 1]; with a rank-3 input the output is [K, 1, 1] (axis 0), and
    // with rank >= 5 the kept dims come first.
    const int32_t inRank = graph.value(node.inputs[0]).dims.nbDims;
    if (inRank == 2 || inRank == 4) return 1;
    if (inRank == 3) return 0;
    return -1;
  }
  return 1;
}

// Channel values of a constant of shape @p dims broadcast against an output of rank @p rank
// whose channels lie on @p axis: one value (uniform) or K values; nullopt otherwise.
std::optional<std::vector<double>> perChannel(const ir::Graph& graph, ir::ValueId v, int32_t rank,
                                              int32_t axis, int64_t channels) {
  const std::vector<float> values = floatConstant(graph, v);
  if (values.empty()) return std::nullopt;
  const Dims& dims = graph.value(v).dims;
  if (dims.nbDims > rank) return std::nullopt;
  if (values.size() == 1) return std::vector<double>{values[0]};
  // Right-aligned: every dim but the channel axis must be 1.
  const int32_t offset = rank - dims.nbDims;
  for (int32_t i = 0; i < dims.nbDims; ++i) {
    if (i + offset != axis && dims[i] != 1) return std::nullopt;
  }
  if (static_cast<int64_t>(values.size()) != channels) return std::nullopt;
  return std::vector<double>(values.begin(), values.end());
}

// The affine map @p node applies to input @p from (the layer's output), or nullopt.
std::optional<Affine> affineOf(const ir::Graph& graph, const ir::Node& node, ir::ValueId from,
                               int32_t axis, int64_t channels) {
  const int32_t rank = graph.value(from).dims.nbDims;
  if (node.op == "Scale") {
    if (node.inputs[0] != from) return std::nullopt;
    const auto mode = node.attrs.getEnum("mode", ScaleMode::kUNIFORM);
    if (mode == ScaleMode::kELEMENTWISE) return std::nullopt;
    if (mode == ScaleMode::kCHANNEL) {
      int64_t a = node.attrs.getInt("channel_axis", 1);
      if (a < 0) a += rank;
      if (a != axis) return std::nullopt;
    }
    auto coefficient = [&](std::size_t index, double fallback) -> std::vector<double> {
      if (index >= node.inputs.size() || node.inputs[index] == ir::kNoValue) return {fallback};
      const auto values = floatConstant(graph, node.inputs[index]);
      if (values.empty()) return {fallback};
      return {values.begin(), values.end()};
    };
    for (std::size_t i = 1; i < node.inputs.size(); ++i) {
      const ir::ValueId c = node.inputs[i];
      if (c != ir::kNoValue &&
          (!graph.value(c).isConstant() || graph.value(c).dtype != DataType::kFLOAT)) {
        return std::nullopt;
      }
    }
    for (double p : coefficient(3, 1.0)) {
      if (p != 1.0) return std::nullopt;
    }
    return Affine{coefficient(2, 1.0), coefficient(1, 0.0)};
  }
  if (node.op == "ElementWise" && node.inputs.size() == 2) {
    const auto op = node.attrs.getEnum("op", ElementWiseOperation::kSUM);
    const bool first = node.inputs[0] == from;
    const ir::ValueId other = first ? node.inputs[1] : node.inputs[0];
    if (other == from) return std::nullopt;
    const auto c = perChannel(graph, other, rank, axis, channels);
    if (!c) return std::nullopt;
    // The constant must not widen the output (a [1, K, 1, 1] bias on a [N, K, H, W] output).
    if (graph.value(node.outputs[0]).dims.nbDims != rank) return std::nullopt;
    const std::vector<double> ones(c->size(), 1.0), zeros(c->size(), 0.0);
    switch (op) {
      case ElementWiseOperation::kSUM:
        return Affine{ones, *c};
      case ElementWiseOperation::kPROD:
        return Affine{*c, zeros};
      case ElementWiseOperation::kSUB: {
        if (!first) return std::nullopt;
        std::vector<double> neg(*c);
        for (double& x : neg) x = -x;
        return Affine{ones, neg};
      }
      case ElementWiseOperation::kDIV: {
        if (!first) return std::nullopt;
        std::vector<double> inv(*c);
        for (double& x : inv) {
          if (x == 0.0) return std::nullopt;
          x = 1.0 / x;
        }
        return Affine{inv, zeros};
      }
      default:
        return std::nullopt;
    }
  }
  return std::nullopt;
}

double at(const std::vector<double>& v, int64_t k) {
  return v.size() == 1 ? v[0] : v[static_cast<std::size_t>(k)];
}

// Rewrites @p layer's weights and bias with @p affine; false (nothing changed) when the context
// refuses the new constants.
bool rewriteWeights(ir::Graph& graph, const PassContext& context, ir::NodeId id,
                    const Affine& affine) {
  ir::Node& layer = graph.node(id);
  const int64_t k = outputChannels(layer);
  const ir::ValueId biasIn =
      layer.inputs.size() > 2 && layer.inputs[2] != ir::kNoValue ? layer.inputs[2] : ir::kNoValue;
  const ir::Value& kernelValue = graph.value(layer.inputs[1]);
  const Dims kernelDims = kernelValue.dims;
  std::optional<std::vector<std::byte>> kernel =
      context.newConstant(graph, kernelDims, DataType::kFLOAT, layer.inputs[1]);
  std::optional<std::vector<std::byte>> biasStorage =
      context.newConstant(graph, Dims{k}, DataType::kFLOAT, biasIn);
  if (!kernel || !biasStorage || kernel->size() != kernelValue.constant->size()) return false;
  if (!kernel->empty()) {
    std::memcpy(kernel->data(), kernelValue.constant->data(), kernel->size());
  }
  const std::span<float> w = floatsOf(*kernel);
  const auto total = static_cast<int64_t>(w.size());
  if (layer.op == "Deconvolution") {
    // [C, K/groups, kernel...]: output channel of (c, j) is group(c) * K/groups + j.
    const int64_t groups = layer.attrs.getInt("groups", 1);
    const int64_t c = kernelDims[0];
    const int64_t perGroupOut = k / groups;
    const int64_t perGroupIn = c / groups;
    const int64_t taps = total / (c * perGroupOut);
    for (int64_t ci = 0; ci < c; ++ci) {
      for (int64_t j = 0; j < perGroupOut; ++j) {
        const int64_t out = (ci / perGroupIn) * perGroupOut + j;
        float* base = w.data() + (ci * perGroupOut + j) * taps;
        for (int64_t t = 0; t < taps; ++t) {
          base[t] = static_cast<float>(base[t] * at(affine.scale, out));
        }
      }
    }
  } else {
    // Convolution [K, C/groups, kernel...] and FullyConnected [K, F]: one row per channel.
    const int64_t row = total / k;
    for (int64_t o = 0; o < k; ++o) {
      for (int64_t t = 0; t < row; ++t) {
        float& x = w[static_cast<std::size_t>(o * row + t)];
        x = static_cast<float>(x * at(affine.scale, o));
      }
    }
  }
  const std::span<float> bias = floatsOf(*biasStorage);
  if (biasIn != ir::kNoValue) {
    const std::vector<std::byte>& old = *graph.value(biasIn).constant;
    std::memcpy(bias.data(), old.data(), std::min(old.size(), biasStorage->size()));
  }
  for (int64_t o = 0; o < k; ++o) {
    auto& b = bias[static_cast<std::size_t>(o)];
    b = static_cast<float>(b * at(affine.scale, o) + at(affine.shift, o));
  }
  const std::string name = layer.name;
  const ir::ValueId newKernel =
      addFloatConstant(graph, name + "_folded_kernel", kernelDims, std::move(*kernel));
  const ir::ValueId newBias =
      addFloatConstant(graph, name + "_folded_bias", Dims{k}, std::move(*biasStorage));
  ir::Node& node = graph.node(id);  // addConstant does not move nodes; re-fetched for clarity
  if (node.inputs.size() < 3) node.inputs.resize(3, ir::kNoValue);
  node.inputs[1] = newKernel;
  node.inputs[2] = newBias;
  return true;
}

bool hasConstantWeights(const ir::Graph& graph, const ir::Node& node) {
  if (node.inputs.size() < 2 || node.inputs[1] == ir::kNoValue) return false;
  const ir::Value& w = graph.value(node.inputs[1]);
  if (!w.isConstant() || w.dtype != DataType::kFLOAT) return false;
  if (node.inputs.size() > 2 && node.inputs[2] != ir::kNoValue) {
    const ir::Value& b = graph.value(node.inputs[2]);
    if (!b.isConstant() || b.dtype != DataType::kFLOAT) return false;
  }
  return true;
}

}  // namespace

int32_t fuseConvScale(ir::Graph& graph, const PassContext& context) {
  int32_t changes = 0;
  Uses uses(graph);
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& layer = graph.nodes[n];
    if (layer.op != "Convolution" && layer.op != "Deconvolution" && layer.op != "FullyConnected") {
      continue;
    }
    if (layer.outputs.size() != 1 || !hasConstantWeights(graph, layer)) continue;
    if (!ops::Epilogue::of(layer.attrs).empty()) continue;
    const int32_t axis = channelAxis(graph, layer);
    if (axis < 0) continue;
    const ir::ValueId out = layer.outputs[0];
    const ir::NodeId user = uses.soleUser(out);
    if (user == ir::kNoNode) continue;
    const ir::Node& next = graph.node(user);
    if (next.precision != layer.precision) continue;
    const auto affine = affineOf(graph, next, out, axis, outputChannels(layer));
    if (!affine) continue;
    const std::string what = "folded " + joinNames(next.fusedFrom) + " (" + next.op +
                             ") into the weights of '" + layer.name + "' (" + layer.op + ")";
    if (!rewriteWeights(graph, context, static_cast<ir::NodeId>(n), *affine)) continue;
    absorb(graph, static_cast<ir::NodeId>(n), user);
    context.log(what);
    ++changes;
    uses.refresh();
    --n;  // the layer may absorb the next one too (Scale after a bias add)
  }
  return changes;
}

}  // namespace kiln::builder
