// Winograd F(4x4, 3x3) convolution tactics (winograd_conv.h). The tiles are processed in blocks of
// whole tile rows (across images of the batch), sized so a block's transformed input V and
// products M stay in the cores' L2. With enough tile rows for several blocks per thread, each
// thread runs whole blocks on its own (one parallel region per layer); otherwise the threads share
// each block: the input transform by channel (and tile row), the 36 products by position, the
// output transform by output channel and tile row.
// Two orientations of the products, both timed by the autotuner: "cpu.conv.winograd.<isa>"
// computes M = U V ([K x tiles], output channels along the micro-kernel's rows; the input
// transform writes V as the GEMM's packed B panels, so the products do not pack it again), and
// "cpu.conv.winograd.tm.<isa>" M^T = V^T U^T ([tiles x K], tile-major: wide layers with few
// tiles fill the micro-kernel's columns with output channels instead of tiles).
#include "backends/cpu/winograd_conv.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "backends/cpu/cpu_common.h"
#include "backends/cpu/parallel_tasks.h"
#include "ops/window_util.h"

namespace kiln::backends::cpu {

namespace {

// V and M of one block together: about the L2 of one core. Every block reads all of U, so where
// U is much larger than that, blocks grow to a quarter of U; and they hold enough tiles to fill
// the micro-kernel's tiles along that dimension.
constexpr int64_t kBlockBytes = int64_t{1} << 20;
constexpr int64_t kMinBlockTiles = 48;
// Rows of fewer tiles than this are transformed as one sequence of the block's tiles (a vector
// of tiles spans rows) instead of row by row.
constexpr int64_t kNarrowTiles = 12;

// Fewest tiles offered for layers with more than kSmallWeights kernels (winogradTilesPay).
constexpr int64_t kMinTiles = 8;
constexpr int64_t kSmallWeights = 64 * 64;

// Most threads that run blocks of their own (each needs the workspace of one block); with more,
// the threads share each block.
constexpr int64_t kBlockSlots = 4;

// U = G g G^T of one 3x3 kernel, in double (the weights are transformed once).
// G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1].
std::array<float, kWinoPositions> transformFilter(const float* g) {
  static constexpr double kG[kWinoAlpha][3] = {{1.0 / 4, 0, 0},
                                               {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                               {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                               {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                               {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                               {0, 0, 1}};
  double t[kWinoAlpha][3] = {};  // G g
  for (int64_t i = 0; i < kWinoAlpha; ++i) {
    for (int64_t j = 0; j < 3; ++j) {
      for (int64_t k = 0; k < 3; ++k) t[i][j] += kG[i][k] * g[k * 3 + j];
    }
  }
  std::array<float, kWinoPositions> u{};
  for (int64_t i = 0; i < kWinoAlpha; ++i) {
    for (int64_t j = 0; j < kWinoAlpha; ++j) {
      double s = 0;
      for (int64_t k = 0; k < 3; ++k) s += t[i][k] * kG[j][k];
      u[static_cast<std::size_t>(i * kWinoAlpha + j)] = static_cast<float>(s);
    }
  }
  return u;
}

bool supportsWinograd(const NodeSpec& spec) {
  Window2d c;
  if (!describeWindow2d(spec, false, c) || spec.inputs[0].dims.nbDims != 4) return false;
  if (spec.inputs[1].constAs<float>() == nullptr) return false;
  if (c.groups != 1 || c.kh != 3 || c.kw != 3 || c.sh != 1 || c.sw != 1 || c.dh != 1 || c.dw != 1) {
    return false;
  }
  if (c.batch <= 0 || c.channels <= 0 || c.outputs <= 0 || c.oh <= 0 || c.ow <= 0) return false;
  return winogradTilesPay(c);
}

class WinogradKernel final : public Kernel {
 public:
  WinogradKernel(const MicroKernel& mk, const WinogradTransforms& tf, bool tileMajor,
                 const NodeSpec& spec)
      : mk_(mk), tf_(tf), tileMajor_(tileMajor) {
    describeWindow2d(spec, false, conv_);
    epilogue_ = ops::Epilogue::of(spec.node.attrs);
    gemmEpilogue_ = gemmEpilogueOf(epilogue_);
    act_ = vecActOf(gemmEpilogue_);
    const Window2d& c = conv_;
    tilesH_ = (c.oh + kWinoTile - 1) / kWinoTile;
    tilesW_ = (c.ow + kWinoTile - 1) / kWinoTile;
    const int64_t rowBytes =
        kWinoPositions * (c.channels + c.outputs) * tilesW_ * static_cast<int64_t>(sizeof(float));
    const int64_t weightBytes =
        kWinoPositions * c.channels * c.outputs * static_cast<int64_t>(sizeof(float));
    const int64_t budget = std::max<int64_t>(kBlockBytes, weightBytes / 4);
    const int64_t totalRows = c.batch * tilesH_;
    const int64_t wanted = std::clamp<int64_t>(
        std::max(budget / rowBytes, (kMinBlockTiles + tilesW_ - 1) / tilesW_), 1, totalRows);
    // Between half and twice that, the block size whose products waste the least of the
    // micro-kernel's tiles along the tiles' dimension (rows for tile-major products).
    const int64_t unit = tileMajor ? mk.mr : mk.nr;
    auto padded = [&](int64_t rows) {
      const int64_t full = rows * tilesW_;
      const int64_t rest = totalRows % rows * tilesW_;
      return totalRows / rows * ((full + unit - 1) / unit) * unit + (rest + unit - 1) / unit * unit;
    };
    blockRows_ = wanted;
    for (int64_t rows = std::max<int64_t>(1, wanted / 2); rows <= std::min(totalRows, wanted * 2);
         ++rows) {
      if (padded(rows) < padded(blockRows_)) blockRows_ = rows;
    }
    // Blocks of their own for the threads: about eight in all, none smaller than a few of the
    // micro-kernel's tiles, the size wasting the least of them (then the nearest to eight blocks).
    const int64_t target = (totalRows + 7) / 8;
    const int64_t least = std::min((kMinBlockTiles + tilesW_ - 1) / tilesW_, blockRows_);
    threadRows_ = least;
    for (int64_t rows = least; rows <= std::max(least, std::min(blockRows_, 2 * target)); ++rows) {
      const int64_t waste = padded(rows) - padded(threadRows_);
      if (waste < 0 || (waste == 0 && std::abs(rows - target) < std::abs(threadRows_ - target))) {
        threadRows_ = rows;
      }
    }
    if (!tileMajor) layout_ = {mk.nr, c.channels * mk.nr};
    packed_ =
        packWinogradFilters(spec.inputs[1].constAs<float>(), c.outputs, c.channels, mk, tileMajor);
  }

  std::size_t workspaceBytes() const override {
    return kPanelAlignment +
           sizeof(float) * static_cast<std::size_t>(std::max(
                               blockFloats(blockRows_), kBlockSlots * blockFloats(threadRows_)));
  }

  void execute(const ir::KernelContext& ctx) const override {
    const Window2d& c = conv_;
    Io io;
    io.x = ctx.input(0).as<float>();
    io.bias = ctx.hasInput(2) && epilogue_.residualInput != 2 ? ctx.input(2).as<float>() : nullptr;
    io.residual =
        epilogue_.residualInput ? ctx.input(*epilogue_.residualInput).as<float>() : nullptr;
    io.y = ctx.output(0).as<float>();
    // Packed V is read by the micro-kernels as aligned panels.
    float* base = alignedWorkspace(ctx.workspace);
    const int64_t totalRows = c.batch * tilesH_;
    withPool(ctx, [&](ThreadPool& pool) {
      const int64_t threads = pool.size();
      const int64_t blocks = (totalRows + threadRows_ - 1) / threadRows_;
      if (threads > 1 && threads <= kBlockSlots && blocks >= 2 * threads) {
        // Enough blocks for every thread: each runs whole blocks on its own (transforms and
        // products, in its own core's cache), one parallel region instead of three per block.
        pool.run(blocks, [&](int64_t block, int32_t wk) {
          float* v = base + wk * blockFloats(threadRows_);
          const int64_t r0 = block * threadRows_;
          runBlock(pool, true, wk, io, r0, std::min<int64_t>(threadRows_, totalRows - r0), v,
                   v + kWinoPositions * vStride(threadRows_ * tilesW_));
        });
        return;
      }
      for (int64_t r0 = 0; r0 < totalRows; r0 += blockRows_) {
        runBlock(pool, false, 0, io, r0, std::min<int64_t>(blockRows_, totalRows - r0), base,
                 base + kWinoPositions * vStride(blockRows_ * tilesW_));
      }
    });
  }

 private:
  struct Io {
    const float* x = nullptr;
    const float* bias = nullptr;
    const float* residual = nullptr;
    float* y = nullptr;
  };

  // Floats of V and M of a block of @p rows tile rows (a whole number of panels' alignment).
  int64_t blockFloats(int64_t rows) const {
    const int64_t floats =
        kWinoPositions * vStride(rows * tilesW_) + kWinoPositions * conv_.outputs * rows * tilesW_;
    return (floats + 15) / 16 * 16;
  }

  // Tile rows [r0, r0 + rows) (across images): input transform into @p v, the 36 products into
  // @p m, output transform and epilogue into y; on this thread as @p worker when @p serial.
  void runBlock(ThreadPool& pool, bool serial, int32_t worker, const Io& io, int64_t r0,
                int64_t rows, float* v, float* m) const {
    const Window2d& c = conv_;
    const int64_t inPlane = c.ih * c.iw;
    const int64_t outPlane = c.oh * c.ow;
    const std::size_t inScratch =
        sizeof(float) * static_cast<std::size_t>(kWinoAlpha * winogradScratchWidth(tilesW_));
    const std::size_t outScratch =
        sizeof(float) * static_cast<std::size_t>(kWinoTile * winogradScratchWidth(tilesW_));
    // Tile rows per task in the transforms: enough tiles to pay for waking a thread.
    const int64_t grain = std::max<int64_t>(1, 256 / tilesW_);
    const int64_t tiles = rows * tilesW_;
    const int64_t positionStride = vStride(tiles);
    if (tilesW_ < kNarrowTiles) {
      transformNarrow(pool, serial, worker, io.x, r0, rows, v);
    } else {
      forRange(pool, serial, worker, c.channels * rows, grain,
               [&](int64_t begin, int64_t end, int32_t wk) {
                 WinogradInputRow in;
                 in.ih = c.ih;
                 in.iw = c.iw;
                 in.x0 = -c.pw;
                 in.tiles = tilesW_;
                 in.layout = layout_;
                 in.positionStride = positionStride;
                 in.scratch = static_cast<float*>(pool.scratch(wk, inScratch, 0));
                 in.scratchWidth = winogradScratchWidth(tilesW_);
                 for (int64_t item = begin; item < end; ++item) {
                   const int64_t ch = item / rows;
                   const int64_t row = item % rows;
                   const int64_t n = (r0 + row) / tilesH_;
                   in.x = io.x + (n * c.channels + ch) * inPlane;
                   in.y0 = (r0 + row) % tilesH_ * kWinoTile - c.ph;
                   if (layout_.panel > 0) {
                     in.v = v + ch * layout_.panel;
                     in.firstTile = row * tilesW_;
                     if (row == rows - 1) zeroPanelTail(v + ch * layout_.panel, tiles);
                   } else {
                     in.v = v + ch * tiles + row * tilesW_;
                   }
                   tf_.input(in);
                 }
               });
    }
    auto product = [&](int64_t pos, int32_t wk) {
      GemmProblem p;
      p.k = c.channels;
      p.c = m + pos * c.outputs * tiles;
      const float* vp = v + pos * positionStride;
      if (tileMajor_) {
        // M^T = V^T U^T: [tiles x K], the tiles along the micro-kernel's rows.
        p.m = tiles;
        p.n = c.outputs;
        p.a.strided = {vp, 1, tiles};
        if (tiles <= kSmallRows) {
          // V^T with contiguous rows, as the small-M path reads it.
          auto* vt = static_cast<float*>(
              pool.scratch(wk, sizeof(float) * static_cast<std::size_t>(tiles * c.channels), 3));
          for (int64_t t = 0; t < tiles; ++t) {
            for (int64_t ch = 0; ch < c.channels; ++ch) {
              vt[t * c.channels + ch] = vp[ch * tiles + t];
            }
          }
          p.a.strided = {vt, c.channels, 1};
        }
        p.b.packed = &packed_[static_cast<std::size_t>(pos)];
        p.ldc = c.outputs;
      } else {
        p.m = c.outputs;
        p.n = tiles;
        p.a.packed = &packed_[static_cast<std::size_t>(pos)];
        p.b.prepacked = vp;
        p.ldc = tiles;
      }
      gemm(mk_, p, pool, true, wk);
    };
    if (serial) {
      for (int64_t pos = 0; pos < kWinoPositions; ++pos) product(pos, worker);
    } else {
      pool.run(kWinoPositions, product);
    }
    if (tileMajor_) {
      outputTileMajor(pool, serial, worker, io, r0, rows, m);
      return;
    }
    forRange(pool, serial, worker, c.outputs * rows, grain,
             [&](int64_t begin, int64_t end, int32_t wk) {
               WinogradOutputRow out;
               out.positionStride = c.outputs * tiles;
               out.tiles = tilesW_;
               out.oh = c.oh;
               out.ow = c.ow;
               out.act = act_;
               out.alpha = gemmEpilogue_.alpha;
               out.beta = gemmEpilogue_.beta;
               out.scratch = static_cast<float*>(pool.scratch(wk, outScratch, 0));
               out.scratchWidth = winogradScratchWidth(tilesW_);
               for (int64_t item = begin; item < end; ++item) {
                 const int64_t k = item / rows;
                 const int64_t row = item % rows;
                 const int64_t n = (r0 + row) / tilesH_;
                 const int64_t plane = (n * c.outputs + k) * outPlane;
                 out.m = m + k * tiles + row * tilesW_;
                 out.y = io.y + plane;
                 out.residual = io.residual != nullptr ? io.residual + plane : nullptr;
                 out.oy0 = (r0 + row) % tilesH_ * kWinoTile;
                 out.bias = io.bias != nullptr ? io.bias[k] : 0.f;
                 tf_.output(out);
                 if (act_ == VecAct::kGeneric) {
                   const int64_t last = std::min<int64_t>(c.oh, out.oy0 + kWinoTile);
                   activateInPlace(epilogue_, out.y + out.oy0 * c.ow, (last - out.oy0) * c.ow);
                 }
               }
             });
  }

  // Floats of one position of V for @p tiles tiles (whole panels when packed).
  int64_t vStride(int64_t tiles) const {
    if (layout_.panel == 0) return conv_.channels * tiles;
    return (tiles + layout_.panel - 1) / layout_.panel * layout_.panelStride;
  }

  // Zeroes the columns of the last panel past @p tiles, for one channel at @p v (position 0,
  // panel 0) in every position: the micro-kernels multiply whole panels, and stale floats there
  // could be denormals or NaNs that slow them down (their products are never stored).
  void zeroPanelTail(float* v, int64_t tiles) const {
    const int64_t used = tiles % layout_.panel;
    if (used == 0) return;
    const int64_t stride = vStride(tiles);
    float* last = v + (tiles / layout_.panel) * layout_.panelStride;
    for (int64_t pos = 0; pos < kWinoPositions; ++pos) {
      std::fill(last + pos * stride + used, last + pos * stride + layout_.panel, 0.f);
    }
  }

  // The input transform of one block, each task a channel over all the block's tile rows.
  void transformNarrow(ThreadPool& pool, bool serial, int32_t worker, const float* x, int64_t r0,
                       int64_t rows, float* v) const {
    const Window2d& c = conv_;
    const int64_t width = winogradScratchWidth(tilesW_);
    const std::size_t scratch = sizeof(float) * static_cast<std::size_t>(rows * kWinoAlpha * width);
    forRange(pool, serial, worker, c.channels, std::max<int64_t>(1, 256 / (rows * tilesW_)),
             [&](int64_t begin, int64_t end, int32_t wk) {
               WinogradInputRows in;
               in.imageStride = c.channels * c.ih * c.iw;
               in.ih = c.ih;
               in.iw = c.iw;
               in.ph = c.ph;
               in.pw = c.pw;
               in.tilesH = tilesH_;
               in.tilesW = tilesW_;
               in.row0 = r0;
               in.rows = rows;
               in.layout = layout_;
               in.positionStride = vStride(rows * tilesW_);
               in.scratch = static_cast<float*>(pool.scratch(wk, scratch, 0));
               in.scratchWidth = width;
               for (int64_t ch = begin; ch < end; ++ch) {
                 in.x = x + ch * c.ih * c.iw;
                 if (layout_.panel > 0) {
                   in.v = v + ch * layout_.panel;
                   zeroPanelTail(in.v, rows * tilesW_);
                 } else {
                   in.v = v + ch * rows * tilesW_;
                 }
                 tf_.inputRows(in);
               }
             });
  }

  // The output transform of one block from tile-major products: tasks are tile rows times
  // groups of kWinoLanes output channels.
  void outputTileMajor(ThreadPool& pool, bool serial, int32_t worker, const Io& io, int64_t r0,
                       int64_t rows, const float* m) const {
    const float* bias = io.bias;
    const float* residual = io.residual;
    float* y = io.y;
    const Window2d& c = conv_;
    const int64_t tiles = rows * tilesW_;
    const int64_t groups = (c.outputs + kWinoLanes - 1) / kWinoLanes;
    const int64_t outPlane = c.oh * c.ow;
    const std::size_t scratch =
        sizeof(float) *
        static_cast<std::size_t>(kWinoLanes * kWinoTile * winogradScratchWidth(tilesW_));
    forRange(pool, serial, worker, rows * groups, 1, [&](int64_t begin, int64_t end, int32_t wk) {
      WinogradOutputTiles o;
      o.positionStride = tiles * c.outputs;
      o.tileStride = c.outputs;
      o.tiles = tilesW_;
      o.planeStride = outPlane;
      o.oh = c.oh;
      o.ow = c.ow;
      o.act = act_;
      o.alpha = gemmEpilogue_.alpha;
      o.beta = gemmEpilogue_.beta;
      o.scratch = static_cast<float*>(pool.scratch(wk, scratch, 0));
      o.scratchWidth = winogradScratchWidth(tilesW_);
      for (int64_t item = begin; item < end; ++item) {
        const int64_t row = item / groups;
        const int64_t k0 = item % groups * kWinoLanes;
        const int64_t n = (r0 + row) / tilesH_;
        const int64_t plane = (n * c.outputs + k0) * outPlane;
        o.m = m + row * tilesW_ * c.outputs + k0;
        o.channels = std::min<int64_t>(kWinoLanes, c.outputs - k0);
        o.y = y + plane;
        o.residual = residual != nullptr ? residual + plane : nullptr;
        o.bias = bias != nullptr ? bias + k0 : nullptr;
        o.oy0 = (r0 + row) % tilesH_ * kWinoTile;
        tf_.outputTiles(o);
        if (act_ == VecAct::kGeneric) {
          const int64_t last = std::min<int64_t>(c.oh, o.oy0 + kWinoTile);
          for (int64_t k = 0; k < o.channels; ++k) {
            activateInPlace(epilogue_, o.y + k * outPlane + o.oy0 * c.ow, (last - o.oy0) * c.ow);
          }
        }
      }
    });
  }

  const MicroKernel& mk_;
  const WinogradTransforms& tf_;
  bool tileMajor_ = false;  // products as [tiles x K] (else [K x tiles])
  Window2d conv_;
  ops::Epilogue epilogue_;
  GemmEpilogue gemmEpilogue_;
  VecAct act_ = VecAct::kNone;
  int64_t tilesH_ = 1, tilesW_ = 1;
  int64_t blockRows_ = 1;   // tile rows (of any image) per block, the threads sharing each
  int64_t threadRows_ = 1;  // tile rows per block where each thread runs blocks of its own
  WinogradLayout layout_;   // of V: packed as the GEMM's B for products [K x tiles]
  std::vector<PackedMatrix> packed_;
};

class WinogradTactic final : public Tactic {
 public:
  WinogradTactic(const GemmIsa& isa, const WinogradTransforms& (*transforms)(), bool tileMajor)
      : isa_(isa),
        name_(std::string("cpu.conv.winograd.") + (tileMajor ? "tm." : "") + isa.suffix),
        transforms_(transforms),
        tileMajor_(tileMajor) {}
  std::string_view name() const override { return name_; }
  DeviceType device() const override { return DeviceType::kCPU; }
  std::vector<std::string> requiredIsa() const override { return isa_.features; }
  bool supports(const NodeSpec& spec) const override { return supportsWinograd(spec); }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& spec) const override {
    return std::make_unique<WinogradKernel>(isa_.kernel(), transforms_(), tileMajor_, spec);
  }

 private:
  const GemmIsa& isa_;
  std::string name_;
  const WinogradTransforms& (*transforms_)();
  bool tileMajor_;
};

}  // namespace

bool winogradTilesPay(const Window2d& c) {
  // Each product streams its [K x C] of U (4x the weights) for the tiles of a block: with a
  // handful of tiles in all (a 7x7 image at batch 1 has 4) it is bound by that stream and loses
  // to the direct kernels, so it is not offered (transforming and timing it costs build time).
  const int64_t tiles =
      c.batch * ((c.oh + kWinoTile - 1) / kWinoTile) * ((c.ow + kWinoTile - 1) / kWinoTile);
  // (Tile-major products of a few tiles could take the GEMM's small-M path, but for ResNet-50's
  // 7x7x512 layers at batch 1 that gained 1% of the model for 75 MB of transformed weights.)
  return tiles >= kMinTiles || c.channels * c.outputs <= kSmallWeights;
}

std::vector<PackedMatrix> packWinogradFilters(const float* w, int64_t outputs, int64_t channels,
                                              const MicroKernel& mk, bool tileMajor) {
  const int64_t kc = outputs * channels;
  std::vector<float> u(static_cast<std::size_t>(kWinoPositions * kc));
  // A run of kernels at a time, each position's values then stored as one contiguous row: one
  // kernel's 36 values land 36 rows (megabytes) apart, a store each to another page.
  constexpr int64_t kRun = 256;
  std::array<float, kWinoPositions * kRun> run{};
  for (int64_t i0 = 0; i0 < kc; i0 += kRun) {
    const int64_t count = std::min(kRun, kc - i0);
    for (int64_t j = 0; j < count; ++j) {
      const auto t = transformFilter(w + (i0 + j) * 9);
      for (int64_t pos = 0; pos < kWinoPositions; ++pos) {
        run[static_cast<std::size_t>(pos * kRun + j)] = t[static_cast<std::size_t>(pos)];
      }
    }
    for (int64_t pos = 0; pos < kWinoPositions; ++pos) {
      std::copy_n(run.begin() + pos * kRun, count, u.begin() + pos * kc + i0);
    }
  }
  // U[position] is [K x C]: packed as the GEMM's A, or transposed as its B (tile-major).
  std::vector<PackedMatrix> packed;
  packed.reserve(kWinoPositions);
  for (int64_t pos = 0; pos < kWinoPositions; ++pos) {
    const float* up = u.data() + pos * kc;
    packed.push_back(tileMajor ? packB({up, 1, channels}, channels, outputs, mk.nr)
                               : packA({up, channels, 1}, outputs, channels, mk.mr));
  }
  return packed;
}

void registerWinogradConvTactics(TacticRegistry& registry) {
  // The transforms are compiled for AVX-512 and AVX2 only: without them the products' savings
  // would go to scalar transforms.
  for (bool tileMajor : {false, true}) {
    for (const GemmIsa& isa : gemmIsas()) {
      if (isa.suffix == "avx512") {
        registry.add("Convolution",
                     std::make_unique<WinogradTactic>(isa, avx512WinogradTransforms, tileMajor));
      } else if (isa.suffix == "avx2") {
        registry.add("Convolution",
                     std::make_unique<WinogradTactic>(isa, avx2WinogradTransforms, tileMajor));
      }
    }
  }
}

}  // namespace kiln::backends::cpu
