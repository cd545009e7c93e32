// The shape-changing data-movement ops; each lives in its own file (shuffle.cpp,
// concatenation.cpp, slice.cpp, padding.cpp, pad_to_channels_last.cpp,
// channel_blocks.cpp).
#include "ir/op_registry.h"
#include "ops/data_movement.h"
#include "ops/op_families.h"

namespace kiln::ops {

void registerShapeOps(ir::OpRegistry& registry) {
  registerShuffleOp(registry);
  registerConcatenationOp(registry);
  registerSliceOp(registry);
  registerPaddingOp(registry);
  registerPadToChannelsLastOp(registry);
  registerChannelBlockOps(registry);
}

}  // namespace kiln::ops
