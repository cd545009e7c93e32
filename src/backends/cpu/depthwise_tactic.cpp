// "cpu.conv.depthwise.avx512": depthwise convolution (groups == channels == outputs, NCHW float32)
// with the AVX-512 plane kernel (depthwise_avx512.cpp), bias, residual and activation fused.
// Planes are shared among the threads only where each thread gets enough work to pay for waking
// it: MobileNet's 7x7 and 14x14 layers take tens of microseconds in all.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backends/cpu/cpu_common.h"
#include "backends/cpu/depthwise.h"
#include "backends/cpu/tactics.h"
#include "ops/window_util.h"

namespace kiln::backends::cpu {

namespace {

bool describeDepthwise(const NodeSpec& spec, Window2d& c) {
  // Channels-last nodes come only from the GPU layout pass; this kernel is NCHW.
  if (ops::channelsLast(spec.node.attrs)) return false;
  if (!describeWindow2d(spec, false, c)) return false;
  return c.groups == c.channels && c.outputs == c.channels;
}

class DepthwiseAvx512Kernel final : public Kernel {
 public:
  explicit DepthwiseAvx512Kernel(const NodeSpec& spec) {
    describeDepthwise(spec, conv_);
    epilogue_ = ops::Epilogue::of(spec.node.attrs);
    gemmEpilogue_ = gemmEpilogueOf(epilogue_);
  }

  void execute(const ir::KernelContext& ctx) const override {
    const Window2d& c = conv_;
    const float* x = ctx.input(0).as<float>();
    const float* w = ctx.input(1).as<float>();
    const float* bias =
        ctx.hasInput(2) && epilogue_.residualInput != 2 ? ctx.input(2).as<float>() : nullptr;
    const float* residual =
        epilogue_.residualInput ? ctx.input(*epilogue_.residualInput).as<float>() : nullptr;
    float* y = ctx.output(0).as<float>();
    const int64_t planes = c.batch * c.channels;
    const int64_t outPlane = c.oh * c.ow;
    const VecAct act = vecActOf(gemmEpilogue_);
    const DepthwiseFn fn = avx512Depthwise();
    DepthwisePlane shape;
    shape.oh = c.oh;
    shape.ow = c.ow;
    shape.kh = c.kh;
    shape.kw = c.kw;
    shape.sh = c.sh;
    shape.sw = c.sw;
    shape.dh = c.dh;
    shape.dw = c.dw;
    const auto scratchBytes =
        sizeof(float) * static_cast<std::size_t>(depthwiseScratchFloats(shape));
    std::vector<float> own;  // scratch where the context has no thread pool
    auto body = [&](int64_t begin, int64_t end, int32_t worker) {
      float* scratch = nullptr;
      if (ctx.threads != nullptr) {
        scratch = static_cast<float*>(ctx.threads->scratch(worker, scratchBytes));
      } else {
        own.resize(scratchBytes / sizeof(float));
        scratch = own.data();
      }
      for (int64_t plane = begin; plane < end; ++plane) {
        DepthwisePlane p =
            depthwisePlaneOf(c, {x, w, bias, residual, y}, plane, act, gemmEpilogue_);
        p.scratch = scratch;
        fn(p);
        if (act == VecAct::kGeneric) {
          for (int64_t i = 0; i < outPlane; ++i) p.y[i] = epilogue_.activate(p.y[i]);
        }
      }
    };
    // Vector multiply-adds of a plane (16 columns a vector, each row rounded up).
    const int64_t perPlane = std::max<int64_t>(c.oh * ((c.ow + 15) / 16) * c.kh * c.kw, 1);
    // About 20 microseconds of work per task: waking a thread costs a few.
    const int64_t grain = std::max<int64_t>(1, (int64_t{24} << 10) / perPlane);
    if (ctx.threads == nullptr || planes < 2 * grain) {
      body(0, planes, 0);
      return;
    }
    parallelFor(ctx.threads, planes, grain, body);
  }

 private:
  Window2d conv_;
  ops::Epilogue epilogue_;
  GemmEpilogue gemmEpilogue_;
};

class DepthwiseAvx512Tactic final : public Tactic {
 public:
  std::string_view name() const override { return "cpu.conv.depthwise.avx512"; }
  DeviceType device() const override { return DeviceType::kCPU; }
  std::vector<std::string> requiredIsa() const override {
    return {"avx512f", "avx512vl", "avx2", "fma"};
  }
  bool supports(const NodeSpec& spec) const override {
    Window2d c;
    return describeDepthwise(spec, c);
  }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& spec) const override {
    return std::make_unique<DepthwiseAvx512Kernel>(spec);
  }
};

}  // namespace

void registerDepthwiseTactics(TacticRegistry& registry) {
  registry.add("Convolution", std::make_unique<DepthwiseAvx512Tactic>());
}

}  // namespace kiln::backends::cpu
