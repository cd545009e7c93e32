// The reformats between NCHW and the blocked layout NCHW8c (BlockChannels, UnblockChannels; see
// ops/window_util.h) for float32: 8 channel rows of 8 pixels become 8 pixel vectors of 8
// channels through one 8x8 transpose in registers, and back.
#pragma once

#include <cstdint>

namespace kiln::backends::cpu {

//! Pixels [p0, p1) of one block of 8 channels: @p planes holds the block's 8 NCHW planes of
//! @p plane pixels each, @p blocked its [plane][8] pixel vectors. @p toBlocked: planes ->
//! blocked; otherwise blocked -> planes.
using ChannelBlockFn = void (*)(float* planes, float* blocked, int64_t plane, int64_t p0,
                                int64_t p1, bool toBlocked);

ChannelBlockFn avx2ChannelBlock();  //!< needs avx2
void portableChannelBlock(float* planes, float* blocked, int64_t plane, int64_t p0, int64_t p1,
                          bool toBlocked);

}  // namespace kiln::backends::cpu
