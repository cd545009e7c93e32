// "cpu.reformat.blocked.{avx2,portable}": BlockChannels and UnblockChannels (NCHW <-> NCHW8c,
// ops/window_util.h) on float32, one block of 8 channels at a time (channel_blocks.h), threaded
// over blocks and runs of pixels. The layout step puts one at each entry and exit of a blocked
// region: MobileNetV2's first is 1.6 MB.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backends/cpu/channel_blocks.h"
#include "backends/cpu/cpu_common.h"
#include "backends/cpu/parallel_tasks.h"
#include "backends/cpu/tactics.h"
#include "ops/window_util.h"

namespace kiln::backends::cpu {

void portableChannelBlock(float* planes, float* blocked, int64_t plane, int64_t p0, int64_t p1,
                          bool toBlocked) {
  constexpr int64_t kBlock = ops::kChannelBlock;
  for (int64_t p = p0; p < p1; ++p) {
    for (int64_t c = 0; c < kBlock; ++c) {
      float& flat = planes[c * plane + p];
      float& vector = blocked[p * kBlock + c];
      if (toBlocked) {
        vector = flat;
      } else {
        flat = vector;
      }
    }
  }
}

namespace {

// Pixels per task: a few microseconds of copying (8 channels of 4 bytes each).
constexpr int64_t kTaskPixels = 4096;

class ChannelBlockKernel final : public Kernel {
 public:
  ChannelBlockKernel(ChannelBlockFn fn, bool toBlocked) : fn_(fn), toBlocked_(toBlocked) {}

  void execute(const ir::KernelContext& ctx) const override {
    const Dims nchw = toBlocked_ ? ctx.input(0).dims : ctx.output(0).dims;
    const int64_t blocks = nchw[0] * nchw[1] / ops::kChannelBlock;
    const int64_t plane = nchw[2] * nchw[3];
    if (blocks == 0 || plane == 0) return;
    // The kernel reads one side and writes the other.
    float* in = ctx.input(0).as<float>();
    float* out = ctx.output(0).as<float>();
    float* planes = toBlocked_ ? in : out;
    float* blocked = toBlocked_ ? out : in;
    const int64_t runs = std::max<int64_t>(1, plane / kTaskPixels);
    withPool(ctx, [&](ThreadPool& pool) {
      parallelTasks(pool, blocks * runs, 1, [&](int64_t begin, int64_t end, int32_t) {
        for (int64_t task = begin; task < end; ++task) {
          const int64_t block = task / runs;
          const int64_t run = task % runs;
          const int64_t offset = block * ops::kChannelBlock * plane;
          fn_(planes + offset, blocked + offset, plane, plane * run / runs,
              plane * (run + 1) / runs, toBlocked_);
        }
      });
    });
  }

 private:
  ChannelBlockFn fn_;
  bool toBlocked_;
};

ChannelBlockFn portableFn() {
  return portableChannelBlock;
}

class ChannelBlockTactic final : public Tactic {
 public:
  ChannelBlockTactic(std::string name, std::vector<std::string> isa, ChannelBlockFn (*fn)(),
                     bool toBlocked)
      : name_(std::move(name)), isa_(std::move(isa)), fn_(fn), toBlocked_(toBlocked) {}
  std::string_view name() const override { return name_; }
  DeviceType device() const override { return DeviceType::kCPU; }
  std::vector<std::string> requiredIsa() const override { return isa_; }
  bool supports(const NodeSpec& spec) const override {
    const Dims& nchw = toBlocked_ ? spec.inputs[0].dims : spec.outputs[0].dims;
    return spec.inputs[0].dtype == DataType::kFLOAT && nchw.nbDims == 4 &&
           nchw[1] % ops::kChannelBlock == 0;
  }
  std::unique_ptr<Kernel> instantiate(const NodeSpec&) const override {
    return std::make_unique<ChannelBlockKernel>(fn_(), toBlocked_);
  }

 private:
  std::string name_;
  std::vector<std::string> isa_;
  ChannelBlockFn (*fn_)();
  bool toBlocked_;
};

}  // namespace

void registerChannelBlockTactics(TacticRegistry& registry) {
  for (const bool toBlocked : {true, false}) {
    const char* op = toBlocked ? "BlockChannels" : "UnblockChannels";
    registry.add(op, std::make_unique<ChannelBlockTactic>("cpu.reformat.blocked.avx2",
                                                          std::vector<std::string>{"avx2"},
                                                          avx2ChannelBlock, toBlocked));
    registry.add(op, std::make_unique<ChannelBlockTactic>("cpu.reformat.blocked.portable",
                                                          std::vector<std::string>{}, portableFn,
                                                          toBlocked));
  }
}

}  // namespace kiln::backends::cpu
