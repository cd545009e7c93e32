// "cpu.conv.direct.nchw8c.avx2": direct convolution of nodes in the blocked layout NCHW8c, one
// group or groups of whole blocks (RegNet's and ResNeXt's grouped 3x3: a panel then stays within
// its group and reads only that group's input blocks), constant weights, any window, stride,
// dilation and padding (blocked_conv.h). First the
// input goes into a zero-padded blocked copy in the workspace (threaded over its rows; an NCHW x,
// the entry of a region, is blocked on the way), unless every window already lies inside it.
// Then units of (image, chunk of output pixels, group of weight panels) run each panel over the
// chunk, a few input blocks at a time so that their weights stay in L1 for the chunk's tiles;
// the partial sums go through y itself (the tile's residual), and only the last pass activates.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backends/cpu/blocked_conv.h"
#include "backends/cpu/cpu_common.h"
#include "backends/cpu/parallel_tasks.h"
#include "backends/cpu/tactics.h"
#include "core/aligned_buffer.h"
#include "ops/window_util.h"

namespace kiln::backends::cpu {

namespace {

constexpr int64_t kLanes = ops::kChannelBlock;

// Bytes of one panel's weights a call should read: a slice of input blocks whose weights stay in
// L1 (32 KiB on the cores here) while the chunk's tiles run over them.
constexpr int64_t kSliceWeightBytes = int64_t{16} << 10;

// Bytes of input a chunk of output pixels reads (all its channels): the chunk stays in L2 while
// every panel of its unit runs over it.
constexpr int64_t kChunkInputBytes = int64_t{1} << 18;

// Multiply-adds a task should hold at least (the workers spin between layers).
constexpr int64_t kTaskMacs = int64_t{96} << 10;

// Padded input rows a task of the copy takes at least.
constexpr int64_t kCopyGrainRows = 16;

bool describeBlockedConv(const NodeSpec& spec, Window2d& c) {
  if (!describeBlockedWindow2d(spec, c) || !spec.inputs[1].isConstant()) return false;
  // No input channels (y = the bias) is the reference's: a slice needs a block. Groups hold
  // whole blocks of inputs and outputs (one group is the plain case).
  if (c.groups < 1 || c.channels <= 0 || c.channels % c.groups != 0 || c.outputs % c.groups != 0 ||
      c.cg() % kLanes != 0 || (c.outputs / c.groups) % kLanes != 0 || c.kh < 1 || c.kw < 1 ||
      c.sh < 1 || c.sw < 1 || c.dh < 1 || c.dw < 1 || c.ph < 0 || c.pw < 0) {
    return false;
  }
  // The taps' offsets are 32-bit: the window's span in floats of the widest row it may read.
  const int64_t pitch = std::max(c.iw, (c.ow - 1) * c.sw + (c.kw - 1) * c.dw + 1);
  const int64_t span = ((c.kh - 1) * c.dh * pitch + (c.kw - 1) * c.dw) * kLanes;
  return span <= std::numeric_limits<int32_t>::max();
}

class BlockedConvKernel final : public Kernel {
 public:
  BlockedConvKernel(BlockedConvTile tile, const NodeSpec& spec)
      : tile_(tile), fused_(ops::Epilogue::of(spec.node.attrs)), blockedX_(blockedInput(spec)) {
    describeBlockedConv(spec, conv_);
    const Window2d& c = conv_;
    // The padded input: every tap of every output pixel in range.
    hp_ = std::max<int64_t>((c.oh - 1) * c.sh + (c.kh - 1) * c.dh + 1, 0);
    wp_ = std::max<int64_t>((c.ow - 1) * c.sw + (c.kw - 1) * c.dw + 1, 0);
    copied_ = !blockedX_ || c.ph > 0 || c.pw > 0 || hp_ > c.ih || wp_ > c.iw;
    const int64_t rowPitch = copied_ ? wp_ : c.iw;
    for (int64_t r = 0; r < c.kh; ++r) {
      for (int64_t s = 0; s < c.kw; ++s) {
        taps_.push_back(static_cast<int32_t>((r * c.dh * rowPitch + s * c.dw) * kLanes));
      }
    }
    geometry_.ow = c.ow;
    geometry_.sh = c.sh;
    geometry_.sw = c.sw;
    geometry_.rowPitch = rowPitch;
    geometry_.blockStride = (copied_ ? hp_ * wp_ : c.ih * c.iw) * kLanes;
    geometry_.taps = taps_.data();
    geometry_.tapCount = static_cast<int32_t>(taps_.size());
    // A panel's outputs lie in one group: the tile's width where there is one group or the
    // group's outputs come in whole tiles, else one block.
    const int64_t kg = c.outputs / c.groups;
    panelWidth_ = c.groups == 1 || kg % tile_.channels == 0 ? tile_.channels : kLanes;
    packWeights(spec);
    const int64_t tapCount = static_cast<int64_t>(taps_.size());
    const int64_t blockBytes = tapCount * kLanes * tile_.channels * int64_t{sizeof(float)};
    sliceBlocks_ = std::clamp<int64_t>(kSliceWeightBytes / blockBytes, 1, inBlocks());
  }

  std::size_t workspaceBytes() const override {
    if (!copied_) return 0;
    const Window2d& c = conv_;
    return sizeof(float) * static_cast<std::size_t>(c.batch * c.channels * hp_ * wp_);
  }

  void execute(const ir::KernelContext& ctx) const override {
    const Window2d& c = conv_;
    const int64_t pixels = c.oh * c.ow;
    if (c.batch == 0 || pixels == 0) return;
    const std::optional<int32_t>& residualInput = fused_.epilogue.residualInput;
    const float* bias = ctx.hasInput(2) && residualInput != 2 ? ctx.input(2).as<float>() : nullptr;
    const float* residual = residualInput ? ctx.input(*residualInput).as<float>() : nullptr;
    float* y = ctx.output(0).as<float>();
    const float* x = copied_ ? padInput(ctx) : ctx.input(0).as<float>();
    const int64_t tc = panelWidth_;
    const int64_t tp = tile_.pixels;
    const int64_t tiles = (pixels + tp - 1) / tp;
    const int64_t pixelBytes = c.sh * c.sw * c.channels * int64_t{sizeof(float)};
    const int64_t chunkTiles =
        std::clamp<int64_t>(kChunkInputBytes / std::max<int64_t>(pixelBytes * tp, 1), 1, tiles);
    const int64_t chunks = (tiles + chunkTiles - 1) / chunkTiles;
    const int64_t slices = (inBlocks() + sliceBlocks_ - 1) / sliceBlocks_;
    const int64_t ld = pixels * kLanes;  // floats from one output block to the next
    const int64_t imageIn = c.channels / kLanes * geometry_.blockStride;
    const int64_t panelsPerGroup = panels_ / c.groups;
    withPool(ctx, [&](ThreadPool& pool) {
      const int64_t threads = pool.size();
      const int64_t panelGroups = std::clamp<int64_t>(
          (4 * threads + c.batch * chunks - 1) / (c.batch * chunks), 1, panels_);
      const int64_t units = c.batch * chunks * panelGroups;
      const int64_t unitMacs = std::max<int64_t>(
          chunkTiles * tp * (panels_ + panelGroups - 1) / panelGroups * tc * c.cg() * c.kh * c.kw,
          1);
      const int64_t perTask = std::max<int64_t>(1, kTaskMacs / unitMacs);
      const int64_t tasks = threads == 1 ? 1 : (units + perTask - 1) / perTask;
      // Pixels [q0, q1) of panel p for input slice s, in one call; @p last: the unit's last.
      auto run = [&](int64_t image, int64_t q0, int64_t q1, int64_t p, int64_t s, bool last) {
        const int64_t m0 = p * tc;
        const int64_t outBlocks = std::min<int64_t>(tc, c.outputs - m0) / kLanes;
        const int64_t yOffset = (image * c.outputs + m0) * pixels + q0 * kLanes;
        float* yt = y + yOffset;
        const TileEpilogue te =
            fused_.pass(bias != nullptr ? bias + m0 : nullptr,
                        residual != nullptr ? residual + yOffset : nullptr, yt, ld, s, slices);
        const int64_t b0 = s * sliceBlocks_;
        const int64_t b1 = std::min(inBlocks(), b0 + sliceBlocks_);
        // Packed rows are the tile's width (tile_.channels) whatever the panel's.
        const int64_t rowFloats = geometry_.tapCount * kLanes * tile_.channels;
        const float* w = panel(p) + b0 * rowFloats;
        // The next call's weights follow these: the next slice, or the next panel's first.
        const float* next = last ? nullptr : w + (b1 - b0) * rowFloats;
        // The panel's group reads its own input blocks.
        const int64_t groupIn = p / panelsPerGroup * inBlocks();
        tile_.fn(geometry_, q0, q1 - q0, outBlocks, b1 - b0, w,
                 x + image * imageIn + (groupIn + b0) * geometry_.blockStride, yt, ld, te, next);
        if (s + 1 == slices) fused_.finish(yt, outBlocks, (q1 - q0) * kLanes, ld);
      };
      runUnits(pool, units, tasks, [&](int64_t u) {
        const int64_t pg = u % panelGroups;
        const int64_t chunk = (u / panelGroups) % chunks;
        const int64_t image = u / (panelGroups * chunks);
        const int64_t q0 = chunk * chunkTiles * tp;
        const int64_t q1 = std::min(pixels, q0 + chunkTiles * tp);
        const int64_t p0 = panels_ * pg / panelGroups;
        const int64_t p1 = panels_ * (pg + 1) / panelGroups;
        for (int64_t p = p0; p < p1; ++p) {
          for (int64_t s = 0; s < slices; ++s) {
            run(image, q0, q1, p, s, p + 1 == p1 && s + 1 == slices);
          }
        }
      });
    });
  }

 private:
  //! Input blocks a panel reads: its group's.
  int64_t inBlocks() const { return conv_.cg() / kLanes; }

  // Weights [K][C / groups][kh][kw] as panels of panelWidth_ output channels (each within one
  // group, over that group's input channels): [panel][block][tap][lane][channel], a row of the
  // tile's width (the tile reads rows of that width), zero past the panel's outputs.
  void packWeights(const NodeSpec& spec) {
    const Window2d& c = conv_;
    const int64_t tc = tile_.channels;
    const int64_t taps = c.kh * c.kw;
    const int64_t cg = c.cg();
    panels_ = (c.outputs + panelWidth_ - 1) / panelWidth_;
    panelFloats_ = inBlocks() * taps * kLanes * tc;
    const auto count = static_cast<std::size_t>(std::max<int64_t>(panels_ * panelFloats_, 1));
    weights_ = derivePrepared(spec.prepared, sizeof(float) * count, [&](std::byte* out) {
      const auto* w = spec.inputs[1].constAs<float>();
      auto* packed = reinterpret_cast<float*>(out);
      std::fill(packed, packed + count, 0.f);
      for (int64_t o = 0; o < c.outputs; ++o) {
        float* panelBase = packed + (o / panelWidth_) * panelFloats_;
        for (int64_t i = 0; i < cg; ++i) {
          for (int64_t t = 0; t < taps; ++t) {
            const int64_t at =
                ((i / kLanes * taps + t) * kLanes + i % kLanes) * tc + o % panelWidth_;
            panelBase[at] = w[(o * cg + i) * taps + t];
          }
        }
      }
    });
    absorbPrepared(spec.prepared, 1);
  }

  const float* panel(int64_t p) const { return preparedFloats(weights_) + p * panelFloats_; }

  // The zero-padded blocked input in the workspace, [image][block][hp][wp][8].
  const float* padInput(const ir::KernelContext& ctx) const {
    auto* out = static_cast<float*>(ctx.workspace);
    withPool(ctx, [&](ThreadPool& pool) {
      padBlockedInput(conv_, blockedX_, ctx.input(0).as<float>(), hp_, wp_, out, pool);
    });
    return out;
  }

  BlockedConvTile tile_;
  Window2d conv_;
  PassEpilogue fused_;
  bool blockedX_ = true;
  bool copied_ = true;  //!< the input goes through the padded copy
  int64_t hp_ = 0, wp_ = 0;
  std::vector<int32_t> taps_;
  BlockedConvGeometry geometry_;
  int64_t panelWidth_ = 0;  //!< output channels per panel: the tile's, or one block (groups)
  int64_t panels_ = 0;
  int64_t panelFloats_ = 0;
  int64_t sliceBlocks_ = 1;  //!< input blocks per call
  PreparedBuffer weights_;
};

class BlockedConvTactic final : public Tactic {
 public:
  std::string_view name() const override { return "cpu.conv.direct.nchw8c.avx2"; }
  DeviceType device() const override { return DeviceType::kCPU; }
  std::vector<std::string> requiredIsa() const override { return {"avx2", "fma"}; }
  bool supports(const NodeSpec& spec) const override {
    Window2d c;
    return describeBlockedConv(spec, c);
  }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& spec) const override {
    return std::make_unique<BlockedConvKernel>(avx2BlockedConvTile(), spec);
  }
};

}  // namespace

void padBlockedInput(const Window2d& c, bool blocked, const float* x, int64_t hp, int64_t wp,
                     float* out, ThreadPool& pool) {
  const int64_t rows = c.batch * (c.channels / kLanes) * hp;
  // Padded columns [left, right) hold input columns [0, right - left).
  const int64_t left = std::min(c.pw, wp);
  const int64_t right = std::min(wp, c.pw + c.iw);
  parallelTasks(pool, rows, kCopyGrainRows, [&](int64_t begin, int64_t end, int32_t) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t plane = r / hp;  // image * blocks + block
      const int64_t iy = r % hp - c.ph;
      float* dst = out + r * wp * kLanes;
      if (iy < 0 || iy >= c.ih || right <= left) {
        std::fill(dst, dst + wp * kLanes, 0.f);
        continue;
      }
      std::fill(dst, dst + left * kLanes, 0.f);
      std::fill(dst + right * kLanes, dst + wp * kLanes, 0.f);
      if (blocked) {
        const float* src = x + (plane * c.ih + iy) * c.iw * kLanes;
        std::copy(src, src + (right - left) * kLanes, dst + left * kLanes);
        continue;
      }
      // NCHW: the block's 8 channel planes interleaved into pixel vectors.
      const float* src = x + (plane * kLanes * c.ih + iy) * c.iw;
      const int64_t planeSize = c.ih * c.iw;
      for (int64_t ix = 0; ix < right - left; ++ix) {
        for (int64_t lane = 0; lane < kLanes; ++lane) {
          dst[(left + ix) * kLanes + lane] = src[lane * planeSize + ix];
        }
      }
    }
  });
}

void registerBlockedConvTactics(TacticRegistry& registry) {
  registry.add("Convolution", std::make_unique<BlockedConvTactic>());
}

}  // namespace kiln::backends::cpu
