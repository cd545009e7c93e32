// BlockChannels: x [N, C, H, W] -> y [N, C/8, H, W, 8], y[n, c / 8, h, w, c % 8] = x[n, c, h, w]
// (C a multiple of 8); UnblockChannels is its inverse. The CPU's blocked layout step
// (builder/channel_blocking.h) puts them at the entries and exits of the regions whose
// convolutions run in the NCHW8c layout (ops/window_util.h).
#include <cstddef>

#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "ops/data_movement.h"
#include "ops/window_util.h"

namespace kiln::ops {

namespace {

void inferBlockChannels(ir::InferContext& ctx) {
  const auto& in = ctx.input(0);
  if (in.dims.nbDims != 4) {
    ctx.fail("the input must be [N, C, H, W]; it has shape ", toString(in.dims));
  }
  if (in.dims[1] % kChannelBlock != 0) {
    ctx.fail("the input's channels (", in.dims[1], ") must be a multiple of ", kChannelBlock,
             "; shape ", toString(in.dims));
  }
  ctx.setOutput(0, in.dtype, toChannelsBlocked(in.dims));
}

void inferUnblockChannels(ir::InferContext& ctx) {
  const auto& in = ctx.input(0);
  if (in.dims.nbDims != 5 || in.dims[4] != kChannelBlock) {
    ctx.fail("the input must be [N, C/8, H, W, 8]; it has shape ", toString(in.dims));
  }
  ctx.setOutput(0, in.dtype, fromChannelsBlocked(in.dims));
}

void runBlockChannels(const ir::KernelContext& ctx) {
  reblockChannels(ctx.input(0).as<const std::byte>(), ctx.input(0).dims,
                  elementSize(ctx.input(0).dtype), true, ctx.output(0).as<std::byte>());
}

void runUnblockChannels(const ir::KernelContext& ctx) {
  reblockChannels(ctx.input(0).as<const std::byte>(), ctx.output(0).dims,
                  elementSize(ctx.input(0).dtype), false, ctx.output(0).as<std::byte>());
}

}  // namespace

void registerChannelBlockOps(ir::OpRegistry& registry) {
  registry.add({.name = "BlockChannels",
                .minInputs = 1,
                .maxInputs = 1,
                .nbOutputs = 1,
                .infer = inferBlockChannels,
                .reference = runBlockChannels});
  registry.add({.name = "UnblockChannels",
                .minInputs = 1,
                .maxInputs = 1,
                .nbOutputs = 1,
                .infer = inferUnblockChannels,
                .reference = runUnblockChannels});
}

}  // namespace kiln::ops
