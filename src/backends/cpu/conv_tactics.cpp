// Convolution (NCHW, float32, 1-d and 2-d) as GEMM per image and group — "cpu.conv.gemm.<isa>":
// a 1x1 stride-1 unpadded convolution multiplies the input directly, any other packs its im2col
// panels straight from the image (from a padded copy of it, split by column parity for stride 2,
// where it pads or overlaps taps); "cpu.conv.im2col.<isa>" writes the im2col matrix first —, and
// as a direct loop over a padded copy of the input for ungrouped ones ("cpu.conv.direct.<isa>",
// direct_conv.h). 1x1 layers also have their own kernel (pointwise_conv.h), depthwise ones theirs
// (depthwise_tactic.cpp). All fuse the epilogue (bias, residual, activation) into the store.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "backends/cpu/blocked_conv.h"
#include "backends/cpu/cpu_common.h"
#include "backends/cpu/direct_conv.h"
#include "backends/cpu/parallel_tasks.h"
#include "backends/cpu/pointwise_conv.h"
#include "backends/cpu/tactics.h"
#include "backends/cpu/winograd_blocked.h"
#include "backends/cpu/winograd_conv.h"
#include "ops/window_util.h"

namespace kiln::backends::cpu {

namespace {

struct Conv2d : Window2d {
  int64_t mg() const { return outputs / groups; }
  int64_t depth() const { return cg() * kh * kw; }
  bool pointwise() const {
    return kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0 && oh == ih && ow == iw;
  }
};

bool describeConv(const NodeSpec& spec, Conv2d& c) {
  return describeWindow2d(spec, false, c);  // NCHW nodes only
}

const float* biasOf(const ir::KernelContext& ctx, const ops::Epilogue& e) {
  return ctx.hasInput(2) && e.residualInput != 2 ? ctx.input(2).as<float>() : nullptr;
}

// ---------------------------------------------------------------------------------------------

// Most column panels of B packed once per image for all threads (ConvGemmKernel).
constexpr int64_t kSharedPackPanels = 8;

// One execution's tensors.
struct ConvIo {
  explicit ConvIo(const ir::KernelContext& ctx, const ops::Epilogue& e)
      : x(ctx.input(0).as<float>()),
        w(ctx.input(1).as<float>()),
        bias(biasOf(ctx, e)),
        residual(e.residualInput ? ctx.input(*e.residualInput).as<float>() : nullptr),
        y(ctx.output(0).as<float>()) {}
  const float* x;
  const float* w;
  const float* bias;
  const float* residual;
  float* y;
};

// What the GEMM convolutions share: the geometry, the epilogue and the weights packed once per
// group as the micro-kernel's A; each job (image, group) is one product.
class ConvGemmLayer {
 public:
  ConvGemmLayer(const MicroKernel& mk, const NodeSpec& spec) : mk_(mk) {
    describeConv(spec, conv_);
    epilogue_ = ops::Epilogue::of(spec.node.attrs);
    if (spec.inputs[1].isConstant()) {
      const auto* w = spec.inputs[1].constAs<float>();
      for (int64_t g = 0; g < conv_.groups; ++g) {
        packed_.push_back(packA({weightsAt(w, g * conv_.mg() * conv_.depth()), conv_.depth(), 1},
                                conv_.mg(), conv_.depth(), mk.mr, spec.prepared));
      }
      absorbPrepared(spec.prepared, 1);
    }
  }

  //! The product of job @p job (image job / groups, group job % groups) with its A, C and
  //! epilogue; B is left to the caller.
  GemmProblem problem(const ConvIo& io, int64_t job) const {
    const Conv2d& c = conv_;
    const int64_t g = job % c.groups;
    const int64_t outPlane = c.oh * c.ow;
    const int64_t yOffset = (job / c.groups * c.outputs + g * c.mg()) * outPlane;
    GemmProblem p;
    p.m = c.mg();
    p.n = outPlane;
    p.k = c.depth();
    if (!packed_.empty()) {
      p.a.packed = &packed_[static_cast<std::size_t>(g)];
    } else {
      p.a.strided = {io.w + g * c.mg() * c.depth(), c.depth(), 1};
    }
    p.c = io.y + yOffset;
    p.ldc = outPlane;
    p.epilogue = gemmEpilogueOf(epilogue_);
    p.epilogue.rowBias = io.bias != nullptr ? io.bias + g * c.mg() : nullptr;
    if (io.residual != nullptr) {
      p.epilogue.residual = io.residual + yOffset;
      p.epilogue.ldr = outPlane;
    }
    return p;
  }

  //! Job @p job's input planes (image, group).
  const float* input(const ConvIo& io, int64_t job) const {
    const Conv2d& c = conv_;
    return io.x + (job / c.groups * c.channels + job % c.groups * c.cg()) * c.ih * c.iw;
  }

  const MicroKernel& microKernel() const { return mk_; }
  const Conv2d& conv() const { return conv_; }
  const ops::Epilogue& epilogue() const { return epilogue_; }

 private:
  const MicroKernel& mk_;
  Conv2d conv_;
  ops::Epilogue epilogue_;
  std::vector<PackedMatrix> packed_;
};

// A zero-padded copy of an image's planes: every tap of every window in range (no padding left to
// check) and no input past the last window. With stride 2 the rows can be split by column parity
// (even columns, then from oddOffset() the odd ones), so the taps of consecutive outputs are
// contiguous: Im2colSource::oddOffset, DirectConvRow::oddOffset.
struct PaddedPlanes {
  PaddedPlanes() = default;
  PaddedPlanes(const Conv2d& c, bool splitColumns)
      : hp((c.oh - 1) * c.sh + (c.kh - 1) * c.dh + 1),
        wp((c.ow - 1) * c.sw + (c.kw - 1) * c.dw + 1),
        rowsIn(std::clamp<int64_t>(hp - c.ph, 0, c.ih)),
        colsIn(std::clamp<int64_t>(wp - c.pw, 0, c.iw)),
        split(splitColumns && c.sw == 2) {}

  int64_t plane() const { return hp * wp; }
  int64_t oddOffset() const { return split ? (wp + 1) / 2 : 0; }

  //! Pads all batch * channels planes of @p x into @p out, shared among the threads.
  void copy(const Conv2d& c, const float* x, float* out, ThreadPool& pool) const {
    const int64_t planes = c.batch * c.channels;
    parallelFor(&pool, planes,
                std::max<int64_t>(1, (int64_t{64} << 10) / std::max<int64_t>(plane(), 1)),
                [&](int64_t begin, int64_t end, int32_t) {
                  for (int64_t i = begin; i < end; ++i)
                    copyPlane(c, x + i * c.ih * c.iw, out + i * plane());
                });
  }

  int64_t hp = 1, wp = 1;
  int64_t rowsIn = 0, colsIn = 0;  // input rows and columns the windows reach
  bool split = false;

 private:
  void copyPlane(const Conv2d& c, const float* src, float* dst) const {
    const int64_t top = std::min<int64_t>(c.ph, hp);
    const int64_t left = std::min<int64_t>(c.pw, wp);
    std::fill(dst, dst + top * wp, 0.f);
    for (int64_t iy = 0; iy < rowsIn; ++iy) {
      const float* in = src + iy * c.iw;
      float* row = dst + (c.ph + iy) * wp;
      if (split) {
        // Padded column q goes to q / 2 (even q) or oddOffset() + q / 2 (odd q): each half is
        // input columns 2 i + parity - pw, zero outside [0, colsIn).
        for (int64_t parity = 0; parity < 2; ++parity) {
          float* half = row + parity * oddOffset();
          const int64_t size = (wp + 1 - parity) / 2;
          const int64_t shift = parity - c.pw;  // input column of half[0]
          const int64_t lo = std::clamp<int64_t>((-shift + 1) / 2, 0, size);
          const int64_t hi = std::clamp<int64_t>((colsIn - shift + 1) / 2, lo, size);
          std::fill(half, half + lo, 0.f);
          for (int64_t i = lo; i < hi; ++i) half[i] = in[2 * i + shift];
          std::fill(half + hi, half + size, 0.f);
        }
        continue;
      }
      std::fill(row, row + left, 0.f);
      std::copy(in, in + colsIn, row + left);
      std::fill(row + left + colsIn, row + wp, 0.f);
    }
    std::fill(dst + (top + rowsIn) * wp, dst + plane(), 0.f);
  }
};

// "cpu.conv.gemm.<isa>": B read in place (1x1) or packed panel by panel from the image.
class ConvGemmKernel final : public Kernel {
 public:
  ConvGemmKernel(const MicroKernel& mk, const NodeSpec& spec) : layer_(mk, spec) {
    const Conv2d& c = layer_.conv();
    // Padding, or stride 2 with overlapping taps: the image is first copied padded (and split by
    // column parity), so each run of an im2col row is a plain contiguous copy, no bounds or
    // deinterleaving per run (those cost as much as the product for ResNet's stem and stride-2
    // layers). The copy is a fraction of the im2col matrix (1/9 of it for 3x3 stride 1).
    const bool padding = c.ph > 0 || c.pw > 0 || (c.oh - 1) * c.sh + (c.kh - 1) * c.dh >= c.ih ||
                         (c.ow - 1) * c.sw + (c.kw - 1) * c.dw >= c.iw;
    if (!c.pointwise() && c.depth() * c.oh * c.ow > 0 &&
        (padding || (c.sw == 2 && c.kw * c.dw > 2))) {
      padded_ = PaddedPlanes(c, true);
    }
  }

  // Narrow products (few output pixels, many output channels: ResNet's 7x7 and 14x14 layers) are
  // split along M, where every task would pack all of B (im2col panels, or copies of the image for
  // a 1x1 layer); B is then packed once into the workspace, cut along K among the threads. The
  // padded copy of the input follows.
  std::size_t workspaceBytes() const override {
    return sharedBytes() + (padded_ ? kPanelAlignment + paddedBytes() : 0);
  }

  void execute(const ir::KernelContext& ctx) const override {
    const Conv2d& c = layer_.conv();
    const MicroKernel& mk = layer_.microKernel();
    const ConvIo io(ctx, layer_.epilogue());
    const int64_t jobs = c.batch * c.groups;
    float* shared =
        ctx.workspace != nullptr && sharedBytes() != 0 ? alignedWorkspace(ctx.workspace) : nullptr;
    float* padded = padded_
                        ? alignedWorkspace(static_cast<std::byte*>(ctx.workspace) + sharedBytes())
                        : nullptr;
    auto run = [&](int64_t job, ThreadPool& pool, bool serial, int32_t worker) {
      GemmProblem p = layer_.problem(io, job);
      const float* xg = layer_.input(io, job);
      Im2colSource source;
      if (c.pointwise()) {
        p.b.strided = {xg, c.ih * c.iw, 1};
      } else if (padded_) {
        const PaddedPlanes& pp = *padded_;
        const float* planes =
            padded + (job / c.groups * c.channels + job % c.groups * c.cg()) * pp.plane();
        source = {planes, pp.hp, pp.wp, c.oh, c.ow, c.kh, c.kw,
                  c.sh,   c.sw,  c.dh,  c.dw, 0,    0,    pp.oddOffset()};
        p.b.im2col = &source;
      } else {
        source = {xg, c.ih, c.iw, c.oh, c.ow, c.kh, c.kw, c.sh, c.sw, c.dh, c.dw, c.ph, c.pw};
        p.b.im2col = &source;
      }
      if (!serial && shared != nullptr && gemmPacksBPerTask(mk, p.m, p.n, p.k, pool.size())) {
        const int64_t grain =
            std::max<int64_t>(16, (int64_t{16} << 10) / std::max<int64_t>(p.n, 1));
        parallelFor(&pool, p.k, grain, [&](int64_t begin, int64_t end, int32_t) {
          packBRows(mk, p.b, p.k, p.n, begin, end - begin, shared);
        });
        p.b = {};
        p.b.prepacked = shared;
      }
      gemm(mk, p, pool, serial, worker);
    };
    withPool(ctx, [&](ThreadPool& pool) {
      if (padded_) padded_->copy(c, io.x, padded, pool);
      // Many small products (grouped convolutions, batches): one per task.
      if (jobs >= 2 * pool.size()) {
        pool.run(jobs, [&](int64_t job, int32_t worker) { run(job, pool, true, worker); });
      } else {
        for (int64_t job = 0; job < jobs; ++job) run(job, pool, false, 0);
      }
    });
  }

 private:
  std::size_t sharedBytes() const {
    const Conv2d& c = layer_.conv();
    const MicroKernel& mk = layer_.microKernel();
    if ((c.oh * c.ow + mk.nr - 1) / mk.nr > kSharedPackPanels) return 0;
    return kPanelAlignment +
           sizeof(float) * static_cast<std::size_t>(packedBFloats(mk, c.depth(), c.oh * c.ow));
  }
  std::size_t paddedBytes() const {
    const Conv2d& c = layer_.conv();
    return sizeof(float) *
           static_cast<std::size_t>(std::max<int64_t>(c.batch * c.channels * padded_->plane(), 1));
  }

  ConvGemmLayer layer_;
  std::optional<PaddedPlanes> padded_;  // the input's padded copy, where one is made
};

// ---------------------------------------------------------------------------------------------

// "cpu.conv.im2col.<isa>": the whole im2col matrix [C*kh*kw, oh*ow] of a job is written into the
// workspace first, row by row (each row a few long strided copies between padding zeros), then
// multiplied as a plain matrix. Since cpu.conv.gemm packs whole blocks of panels from a padded
// copy of the image, this wins mostly on 1x1 stride-2 layers (the matrix is then the subsampled
// image), where the GEMM's stride-2 runs stay masked copies.
class ConvIm2colKernel final : public Kernel {
 public:
  ConvIm2colKernel(const MicroKernel& mk, const NodeSpec& spec) : layer_(mk, spec) {}

  std::size_t workspaceBytes() const override {
    const Conv2d& c = layer_.conv();
    return kPanelAlignment +
           sizeof(float) * static_cast<std::size_t>(std::max<int64_t>(c.depth() * c.oh * c.ow, 1));
  }

  void execute(const ir::KernelContext& ctx) const override {
    const Conv2d& c = layer_.conv();
    const ConvIo io(ctx, layer_.epilogue());
    float* columns = alignedWorkspace(ctx.workspace);
    const int64_t n = c.oh * c.ow;
    withPool(ctx, [&](ThreadPool& pool) {
      for (int64_t job = 0; job < c.batch * c.groups; ++job) {
        const float* xg = layer_.input(io, job);
        // Rows per task: enough elements to pay for waking a thread.
        const int64_t grain = std::max<int64_t>(1, (int64_t{32} << 10) / std::max<int64_t>(n, 1));
        parallelFor(&pool, c.depth(), grain, [&](int64_t begin, int64_t end, int32_t) {
          for (int64_t row = begin; row < end; ++row) fillRow(xg, row, columns + row * n);
        });
        GemmProblem p = layer_.problem(io, job);
        p.b.strided = {columns, n, 1};
        gemm(layer_.microKernel(), p, pool);
      }
    });
  }

 private:
  // Row (channel, ky, kx) of the im2col matrix: output pixel (oy, ox) reads input
  // (oy * sh - ph + ky * dh, ox * sw - pw + kx * dw), zero outside the image.
  void fillRow(const float* x, int64_t row, float* out) const {
    const Conv2d& c = layer_.conv();
    const int64_t taps = c.kh * c.kw;
    const int64_t ky = row % taps / c.kw;
    const int64_t kx = row % c.kw;
    const float* plane = x + row / taps * c.ih * c.iw;
    // Output columns whose input column is inside the image: [first, last).
    const int64_t dx = kx * c.dw - c.pw;
    const int64_t first = std::clamp<int64_t>(ceilDiv(-dx, c.sw), 0, c.ow);
    const int64_t last = std::clamp<int64_t>(ceilDiv(c.iw - dx, c.sw), first, c.ow);
    for (int64_t oy = 0; oy < c.oh; ++oy) {
      float* d = out + oy * c.ow;
      const int64_t iy = oy * c.sh - c.ph + ky * c.dh;
      if (iy < 0 || iy >= c.ih) {
        std::fill(d, d + c.ow, 0.f);
        continue;
      }
      std::fill(d, d + first, 0.f);
      const float* src = plane + iy * c.iw + dx;
      if (c.sw == 1) {
        std::copy(src + first, src + last, d + first);
      } else if (c.sw == 2) {
        for (int64_t ox = first; ox < last; ++ox) d[ox] = src[2 * ox];
      } else {
        for (int64_t ox = first; ox < last; ++ox) d[ox] = src[ox * c.sw];
      }
      std::fill(d + last, d + c.ow, 0.f);
    }
  }

  // Ceiling of a / b for b > 0 and any sign of a.
  static int64_t ceilDiv(int64_t a, int64_t b) { return a <= 0 ? -((-a) / b) : (a + b - 1) / b; }

  ConvGemmLayer layer_;
};

// 1x1 stride-1 layers multiply the image in place in cpu.conv.gemm: no im2col matrix to write.
bool supportsConvIm2col(const NodeSpec& spec) {
  Conv2d c;
  return describeConv(spec, c) && !c.pointwise() && c.depth() * c.oh * c.ow > 0;
}

bool supportsConvGemm(const NodeSpec& spec) {
  Conv2d c;
  return describeConv(spec, c);
}

// ---------------------------------------------------------------------------------------------

// Direct convolution (direct_conv.h): the input of every image is first copied into a zero-padded
// buffer (the workspace), then rows of output are shared among the threads.
bool supportsDirectConv(const NodeSpec& spec) {
  Conv2d c;
  if (!describeConv(spec, c) || !spec.inputs[1].isConstant()) return false;
  if (c.groups != 1 || c.sh < 1 || c.dh != 1 || c.dw != 1) return false;
  if (c.ph < 0 || c.pw < 0 || c.oh < 1 || c.ow < 1) return false;
  // Stride 2 along rows only with whole vectors of a row (the kernel's width layout).
  if (c.sw != 1 && (c.sw != 2 || c.ow <= 16)) return false;
  // Some window reaches the input (the padded copy starts with the top and left padding).
  if ((c.oh - 1) * c.sh + c.kh <= c.ph || (c.ow - 1) * c.sw + c.kw <= c.pw) return false;
  // Where packing im2col panels costs as much as the product (few output channels, wide rows)
  // the direct loop wins; the autotuner decides, so 1x1 layers are left to the GEMM to keep the
  // build quick.
  return c.kh * c.kw > 1 && c.ow >= 4;
}

class DirectConvKernel final : public Kernel {
 public:
  DirectConvKernel(DirectConvFn fn, bool splitColumns, const NodeSpec& spec) : fn_(fn) {
    describeConv(spec, conv_);
    padded_ = PaddedPlanes(conv_, splitColumns);
    epilogue_ = ops::Epilogue::of(spec.node.attrs);
    gemmEpilogue_ = gemmEpilogueOf(epilogue_);
    act_ = vecActOf(gemmEpilogue_);
    const Conv2d& c = conv_;
    // [block][channel][ky][kx][kDirectConvBlock], zero for output channels past the end.
    const int64_t blocks = (c.outputs + kDirectConvBlock - 1) / kDirectConvBlock;
    const int64_t taps = c.kh * c.kw;
    const std::size_t floats =
        static_cast<std::size_t>(blocks * c.channels * taps * kDirectConvBlock);
    weights_ = derivePrepared(spec.prepared, sizeof(float) * floats, [&](std::byte* out) {
      const auto* w = spec.inputs[1].constAs<float>();
      auto* packed = reinterpret_cast<float*>(out);
      std::fill_n(packed, floats, 0.f);
      for (int64_t o = 0; o < c.outputs; ++o) {
        const int64_t b = o / kDirectConvBlock;
        for (int64_t i = 0; i < c.channels * taps; ++i) {
          packed[((b * c.channels * taps) + i) * kDirectConvBlock + o % kDirectConvBlock] =
              w[o * c.channels * taps + i];
        }
      }
    });
    absorbPrepared(spec.prepared, 1);
  }

  std::size_t workspaceBytes() const override {
    return sizeof(float) * static_cast<std::size_t>(std::max<int64_t>(
                               conv_.batch * conv_.channels * padded_.plane(), 1));
  }

  void execute(const ir::KernelContext& ctx) const override {
    const Conv2d& c = conv_;
    const float* x = ctx.input(0).as<float>();
    const float* bias = biasOf(ctx, epilogue_);
    const float* residual =
        epilogue_.residualInput ? ctx.input(*epilogue_.residualInput).as<float>() : nullptr;
    float* y = ctx.output(0).as<float>();
    auto* padded = static_cast<float*>(ctx.workspace);
    const int64_t outPlane = c.oh * c.ow;
    const int64_t padPlane = padded_.plane();
    const int64_t wp = padded_.wp;
    const int64_t taps = c.kh * c.kw;
    withPool(ctx, [&](ThreadPool& pool) {
      padded_.copy(c, x, padded, pool);
      // A task is a block of output channels over a chunk of rows of one image: its packed
      // weights stay in cache for all the chunk's rows (wide layers would stream the whole
      // weight set once per row otherwise). Chunks are cut only as far as the threads need.
      // Narrow rows go to the kernel several at a time: it stacks them in one register tile.
      const int64_t step = c.sw != 1 ? 1 : c.ow <= 8 ? 6 : c.ow <= 16 ? 3 : 1;
      const int64_t blocks = (c.outputs + kDirectConvBlock - 1) / kDirectConvBlock;
      const int64_t steps = (c.oh + step - 1) / step;
      const int64_t wanted = 4 * static_cast<int64_t>(pool.size());
      const int64_t chunks = std::min<int64_t>(
          steps, std::max<int64_t>(1, wanted / std::max<int64_t>(c.batch * blocks, 1)));
      const int64_t chunkRows = ((steps + chunks - 1) / chunks) * step;
      const int64_t perTask =
          std::max<int64_t>(kDirectConvBlock * c.channels * taps * c.ow * chunkRows, 1);
      const int64_t grain = std::max<int64_t>(1, (int64_t{256} << 10) / perTask);
      // Claimed as the threads come (not a fixed half each): the stem is the first layer of an
      // inference, where a worker may still be waking.
      parallelTasks(
          pool, c.batch * blocks * chunks, grain, [&](int64_t begin, int64_t end, int32_t) {
            for (int64_t task = begin; task < end; ++task) {
              const int64_t n = task / (blocks * chunks);
              const int64_t o0 = (task / chunks) % blocks * kDirectConvBlock;
              const int64_t rowEnd = std::min<int64_t>(c.oh, (task % chunks + 1) * chunkRows);
              DirectConvRow r;
              r.channels = c.channels;
              r.channelStride = padPlane;
              r.wp = wp;
              r.sh = c.sh;
              r.sw = c.sw;
              r.oddOffset = padded_.oddOffset();
              r.kh = c.kh;
              r.kw = c.kw;
              r.outStride = outPlane;
              r.ow = c.ow;
              r.act = act_;
              r.alpha = gemmEpilogue_.alpha;
              r.beta = gemmEpilogue_.beta;
              r.w = preparedFloats(weights_) + o0 * c.channels * taps;
              r.outputs = static_cast<int32_t>(std::min<int64_t>(kDirectConvBlock, c.outputs - o0));
              r.bias = bias != nullptr ? bias + o0 : nullptr;
              for (int64_t oy = (task % chunks) * chunkRows; oy < rowEnd; oy += step) {
                const int64_t offset = (n * c.outputs + o0) * outPlane + oy * c.ow;
                r.x = padded + n * c.channels * padPlane + oy * c.sh * wp;
                r.rows = std::min<int64_t>(step, c.oh - oy);
                r.residual = residual != nullptr ? residual + offset : nullptr;
                r.y = y + offset;
                fn_(r);
                if (act_ == VecAct::kGeneric) {
                  for (int64_t o = 0; o < r.outputs; ++o) {
                    activateInPlace(epilogue_, r.y + o * outPlane, r.rows * c.ow);
                  }
                }
              }
            }
          });
    });
  }

 private:
  DirectConvFn fn_;
  Conv2d conv_;
  PaddedPlanes padded_;  // split by column parity where fn_ takes it
  ops::Epilogue epilogue_;
  GemmEpilogue gemmEpilogue_;
  VecAct act_ = VecAct::kNone;
  PreparedBuffer weights_;
};

// The direct convolution on one ISA's row kernel, fetched (@p rowsOf, in that ISA's file) only
// once the CPU is known to run it.
class DirectConvTactic final : public Tactic {
 public:
  DirectConvTactic(std::string name, std::vector<std::string> features, DirectConvFn (*rowsOf)(),
                   bool splitColumns)
      : name_(std::move(name)),
        features_(std::move(features)),
        rowsOf_(rowsOf),
        splitColumns_(splitColumns) {}
  std::string_view name() const override { return name_; }
  DeviceType device() const override { return DeviceType::kCPU; }
  std::vector<std::string> requiredIsa() const override { return features_; }
  bool supports(const NodeSpec& spec) const override { return supportsDirectConv(spec); }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& spec) const override {
    return std::make_unique<DirectConvKernel>(rowsOf_(), splitColumns_, spec);
  }

 private:
  std::string name_;
  std::vector<std::string> features_;
  DirectConvFn (*rowsOf_)();
  bool splitColumns_;  // the row kernel takes stride-2 rows split by column parity
};

}  // namespace

void registerConvTactics(TacticRegistry& registry) {
  registerPointwiseConvTactics(registry);
  registerBlockedConvTactics(registry);
  addGemmIsaTactics<ConvGemmKernel>(registry, "Convolution", "cpu.conv.gemm", supportsConvGemm);
  addGemmIsaTactics<ConvIm2colKernel>(registry, "Convolution", "cpu.conv.im2col",
                                      supportsConvIm2col);
  registry.add("Convolution",
               std::make_unique<DirectConvTactic>(
                   "cpu.conv.direct.avx512", std::vector<std::string>{"avx512f", "avx2", "fma"},
                   avx512DirectConv, false));
  registry.add("Convolution", std::make_unique<DirectConvTactic>(
                                  "cpu.conv.direct.avx2", std::vector<std::string>{"avx2", "fma"},
                                  avx2DirectConv, true));
  // The same rows on wider register tiles: fewer loads per output, but inputs reloaded from L1
  // (direct_conv_avx2.cpp); which wins depends on the layer, so the autotuner times both.
  registry.add("Convolution",
               std::make_unique<DirectConvTactic>("cpu.conv.direct.w3.avx2",
                                                  std::vector<std::string>{"avx2", "fma"},
                                                  avx2DirectConvWide, true));
  registerWinogradConvTactics(registry);
  registerBlockedWinogradTactics(registry);
}

}  // namespace kiln::backends::cpu
