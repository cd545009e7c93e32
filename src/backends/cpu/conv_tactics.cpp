// Convolution (NCHW, float32, 1-d and 2-d) as GEMM per image and group — "cpu.conv.gemm.<isa>":
// a 1x1 stride-1 unpadded convolution multiplies the input directly, any other packs its im2col
// panels straight from the image — and the direct depthwise kernel ("cpu.conv.depthwise.<isa>").
// Both fuse the epilogue (bias, residual, activation) into the store.
#include <algorithm>
#include <cstdint>

#include "backends/cpu/cpu_common.h"
#include "backends/cpu/depthwise.h"
#include "backends/cpu/tactics.h"
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
  return describeWindow2d(spec, false, c);
}

const float* biasOf(const ir::KernelContext& ctx, const ops::Epilogue& e) {
  return ctx.hasInput(2) && e.residualInput != 2 ? ctx.input(2).as<float>() : nullptr;
}

// ---------------------------------------------------------------------------------------------

class ConvGemmKernel final : public Kernel {
 public:
  ConvGemmKernel(const MicroKernel& mk, const NodeSpec& spec) : mk_(mk) {
    describeConv(spec, conv_);
    epilogue_ = ops::Epilogue::of(spec.node.attrs);
    const auto* w = spec.inputs[1].constAs<float>();
    if (w != nullptr) {
      for (int64_t g = 0; g < conv_.groups; ++g) {
        packed_.push_back(packA({w + g * conv_.mg() * conv_.depth(), conv_.depth(), 1}, conv_.mg(),
                                conv_.depth(), mk.mr));
      }
    }
  }

  void execute(const ir::KernelContext& ctx) const override {
    const Conv2d& c = conv_;
    const float* x = ctx.input(0).as<float>();
    const float* w = ctx.input(1).as<float>();
    const float* bias = biasOf(ctx, epilogue_);
    const float* residual =
        epilogue_.residualInput ? ctx.input(*epilogue_.residualInput).as<float>() : nullptr;
    float* y = ctx.output(0).as<float>();
    const int64_t inPlane = c.ih * c.iw;
    const int64_t outPlane = c.oh * c.ow;
    const int64_t jobs = c.batch * c.groups;

    auto run = [&](int64_t job, ThreadPool& pool, bool serial, int32_t worker) {
      const int64_t n = job / c.groups;
      const int64_t g = job % c.groups;
      const float* xg = x + (n * c.channels + g * c.cg()) * inPlane;
      const int64_t yOffset = (n * c.outputs + g * c.mg()) * outPlane;
      GemmProblem p;
      p.m = c.mg();
      p.n = outPlane;
      p.k = c.depth();
      if (!packed_.empty()) {
        p.a.packed = &packed_[static_cast<std::size_t>(g)];
      } else {
        p.a.strided = {w + g * c.mg() * c.depth(), c.depth(), 1};
      }
      Im2colSource source;
      if (c.pointwise()) {
        p.b.strided = {xg, inPlane, 1};
      } else {
        source = {xg, c.ih, c.iw, c.oh, c.ow, c.kh, c.kw, c.sh, c.sw, c.dh, c.dw, c.ph, c.pw};
        p.b.im2col = &source;
      }
      p.c = y + yOffset;
      p.ldc = outPlane;
      p.epilogue = gemmEpilogueOf(epilogue_);
      p.epilogue.rowBias = bias != nullptr ? bias + g * c.mg() : nullptr;
      if (residual != nullptr) {
        p.epilogue.residual = residual + yOffset;
        p.epilogue.ldr = outPlane;
      }
      gemm(mk_, p, pool, serial, worker);
    };
    withPool(ctx, [&](ThreadPool& pool) {
      // Many small products (grouped convolutions, batches): one per task.
      if (jobs >= 2 * pool.size()) {
        pool.run(jobs, [&](int64_t job, int32_t worker) { run(job, pool, true, worker); });
      } else {
        for (int64_t job = 0; job < jobs; ++job) run(job, pool, false, 0);
      }
    });
  }

 private:
  const MicroKernel& mk_;
  Conv2d conv_;
  ops::Epilogue epilogue_;
  std::vector<PackedMatrix> packed_;
};

bool supportsConvGemm(const NodeSpec& spec) {
  Conv2d c;
  return describeConv(spec, c);
}

// ---------------------------------------------------------------------------------------------

class DepthwiseKernel final : public Kernel {
 public:
  DepthwiseKernel(DepthwiseFn fn, const NodeSpec& spec) : fn_(fn) {
    describeConv(spec, conv_);
    epilogue_ = ops::Epilogue::of(spec.node.attrs);
    gemmEpilogue_ = gemmEpilogueOf(epilogue_);
  }

  void execute(const ir::KernelContext& ctx) const override {
    const Conv2d& c = conv_;
    const float* x = ctx.input(0).as<float>();
    const float* w = ctx.input(1).as<float>();
    const float* bias = biasOf(ctx, epilogue_);
    const float* residual =
        epilogue_.residualInput ? ctx.input(*epilogue_.residualInput).as<float>() : nullptr;
    float* y = ctx.output(0).as<float>();
    const int64_t planes = c.batch * c.channels;
    const int64_t inPlane = c.ih * c.iw;
    const int64_t outPlane = c.oh * c.ow;
    VecAct act = VecAct::kNone;
    if (epilogue_.activation) {
      switch (*epilogue_.activation) {
        case ActivationType::kRELU:
          act = VecAct::kRelu;
          break;
        case ActivationType::kLEAKY_RELU:
          act = VecAct::kLeaky;
          break;
        case ActivationType::kCLIP:
          act = VecAct::kClip;
          break;
        default:
          act = VecAct::kGeneric;
      }
    }
    withPool(ctx, [&](ThreadPool& pool) {
      // Enough multiply-adds per task to pay for waking a thread.
      const int64_t perPlane = std::max<int64_t>(outPlane * c.kh * c.kw, 1);
      const int64_t grain = std::max<int64_t>(1, (int64_t{32} << 10) / perPlane);
      parallelFor(&pool, planes, grain, [&](int64_t begin, int64_t end, int32_t worker) {
        auto* zeros = static_cast<float*>(
            pool.scratch(worker, sizeof(float) * static_cast<std::size_t>(c.iw + 1), 2));
        for (int64_t i = 0; i <= c.iw; ++i) zeros[i] = 0.f;
        for (int64_t plane = begin; plane < end; ++plane) {
          const int64_t ch = plane % c.channels;
          DepthwisePlane p;
          p.x = x + plane * inPlane;
          p.w = w + ch * c.kh * c.kw;
          p.bias = bias != nullptr ? bias[ch] : 0.f;
          p.residual = residual != nullptr ? residual + plane * outPlane : nullptr;
          p.y = y + plane * outPlane;
          p.ih = c.ih;
          p.iw = c.iw;
          p.oh = c.oh;
          p.ow = c.ow;
          p.kh = c.kh;
          p.kw = c.kw;
          p.sh = c.sh;
          p.sw = c.sw;
          p.dh = c.dh;
          p.dw = c.dw;
          p.ph = c.ph;
          p.pw = c.pw;
          p.act = act;
          p.alpha = gemmEpilogue_.alpha;
          p.beta = gemmEpilogue_.beta;
          p.zeros = zeros;
          fn_(p);
          if (act == VecAct::kGeneric) {
            for (int64_t i = 0; i < outPlane; ++i) p.y[i] = epilogue_.activate(p.y[i]);
          }
        }
      });
    });
  }

 private:
  DepthwiseFn fn_;
  Conv2d conv_;
  ops::Epilogue epilogue_;
  GemmEpilogue gemmEpilogue_;
};

class DepthwiseTactic final : public Tactic {
 public:
  DepthwiseTactic(std::string suffix, std::vector<std::string> features, DepthwiseFn (*fn)())
      : name_("cpu.conv.depthwise." + suffix), features_(std::move(features)), fn_(fn) {}
  std::string_view name() const override { return name_; }
  DeviceType device() const override { return DeviceType::kCPU; }
  std::vector<std::string> requiredIsa() const override { return features_; }
  bool supports(const NodeSpec& spec) const override {
    Conv2d c;
    return describeConv(spec, c) && c.groups == c.channels && c.outputs == c.channels;
  }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& spec) const override {
    return std::make_unique<DepthwiseKernel>(fn_(), spec);
  }

 private:
  std::string name_;
  std::vector<std::string> features_;
  DepthwiseFn (*fn_)();
};

}  // namespace

void registerConvTactics(TacticRegistry& registry) {
  registry.add("Convolution", std::make_unique<DepthwiseTactic>(
                                  "avx2", std::vector<std::string>{"avx2", "fma"}, avx2Depthwise));
  registry.add("Convolution", std::make_unique<DepthwiseTactic>(
                                  "portable", std::vector<std::string>{}, portableDepthwise));
  addGemmIsaTactics<ConvGemmKernel>(registry, "Convolution", "cpu.conv.gemm", supportsConvGemm);
}

}  // namespace kiln::backends::cpu
