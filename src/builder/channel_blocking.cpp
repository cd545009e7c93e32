#include "builder/channel_blocking.h"

#include <algorithm>
#include <cstddef>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "backends/cpu/depthwise_blocked.h"
#include "builder/layout_regions.h"
#include "ops/data_movement.h"
#include "ops/epilogue.h"
#include "ops/window_util.h"

namespace kiln::builder {

namespace {

// Multiply-adds of 1x1 and direct convolutions per element of a region's reformats from which
// the region pays without a depthwise convolution: a reformat moves an element in about half a
// nanosecond on one core, a blocked 1x1 convolution saves about 5 picoseconds a multiply-add.
constexpr int64_t kBlockedMacsPerReformat = 128;

// Where a 3x3 stride-1 convolution stays NCHW for the Winograd tactic rather than run the blocked
// direct kernel: over more than kWinogradMinPixels outputs (at 7x7 its 4x4 tiles cover 8x8, and
// the direct kernel is faster there), where its tiles cover at most kWinogradMaxCover times the
// output (13x13 in tiles of 4: 16x16, 1.5 times), and from at least kWinogradMinChannels input
// channels unless the image has more than kWinogradShallowPixels outputs and more than
// kWinogradFewChannels inputs: its products over shallow inputs run far from the GEMM's peak
// (SqueezeNet's 32 -> 128 at 27x27 ran a tenth faster direct, its 16 -> 64 at 55x55 at half the
// direct kernel's rate; UNet's 32 -> 64 at 32x32 a third slower direct).
constexpr int64_t kWinogradMinPixels = 64;
constexpr double kWinogradMaxCover = 1.35;
constexpr int64_t kWinogradMinChannels = 64;
constexpr int64_t kWinogradShallowPixels = int64_t{28} * 28;
constexpr int64_t kWinogradFewChannels = 16;
// From this many output pixels, a 3x3 stride-1 convolution the NCHW Winograd tactics would take
// runs blocked instead (cpu.conv.winograd.nchw8c.avx2 or the direct kernel, whichever the
// autotuner finds faster). ResNet-50, in one process: 56x56x64 1.6-1.7 -> 1.1-1.3 ms, 28x28x128
// 1.1-1.2 -> 1.0-1.1 ms, but 14x14x256 1.33 -> 1.42 ms (its 16 tiles make tile-major products
// of 18 rows, the NCHW tactic's run 256 rows of weights against one panel of tiles).
// Nor with fewer than kBlockedWinogradMinChannels input or output channels: the tile-major
// products are then narrow (UNet's 64 -> 32 at 64x64 ran 0.70 -> 0.88 ms blocked).
constexpr int64_t kBlockedWinogradMinPixels = int64_t{28} * 28;
constexpr int64_t kBlockedWinogradMinChannels = 64;

class BlockingPass {
 public:
  BlockingPass(ir::Graph& graph, const ir::Graph* decisionsOf) : graph_(graph) {
    if (decisionsOf != nullptr) {
      given_.emplace();
      for (const ir::Node& node : decisionsOf->nodes) {
        // A blocked concatenation has no layout of its own: its output is blocked.
        const bool blockedConcat = node.op == "Concatenation" && node.outputs.size() == 1 &&
                                   decisionsOf->value(node.outputs[0]).dims.nbDims == 5;
        if (ops::layoutOf(node.attrs) == ops::Layout::kChannelsBlocked || blockedConcat) {
          given_->insert(node.name);
        }
      }
    }
  }

  BlockingSummary run(const Reporter& reporter) {
    const std::size_t count = graph_.nodes.size();
    consumers_ = graph_.consumers();
    kind_.assign(count, Kind::kNone);
    for (std::size_t n = 0; n < count; ++n) kind_[n] = kindOf(graph_.nodes[n]);
    // Pools after the others, in graph order: a pool joins where its x comes from a blocked
    // node (its kernel reads blocked x only, and as a region's entry it would move the reformat
    // to its larger input: ResNet's stem).
    for (std::size_t n = 0; n < count; ++n) {
      if (graph_.nodes[n].op == "Pooling") kind_[n] = poolKind(graph_.nodes[n]);
    }

    // Regions: anchors joined through the x or residual each reads from another.
    parent_.resize(count);
    std::iota(parent_.begin(), parent_.end(), std::size_t{0});
    for (std::size_t n = 0; n < count; ++n) {
      if (kind_[n] == Kind::kNone) continue;
      for (ir::ValueId v : layoutInputs(graph_.nodes[n])) {
        if (const auto p = anchorProducing(v)) unite(n, *p);
      }
    }
    struct Region {
      int32_t convolutions = 0;
      bool depthwise = false;
      int64_t blockedMacs = 0;  //!< multiply-adds of its 1x1 and direct convolutions
      std::set<ir::ValueId> boundary;
    };
    std::map<std::size_t, Region> regions;
    for (std::size_t n = 0; n < count; ++n) {
      if (kind_[n] == Kind::kNone) continue;
      Region& r = regions[root(n)];
      if (kind_[n] != Kind::kConcat && kind_[n] != Kind::kPool) ++r.convolutions;
      r.depthwise = r.depthwise || kind_[n] == Kind::kDepthwise;
      if (kind_[n] == Kind::kPointwise || kind_[n] == Kind::kDirect) {
        const ir::Node& node = graph_.nodes[n];
        const Dims& w = graph_.value(node.inputs[1]).dims;  // [K, C, kh, kw]
        r.blockedMacs += volume(graph_.value(node.outputs[0]).dims) * w[1] * w[2] * w[3];
      }
      for (ir::ValueId v : layoutInputs(graph_.nodes[n])) {
        if (!anchorProducing(v)) r.boundary.insert(v);
      }
      const ir::ValueId y = graph_.nodes[n].outputs[0];
      bool leaves = graph_.isGraphOutput(y);
      for (ir::NodeId c : consumers_[static_cast<std::size_t>(y)]) {
        leaves = leaves || !readsInLayout(static_cast<std::size_t>(c), y);
      }
      if (leaves) r.boundary.insert(y);
    }
    converted_.assign(count, false);
    BlockingSummary summary;
    for (const auto& [root, r] : regions) {
      // A region pays through its depthwise convolutions (two to three times faster blocked),
      // where each reformat costs about a 1x1 convolution's pass over its tensor; or through its
      // 1x1 and direct convolutions (a fifth faster blocked: a pixel's channels come in whole
      // cache lines) where they do enough multiply-adds per reformatted element. ResNet-50's
      // bottlenecks, with their Winograd 3x3 convolutions left NCHW, do 200 to 300; a lone
      // SqueezeNet fire module, cut off by NCHW concatenations and pools, did about 15 (with
      // them in the region its whole body is one region with two reformats).
      int64_t boundaryElements = 0;
      for (ir::ValueId v : r.boundary) boundaryElements += volume(graph_.value(v).dims);
      const bool pays =
          (r.depthwise && static_cast<int32_t>(r.boundary.size()) <= r.convolutions) ||
          r.blockedMacs >= kBlockedMacsPerReformat * boundaryElements;
      if (!given_ && !pays) continue;
      ++summary.regions;
      summary.convolutions += r.convolutions;
      for (std::size_t n = 0; n < count; ++n) {
        if (kind_[n] != Kind::kNone && this->root(n) == root) converted_[n] = true;
      }
    }
    if (summary.convolutions == 0) return {};
    rewrite();
    summary.reformats = reformats_;
    graph_.rebuild(graph_.topologicalOrder());
    ir::inferShapes(graph_);
    reporter.info("channel-blocked layout: " + std::to_string(summary.convolutions) +
                  " convolutions in " + std::to_string(summary.regions) +
                  " region(s) run NCHW8c; " + std::to_string(summary.reformats) +
                  " reformats join them to NCHW tensors");
    return summary;
  }

 private:
  // Convolutions by the blocked kernel they run; concatenations along the channels (of whole
  // blocks: the blocked tensors concatenate along their block axis, and the memory planner still
  // has the producers write into the output) and pools join the regions of their inputs and
  // readers.
  enum class Kind { kNone, kDepthwise, kPointwise, kDirect, kConcat, kPool };

  Kind kindOf(const ir::Node& node) const {
    if (node.op == "Concatenation") return concatKind(node);
    if (node.op == "Pooling") return Kind::kNone;  // poolKind, once its producer's is known
    if (node.op != "Convolution" || !ops::channelsFirst(node.attrs) || node.outputs.size() != 1 ||
        node.inputs.size() < 2) {
      return Kind::kNone;
    }
    if (given_ && given_->count(node.name) == 0) return Kind::kNone;
    const ops::WindowParams params = ops::readWindowParams(node.attrs, "kernel");
    if (params.rank() != 2) return Kind::kNone;
    const ir::ValueId x = node.inputs[0];
    const ir::ValueId w = node.inputs[1];
    const ir::ValueId y = node.outputs[0];
    if (x == ir::kNoValue || w == ir::kNoValue || !activation(x) || !activation(y) ||
        !graph_.value(w).isConstant() || graph_.value(w).dims.nbDims != 4) {
      return Kind::kNone;
    }
    // The bias a constant, the residual an activation shaped like y.
    const auto residualFits = [&](ir::ValueId v) {
      return activation(v) && graph_.value(v).dims == graph_.value(y).dims;
    };
    if (!extraInputsFit(graph_, node, residualFits)) return Kind::kNone;
    const int64_t channels = graph_.value(x).dims[1];
    const int64_t outputs = graph_.value(y).dims[1];
    if (channels % ops::kChannelBlock != 0 || outputs % ops::kChannelBlock != 0) {
      return Kind::kNone;
    }
    const int64_t groups = node.attrs.getInt("groups", 1);
    // The windows the blocked depthwise kernel takes.
    if (groups == channels && outputs == channels &&
        backends::cpu::depthwiseBlockedSupports(
            params.kernel[0], params.kernel[1], params.stride[0], params.stride[1],
            params.dilation[0], params.dilation[1], params.prePadding[0], params.prePadding[1])) {
      return Kind::kDepthwise;
    }
    // 1x1, unpadded, stride 1 or 2 (ResNet's downsampling shortcuts) on both axes.
    const int64_t stride = params.stride[0];
    const Dims& xd = graph_.value(x).dims;
    const Dims& yd = graph_.value(y).dims;
    const bool unpadded = params.prePadding[0] == 0 && params.prePadding[1] == 0 &&
                          params.postPadding[0] == 0 && params.postPadding[1] == 0 &&
                          (params.mode == PaddingMode::kEXPLICIT_ROUND_DOWN ||
                           params.mode == PaddingMode::kEXPLICIT_ROUND_UP);
    const bool pointwise = unpadded && params.kernel[0] == 1 && params.kernel[1] == 1 &&
                           (stride == 1 || stride == 2) && params.stride[1] == stride &&
                           yd[2] == (xd[2] - 1) / stride + 1 && yd[3] == (xd[3] - 1) / stride + 1;
    if (groups != 1) {
      // Groups of whole blocks (RegNet's and ResNeXt's grouped 3x3) run the blocked direct
      // kernel, a panel within its group; NCHW they are one small product per group.
      const bool wholeBlocks = groups > 1 && channels % groups == 0 && outputs % groups == 0 &&
                               (channels / groups) % ops::kChannelBlock == 0 &&
                               (outputs / groups) % ops::kChannelBlock == 0;
      return wholeBlocks ? Kind::kDirect : Kind::kNone;
    }
    if (pointwise) return Kind::kPointwise;
    // Any other window of one group runs the blocked direct kernel, except the 3x3 stride-1 ones
    // Winograd does well (the kWinograd* rules above).
    const auto tiles = [](int64_t extent) { return (extent + 3) / 4 * 4; };
    const bool winograd =
        params.kernel[0] == 3 && params.kernel[1] == 3 && stride == 1 && params.stride[1] == 1 &&
        params.dilation[0] == 1 && params.dilation[1] == 1 && yd[2] * yd[3] > kWinogradMinPixels &&
        static_cast<double>(tiles(yd[2]) * tiles(yd[3])) <=
            kWinogradMaxCover * static_cast<double>(yd[2] * yd[3]) &&
        (channels >= kWinogradMinChannels ||
         (channels > kWinogradFewChannels && yd[2] * yd[3] > kWinogradShallowPixels));
    // Over kBlockedWinogradMinPixels outputs of enough channels they join too: there the blocked
    // Winograd tactic (vectors of 8 channels, no gathers) beats the NCHW one and saves the
    // reformats around it.
    const bool blockedWinograd = yd[2] * yd[3] >= kBlockedWinogradMinPixels &&
                                 channels >= kBlockedWinogradMinChannels &&
                                 outputs >= kBlockedWinogradMinChannels;
    if (winograd && !blockedWinograd) return Kind::kNone;
    return Kind::kDirect;
  }

  // 2-d max and average pooling (cpu.pool.nchw8c.avx2) of a blocked node's output.
  Kind poolKind(const ir::Node& node) const {
    if (node.inputs.size() != 1 || node.outputs.size() != 1 || !ops::channelsFirst(node.attrs) ||
        !activation(node.inputs[0]) || !activation(node.outputs[0]) ||
        !anchorProducing(node.inputs[0])) {
      return Kind::kNone;
    }
    if (given_ && given_->count(node.name) == 0) return Kind::kNone;
    const auto type = node.attrs.getEnum("type", PoolingType::kMAX);
    if (type != PoolingType::kMAX && type != PoolingType::kAVERAGE) return Kind::kNone;
    if (ops::readWindowParams(node.attrs, "window").rank() != 2) return Kind::kNone;
    return graph_.value(node.inputs[0]).dims[1] % ops::kChannelBlock == 0 ? Kind::kPool
                                                                          : Kind::kNone;
  }

  Kind concatKind(const ir::Node& node) const {
    if (node.outputs.size() != 1 || node.inputs.empty() || !activation(node.outputs[0])) {
      return Kind::kNone;
    }
    if (given_ && given_->count(node.name) == 0) return Kind::kNone;
    const int64_t axis = node.attrs.getInt("axis", ops::concatenationDefaultAxis(4));
    if (axis != 1 && axis != -3) return Kind::kNone;
    for (ir::ValueId v : node.inputs) {
      if (v == ir::kNoValue || !activation(v) ||
          graph_.value(v).dims[1] % ops::kChannelBlock != 0) {
        return Kind::kNone;
      }
    }
    return Kind::kConcat;
  }

  // A rank-4 float32 tensor computed at run time with a shape known at build time.
  bool activation(ir::ValueId v) const {
    const ir::Value& value = graph_.value(v);
    return !value.isConstant() && value.dims.nbDims == 4 && value.dtype == DataType::kFLOAT &&
           value.boundedExtents == 0 && value.dims[1] > 0;
  }

  // The inputs a blocked node reads in its layout: a convolution's x and residual, a pool's x,
  // every input of a concatenation.
  std::vector<ir::ValueId> layoutInputs(const ir::Node& node) const {
    if (node.op == "Concatenation") return node.inputs;
    std::vector<ir::ValueId> inputs{node.inputs[0]};
    const ops::Epilogue epilogue = ops::Epilogue::of(node.attrs);
    if (epilogue.residualInput) {
      inputs.push_back(node.inputs[static_cast<std::size_t>(*epilogue.residualInput)]);
    }
    return inputs;
  }

  // Whether @p v is one of the inputs @p node reads in its layout.
  bool layoutInput(const ir::Node& node, ir::ValueId v) const {
    const std::vector<ir::ValueId> inputs = layoutInputs(node);
    return std::find(inputs.begin(), inputs.end(), v) != inputs.end();
  }

  // Whether node @p c is an anchor that reads @p v only as its x or residual.
  bool readsInLayout(std::size_t c, ir::ValueId v) const {
    if (kind_[c] == Kind::kNone) return false;
    const ir::Node& node = graph_.nodes[c];
    return std::all_of(node.inputs.begin(), node.inputs.end(),
                       [&](ir::ValueId in) { return in != v || layoutInput(node, v); });
  }

  // Whether anchor @p n reads an NCHW x in place: the blocked depthwise kernel transposes rows
  // into its ring as it loads them (MobileNetV2's first: its 1.6 MB entry reformat cost more
  // than the transposes), the direct one blocks them into its padded copy. The 1x1 kernel would
  // broadcast from C planes at once: ResNet-50's 1x1 layers behind its 3x3 ones ran a sixth
  // slower so than behind a reformat.
  bool readsNchwInPlace(std::size_t n) const {
    return kind_[n] == Kind::kDepthwise || kind_[n] == Kind::kDirect;
  }

  // The anchor whose output is @p v, if any.
  std::optional<std::size_t> anchorProducing(ir::ValueId v) const {
    const ir::NodeId p = graph_.value(v).producer;
    if (p == ir::kNoNode || kind_[static_cast<std::size_t>(p)] == Kind::kNone) return {};
    return static_cast<std::size_t>(p);
  }

  std::size_t root(std::size_t n) const {
    while (parent_[n] != n) n = parent_[n];
    return n;
  }
  void unite(std::size_t a, std::size_t b) { parent_[root(a)] = root(b); }

  void rewrite() {
    const std::size_t count = converted_.size();
    std::vector<bool> blockedValues(graph_.values.size(), false);
    for (std::size_t n = 0; n < count; ++n) {
      if (converted_[n]) blockedValues[static_cast<std::size_t>(graph_.nodes[n].outputs[0])] = true;
    }
    for (std::size_t n = 0; n < count; ++n) {
      if (!converted_[n]) continue;
      if (kind_[n] == Kind::kConcat) {
        // Along the blocks: axis 1 of rank 5 (the default axis would follow the rank).
        graph_.nodes[n].attrs.set("axis", int64_t{1});
      } else {
        graph_.nodes[n].attrs.set(ops::kLayoutAttr, std::string(ops::kChannelsBlocked));
      }
      for (std::size_t slot = 0; slot < graph_.nodes[n].inputs.size(); ++slot) {
        const ir::ValueId v = graph_.nodes[n].inputs[slot];
        if (!layoutInput(graph_.nodes[n], v) || blockedValues[static_cast<std::size_t>(v)]) {
          continue;
        }
        // An entry a depthwise convolution reads as its x stays NCHW: the kernel makes the
        // blocks as it loads the rows (a reformat would pass over the tensor twice more).
        if (slot == 0 && readsNchwInPlace(n)) continue;
        const ir::ValueId entry = reformatted(v, true);
        graph_.nodes[n].inputs[slot] = entry;
      }
    }
    // Readers outside the regions and graph outputs read NCHW copies.
    routeRegionExits(
        graph_, converted_, blockedValues, [&](ir::ValueId v) { return reformatted(v, false); },
        "_nchw8c");
  }

  // @p v through a BlockChannels (@p toBlocked) or UnblockChannels, once per value and way.
  ir::ValueId reformatted(ir::ValueId v, bool toBlocked) {
    std::map<ir::ValueId, ir::ValueId>& made = toBlocked ? entries_ : exits_;
    if (const auto it = made.find(v); it != made.end()) return it->second;
    // Copies: adding the node below may move the graph's values.
    const std::string name = graph_.value(v).name;
    const Dims dims = graph_.value(v).dims;
    const DataType dtype = graph_.value(v).dtype;
    const ir::NodeId node = graph_.addNode(name + (toBlocked ? "_to_nchw8c" : "_to_nchw"),
                                           toBlocked ? "BlockChannels" : "UnblockChannels", {v}, 1);
    const ir::ValueId out = graph_.node(node).outputs[0];
    graph_.value(out).name = name + (toBlocked ? "_nchw8c" : "_nchw");
    graph_.value(out).dtype = dtype;
    graph_.value(out).dims = toBlocked ? ops::toChannelsBlocked(dims) : dims;
    made.emplace(v, out);
    ++reformats_;
    return out;
  }

  ir::Graph& graph_;
  std::optional<std::set<std::string, std::less<>>> given_;
  std::vector<std::vector<ir::NodeId>> consumers_;
  std::vector<Kind> kind_;
  std::vector<std::size_t> parent_;
  std::vector<bool> converted_;
  std::map<ir::ValueId, ir::ValueId> entries_;
  std::map<ir::ValueId, ir::ValueId> exits_;
  int32_t reformats_ = 0;
};

}  // namespace

bool blockedLayoutPays(const CpuInfo& cpu) {
  return cpu.has("avx2") && cpu.has("fma") && !cpu.has("avx512f");
}

BlockingSummary assignBlockedChannels(ir::Graph& graph, bool blockedKernels,
                                      const Reporter& reporter, const ir::Graph* decisionsOf) {
  if (!blockedKernels) return {};
  BlockingPass pass(graph, decisionsOf);
  return pass.run(reporter);
}

}  // namespace kiln::builder
