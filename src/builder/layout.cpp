#include "builder/layout.h"

#include <array>
#include <cstddef>
#include <cstring>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "builder/layout_regions.h"
#include "ir/math_mode.h"
#include "ir/op_registry.h"
#include "ops/data_movement.h"
#include "ops/epilogue.h"
#include "ops/window_util.h"
#include "runtime/engine_impl.h"

namespace kiln::builder {

namespace {

// Reduce "axes" masks of H and W: in NCHW (bits 2, 3) and in NHWC (bits 1, 2).
constexpr int64_t kSpatialAxesFirst = 0b1100;
constexpr int64_t kSpatialAxesLast = 0b0110;

// Tensor cores take channel counts in multiples of 8 (16-bit elements, 16-byte vectors).
constexpr int64_t kTensorCoreChannels = 8;

enum class Role { kNone, kConvolution, kPooling, kTransparent };

// @p dims with leading 1s up to rank 4: how numpy broadcasting aligns it with a rank-4 tensor.
Dims padTo4(const Dims& dims) {
  Dims out;
  out.nbDims = 4;
  const int32_t shift = 4 - dims.nbDims;
  for (int32_t i = 0; i < 4; ++i) out[i] = i < shift ? 1 : dims[i - shift];
  return out;
}

Dims permuted(const Dims& dims, const std::array<int32_t, 4>& perm) {
  Dims out = dims;
  for (std::size_t i = 0; i < 4; ++i) out[static_cast<int32_t>(i)] = dims[perm[i]];
  return out;
}

// The bytes of a rank-4 tensor of @p dims transposed by @p perm (any element size).
std::vector<std::byte> permutedBytes(const std::vector<std::byte>& src, const Dims& dims,
                                     std::size_t esize, const std::array<int32_t, 4>& perm) {
  std::array<int64_t, 4> srcStride{};
  int64_t stride = 1;
  for (int32_t d = 3; d >= 0; --d) {
    srcStride[static_cast<std::size_t>(d)] = stride;
    stride *= dims[d];
  }
  std::vector<std::byte> dst(src.size());
  const Dims out = permuted(dims, perm);
  std::size_t index = 0;
  for (int64_t a = 0; a < out[0]; ++a) {
    for (int64_t b = 0; b < out[1]; ++b) {
      for (int64_t c = 0; c < out[2]; ++c) {
        for (int64_t d = 0; d < out[3]; ++d) {
          const int64_t from = a * srcStride[static_cast<std::size_t>(perm[0])] +
                               b * srcStride[static_cast<std::size_t>(perm[1])] +
                               c * srcStride[static_cast<std::size_t>(perm[2])] +
                               d * srcStride[static_cast<std::size_t>(perm[3])];
          std::memcpy(dst.data() + index * esize,
                      src.data() + static_cast<std::size_t>(from) * esize, esize);
          ++index;
        }
      }
    }
  }
  return dst;
}

// The bytes of a [K, R, S, C] kernel with C zero-padded to @p channels.
std::vector<std::byte> paddedChannels(const std::vector<std::byte>& krsc, const Dims& dims,
                                      std::size_t esize, int64_t channels) {
  const int64_t c = dims[3];
  const int64_t rows = dims[0] * dims[1] * dims[2];
  std::vector<std::byte> out(static_cast<std::size_t>(rows * channels) * esize);
  for (int64_t r = 0; r < rows; ++r) {
    std::memcpy(out.data() + static_cast<std::size_t>(r * channels) * esize,
                krsc.data() + static_cast<std::size_t>(r * c) * esize,
                static_cast<std::size_t>(c) * esize);
  }
  return out;
}

// Channels a padded input gets: the next multiple of 8. (4 would halve the stem's work, and
// cuDNN's graph API has NHWC FP16 kernels for it, but the legacy API's algorithms kiln times
// fall back to a non-tensor-core kernel there: 4.0 ms instead of 1.2 ms for ResNet-50's stem at
// batch 256 on the H100.)
int64_t roundUpChannels(int64_t c) {
  return (c + kTensorCoreChannels - 1) / kTensorCoreChannels * kTensorCoreChannels;
}

class LayoutPass {
 public:
  LayoutPass(ir::Graph& graph, const ReducedSupport& supported, const ir::Graph* decisionsOf,
             LayoutOptions options)
      : graph_(graph), supported_(supported), options_(options) {
    if (decisionsOf != nullptr) {
      given_.emplace();
      for (const ir::Node& node : decisionsOf->nodes) {
        if (ops::channelsLast(node.attrs)) given_->insert(node.name);
      }
    }
  }

  LayoutSummary run(const Reporter& reporter) {
    const std::size_t count = graph_.nodes.size();
    consumers_ = graph_.consumers();
    roles_.assign(count, Role::kNone);
    for (std::size_t n = 0; n < count; ++n) roles_[n] = roleOf(graph_.nodes[n]);
    const std::vector<std::size_t> region = regions();

    // Per region: convolutions and the transposes its entries and exits would need.
    std::map<std::size_t, int32_t> convolutions;
    std::map<std::size_t, std::set<ir::ValueId>> boundary;
    for (std::size_t n = 0; n < count; ++n) {
      if (roles_[n] == Role::kNone) continue;
      const std::size_t r = region[n];
      if (roles_[n] == Role::kConvolution) ++convolutions[r];
      const ir::Node& node = graph_.nodes[n];
      for (ir::ValueId v : node.inputs) {
        if (v == ir::kNoValue || graph_.value(v).isConstant()) continue;
        if (!carriedIn(v, region, r)) boundary[r].insert(v);
      }
      for (ir::ValueId v : node.outputs) {
        if (!carries(node, v)) continue;
        bool leaves = graph_.isGraphOutput(v);
        for (ir::NodeId c : consumers_[static_cast<std::size_t>(v)]) {
          const auto ci = static_cast<std::size_t>(c);
          leaves = leaves || roles_[ci] == Role::kNone || region[ci] != r;
        }
        if (leaves) boundary[r].insert(v);
      }
    }
    converted_.assign(count, false);
    LayoutSummary summary;
    for (const auto& [r, convs] : convolutions) {
      // A convolution moved to NHWC saves about the transposes cuDNN would make inside it; a
      // region pays when it needs no more transposes of its own than it has convolutions.
      const auto transposes = static_cast<int32_t>(boundary[r].size());
      if (convs < 1 || transposes > convs) continue;
      ++summary.regions;
      summary.convolutions += convs;
      for (std::size_t n = 0; n < count; ++n) {
        if (roles_[n] != Role::kNone && region[n] == r) converted_[n] = true;
      }
    }
    if (summary.regions == 0) return summary;
    rewrite();
    summary.transposes = transposes_;
    graph_.rebuild(graph_.topologicalOrder());
    ir::inferShapes(graph_);
    reporter.info("channels-last layout: " + std::to_string(summary.convolutions) +
                  " convolutions in " + std::to_string(summary.regions) + " region(s) run NHWC; " +
                  std::to_string(summary.transposes) + " transposes join them to NCHW tensors");
    return summary;
  }

 private:
  bool bounded(const ir::Node& node) const {
    for (ir::ValueId v : node.inputs) {
      if (v != ir::kNoValue && graph_.value(v).boundedExtents != 0) return true;
    }
    for (ir::ValueId v : node.outputs) {
      if (graph_.value(v).boundedExtents != 0) return true;
    }
    return false;
  }

  bool rank4(ir::ValueId v) const { return graph_.value(v).dims.nbDims == 4; }
  bool constant(ir::ValueId v) const { return graph_.value(v).isConstant(); }

  // Whether @p v, an output of @p node, is a rank-4 tensor in the node's layout (not the [N, C]
  // of a Reduce over H and W without keep_dims).
  bool carries(const ir::Node& node, ir::ValueId v) const {
    if (node.op == "Reduce" && node.attrs.getInt("keep_dims", 0) == 0) return false;
    return rank4(v);
  }

  // Whether @p v is a carrying output of a node of region @p r.
  bool carriedIn(ir::ValueId v, const std::vector<std::size_t>& region, std::size_t r) const {
    const ir::NodeId p = graph_.value(v).producer;
    if (p == ir::kNoNode) return false;
    const auto pi = static_cast<std::size_t>(p);
    return roles_[pi] != Role::kNone && region[pi] == r && carries(graph_.nodes[pi], v);
  }

  Role roleOf(const ir::Node& node) const {
    if (ops::channelsLast(node.attrs) || bounded(node) || node.outputs.empty()) return Role::kNone;
    if (node.op == "Convolution") return convolutionAnchor(node) ? Role::kConvolution : Role::kNone;
    if (node.op == "Pooling") return poolingAnchor(node) ? Role::kPooling : Role::kNone;
    return transparent(node) ? Role::kTransparent : Role::kNone;
  }

  bool convolutionAnchor(const ir::Node& node) const {
    const ops::WindowParams params = ops::readWindowParams(node.attrs, "kernel");
    if (params.rank() != 2) return false;
    if (node.inputs.size() < 2 || node.outputs.size() != 1) return false;
    const ir::ValueId x = node.inputs[0];
    const ir::ValueId w = node.inputs[1];
    if (x == ir::kNoValue || w == ir::kNoValue || constant(x) || !constant(w) || !rank4(x) ||
        !rank4(w) || !rank4(node.outputs[0])) {
      return false;
    }
    // The bias must be a constant [K]; the residual a rank-4 tensor (permuted like y).
    const auto residualFits = [&](ir::ValueId v) { return !constant(v) && rank4(v); };
    if (!extraInputsFit(graph_, node, residualFits)) return false;
    if (given_) return given_->count(node.name) > 0;
    if (options_.reducedOnly && !ir::reducedPrecision(node.attrs)) return false;
    const int64_t channels = graph_.value(x).dims[1];
    const int64_t outputs = graph_.value(node.outputs[0]).dims[1];
    if (channels <= 0 || outputs <= 0 || outputs % kTensorCoreChannels != 0) return false;
    // One group, or depthwise (cuDNN runs both in NHWC); other grouped convolutions stay NCHW.
    const int64_t groups = node.attrs.getInt("groups", 1);
    if (groups != 1 && !(groups == channels && outputs == channels)) return false;
    // Other channel counts (an image's 3) are padded with zeros on the way in: that input is
    // always an entry of the convolution's region (paddedInput).
    if (channels % kTensorCoreChannels != 0 && groups != 1) return false;
    return supportedChannelsLast(node);
  }

  // A convolution whose input channels are no tensor-core multiple: NHWC with zero channels.
  bool padded(const ir::Node& node) const {
    return node.op == "Convolution" &&
           graph_.value(node.inputs[0]).dims[1] % kTensorCoreChannels != 0;
  }

  // Whether @p v is the input of padded convolution @p c: always an entry of c's region (the
  // padding is made on the way in), never a link to its producer's.
  bool paddedInput(ir::NodeId c, ir::ValueId v) const {
    const ir::Node& node = graph_.node(c);
    return roles_[static_cast<std::size_t>(c)] == Role::kConvolution && padded(node) &&
           node.inputs[0] == v;
  }

  // The KRSC bytes of kernel @p w, its C zero-padded to @p channels (0: as it is).
  static std::vector<std::byte> kernelBytes(const ir::Value& w, int64_t channels) {
    std::vector<std::byte> krsc =
        permutedBytes(*w.constant, w.dims, elementSize(w.dtype), ops::kToChannelsLast);
    if (channels <= 0) return krsc;
    return paddedChannels(krsc, permuted(w.dims, ops::kToChannelsLast), elementSize(w.dtype),
                          channels);
  }

  bool poolingAnchor(const ir::Node& node) const {
    const ops::WindowParams params = ops::readWindowParams(node.attrs, "window");
    if (params.rank() != 2 || node.inputs.size() != 1 || node.outputs.size() != 1) return false;
    const ir::ValueId x = node.inputs[0];
    if (x == ir::kNoValue || constant(x) || !rank4(x) || !rank4(node.outputs[0])) return false;
    if (given_) return given_->count(node.name) > 0;
    return supportedChannelsLast(node);
  }

  // The support test on @p node as the pass would make it: layout NHWC, its rank-4 tensors
  // (x, kernel, residual, y) channels-last, a kernel's bytes in KRSC.
  bool supportedChannelsLast(const ir::Node& node) const {
    ir::Node probe = node;
    probe.attrs.set(ops::kLayoutAttr, std::string(ops::kChannelsLast));
    detail::NodeShapes shapes = detail::nodeShapes(graph_, node);
    std::vector<std::byte> kernel;
    const int64_t channels = padded(node) ? roundUpChannels(shapes.inputs[0].dims[1]) : 0;
    for (std::size_t i = 0; i < shapes.inputs.size(); ++i) {
      ir::TensorInfo& info = shapes.inputs[i];
      if (!info.present || info.dims.nbDims != 4) continue;
      if (node.op == "Convolution" && i == 1) {
        const ir::Value& w = graph_.value(node.inputs[1]);
        kernel = kernelBytes(w, channels);
        info.constData = kernel.empty() ? nullptr : kernel.data();
      }
      info.dims = ops::toChannelsLast(info.dims);
      if (channels > 0 && i <= 1) info.dims[3] = channels;
    }
    for (ir::TensorInfo& info : shapes.outputs) info.dims = ops::toChannelsLast(info.dims);
    return supported_(probe, shapes.inputs, shapes.outputs);
  }

  bool transparent(const ir::Node& node) const {
    static const std::set<std::string, std::less<>> kOps = {
        "Activation", "Unary",         "ElementWise", "PointwiseChain",
        "Identity",   "Concatenation", "Reduce"};
    if (kOps.count(node.op) == 0) return false;
    bool tensorInput = false;
    for (ir::ValueId v : node.inputs) {
      if (v == ir::kNoValue || constant(v)) continue;
      if (!rank4(v)) return false;
      tensorInput = true;
    }
    if (!tensorInput) return false;
    if (node.op == "Reduce") {
      // Over H and W only (the axes in the attribute, not an input); the output is rank 4 with
      // keep_dims, else [N, C].
      if (node.inputs.size() != 1 || node.attrs.getInt("axes", 0) != kSpatialAxesFirst) {
        return false;
      }
      return node.outputs.size() == 1;
    }
    for (ir::ValueId v : node.outputs) {
      if (!rank4(v)) return false;
    }
    if (node.op == "Concatenation") {
      int64_t axis = node.attrs.getInt("axis", ops::concatenationDefaultAxis(4));
      if (axis < 0) axis += 4;
      if (axis != 1) return false;
    }
    return true;
  }

  // Groups the nodes with a role into regions joined by carrying tensors; returns each node's
  // region (a representative node index).
  std::vector<std::size_t> regions() const {
    std::vector<std::size_t> parent(graph_.nodes.size());
    std::iota(parent.begin(), parent.end(), std::size_t{0});
    auto find = [&](std::size_t n) {
      while (parent[n] != n) n = parent[n] = parent[parent[n]];
      return n;
    };
    for (std::size_t n = 0; n < graph_.nodes.size(); ++n) {
      if (roles_[n] == Role::kNone) continue;
      const ir::Node& node = graph_.nodes[n];
      for (ir::ValueId v : node.outputs) {
        if (!carries(node, v)) continue;
        for (ir::NodeId c : consumers_[static_cast<std::size_t>(v)]) {
          if (roles_[static_cast<std::size_t>(c)] != Role::kNone && !paddedInput(c, v)) {
            parent[find(static_cast<std::size_t>(c))] = find(n);
          }
        }
      }
    }
    std::vector<std::size_t> region(parent.size());
    for (std::size_t n = 0; n < parent.size(); ++n) region[n] = find(n);
    return region;
  }

  // Whether @p v is a carrying output of a converted node.
  bool channelsLastValue(ir::ValueId v) const {
    const ir::NodeId p = graph_.value(v).producer;
    return p != ir::kNoNode && converted_[static_cast<std::size_t>(p)] &&
           carries(graph_.node(p), v);
  }

  void rewrite() {
    const std::size_t count = converted_.size();
    // Which values are channels-last is decided before any input changes.
    std::vector<bool> lastValues(graph_.values.size());
    for (std::size_t v = 0; v < lastValues.size(); ++v) {
      lastValues[v] = channelsLastValue(static_cast<ir::ValueId>(v));
    }
    for (std::size_t n = 0; n < count; ++n) {
      if (!converted_[n]) continue;
      const Role role = roles_[n];
      ir::Node& node = graph_.nodes[n];
      if (role == Role::kConvolution || role == Role::kPooling) {
        node.attrs.set(ops::kLayoutAttr, std::string(ops::kChannelsLast));
      } else if (node.op == "Concatenation") {
        node.attrs.set("axis", int64_t{3});
      } else if (node.op == "Reduce") {
        node.attrs.set("axes", kSpatialAxesLast);
      }
      // Decided before the input changes (the padded input's dims[1] is no longer C).
      const bool pad = role == Role::kConvolution && padded(node);
      const int64_t channels = pad ? graph_.value(node.inputs[0]).dims[1] : 0;
      for (std::size_t slot = 0; slot < graph_.nodes[n].inputs.size(); ++slot) {
        const ir::ValueId v = graph_.nodes[n].inputs[slot];
        if (v == ir::kNoValue) continue;
        ir::ValueId replacement = v;
        if (constant(v)) {
          if (role == Role::kConvolution && slot == 1) {
            replacement = pad ? paddedKernel(v, channels) : permutedConstant(v, "_krsc");
          } else if (role == Role::kTransparent) {
            replacement = permutedConstant(v, "_nhwc");
          }
        } else if (pad && slot == 0) {
          // An NHWC tensor of another region goes back to NCHW first.
          const ir::ValueId nchw =
              lastValues[static_cast<std::size_t>(v)]
                  ? transposed(v, ops::kToChannelsFirst, "_to_nchw", "_nchw", exits_)
                  : v;
          replacement = paddedEntry(nchw);
        } else if (!lastValues[static_cast<std::size_t>(v)]) {
          replacement = transposed(v, ops::kToChannelsLast, "_to_nhwc", "_nhwc", entries_);
        }
        graph_.nodes[n].inputs[slot] = replacement;
      }
    }
    // Readers outside the regions and graph outputs read channels-first copies.
    routeRegionExits(
        graph_, converted_, lastValues,
        [&](ir::ValueId v) {
          return transposed(v, ops::kToChannelsFirst, "_to_nchw", "_nchw", exits_);
        },
        "_nhwc");
  }

  // A constant of a converted node in channels-last order (numpy alignment to rank 4); scalars
  // and single values stay as they are.
  ir::ValueId permutedConstant(ir::ValueId v, const char* suffix) {
    const ir::Value& value = graph_.value(v);
    if (value.dims.nbDims == 0 || value.dims.nbDims > 4 || volume(value.dims) <= 1) return v;
    if (const auto it = constants_.find(v); it != constants_.end()) return it->second;
    const Dims dims = padTo4(value.dims);
    std::vector<std::byte> bytes =
        permutedBytes(*value.constant, dims, elementSize(value.dtype), ops::kToChannelsLast);
    const ir::ValueId copy = graph_.addConstant(
        value.name + suffix, value.dtype, permuted(dims, ops::kToChannelsLast), std::move(bytes));
    constants_.emplace(v, copy);
    return copy;
  }

  // Kernel @p v in KRSC with its C zero-padded from @p channels to a tensor-core multiple.
  ir::ValueId paddedKernel(ir::ValueId v, int64_t channels) {
    if (const auto it = paddedKernels_.find(v); it != paddedKernels_.end()) return it->second;
    const ir::Value& w = graph_.value(v);
    const int64_t wide = roundUpChannels(channels);
    Dims dims = permuted(w.dims, ops::kToChannelsLast);
    std::vector<std::byte> bytes = kernelBytes(w, wide);
    dims[3] = wide;
    const ir::ValueId copy = graph_.addConstant(w.name + "_krsc" + std::to_string(wide), w.dtype,
                                                dims, std::move(bytes));
    paddedKernels_.emplace(v, copy);
    return copy;
  }

  // @p v ([N, C, H, W]) through a PadToChannelsLast that makes it [N, H, W, roundUpChannels(C)].
  ir::ValueId paddedEntry(ir::ValueId v) {
    if (const auto it = paddedEntries_.find(v); it != paddedEntries_.end()) return it->second;
    // Copies: adding the node below may move the graph's values.
    const std::string name = graph_.value(v).name;
    const Dims dims = graph_.value(v).dims;
    const int64_t wide = roundUpChannels(dims[1]);
    const ir::NodeId pad =
        graph_.addNode(name + "_to_nhwc" + std::to_string(wide), "PadToChannelsLast", {v}, 1);
    graph_.node(pad).attrs.set("channels", wide);
    const ir::ValueId out = graph_.node(pad).outputs[0];
    graph_.value(out).name = name + "_nhwc" + std::to_string(wide);
    graph_.value(out).dtype = graph_.value(v).dtype;
    graph_.value(out).dims = Dims{dims[0], dims[2], dims[3], wide};
    paddedEntries_.emplace(v, out);
    ++transposes_;
    return out;
  }

  // @p v through a Shuffle that transposes it by @p perm (once per value and direction).
  ir::ValueId transposed(ir::ValueId v, const std::array<int32_t, 4>& perm, const char* nodeSuffix,
                         const char* valueSuffix, std::map<ir::ValueId, ir::ValueId>& made) {
    if (const auto it = made.find(v); it != made.end()) return it->second;
    const std::string name = graph_.value(v).name;
    const ir::NodeId shuffle = graph_.addNode(name + nodeSuffix, "Shuffle", {v}, 1);
    graph_.node(shuffle).attrs.set("first_perm", std::vector<int64_t>(perm.begin(), perm.end()));
    const ir::ValueId out = graph_.node(shuffle).outputs[0];
    graph_.value(out).name = name + valueSuffix;
    graph_.value(out).dtype = graph_.value(v).dtype;
    graph_.value(out).dims = permuted(graph_.value(v).dims, perm);
    made.emplace(v, out);
    ++transposes_;
    return out;
  }

  ir::Graph& graph_;
  const ReducedSupport& supported_;
  LayoutOptions options_;
  std::optional<std::set<std::string, std::less<>>> given_;
  std::vector<std::vector<ir::NodeId>> consumers_;
  std::vector<Role> roles_;
  std::vector<bool> converted_;
  std::map<ir::ValueId, ir::ValueId> constants_;
  std::map<ir::ValueId, ir::ValueId> entries_;
  std::map<ir::ValueId, ir::ValueId> paddedEntries_;
  std::map<ir::ValueId, ir::ValueId> paddedKernels_;
  std::map<ir::ValueId, ir::ValueId> exits_;
  int32_t transposes_ = 0;
};

}  // namespace

LayoutSummary assignChannelsLast(ir::Graph& graph, const ReducedSupport& supported,
                                 const Reporter& reporter, const ir::Graph* decisionsOf,
                                 LayoutOptions options) {
  LayoutPass pass(graph, supported, decisionsOf, options);
  return pass.run(reporter);
}

}  // namespace kiln::builder
