// "cpu.conv.winograd.nchw8c.avx2": Winograd F(4x4, 3x3) convolution of nodes in the blocked layout
// NCHW8c (winograd_blocked.h): 3x3, stride 1, no dilation, one group, constant weights. The input
// (blocked, or NCHW at a region's entry) first goes into a zero-padded blocked copy that holds
// every tile's whole window, so the transform reads no edges. Then blocks of tiles, sized so their
// V and M stay in a core's L2: the input transform, the 36 tile-major products M^T = V^T U^T
// (kiln's packed SGEMM, U^T packed once as its B), the output transform with the fused epilogue.
// With enough blocks every thread runs whole blocks on its own; otherwise the threads share each
// block (the transforms by tiles, the products by position).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <vector>

#include "backends/cpu/blocked_conv.h"
#include "backends/cpu/cpu_common.h"
#include "backends/cpu/parallel_tasks.h"
#include "backends/cpu/tactics.h"
#include "backends/cpu/winograd_blocked.h"
#include "backends/cpu/winograd_conv.h"
#include "ops/window_util.h"

namespace kiln::backends::cpu {

namespace {

constexpr int64_t kLanes = ops::kChannelBlock;

// V and M of a block a thread runs on its own: about the L2 of one core (as the NCHW tactics'
// blocks).
constexpr int64_t kBlockBytes = int64_t{1} << 20;
// V and M of a block the threads share: up to a whole image of ResNet-50's 56x56x64 layers, so
// each product streams its U once an image. Its 28x28x128 layers in one process: three 1 MiB
// blocks 1.40-1.53 ms, one block 1.02-1.10 ms; threads with blocks of their own did better
// where there were enough of them (56x56x64: 1.26-1.28 ms, one shared block 1.48).
constexpr int64_t kSharedBlockBytes = int64_t{4} << 20;
// Most threads that run blocks of their own (each needs the workspace of one block).
constexpr int64_t kBlockSlots = 4;
// Floats of V or M a task of a shared block's transforms handles at least.
constexpr int64_t kTransformGrainFloats = 2048;

bool describeBlockedWinograd(const NodeSpec& spec, Window2d& c) {
  if (!describeBlockedWindow2d(spec, c) || spec.inputs[1].constAs<float>() == nullptr) {
    return false;
  }
  if (c.groups != 1 || c.kh != 3 || c.kw != 3 || c.sh != 1 || c.sw != 1 || c.dh != 1 || c.dw != 1 ||
      c.ph < 0 || c.pw < 0 || c.channels <= 0 || c.channels % kLanes != 0 || c.outputs <= 0 ||
      c.outputs % kLanes != 0 || c.batch < 0) {
    return false;
  }
  return winogradTilesPay(c);
}

class BlockedWinogradKernel final : public Kernel {
 public:
  BlockedWinogradKernel(const MicroKernel& mk, const BlockedWinogradTransforms& tf,
                        const NodeSpec& spec)
      : mk_(mk), tf_(tf), blockedX_(blockedInput(spec)) {
    describeBlockedWinograd(spec, conv_);
    const Window2d& c = conv_;
    epilogue_ = ops::Epilogue::of(spec.node.attrs);
    gemmEpilogue_ = gemmEpilogueOf(epilogue_);
    act_ = vecActOf(gemmEpilogue_);
    tilesH_ = (c.oh + kWinoTile - 1) / kWinoTile;
    tilesW_ = (c.ow + kWinoTile - 1) / kWinoTile;
    hp_ = tilesH_ * kWinoTile + 2;
    wp_ = tilesW_ * kWinoTile + 2;
    // Every block streams all of U (4x the weights), so where U is much larger than a budget,
    // blocks grow to a quarter of U (ResNet-50's 14x14 layers: one block of 16 tiles, not two
    // that read U's 9 MB twice).
    const int64_t weightBytes =
        kWinoPositions * c.channels * c.outputs * static_cast<int64_t>(sizeof(float));
    threadTiles_ = tilesPerBlock(std::max(kBlockBytes, weightBytes / 4));
    sharedTiles_ = tilesPerBlock(std::max(kSharedBlockBytes, weightBytes / 4));
    packed_ = packWinogradFilters(spec.inputs[1].constAs<float>(), c.outputs, c.channels, mk,
                                  /*tileMajor=*/true);
  }

  std::size_t workspaceBytes() const override {
    const int64_t blocks =
        std::max(blockFloats(sharedTiles_), kBlockSlots * blockFloats(threadTiles_));
    return kPanelAlignment + sizeof(float) * static_cast<std::size_t>(paddedFloats() + blocks);
  }

  void execute(const ir::KernelContext& ctx) const override {
    const Window2d& c = conv_;
    if (c.batch == 0 || c.oh * c.ow == 0) return;
    // paddedFloats() keeps the blocks after the copy aligned too.
    float* padded = alignedWorkspace(ctx.workspace);
    float* blocks = padded + paddedFloats();
    Io io;
    io.x = padded;
    io.bias = ctx.hasInput(2) && epilogue_.residualInput != 2 ? ctx.input(2).as<float>() : nullptr;
    io.residual =
        epilogue_.residualInput ? ctx.input(*epilogue_.residualInput).as<float>() : nullptr;
    io.y = ctx.output(0).as<float>();
    const int64_t imageTiles = tilesH_ * tilesW_;
    withPool(ctx, [&](ThreadPool& pool) {
      padBlockedInput(c, blockedX_, ctx.input(0).as<float>(), hp_, wp_, padded, pool);
      const int64_t threads = pool.size();
      // Blocks of @p tiles: image and tiles of each.
      auto unitRange = [&](int64_t tiles, int64_t unit, int64_t& image, int64_t& t0, int64_t& t1) {
        const int64_t perImage = (imageTiles + tiles - 1) / tiles;
        image = unit / perImage;
        t0 = unit % perImage * tiles;
        t1 = std::min(imageTiles, t0 + tiles);
      };
      const int64_t threadUnits = c.batch * ((imageTiles + threadTiles_ - 1) / threadTiles_);
      if (threads > 1 && threads <= kBlockSlots && threadUnits >= 2 * threads) {
        // Every thread runs whole blocks in its own core's cache: one parallel region.
        pool.run(threadUnits, [&](int64_t unit, int32_t wk) {
          int64_t image = 0, t0 = 0, t1 = 0;
          unitRange(threadTiles_, unit, image, t0, t1);
          runBlock(pool, true, wk, io, image, t0, t1, blocks + wk * blockFloats(threadTiles_));
        });
      } else {
        const int64_t units = c.batch * ((imageTiles + sharedTiles_ - 1) / sharedTiles_);
        for (int64_t unit = 0; unit < units; ++unit) {
          int64_t image = 0, t0 = 0, t1 = 0;
          unitRange(sharedTiles_, unit, image, t0, t1);
          runBlock(pool, false, 0, io, image, t0, t1, blocks);
        }
      }
      if (act_ == VecAct::kGeneric) {
        const int64_t total = c.batch * c.outputs * c.oh * c.ow;
        parallelTasks(pool, total, int64_t{1} << 14, [&](int64_t begin, int64_t end, int32_t) {
          activateInPlace(epilogue_, io.y + begin, end - begin);
        });
      }
    });
  }

 private:
  struct Io {
    const float* x = nullptr;  // the padded blocked input, every image
    const float* bias = nullptr;
    const float* residual = nullptr;
    float* y = nullptr;
  };

  int64_t paddedFloats() const { return (conv_.batch * conv_.channels * hp_ * wp_ + 15) / 16 * 16; }

  // Rows of the products for @p tiles tiles: whole micro-kernel tiles (a partial one ran its rows
  // through the edge kernel at a fraction of the rate: 16 tiles as 6 + 6 + 4 spent a third of
  // the time on the last 4), the rows past the tiles zero.
  int64_t productRows(int64_t tiles) const { return (tiles + mk_.mr - 1) / mk_.mr * mk_.mr; }

  // Tiles of a block whose V and M take at most @p budget bytes: a whole number of the
  // micro-kernel's rows where the image has more, the blocks of an image even (the last no
  // smaller than the others by more than a tile of rows).
  int64_t tilesPerBlock(int64_t budget) const {
    const int64_t mr = mk_.mr;
    const int64_t tileBytes =
        kWinoPositions * (conv_.channels + conv_.outputs) * static_cast<int64_t>(sizeof(float));
    const int64_t imageTiles = tilesH_ * tilesW_;
    const int64_t tiles = std::max<int64_t>(budget / tileBytes / mr * mr, mr);
    if (tiles >= imageTiles) return imageTiles;
    const int64_t blocks = (imageTiles + tiles - 1) / tiles;
    const int64_t even = (imageTiles + blocks - 1) / blocks;
    return std::min(imageTiles, (even + mr - 1) / mr * mr);
  }

  // V and M of a block of @p tiles tiles.
  int64_t blockFloats(int64_t tiles) const {
    return (kWinoPositions * productRows(tiles) * (conv_.channels + conv_.outputs) + 15) / 16 * 16;
  }

  // Tiles [t0, t1) of @p image: the input transform into V, the products into M, the output
  // transform and epilogue into y; on this thread as @p worker when @p serial.
  void runBlock(ThreadPool& pool, bool serial, int32_t worker, const Io& io, int64_t image,
                int64_t t0, int64_t t1, float* block) const {
    const Window2d& c = conv_;
    const int64_t tiles = t1 - t0;
    const int64_t rows = productRows(tiles);
    float* v = block;
    float* m = block + kWinoPositions * rows * c.channels;
    for (int64_t pos = 0; pos < kWinoPositions; ++pos) {
      float* pad = v + (pos * rows + tiles) * c.channels;
      std::fill(pad, pad + (rows - tiles) * c.channels, 0.f);
    }
    const int64_t grain = std::max<int64_t>(1, kTransformGrainFloats / c.channels);
    forRange(pool, serial, worker, tiles, grain, [&](int64_t begin, int64_t end, int32_t) {
      BlockedWinogradInput in;
      in.x = io.x + image * c.channels * hp_ * wp_;
      in.wp = wp_;
      in.blockStride = hp_ * wp_ * kLanes;
      in.tilesW = tilesW_;
      in.t0 = t0 + begin;
      in.t1 = t0 + end;
      in.b0 = 0;
      in.b1 = c.channels / kLanes;
      in.v = v + begin * c.channels;
      in.ldv = c.channels;
      in.positionStride = rows * c.channels;
      tf_.input(in);
    });
    auto product = [&](int64_t pos, int32_t wk) {
      GemmProblem p;
      p.m = rows;
      p.n = c.outputs;
      p.k = c.channels;
      p.a.strided = {v + pos * rows * c.channels, c.channels, 1};
      p.b.packed = &packed_[static_cast<std::size_t>(pos)];
      p.c = m + pos * rows * c.outputs;
      p.ldc = c.outputs;
      gemm(mk_, p, pool, true, wk);
    };
    if (serial) {
      for (int64_t pos = 0; pos < kWinoPositions; ++pos) product(pos, worker);
    } else {
      pool.run(kWinoPositions, product);
    }
    const int64_t outPlane = c.oh * c.ow;
    forRange(pool, serial, worker, tiles, std::max<int64_t>(1, kTransformGrainFloats / c.outputs),
             [&](int64_t begin, int64_t end, int32_t) {
               BlockedWinogradOutput out;
               out.m = m + begin * c.outputs;
               out.ldm = c.outputs;
               out.positionStride = rows * c.outputs;
               out.tilesW = tilesW_;
               out.t0 = t0 + begin;
               out.t1 = t0 + end;
               out.k0 = 0;
               out.k1 = c.outputs / kLanes;
               out.bias = io.bias;
               out.residual =
                   io.residual != nullptr ? io.residual + image * c.outputs * outPlane : nullptr;
               out.y = io.y + image * c.outputs * outPlane;
               out.oh = c.oh;
               out.ow = c.ow;
               out.act = act_;
               out.alpha = gemmEpilogue_.alpha;
               out.beta = gemmEpilogue_.beta;
               tf_.output(out);
             });
  }

  const MicroKernel& mk_;
  const BlockedWinogradTransforms& tf_;
  bool blockedX_ = true;
  Window2d conv_;
  ops::Epilogue epilogue_;
  GemmEpilogue gemmEpilogue_;
  VecAct act_ = VecAct::kNone;
  int64_t tilesH_ = 1, tilesW_ = 1;
  int64_t hp_ = 0, wp_ = 0;           // the padded copy: whole tiles' windows
  int64_t threadTiles_ = 1;           // tiles of a block a thread runs on its own
  int64_t sharedTiles_ = 1;           // tiles of a block the threads share
  std::vector<PackedMatrix> packed_;  // U^T per position, the products' B
};

class BlockedWinogradTactic final : public Tactic {
 public:
  std::string_view name() const override { return "cpu.conv.winograd.nchw8c.avx2"; }
  DeviceType device() const override { return DeviceType::kCPU; }
  std::vector<std::string> requiredIsa() const override { return {"avx2", "fma"}; }
  bool supports(const NodeSpec& spec) const override {
    Window2d c;
    return describeBlockedWinograd(spec, c);
  }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& spec) const override {
    return std::make_unique<BlockedWinogradKernel>(avx2MicroKernel(),
                                                   avx2BlockedWinogradTransforms(), spec);
  }
};

}  // namespace

void registerBlockedWinogradTactics(TacticRegistry& registry) {
  registry.add("Convolution", std::make_unique<BlockedWinogradTactic>());
}

}  // namespace kiln::backends::cpu
