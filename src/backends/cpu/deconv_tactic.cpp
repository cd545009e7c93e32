// Deconvolution (transposed convolution, NCHW float32, 1-d and 2-d) as GEMM + col2im
// ("cpu.deconv.gemm.<isa>"): per image and group, cols[Kg*kh*kw, H*W] = W_g^T * x_g, then every
// column entry is added to the output cell it lands on; bias first, epilogue after.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "backends/cpu/cpu_common.h"
#include "backends/cpu/tactics.h"
#include "ops/window_util.h"

namespace kiln::backends::cpu {

namespace {

struct Deconv2d : Window2d {
  int64_t kg() const { return outputs / groups; }
  int64_t rows() const { return kg() * kh * kw; }  // GEMM M
};

bool describeDeconv(const NodeSpec& spec, Deconv2d& d) {
  return describeWindow2d(spec, true, d);
}

class DeconvKernel final : public Kernel {
 public:
  DeconvKernel(const MicroKernel& mk, const NodeSpec& spec) : mk_(mk) {
    describeDeconv(spec, d_);
    epilogue_ = ops::Epilogue::of(spec.node.attrs);
    tiled_ = d_.kh == d_.sh && d_.kw == d_.sw && d_.dh == 1 && d_.dw == 1 && d_.ph == 0 &&
             d_.pw == 0 && d_.oh == d_.ih * d_.sh && d_.ow == d_.iw * d_.sw;
    // Tap column kx of input column ix lands on output column ix * sw + offset.
    for (int64_t kx = 0; kx < d_.kw; ++kx) {
      Span s;
      s.offset = kx * d_.dw - d_.pw;
      while (s.begin < d_.iw && s.begin * d_.sw + s.offset < 0) ++s.begin;
      s.end = s.begin;
      while (s.end < d_.iw && s.end * d_.sw + s.offset < d_.ow) ++s.end;
      columns_.push_back(s);
    }
    if (spec.inputs[1].isConstant()) {
      const auto* w = spec.inputs[1].constAs<float>();
      // W is [C, Kg, kh, kw]: group g's A = (W rows of its channels)^T, [Kg*kh*kw, Cg].
      for (int64_t g = 0; g < d_.groups; ++g) {
        packed_.push_back(packA({weightsAt(w, g * d_.cg() * d_.rows()), 1, d_.rows()}, d_.rows(),
                                d_.cg(), mk.mr, spec.prepared));
      }
      absorbPrepared(spec.prepared, 1);
    }
  }

  std::size_t workspaceBytes() const override {
    return sizeof(float) *
           static_cast<std::size_t>(std::max<int64_t>(d_.rows() * d_.ih * d_.iw, 1));
  }

  void execute(const ir::KernelContext& ctx) const override {
    const Deconv2d& d = d_;
    const float* x = ctx.input(0).as<float>();
    const float* w = ctx.input(1).as<float>();
    const float* bias =
        ctx.hasInput(2) && epilogue_.residualInput != 2 ? ctx.input(2).as<float>() : nullptr;
    const float* residual =
        epilogue_.residualInput ? ctx.input(*epilogue_.residualInput).as<float>() : nullptr;
    float* y = ctx.output(0).as<float>();
    auto* cols = static_cast<float*>(ctx.workspace);
    const int64_t inPlane = d.ih * d.iw;
    const int64_t outPlane = d.oh * d.ow;
    const int64_t taps = d.kh * d.kw;
    withPool(ctx, [&](ThreadPool& pool) {
      for (int64_t n = 0; n < d.batch; ++n) {
        for (int64_t g = 0; g < d.groups; ++g) {
          GemmProblem p;
          p.m = d.rows();
          p.n = inPlane;
          p.k = d.cg();
          if (!packed_.empty()) {
            p.a.packed = &packed_[static_cast<std::size_t>(g)];
          } else {
            p.a.strided = {w + g * d.cg() * d.rows(), 1, d.rows()};
          }
          p.b.strided = {x + (n * d.channels + g * d.cg()) * inPlane, inPlane, 1};
          p.c = cols;
          p.ldc = inPlane;
          gemm(mk_, p, pool);
          // col2im: each output map of the group gathers its taps; maps are independent.
          parallelFor(&pool, d.kg(), 1, [&](int64_t k0, int64_t k1, int32_t) {
            for (int64_t k = k0; k < k1; ++k) {
              const int64_t channel = g * d.kg() + k;
              float* yk = y + (n * d.outputs + channel) * outPlane;
              const float b = bias != nullptr ? bias[channel] : 0.f;
              const float* rk =
                  residual != nullptr ? residual + (n * d.outputs + channel) * outPlane : nullptr;
              if (tiled_) {
                storeTiled(cols + k * taps * inPlane, b, rk, yk);
                continue;
              }
              for (int64_t i = 0; i < outPlane; ++i) yk[i] = b;
              for (int64_t t = 0; t < taps; ++t) {
                const int64_t ky = t / d.kw;
                const int64_t kx = t % d.kw;
                const float* col = cols + (k * taps + t) * inPlane;
                const Span& sx = columns_[static_cast<std::size_t>(kx)];
                for (int64_t iy = 0; iy < d.ih; ++iy) {
                  const int64_t oy = iy * d.sh - d.ph + ky * d.dh;
                  if (oy < 0 || oy >= d.oh) continue;
                  // Only the inputs whose output column is inside: no test in the inner loop.
                  float* yr = yk + oy * d.ow + sx.offset;
                  const float* cr = col + iy * d.iw;
                  if (d.sw == 1) {
                    for (int64_t ix = sx.begin; ix < sx.end; ++ix) yr[ix] += cr[ix];
                  } else {
                    for (int64_t ix = sx.begin; ix < sx.end; ++ix) yr[ix * d.sw] += cr[ix];
                  }
                }
              }
              if (rk != nullptr) {
                for (int64_t i = 0; i < outPlane; ++i) yk[i] += rk[i];
              }
              activateInPlace(epilogue_, yk, outPlane);
            }
          });
        }
      }
    });
  }

 private:
  // Kernel == stride, no padding or dilation (the usual x2 upsampling): every output cell takes
  // exactly one tap, so col2im is a permutation, stored in one pass with the bias and epilogue
  // (no zeroing, no read-modify-write). @p col is [taps][ih * iw] of one output map.
  void storeTiled(const float* col, float b, const float* residual, float* yk) const {
    const Deconv2d& d = d_;
    const int64_t inPlane = d.ih * d.iw;
    for (int64_t iy = 0; iy < d.ih; ++iy) {
      for (int64_t ky = 0; ky < d.kh; ++ky) {
        const int64_t oy = iy * d.kh + ky;
        float* __restrict yr = yk + oy * d.ow;
        const float* taps = col + ky * d.kw * inPlane + iy * d.iw;
        if (d.kw == 2) {
          const float* __restrict c0 = taps;
          const float* __restrict c1 = taps + inPlane;
          for (int64_t ix = 0; ix < d.iw; ++ix) {
            yr[2 * ix] = c0[ix] + b;
            yr[2 * ix + 1] = c1[ix] + b;
          }
        } else {
          for (int64_t kx = 0; kx < d.kw; ++kx) {
            const float* __restrict c = taps + kx * inPlane;
            for (int64_t ix = 0; ix < d.iw; ++ix) yr[ix * d.kw + kx] = c[ix] + b;
          }
        }
        if (residual != nullptr) {
          const float* __restrict rr = residual + oy * d.ow;
          for (int64_t ox = 0; ox < d.ow; ++ox) yr[ox] += rr[ox];
        }
        activateInPlace(epilogue_, yr, d.ow);
      }
    }
  }

  struct Span {
    int64_t offset = 0;          //!< output column of input column 0
    int64_t begin = 0, end = 0;  //!< input columns [begin, end) that land inside the output
  };

  const MicroKernel& mk_;
  Deconv2d d_;
  bool tiled_ = false;         // kernel == stride, no padding or dilation: see storeTiled
  std::vector<Span> columns_;  //!< per kernel column
  ops::Epilogue epilogue_;
  std::vector<PackedMatrix> packed_;
};

bool supportsDeconv(const NodeSpec& spec) {
  Deconv2d d;
  return describeDeconv(spec, d);
}

}  // namespace

void registerDeconvTactics(TacticRegistry& registry) {
  addGemmIsaTactics<DeconvKernel>(registry, "Deconvolution", "cpu.deconv.gemm", supportsDeconv);
}

}  // namespace kiln::backends::cpu
