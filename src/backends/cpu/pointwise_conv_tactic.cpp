// "cpu.conv.pointwise.{avx512,avx2}" and "cpu.conv.pointwise.cm.{avx512,avx2}": 1x1 stride-1
// unpadded convolutions with constant weights (pointwise_conv.h). The weights of each group are
// packed once into panels over all of K: of the tile's mr rows for the row-major tiles (vectors
// along the pixels), of the tile's channels for the channel-major ones (vectors along the
// channels, for layers of few pixels). The tile shapes are each ISA's own; this driver is shared. A
// task is a run of pixel tiles times a share of the panels, so that layers with few pixels
// (MobileNet's 7x7: two row-major tiles) still give every thread work. The output is NCHW, so a
// column of row-major tiles writes one cache line into each of its rows: the tiles prefetch their
// rows' lines a few tiles ahead, and shallow layers run along the rows instead. Nodes in the
// blocked layout NCHW8c take "cpu.conv.pointwise.nchw8c.avx2": tiles of pixels by blocks of 8
// output channels that read and write pixel vectors of 8 channels as they lie.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "backends/cpu/cpu_common.h"
#include "backends/cpu/parallel_tasks.h"
#include "backends/cpu/pointwise_conv.h"
#include "backends/cpu/tactics.h"
#include "core/aligned_buffer.h"
#include "ops/window_util.h"

namespace kiln::backends::cpu {

namespace {

// NCHW or NCHW8c: the tactics check the layout they take.
bool describePointwise(const NodeSpec& spec, Window2d& c) {
  if (!describeWindow2d(spec, false, c) && !describeBlockedWindow2d(spec, c)) return false;
  if (!spec.inputs[1].isConstant()) return false;
  return c.kh == 1 && c.kw == 1 && c.ph == 0 && c.pw == 0;
}

// Stride 1 (every tactic) or, for the blocked one, 2 (ResNet's downsampling shortcuts).
bool pointwiseStride(const Window2d& c, int64_t maxStride) {
  if (c.sh != c.sw || c.sh < 1 || c.sh > maxStride) return false;
  return c.oh == (c.ih - 1) / c.sh + 1 && c.ow == (c.iw - 1) / c.sw + 1;
}

// Input channels up to which the row-major tiles run along the rows of the output (each row panel
// against a block of pixel tiles) rather than down its columns: with so few multiply-adds per
// tile, a column of tiles writes a line into each of dozens of output rows between two visits of
// one row, and the stores wait on memory (MobileNetV2's 16 -> 96 at 112x112 and 24 -> 144 at
// 56x56: a tenth to a fifth faster along the rows on Zen 3). Deeper layers keep the column order,
// whose x tile stays in L1 for all the row panels (ResNet-50's 64 -> 256 with its residual lost
// a few percent along the rows).
constexpr int64_t kRowRunDepth = 32;

// Bytes of x a block of pixel tiles should hold in the row order: the block stays in L2 while
// every row panel runs along it (64 KiB to 256 KiB measured alike).
constexpr int64_t kRowRunBytes = int64_t{1} << 16;

// Tiles ahead whose output rows (and residual rows) a tile prefetches, and floats per cache line.
constexpr int64_t kRowPrefetchTiles = 2;
constexpr int64_t kFloatsPerLine = 16;

// Multiply-adds a task should hold at least (a few microseconds: the workers spin between
// back-to-back layers, so handing one a task costs far less).
constexpr int64_t kTaskMacs = int64_t{96} << 10;

// What both kernels hold: the layer's geometry and epilogue, and its weights packed once per
// group into panels of `width` output channels over all of K ([group][panel][k][width], zero past
// a group's last channel).
struct PointwiseLayer {
  PointwiseLayer(const NodeSpec& spec, int64_t panelWidth)
      : fused(ops::Epilogue::of(spec.node.attrs)), width(panelWidth) {
    describePointwise(spec, conv);
    const int64_t mg = conv.outputs / conv.groups;
    const int64_t k = conv.cg();
    panels = (mg + width - 1) / width;
    const auto count =
        static_cast<std::size_t>(std::max<int64_t>(conv.groups * panels * k, 1) * width);
    weights = derivePrepared(spec.prepared, sizeof(float) * count, [&](std::byte* out) {
      auto* packed = reinterpret_cast<float*>(out);
      std::fill(packed, packed + count, 0.f);
      const auto* w = spec.inputs[1].constAs<float>();
      for (int64_t o = 0; o < conv.outputs; ++o) {
        const int64_t g = o / mg;
        const int64_t ch = o % mg;
        float* panel = packed + ((g * panels + ch / width) * k) * width;
        for (int64_t i = 0; i < k; ++i) panel[i * width + ch % width] = w[o * k + i];
      }
    });
    absorbPrepared(spec.prepared, 1);
  }

  //! Panel @p p of group @p g.
  const float* panel(int64_t g, int64_t p) const {
    return preparedFloats(weights) + ((g * panels + p) * conv.cg()) * width;
  }

  //! The epilogue of the tile of output channels from @p m0 of group @p g at @p yt, whose
  //! output starts at @p yOffset (rows @p ld apart), for input channels block @p b of @p blocks
  //! (PassEpilogue).
  TileEpilogue blockEpilogue(const float* bias, const float* residual, int64_t g, int64_t m0,
                             int64_t yOffset, int64_t ld, const float* yt, int64_t b,
                             int64_t blocks) const {
    return fused.pass(bias != nullptr ? bias + g * (conv.outputs / conv.groups) + m0 : nullptr,
                      residual != nullptr ? residual + yOffset : nullptr, yt, ld, b, blocks);
  }

  //! Blocks of input channels for tiles of @p kc channels a call (0: one block).
  int64_t blocks(int64_t kc) const {
    const int64_t k = conv.cg();
    return kc > 0 ? std::max<int64_t>(1, (k + kc - 1) / kc) : 1;
  }

  //! Applies an activation the tile kernels do not have to a finished tile.
  void finish(float* yt, int64_t rows, int64_t cols, int64_t ld) const {
    fused.finish(yt, rows, cols, ld);
  }

  Window2d conv;
  PassEpilogue fused;
  int64_t width = 1;
  int64_t panels = 0;
  PreparedBuffer weights;
};

// One execution's tensors and sizes.
struct PointwiseIo {
  PointwiseIo(const PointwiseLayer& layer, const ir::KernelContext& ctx)
      : x(ctx.input(0).as<float>()),
        bias(ctx.hasInput(2) && layer.fused.epilogue.residualInput != 2 ? ctx.input(2).as<float>()
                                                                        : nullptr),
        residual(layer.fused.epilogue.residualInput
                     ? ctx.input(*layer.fused.epilogue.residualInput).as<float>()
                     : nullptr),
        y(ctx.output(0).as<float>()),
        mg(layer.conv.outputs / layer.conv.groups),
        k(layer.conv.cg()),
        n(layer.conv.oh * layer.conv.ow),
        jobs(layer.conv.batch * layer.conv.groups) {}
  bool empty() const { return jobs == 0 || mg == 0 || n == 0; }

  const float* x;
  const float* bias;
  const float* residual;
  float* y;
  int64_t mg;  //!< output channels per group
  int64_t k;   //!< input channels per group
  int64_t n;   //!< pixels
  int64_t jobs;
};

class PointwiseConvKernel final : public Kernel {
 public:
  PointwiseConvKernel(PointwiseTile tile, const NodeSpec& spec)
      : tile_(tile), layer_(spec, tile.mr) {}

  void execute(const ir::KernelContext& ctx) const override {
    const Window2d& c = layer_.conv;
    const PointwiseIo io(layer_, ctx);
    if (io.empty()) return;
    const int64_t mg = io.mg;
    const int64_t k = io.k;
    const int64_t n = io.n;
    const int64_t jobs = io.jobs;
    const int64_t panels = layer_.panels;
    const int64_t mr = tile_.mr;
    const int64_t nr = tile_.nr;
    const int64_t tiles = (n + nr - 1) / nr;
    const int64_t blocks = layer_.blocks(tile_.kc);
    // Weights larger than the image (SqueezeNet's classifier: 2 MB against 350 KB; MobileNet's
    // 7x7 layers): each task takes whole row panels against every tile, so the weights are read
    // once and the image stays in L2. Otherwise tiles outside, and row panels are split only
    // where the tiles alone give each thread too few tasks.
    const bool panelMajor = mg * k > k * n && k * n * int64_t{sizeof(float)} <= (int64_t{1} << 19);
    // Shallow layers run each row panel along a block of tiles (kRowRunDepth) as well.
    const bool rowRuns = !panelMajor && k <= kRowRunDepth;
    withPool(ctx, [&](ThreadPool& pool) {
      const int64_t threads = pool.size();
      int64_t tileGroups = tiles;
      int64_t panelGroups = 1;
      if (panelMajor) {
        tileGroups = 1;
        panelGroups = panels;
      } else if (rowRuns) {
        const int64_t blockTiles = std::max<int64_t>(
            1, kRowRunBytes / (std::max<int64_t>(k, 1) * nr * int64_t{sizeof(float)}));
        tileGroups = (tiles + blockTiles - 1) / blockTiles;
        panelGroups = std::clamp<int64_t>(
            (4 * threads + jobs * tileGroups - 1) / (jobs * tileGroups), 1, panels);
      } else {
        panelGroups =
            std::clamp<int64_t>((4 * threads + jobs * tiles - 1) / (jobs * tiles), 1, panels);
      }
      const int64_t units = jobs * tileGroups * panelGroups;
      const int64_t unitMacs =
          std::max<int64_t>((tiles + tileGroups - 1) / tileGroups * (panels + panelGroups - 1) /
                                panelGroups * mr * nr * std::max<int64_t>(k, 1),
                            1);
      const int64_t perTask = std::max<int64_t>(1, kTaskMacs / unitMacs);
      const int64_t tasks = threads == 1 ? 1 : (units + perTask - 1) / perTask;
      auto tile = [&](int64_t job, int64_t t, int64_t p, int64_t b, bool prefetch) {
        const int64_t image = job / c.groups;
        const int64_t g = job % c.groups;
        const int64_t n0 = t * nr;
        const int64_t cols = std::min<int64_t>(nr, n - n0);
        const float* xg = io.x + (image * c.channels + g * k) * n + n0;
        const int64_t r0 = p * mr;
        const int64_t rows = std::min<int64_t>(mr, mg - r0);
        const int64_t yOffset = (image * c.outputs + g * mg + r0) * n + n0;
        float* yt = io.y + yOffset;
        const TileEpilogue te =
            layer_.blockEpilogue(io.bias, io.residual, g, r0, yOffset, n, yt, b, blocks);
        const int64_t k0 = k * b / blocks;
        const int64_t k1 = k * (b + 1) / blocks;
        // The next tile's pixels, fetched while this one is multiplied (its rows are K separate
        // streams, too many for the hardware prefetchers).
        const float* next = prefetch && n0 + nr < n ? xg + k0 * n + nr : nullptr;
        // The same rows kRowPrefetchTiles tiles on, output and residual: in the column order a
        // tile writes one line into each of up to a thousand rows before it returns to a row,
        // too many streams for the hardware prefetchers (ResNet-50's 64 -> 256 with its
        // residual at 56x56 ran a third faster with this on Zen 3, in and out of cache).
        if (b == 0 && n0 + (kRowPrefetchTiles + 1) * nr <= n) {
          const int64_t ahead = kRowPrefetchTiles * nr;
          for (int64_t r = 0; r < rows; ++r) {
            for (int64_t j = ahead; j < ahead + nr; j += kFloatsPerLine) {
              __builtin_prefetch(yt + r * n + j, 1);
              if (io.residual != nullptr) __builtin_prefetch(io.residual + yOffset + r * n + j);
            }
          }
        }
        tile_.fn(rows, cols, k1 - k0, layer_.panel(g, p) + k0 * mr, xg + k0 * n, n, yt, n, te,
                 next);
        if (b + 1 == blocks) layer_.finish(yt, rows, cols, n);
      };
      runUnits(pool, units, tasks, [&](int64_t u) {
        const int64_t pg = u % panelGroups;
        const int64_t tg = (u / panelGroups) % tileGroups;
        const int64_t job = u / (panelGroups * tileGroups);
        const int64_t p0 = panels * pg / panelGroups;
        const int64_t p1 = panels * (pg + 1) / panelGroups;
        const int64_t t0 = tiles * tg / tileGroups;
        const int64_t t1 = tiles * (tg + 1) / tileGroups;
        // Blocks of K inside the loop over tiles (or panels): the block of the tile's x rows
        // (or of the panel's weights) stays in L1 for the other operand's run. Row runs have
        // only one block (kRowRunDepth).
        if (panelMajor || rowRuns) {
          for (int64_t p = p0; p < p1; ++p) {
            for (int64_t b = 0; b < blocks; ++b) {
              for (int64_t t = t0; t < t1; ++t) tile(job, t, p, b, false);
            }
          }
        } else {
          for (int64_t t = t0; t < t1; ++t) {
            for (int64_t b = 0; b < blocks; ++b) {
              for (int64_t p = p0; p < p1; ++p) tile(job, t, p, b, p == p0);
            }
          }
        }
      });
    });
  }

 private:
  PointwiseTile tile_;
  PointwiseLayer layer_;
};

// ---------------------------------------------------------------------------------------------

// Channel-major tiles (the tile's output channels x its pixels) for layers of few pixels, whose
// rows waste vector lanes (49 = 3 x 16 + 1). Offered up to kMaxChannelPixels pixels: beyond,
// scattering the tiles costs more than the lanes save.
constexpr int64_t kMaxChannelPixels = 256;

class PointwiseChannelKernel final : public Kernel {
 public:
  PointwiseChannelKernel(PointwiseChannelTile tile, const NodeSpec& spec)
      : tile_(tile), layer_(spec, tile.channels) {}

  void execute(const ir::KernelContext& ctx) const override {
    const Window2d& c = layer_.conv;
    const PointwiseIo io(layer_, ctx);
    if (io.empty()) return;
    const int64_t mg = io.mg;
    const int64_t k = io.k;
    const int64_t n = io.n;
    const int64_t jobs = io.jobs;
    const int64_t panels = layer_.panels;
    const int64_t tc = tile_.channels;
    const int64_t tp = tile_.pixels;
    const int64_t tiles = (n + tp - 1) / tp;
    const int64_t blocks = layer_.blocks(tile_.kc);
    // Units in panel-major order: consecutive units of a task share its weight panel.
    const int64_t units = jobs * panels * tiles;
    const int64_t unitMacs = std::max<int64_t>(tc * tp * std::max<int64_t>(k, 1), 1);
    withPool(ctx, [&](ThreadPool& pool) {
      // Whole weight panels per task where there are enough of them to share evenly: a panel
      // split between the threads is read by both (1280 x 320 weights, 1.6 MB, do not fit one
      // core's L2).
      int64_t perTask = std::max<int64_t>(1, kTaskMacs / unitMacs);
      if (jobs * panels >= 4 * pool.size()) {
        perTask = (perTask + tiles - 1) / tiles * tiles;
      } else if (blocks > 1) {
        // Runs of a panel's tiles long enough to reuse each block of its weights from L1 (one
        // tile a task read all 92 KB of a 24 x 960 panel from L2 for 4 pixels), while each
        // thread keeps 4 tasks.
        perTask = std::max(perTask, std::min<int64_t>(tiles, units / (4 * pool.size())));
      }
      const int64_t tasks = pool.size() == 1 ? 1 : (units + perTask - 1) / perTask;
      auto body = [&](int64_t task, int32_t) {
        const int64_t u0 = units * task / tasks;
        const int64_t u1 = units * (task + 1) / tasks;
        auto tile = [&](int64_t u, int64_t b) {
          const int64_t t = u % tiles;
          const int64_t p = (u / tiles) % panels;
          const int64_t job = u / (tiles * panels);
          const int64_t image = job / c.groups;
          const int64_t g = job % c.groups;
          const int64_t n0 = t * tp;
          const int64_t pixels = std::min<int64_t>(tp, n - n0);
          const int64_t m0 = p * tc;
          const int64_t channels = std::min<int64_t>(tc, mg - m0);
          const int64_t yOffset = (image * c.outputs + g * mg + m0) * n + n0;
          float* yt = io.y + yOffset;
          const TileEpilogue te =
              layer_.blockEpilogue(io.bias, io.residual, g, m0, yOffset, n, yt, b, blocks);
          const int64_t k0 = k * b / blocks;
          const int64_t k1 = k * (b + 1) / blocks;
          tile_.fn(channels, pixels, k1 - k0, layer_.panel(g, p) + k0 * tc,
                   io.x + (image * c.channels + g * k + k0) * n + n0, n, yt, n, te);
          if (b + 1 == blocks) layer_.finish(yt, channels, pixels, n);
        };
        // Each run of units on one panel block by block: the block of weights stays in L1 across
        // the run's tiles.
        for (int64_t u = u0; u < u1;) {
          const int64_t end = std::min(u1, (u / tiles + 1) * tiles);
          for (int64_t b = 0; b < blocks; ++b) {
            for (int64_t v = u; v < end; ++v) tile(v, b);
          }
          u = end;
        }
      };
      if (tasks == 1) {
        body(0, 0);
      } else {
        pool.run(tasks, body);
      }
    });
  }

 private:
  PointwiseChannelTile tile_;
  PointwiseLayer layer_;
};

// ---------------------------------------------------------------------------------------------

// Pixels a task of the stride-2 subsampling copies (8 floats each).
constexpr int64_t kSubsampleGrain = 4096;

// Bytes of x a chunk of blocked tiles holds: the chunk stays in L2 while every panel runs along
// it, block of K by block of K (each block of a panel's weights in L1 for the chunk's tiles).
constexpr int64_t kBlockedChunkBytes = int64_t{1} << 17;

// Blocked tiles (NCHW8c in and out, one group): units of (image, chunk of pixel tiles, group of
// weight panels), as many as give each thread a few tasks.
class PointwiseBlockedKernel final : public Kernel {
 public:
  PointwiseBlockedKernel(PointwiseBlockedTile tile, const NodeSpec& spec)
      : tile_(tile), layer_(spec, tile.channels) {}

  //! Stride 2: room for the subsampled image.
  std::size_t workspaceBytes() const override {
    const Window2d& c = layer_.conv;
    if (c.sh == 1) return 0;
    return sizeof(float) * static_cast<std::size_t>(c.batch * c.channels * c.oh * c.ow);
  }

  void execute(const ir::KernelContext& ctx) const override {
    const Window2d& c = layer_.conv;
    const PointwiseIo io(layer_, ctx);
    if (io.empty()) return;
    const int64_t k = io.k;
    const int64_t n = io.n;
    const int64_t ld = n * ops::kChannelBlock;  // floats from one block to the next
    // Stride 2 (ResNet's downsampling shortcuts): the kernel reads the subsampled image, whose
    // pixels then lie together as a stride-1 layer's do. Read in place, each output row is a
    // run of its own: at 7x7 a tile and a single pixel.
    const float* x = c.sh == 1 ? io.x : subsample(ctx, io.x);
    const int64_t panels = layer_.panels;
    const int64_t tc = tile_.channels;
    const int64_t tp = tile_.pixels;
    const int64_t tiles = (n + tp - 1) / tp;
    const int64_t kBlocks = k / ops::kChannelBlock;
    const int64_t blocks = std::min(layer_.blocks(tile_.kc), std::max<int64_t>(kBlocks, 1));
    // Weights larger than the image (few pixels, many channels: ResNet-50's 2048 -> 512 at 7x7,
    // 4 MB against 400 KB): one chunk of every tile, so that the weights stream in once while
    // the image stays in L2 (in chunks of the L2 budget, ResNet-50's layer ran a tenth slower
    // blocked than NCHW).
    const bool wholeImage = c.outputs > n && k * n * int64_t{sizeof(float)} <= (int64_t{1} << 19);
    const int64_t chunkTiles =
        wholeImage ? tiles
                   : std::clamp<int64_t>(
                         kBlockedChunkBytes / std::max<int64_t>(k * tp * int64_t{sizeof(float)}, 1),
                         1, tiles);
    const int64_t chunks = (tiles + chunkTiles - 1) / chunkTiles;
    withPool(ctx, [&](ThreadPool& pool) {
      const int64_t threads = pool.size();
      const int64_t panelGroups =
          std::clamp<int64_t>((4 * threads + c.batch * chunks - 1) / (c.batch * chunks), 1, panels);
      const int64_t units = c.batch * chunks * panelGroups;
      const int64_t unitMacs = std::max<int64_t>(
          chunkTiles * tp * (panels + panelGroups - 1) / panelGroups * tc * std::max<int64_t>(k, 1),
          1);
      const int64_t perTask = std::max<int64_t>(1, kTaskMacs / unitMacs);
      const int64_t tasks = threads == 1 ? 1 : (units + perTask - 1) / perTask;
      // Weights of panel p for input block b.
      auto weights = [&](int64_t p, int64_t b) {
        return layer_.panel(0, p) + kBlocks * b / blocks * ops::kChannelBlock * tc;
      };
      // Tiles [t0, t1) of panel p for input block b, in one call; @p next: the weights of the
      // unit's next call, or null.
      auto run = [&](int64_t image, int64_t t0, int64_t t1, int64_t p, int64_t b,
                     const float* next) {
        const int64_t n0 = t0 * tp;
        const int64_t pixels = std::min<int64_t>(t1 * tp, n) - n0;
        const int64_t m0 = p * tc;
        const int64_t outBlocks = std::min<int64_t>(tc, c.outputs - m0) / ops::kChannelBlock;
        // Block (image, m0 / 8) of y starts at (image * K / 8 + m0 / 8) * n * 8 floats.
        const int64_t yOffset = (image * c.outputs + m0) * n + n0 * ops::kChannelBlock;
        float* yt = io.y + yOffset;
        const TileEpilogue te =
            layer_.blockEpilogue(io.bias, io.residual, 0, m0, yOffset, ld, yt, b, blocks);
        const int64_t k0 = kBlocks * b / blocks * ops::kChannelBlock;
        const int64_t k1 = kBlocks * (b + 1) / blocks * ops::kChannelBlock;
        const float* xt = x + (image * c.channels + k0) * n + n0 * ops::kChannelBlock;
        tile_.fn(outBlocks, pixels, k1 - k0, weights(p, b), xt, ld, yt, ld, te, next);
        if (b + 1 == blocks) layer_.finish(yt, outBlocks, pixels * ops::kChannelBlock, ld);
      };
      runUnits(pool, units, tasks, [&](int64_t u) {
        const int64_t pg = u % panelGroups;
        const int64_t chunk = (u / panelGroups) % chunks;
        const int64_t image = u / (panelGroups * chunks);
        const int64_t t0 = chunk * chunkTiles;
        const int64_t t1 = std::min(tiles, t0 + chunkTiles);
        const int64_t p0 = panels * pg / panelGroups;
        const int64_t p1 = panels * (pg + 1) / panelGroups;
        if (wholeImage) {
          // Each block of the image's channels stays in L1 for all the panels.
          for (int64_t b = 0; b < blocks; ++b) {
            for (int64_t p = p0; p < p1; ++p) {
              const float* next = p + 1 < p1       ? weights(p + 1, b)
                                  : b + 1 < blocks ? weights(p0, b + 1)
                                                   : nullptr;
              run(image, t0, t1, p, b, next);
            }
          }
        } else {
          for (int64_t p = p0; p < p1; ++p) {
            for (int64_t b = 0; b < blocks; ++b) {
              const float* next = b + 1 < blocks ? weights(p, b + 1)
                                  : p + 1 < p1   ? weights(p + 1, 0)
                                                 : nullptr;
              run(image, t0, t1, p, b, next);
            }
          }
        }
      });
    });
  }

 private:
  // Every other pixel of every other row of @p x into the workspace, threaded over the rows.
  const float* subsample(const ir::KernelContext& ctx, const float* x) const {
    const Window2d& c = layer_.conv;
    auto* out = static_cast<float*>(ctx.workspace);
    const int64_t rows = c.batch * (c.channels / ops::kChannelBlock) * c.oh;
    withPool(ctx, [&](ThreadPool& pool) {
      const int64_t grain = std::max<int64_t>(1, kSubsampleGrain / std::max<int64_t>(c.ow, 1));
      parallelTasks(pool, rows, grain, [&](int64_t begin, int64_t end, int32_t) {
        for (int64_t r = begin; r < end; ++r) {
          const int64_t plane = r / c.oh;
          const int64_t oy = r % c.oh;
          const float* src = x + (plane * c.ih + oy * c.sh) * c.iw * ops::kChannelBlock;
          float* dst = out + r * c.ow * ops::kChannelBlock;
          for (int64_t ox = 0; ox < c.ow; ++ox) {
            std::copy_n(src + ox * c.sw * ops::kChannelBlock, ops::kChannelBlock,
                        dst + ox * ops::kChannelBlock);
          }
        }
      });
    });
    return out;
  }

  PointwiseBlockedTile tile_;
  PointwiseLayer layer_;
};

// A pointwise kernel as a tactic of one ISA (@p isa), for layers of at most @p maxPixels pixels
// in @p layout (NCHW, or NCHW8c with one group). The tile is fetched (@p tileOf, in that ISA's
// file) only once the CPU is known to run it.
template <typename KernelT, typename Tile>
class PointwiseTactic final : public Tactic {
 public:
  PointwiseTactic(std::string name, std::vector<std::string> isa, Tile (*tileOf)(),
                  int64_t maxPixels, ops::Layout layout = ops::Layout::kChannelsFirst)
      : name_(std::move(name)),
        isa_(std::move(isa)),
        tileOf_(tileOf),
        maxPixels_(maxPixels),
        layout_(layout) {}
  std::string_view name() const override { return name_; }
  DeviceType device() const override { return DeviceType::kCPU; }
  std::vector<std::string> requiredIsa() const override { return isa_; }
  bool supports(const NodeSpec& spec) const override {
    Window2d c;
    if (ops::layoutOf(spec.node.attrs) != layout_ || !describePointwise(spec, c)) return false;
    const bool blocked = layout_ == ops::Layout::kChannelsBlocked;
    if (!pointwiseStride(c, blocked ? 2 : 1) || (blocked && c.groups != 1)) return false;
    // A blocked node's x in NCHW8c too (an NCHW one, read in place, is the depthwise kernel's).
    if (blocked && !blockedInput(spec)) return false;
    return c.oh * c.ow <= maxPixels_;
  }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& spec) const override {
    return std::make_unique<KernelT>(tileOf_(), spec);
  }

 private:
  std::string name_;
  std::vector<std::string> isa_;
  Tile (*tileOf_)();
  int64_t maxPixels_;
  ops::Layout layout_;
};

}  // namespace

void registerPointwiseConvTactics(TacticRegistry& registry) {
  using RowTactic = PointwiseTactic<PointwiseConvKernel, PointwiseTile>;
  using ChannelTactic = PointwiseTactic<PointwiseChannelKernel, PointwiseChannelTile>;
  using BlockedTactic = PointwiseTactic<PointwiseBlockedKernel, PointwiseBlockedTile>;
  const std::vector<std::string> avx512 = {"avx512f", "avx2", "fma"};
  const std::vector<std::string> avx2 = {"avx2", "fma"};
  constexpr int64_t kAnyPixels = std::numeric_limits<int64_t>::max();
  registry.add("Convolution", std::make_unique<RowTactic>("cpu.conv.pointwise.avx512", avx512,
                                                          avx512PointwiseTile, kAnyPixels));
  registry.add("Convolution",
               std::make_unique<ChannelTactic>("cpu.conv.pointwise.cm.avx512", avx512,
                                               avx512PointwiseChannelTile, kMaxChannelPixels));
  registry.add("Convolution", std::make_unique<RowTactic>("cpu.conv.pointwise.avx2", avx2,
                                                          avx2PointwiseTile, kAnyPixels));
  registry.add("Convolution",
               std::make_unique<ChannelTactic>("cpu.conv.pointwise.cm.avx2", avx2,
                                               avx2PointwiseChannelTile, kMaxChannelPixels));
  registry.add("Convolution", std::make_unique<BlockedTactic>(
                                  "cpu.conv.pointwise.nchw8c.avx2", avx2, avx2PointwiseBlockedTile,
                                  kAnyPixels, ops::Layout::kChannelsBlocked));
}

}  // namespace kiln::backends::cpu
