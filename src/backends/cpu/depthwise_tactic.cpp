// "cpu.conv.depthwise.<isa>": depthwise convolution (groups == channels == outputs, NCHW float32)
// with one plane kernel per ISA (depthwise.h: AVX-512, AVX2+FMA, portable), bias, residual and
// activation fused; "cpu.conv.depthwise.c8.avx2" over blocks of 8 channels, and its twin
// "cpu.conv.depthwise.nchw8c.avx2" for nodes in the blocked layout NCHW8c (depthwise_blocked.h).
// Planes are shared among the threads only where each thread gets enough work to pay for waking it:
// MobileNet's 7x7 and 14x14 layers take tens of microseconds in all.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backends/cpu/cpu_common.h"
#include "backends/cpu/depthwise.h"
#include "backends/cpu/depthwise_blocked.h"
#include "backends/cpu/parallel_tasks.h"
#include "backends/cpu/tactics.h"
#include "core/aligned_buffer.h"
#include "ops/window_util.h"

namespace kiln::backends::cpu {

namespace {

// NCHW or NCHW8c: the tactics check the layout they take.
bool describeDepthwise(const NodeSpec& spec, Window2d& c) {
  if (!describeWindow2d(spec, false, c) && !describeBlockedWindow2d(spec, c)) return false;
  return c.groups == c.channels && c.outputs == c.channels;
}

// What both depthwise kernels keep of their node.
class DepthwiseKernelBase : public Kernel {
 protected:
  explicit DepthwiseKernelBase(const NodeSpec& spec)
      : epilogue_(ops::Epilogue::of(spec.node.attrs)), gemmEpilogue_(gemmEpilogueOf(epilogue_)) {
    describeDepthwise(spec, conv_);
  }

  //! Applies an activation the kernels do not have (VecAct::kGeneric) to @p count outputs.
  void activateGeneric(float* y, int64_t count) const { activateInPlace(epilogue_, y, count); }

  Window2d conv_;
  ops::Epilogue epilogue_;
  GemmEpilogue gemmEpilogue_;
};

class DepthwiseKernel final : public DepthwiseKernelBase {
 public:
  DepthwiseKernel(DepthwiseFn fn, const NodeSpec& spec) : DepthwiseKernelBase(spec), fn_(fn) {}

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
    DepthwisePlane shape;
    shape.oh = c.oh;
    shape.ow = c.ow;
    shape.kh = c.kh;
    shape.kw = c.kw;
    shape.sh = c.sh;
    shape.sw = c.sw;
    shape.dh = c.dh;
    shape.dw = c.dw;
    // Each kernel takes what it needs of the two: a zero row for taps in the padding (AVX2,
    // portable), room for a padded copy of the plane (AVX-512 beyond its direct 3x3 path).
    const auto scratchBytes =
        sizeof(float) * static_cast<std::size_t>(depthwiseScratchFloats(shape));
    const auto zerosBytes = sizeof(float) * static_cast<std::size_t>(c.iw + 1);
    withPool(ctx, [&](ThreadPool& pool) {
      auto body = [&](int64_t begin, int64_t end, int32_t worker) {
        auto* scratch = static_cast<float*>(pool.scratch(worker, scratchBytes, 0));
        auto* zeros = static_cast<float*>(pool.scratch(worker, zerosBytes, 2));
        std::fill(zeros, zeros + c.iw + 1, 0.f);
        if (begin >= end) return;
        // The first plane in full, then only what moves (small planes are a few hundred cycles
        // of work: rebuilding the description, with a division, showed in their profile).
        DepthwisePlane p =
            depthwisePlaneOf(c, {x, w, bias, residual, y}, begin, act, gemmEpilogue_);
        p.scratch = scratch;
        p.zeros = zeros;
        int64_t channel = begin % c.channels;
        for (int64_t plane = begin; plane < end; ++plane) {
          fn_(p);
          if (act == VecAct::kGeneric) activateGeneric(p.y, outPlane);
          p.x += c.ih * c.iw;
          p.y += outPlane;
          if (p.residual != nullptr) p.residual += outPlane;
          if (++channel == c.channels) channel = 0;
          p.w = w + channel * c.kh * c.kw;
          p.bias = bias != nullptr ? bias[channel] : 0.f;
        }
      };
      // Vector multiply-adds of a plane (16 columns a vector, 8 for rows of at most 8, each row
      // rounded up).
      const int64_t lanes = c.ow <= 8 ? 8 : 16;
      const int64_t perPlane =
          std::max<int64_t>(c.oh * ((c.ow + lanes - 1) / lanes) * c.kh * c.kw, 1);
      // A few microseconds of work per task: between back-to-back layers the workers spin, so
      // waking one costs well under that.
      const int64_t grain = std::max<int64_t>(1, (int64_t{4} << 10) / perPlane);
      // Up to four ranges a thread, claimed as the threads come: a worker that wakes late (or is
      // descheduled on a busy machine) leaves the caller less to wait for than a fixed half.
      // Fewer than two grains run on the caller alone.
      parallelTasks(pool, planes, grain, body);
    });
  }

 private:
  DepthwiseFn fn_;
};

bool describeBlocked(const NodeSpec& spec, Window2d& c) {
  return describeDepthwise(spec, c) &&
         depthwiseBlockedSupports(c.kh, c.kw, c.sh, c.sw, c.dh, c.dw, c.ph, c.pw);
}

// Blocks of kDepthwiseBlock channels (depthwise_blocked.h), shared among the threads; weights
// and bias packed per block when the node is instantiated (at each run where they are not
// constants).
class BlockedDepthwiseKernel final : public DepthwiseKernelBase {
 public:
  BlockedDepthwiseKernel(DepthwiseBlockFn fn, const NodeSpec& spec)
      : DepthwiseKernelBase(spec),
        fn_(fn),
        blockedOut_(!ops::channelsFirst(spec.node.attrs)),
        blockedIn_(blockedOut_ && blockedInput(spec)) {
    biasInput_ = spec.inputs.size() > 2 && spec.inputs[2].present && epilogue_.residualInput != 2;
    const bool constant =
        spec.inputs[1].isConstant() && (!biasInput_ || spec.inputs[2].isConstant());
    if (constant) {
      const auto floats =
          static_cast<std::size_t>(depthwiseBlockPackedFloats(conv_.channels, conv_.kh));
      packed_ = derivePrepared(spec.prepared, sizeof(float) * floats, [&](std::byte* out) {
        packDepthwiseBlocks(spec.inputs[1].constAs<float>(),
                            biasInput_ ? spec.inputs[2].constAs<float>() : nullptr, conv_.channels,
                            conv_.kh, reinterpret_cast<float*>(out));
      });
      absorbPrepared(spec.prepared, 1);
      if (biasInput_) absorbPrepared(spec.prepared, 2);
    }
  }

  void execute(const ir::KernelContext& ctx) const override {
    const Window2d& c = conv_;
    const float* x = ctx.input(0).as<float>();
    const float* residual =
        epilogue_.residualInput ? ctx.input(*epilogue_.residualInput).as<float>() : nullptr;
    float* y = ctx.output(0).as<float>();
    const int64_t blocks = depthwiseBlockCount(c.channels);
    const int64_t tasks = c.batch * blocks;
    if (tasks == 0 || c.oh == 0 || c.ow == 0) return;
    const int64_t taps = c.kh * c.kw;
    const int64_t inPlane = c.ih * c.iw;
    const int64_t outPlane = c.oh * c.ow;
    const VecAct act = vecActOf(gemmEpilogue_);
    const DepthwiseBlockLayout layout = depthwiseBlockLayout(c.iw, c.ow, c.kh, c.sh, c.pw);
    const auto scratchBytes = sizeof(float) * static_cast<std::size_t>(layout.floats());
    const auto packedFloats = depthwiseBlockPackedFloats(c.channels, c.kh);
    DepthwiseBlock shape;  // what every block shares
    shape.blockedIn = blockedIn_;
    shape.blockedOut = blockedOut_;
    shape.ih = c.ih;
    shape.iw = c.iw;
    shape.oh = c.oh;
    shape.ow = c.ow;
    shape.k = c.kh;
    shape.stride = c.sh;
    shape.ph = c.ph;
    shape.pw = c.pw;
    shape.act = act;
    shape.alpha = gemmEpilogue_.alpha;
    shape.beta = gemmEpilogue_.beta;
    withPool(ctx, [&](ThreadPool& pool) {
      const float* packed = packed_ != nullptr ? preparedFloats(packed_) : nullptr;
      if (packed == nullptr) {
        // Weights known only now: packed once per run, before the region (a few KiB).
        auto* buffer = static_cast<float*>(
            pool.scratch(0, sizeof(float) * static_cast<std::size_t>(packedFloats), 1));
        packDepthwiseBlocks(ctx.input(1).as<float>(),
                            biasInput_ ? ctx.input(2).as<float>() : nullptr, c.channels, c.kh,
                            buffer);
        packed = buffer;
      }
      auto body = [&](int64_t begin, int64_t end, int32_t worker) {
        auto* scratch = static_cast<float*>(pool.scratch(worker, scratchBytes, 0));
        for (int64_t task = begin; task < end; ++task) {
          const int64_t image = task / blocks;
          const int64_t block = task % blocks;
          const int64_t channel = block * kDepthwiseBlock;
          const int64_t first = image * c.channels + channel;
          DepthwiseBlock b = shape;
          b.x = x + first * inPlane;
          b.channels = std::min(kDepthwiseBlock, c.channels - channel);
          b.w = packed + block * depthwiseBlockPackedStride(c.kh);
          b.bias = b.w + taps * kDepthwiseBlock;
          b.residual = residual != nullptr ? residual + first * outPlane : nullptr;
          b.y = y + first * outPlane;
          b.scratch = scratch;
          fn_(b);
          if (act == VecAct::kGeneric) activateGeneric(b.y, b.channels * outPlane);
        }
      };
      // A few microseconds of work per task (9 multiply-adds a pixel vector of 8 channels, and
      // the block's rows coming in from L2 or L3: a block of MobileNetV2's 14x14 -> 7x7 layer
      // takes about half a microsecond, so 16K multiply-adds a task left that layer's 72 blocks
      // to one thread).
      const int64_t perBlock = std::max<int64_t>(c.oh * c.ow * taps, 1);
      const int64_t grain = std::max<int64_t>(1, (int64_t{4} << 10) / perBlock);
      parallelTasks(pool, tasks, grain, body);
    });
  }

 private:
  DepthwiseBlockFn fn_;
  bool blockedOut_;
  bool blockedIn_;
  bool biasInput_ = false;
  PreparedBuffer packed_;
};

// Over blocks of 8 channels, for NCHW nodes or (@p blockedIo) NCHW8c ones (x blocked or NCHW).
class BlockedDepthwiseTactic final : public Tactic {
 public:
  explicit BlockedDepthwiseTactic(bool blockedIo) : blockedIo_(blockedIo) {}
  std::string_view name() const override {
    return blockedIo_ ? "cpu.conv.depthwise.nchw8c.avx2" : "cpu.conv.depthwise.c8.avx2";
  }
  DeviceType device() const override { return DeviceType::kCPU; }
  std::vector<std::string> requiredIsa() const override { return {"avx2", "fma"}; }
  bool supports(const NodeSpec& spec) const override {
    Window2d c;
    return ops::channelsFirst(spec.node.attrs) != blockedIo_ && describeBlocked(spec, c);
  }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& spec) const override {
    return std::make_unique<BlockedDepthwiseKernel>(avx2DepthwiseBlocked(), spec);
  }

 private:
  bool blockedIo_;
};

class DepthwiseTactic final : public Tactic {
 public:
  DepthwiseTactic(const std::string& suffix, std::vector<std::string> features, DepthwiseFn (*fn)())
      : name_("cpu.conv.depthwise." + suffix), features_(std::move(features)), fn_(fn) {}
  std::string_view name() const override { return name_; }
  DeviceType device() const override { return DeviceType::kCPU; }
  std::vector<std::string> requiredIsa() const override { return features_; }
  bool supports(const NodeSpec& spec) const override {
    Window2d c;
    return ops::channelsFirst(spec.node.attrs) && describeDepthwise(spec, c);
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

void registerDepthwiseTactics(TacticRegistry& registry) {
  registry.add("Convolution",
               std::make_unique<DepthwiseTactic>(
                   "avx512", std::vector<std::string>{"avx512f", "avx512vl", "avx2", "fma"},
                   avx512Depthwise));
  registry.add("Convolution", std::make_unique<BlockedDepthwiseTactic>(false));
  registry.add("Convolution", std::make_unique<BlockedDepthwiseTactic>(true));
  registry.add("Convolution", std::make_unique<DepthwiseTactic>(
                                  "avx2", std::vector<std::string>{"avx2", "fma"}, avx2Depthwise));
  registry.add("Convolution", std::make_unique<DepthwiseTactic>(
                                  "portable", std::vector<std::string>{}, portableDepthwise));
}

}  // namespace kiln::backends::cpu
