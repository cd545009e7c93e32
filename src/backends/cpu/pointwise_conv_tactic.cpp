// "cpu.conv.pointwise.avx512" and "cpu.conv.pointwise.cm.avx512": 1x1 stride-1 unpadded
// convolutions with constant weights (pointwise_conv.h). The weights of each group are packed
// once into panels over all of K: of kPointwiseMr rows for the row-major tiles (vectors along the
// pixels), of kPointwiseChannels output channels for the channel-major ones (vectors along the
// channels, for layers of few pixels). A task is a run of pixel tiles times a share of the
// panels, so that layers with few pixels (MobileNet's 7x7: two row-major tiles) still give every
// thread work.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backends/cpu/cpu_common.h"
#include "backends/cpu/pointwise_conv.h"
#include "backends/cpu/tactics.h"
#include "core/aligned_buffer.h"
#include "ops/window_util.h"

namespace kiln::backends::cpu {

namespace {

bool describePointwise(const NodeSpec& spec, Window2d& c) {
  // Channels-last nodes come only from the GPU layout pass; this kernel is NCHW.
  if (ops::channelsLast(spec.node.attrs)) return false;
  if (!describeWindow2d(spec, false, c)) return false;
  if (spec.inputs[1].constAs<float>() == nullptr) return false;
  return c.kh == 1 && c.kw == 1 && c.sh == 1 && c.sw == 1 && c.ph == 0 && c.pw == 0 &&
         c.oh == c.ih && c.ow == c.iw;
}

// Multiply-adds a task should hold at least (a few microseconds: the workers spin between
// back-to-back layers, so handing one a task costs far less).
constexpr int64_t kTaskMacs = int64_t{96} << 10;

class PointwiseConvKernel final : public Kernel {
 public:
  PointwiseConvKernel(PointwiseTileFn fn, const NodeSpec& spec) : fn_(fn) {
    describePointwise(spec, conv_);
    epilogue_ = ops::Epilogue::of(spec.node.attrs);
    gemmEpilogue_ = gemmEpilogueOf(epilogue_);
    act_ = vecActOf(gemmEpilogue_);
    const Window2d& c = conv_;
    const int64_t mg = c.outputs / c.groups;
    const int64_t k = c.cg();
    panels_ = (mg + kPointwiseMr - 1) / kPointwiseMr;
    // [group][panel][k][kPointwiseMr], rows past the group's last zero.
    const auto* w = spec.inputs[1].constAs<float>();
    weights_.assign(
        static_cast<std::size_t>(std::max<int64_t>(c.groups * panels_ * k, 1) * kPointwiseMr), 0.f);
    for (int64_t o = 0; o < c.outputs; ++o) {
      const int64_t g = o / mg;
      const int64_t row = o % mg;
      float* panel = weights_.data() + ((g * panels_ + row / kPointwiseMr) * k) * kPointwiseMr;
      for (int64_t i = 0; i < k; ++i) panel[i * kPointwiseMr + row % kPointwiseMr] = w[o * k + i];
    }
  }

  void execute(const ir::KernelContext& ctx) const override {
    const Window2d& c = conv_;
    const float* x = ctx.input(0).as<float>();
    const float* bias =
        ctx.hasInput(2) && epilogue_.residualInput != 2 ? ctx.input(2).as<float>() : nullptr;
    const float* residual =
        epilogue_.residualInput ? ctx.input(*epilogue_.residualInput).as<float>() : nullptr;
    float* y = ctx.output(0).as<float>();
    const int64_t mg = c.outputs / c.groups;
    const int64_t k = c.cg();
    const int64_t n = c.oh * c.ow;
    const int64_t jobs = c.batch * c.groups;
    if (jobs == 0 || mg == 0 || n == 0) return;
    const int64_t tiles = (n + kPointwiseNr - 1) / kPointwiseNr;
    // Weights larger than the image (SqueezeNet's classifier: 2 MB against 350 KB; MobileNet's
    // 7x7 layers): each task takes whole row panels against every tile, so the weights are read
    // once and the image stays in L2. Otherwise tiles outside, and row panels are split only
    // where the tiles alone give each thread too few tasks.
    const bool panelMajor = mg * k > k * n && k * n * int64_t{sizeof(float)} <= (int64_t{1} << 19);
    withPool(ctx, [&](ThreadPool& pool) {
      const int64_t threads = pool.size();
      int64_t tileGroups = tiles;
      int64_t panelGroups = 1;
      if (panelMajor) {
        tileGroups = 1;
        panelGroups = panels_;
      } else {
        panelGroups =
            std::clamp<int64_t>((4 * threads + jobs * tiles - 1) / (jobs * tiles), 1, panels_);
      }
      const int64_t units = jobs * tileGroups * panelGroups;
      const int64_t unitMacs =
          std::max<int64_t>((tiles + tileGroups - 1) / tileGroups * (panels_ + panelGroups - 1) /
                                panelGroups * kPointwiseMr * kPointwiseNr * std::max<int64_t>(k, 1),
                            1);
      const int64_t perTask = std::max<int64_t>(1, kTaskMacs / unitMacs);
      const int64_t tasks = threads == 1 ? 1 : (units + perTask - 1) / perTask;
      auto tile = [&](int64_t job, int64_t t, int64_t p, bool prefetch) {
        const int64_t image = job / c.groups;
        const int64_t g = job % c.groups;
        const int64_t n0 = t * kPointwiseNr;
        const int64_t cols = std::min<int64_t>(kPointwiseNr, n - n0);
        const float* xg = x + (image * c.channels + g * k) * n + n0;
        const int64_t r0 = p * kPointwiseMr;
        const int64_t rows = std::min<int64_t>(kPointwiseMr, mg - r0);
        const int64_t yOffset = (image * c.outputs + g * mg + r0) * n + n0;
        TileEpilogue te;
        te.rowBias = bias != nullptr ? bias + g * mg + r0 : nullptr;
        te.residual = residual != nullptr ? residual + yOffset : nullptr;
        te.ldr = n;
        te.act = act_ == VecAct::kGeneric ? VecAct::kNone : act_;
        te.alpha = gemmEpilogue_.alpha;
        te.beta = gemmEpilogue_.beta;
        float* yt = y + yOffset;
        // The next tile's pixels, fetched while this one is multiplied (its rows are K separate
        // streams, too many for the hardware prefetchers).
        const float* next = prefetch && n0 + kPointwiseNr < n ? xg + kPointwiseNr : nullptr;
        fn_(rows, cols, k, weights_.data() + ((g * panels_ + p) * k) * kPointwiseMr, xg, n, yt, n,
            te, next);
        if (act_ == VecAct::kGeneric) {
          for (int64_t r = 0; r < rows; ++r) {
            for (int64_t j = 0; j < cols; ++j) yt[r * n + j] = epilogue_.activate(yt[r * n + j]);
          }
        }
      };
      auto body = [&](int64_t task, int32_t) {
        const int64_t u0 = units * task / tasks;
        const int64_t u1 = units * (task + 1) / tasks;
        for (int64_t u = u0; u < u1; ++u) {
          const int64_t pg = u % panelGroups;
          const int64_t tg = (u / panelGroups) % tileGroups;
          const int64_t job = u / (panelGroups * tileGroups);
          const int64_t p0 = panels_ * pg / panelGroups;
          const int64_t p1 = panels_ * (pg + 1) / panelGroups;
          const int64_t t0 = tiles * tg / tileGroups;
          const int64_t t1 = tiles * (tg + 1) / tileGroups;
          if (panelMajor) {
            for (int64_t p = p0; p < p1; ++p) {
              for (int64_t t = t0; t < t1; ++t) tile(job, t, p, false);
            }
          } else {
            for (int64_t t = t0; t < t1; ++t) {
              for (int64_t p = p0; p < p1; ++p) tile(job, t, p, p == p0);
            }
          }
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
  PointwiseTileFn fn_;
  Window2d conv_;
  ops::Epilogue epilogue_;
  GemmEpilogue gemmEpilogue_;
  VecAct act_ = VecAct::kNone;
  int64_t panels_ = 0;
  std::vector<float> weights_;
};

class PointwiseConvTactic final : public Tactic {
 public:
  std::string_view name() const override { return "cpu.conv.pointwise.avx512"; }
  DeviceType device() const override { return DeviceType::kCPU; }
  std::vector<std::string> requiredIsa() const override { return {"avx512f", "avx2", "fma"}; }
  bool supports(const NodeSpec& spec) const override {
    Window2d c;
    return describePointwise(spec, c);
  }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& spec) const override {
    return std::make_unique<PointwiseConvKernel>(avx512PointwiseTile(), spec);
  }
};

// ---------------------------------------------------------------------------------------------

// Channel-major tiles (kPointwiseChannels output channels x kPointwisePixels pixels) for layers
// of few pixels, whose rows waste vector lanes (49 = 3 x 16 + 1). Offered up to kMaxChannelPixels
// pixels: beyond, scattering the tiles costs more than the lanes save.
constexpr int64_t kMaxChannelPixels = 256;

class PointwiseChannelKernel final : public Kernel {
 public:
  PointwiseChannelKernel(PointwiseChannelTileFn fn, const NodeSpec& spec) : fn_(fn) {
    describePointwise(spec, conv_);
    epilogue_ = ops::Epilogue::of(spec.node.attrs);
    gemmEpilogue_ = gemmEpilogueOf(epilogue_);
    act_ = vecActOf(gemmEpilogue_);
    const Window2d& c = conv_;
    const int64_t mg = c.outputs / c.groups;
    const int64_t k = c.cg();
    panels_ = (mg + kPointwiseChannels - 1) / kPointwiseChannels;
    // [group][panel][k][kPointwiseChannels], channels past the group's last zero.
    const auto count =
        static_cast<std::size_t>(std::max<int64_t>(c.groups * panels_ * k, 1) * kPointwiseChannels);
    weights_.resize(sizeof(float) * count);
    auto* packed = reinterpret_cast<float*>(weights_.data());
    std::fill(packed, packed + count, 0.f);
    const auto* w = spec.inputs[1].constAs<float>();
    for (int64_t o = 0; o < c.outputs; ++o) {
      const int64_t g = o / mg;
      const int64_t ch = o % mg;
      float* panel = packed + ((g * panels_ + ch / kPointwiseChannels) * k) * kPointwiseChannels;
      for (int64_t i = 0; i < k; ++i) {
        panel[i * kPointwiseChannels + ch % kPointwiseChannels] = w[o * k + i];
      }
    }
  }

  void execute(const ir::KernelContext& ctx) const override {
    const Window2d& c = conv_;
    const float* x = ctx.input(0).as<float>();
    const float* bias =
        ctx.hasInput(2) && epilogue_.residualInput != 2 ? ctx.input(2).as<float>() : nullptr;
    const float* residual =
        epilogue_.residualInput ? ctx.input(*epilogue_.residualInput).as<float>() : nullptr;
    float* y = ctx.output(0).as<float>();
    const int64_t mg = c.outputs / c.groups;
    const int64_t k = c.cg();
    const int64_t n = c.oh * c.ow;
    const int64_t jobs = c.batch * c.groups;
    if (jobs == 0 || mg == 0 || n == 0) return;
    const int64_t tiles = (n + kPointwisePixels - 1) / kPointwisePixels;
    const float* packed = weightData();
    // Units in panel-major order: consecutive units of a task share its weight panel.
    const int64_t units = jobs * panels_ * tiles;
    const int64_t unitMacs =
        std::max<int64_t>(kPointwiseChannels * kPointwisePixels * std::max<int64_t>(k, 1), 1);
    withPool(ctx, [&](ThreadPool& pool) {
      // Whole weight panels per task where there are enough of them to share evenly: a panel
      // split between the threads is read by both (1280 x 320 weights, 1.6 MB, do not fit one
      // core's L2).
      int64_t perTask = std::max<int64_t>(1, kTaskMacs / unitMacs);
      if (jobs * panels_ >= 4 * pool.size()) perTask = (perTask + tiles - 1) / tiles * tiles;
      const int64_t tasks = pool.size() == 1 ? 1 : (units + perTask - 1) / perTask;
      auto body = [&](int64_t task, int32_t) {
        const int64_t u0 = units * task / tasks;
        const int64_t u1 = units * (task + 1) / tasks;
        for (int64_t u = u0; u < u1; ++u) {
          const int64_t t = u % tiles;
          const int64_t p = (u / tiles) % panels_;
          const int64_t job = u / (tiles * panels_);
          const int64_t image = job / c.groups;
          const int64_t g = job % c.groups;
          const int64_t n0 = t * kPointwisePixels;
          const int64_t pixels = std::min<int64_t>(kPointwisePixels, n - n0);
          const int64_t m0 = p * kPointwiseChannels;
          const int64_t channels = std::min<int64_t>(kPointwiseChannels, mg - m0);
          const int64_t yOffset = (image * c.outputs + g * mg + m0) * n + n0;
          TileEpilogue te;
          te.rowBias = bias != nullptr ? bias + g * mg + m0 : nullptr;
          te.residual = residual != nullptr ? residual + yOffset : nullptr;
          te.ldr = n;
          te.act = act_ == VecAct::kGeneric ? VecAct::kNone : act_;
          te.alpha = gemmEpilogue_.alpha;
          te.beta = gemmEpilogue_.beta;
          float* yt = y + yOffset;
          fn_(channels, pixels, k, packed + ((g * panels_ + p) * k) * kPointwiseChannels,
              x + (image * c.channels + g * k) * n + n0, n, yt, n, te);
          if (act_ == VecAct::kGeneric) {
            for (int64_t r = 0; r < channels; ++r) {
              for (int64_t j = 0; j < pixels; ++j) {
                yt[r * n + j] = epilogue_.activate(yt[r * n + j]);
              }
            }
          }
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
  const float* weightData() const { return reinterpret_cast<const float*>(weights_.data()); }

  PointwiseChannelTileFn fn_;
  Window2d conv_;
  ops::Epilogue epilogue_;
  GemmEpilogue gemmEpilogue_;
  VecAct act_ = VecAct::kNone;
  int64_t panels_ = 0;
  AlignedBuffer weights_;
};

class PointwiseChannelTactic final : public Tactic {
 public:
  std::string_view name() const override { return "cpu.conv.pointwise.cm.avx512"; }
  DeviceType device() const override { return DeviceType::kCPU; }
  std::vector<std::string> requiredIsa() const override { return {"avx512f", "avx2", "fma"}; }
  bool supports(const NodeSpec& spec) const override {
    Window2d c;
    return describePointwise(spec, c) && c.oh * c.ow <= kMaxChannelPixels;
  }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& spec) const override {
    return std::make_unique<PointwiseChannelKernel>(avx512PointwiseChannelTile(), spec);
  }
};

}  // namespace

void registerPointwiseConvTactics(TacticRegistry& registry) {
  registry.add("Convolution", std::make_unique<PointwiseConvTactic>());
  registry.add("Convolution", std::make_unique<PointwiseChannelTactic>());
}

}  // namespace kiln::backends::cpu
