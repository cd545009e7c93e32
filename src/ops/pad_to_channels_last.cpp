// PadToChannelsLast: x [N, C, H, W] -> y [N, H, W, Cp] with y[n, h, w, c] = x[n, c, h, w] for
// c < C and 0 for C <= c < Cp (attribute "channels" = Cp >= C). The channels-last layout step
// (builder/layout.cpp) puts it in front of a convolution whose C is no multiple of the tensor
// cores' 8 (an image's 3 channels) and gives the convolution zero weights for the extra
// channels: the reformat and the padding in one pass over the image.
#include <cstddef>
#include <cstring>

#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "ops/data_movement.h"

namespace kiln::ops {

namespace {

void inferPadToChannelsLast(ir::InferContext& ctx) {
  const auto& in = ctx.input(0);
  if (in.dims.nbDims != 4) {
    ctx.fail("the input must be [N, C, H, W]; it has shape ", toString(in.dims));
  }
  const int64_t channels = ctx.attrs().getInt("channels", 0);
  if (channels < in.dims[1]) {
    ctx.fail("channels (", channels, ") must be at least the input's ", in.dims[1]);
  }
  ctx.setOutput(0, in.dtype, Dims{in.dims[0], in.dims[2], in.dims[3], channels});
}

void runPadToChannelsLast(const ir::KernelContext& ctx) {
  const auto& in = ctx.input(0);
  const auto& out = ctx.output(0);
  const std::size_t esize = elementSize(in.dtype);
  const int64_t n = in.dims[0];
  const int64_t c = in.dims[1];
  const int64_t plane = in.dims[2] * in.dims[3];
  const int64_t cp = out.dims[3];
  const auto* src = in.as<const std::byte>();
  auto* dst = out.as<std::byte>();
  std::memset(dst, 0, static_cast<std::size_t>(n * plane * cp) * esize);
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t ch = 0; ch < c; ++ch) {
      for (int64_t p = 0; p < plane; ++p) {
        std::memcpy(dst + static_cast<std::size_t>((b * plane + p) * cp + ch) * esize,
                    src + static_cast<std::size_t>((b * c + ch) * plane + p) * esize, esize);
      }
    }
  }
}

}  // namespace

void registerPadToChannelsLastOp(ir::OpRegistry& registry) {
  registry.add({.name = "PadToChannelsLast",
                .minInputs = 1,
                .maxInputs = 1,
                .nbOutputs = 1,
                .infer = inferPadToChannelsLast,
                .reference = runPadToChannelsLast});
}

}  // namespace kiln::ops
