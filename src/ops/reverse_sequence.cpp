// ReverseSequence (ONNX ReverseSequence, TensorRT IReverseSequenceLayer): x of rank >= 2 (any
// type), lengths [B] (int32 or int64) with B = x's extent along "batch_axis". For each batch
// entry b, the first lengths[b] elements along "sequence_axis" are reversed and the rest copied.
// The two axes are 0 and 1, distinct (defaults: batch 1, sequence 0). A length outside [0, T]
// (T: the sequence extent) fails the execution naming it.
#include <cstring>

#include "ir/op_registry.h"
#include "ops/op_families.h"

namespace kiln::ops {

namespace {

void inferReverseSequence(ir::InferContext& ctx) {
  const auto& x = ctx.input(0);
  const int64_t batchAxis = ctx.attrs().getInt("batch_axis", 1);
  const int64_t sequenceAxis = ctx.attrs().getInt("sequence_axis", 0);
  if ((batchAxis != 0 && batchAxis != 1) || (sequenceAxis != 0 && sequenceAxis != 1) ||
      batchAxis == sequenceAxis) {
    ctx.fail("the batch axis (", batchAxis, ") and the sequence axis (", sequenceAxis,
             ") must be 0 and 1, one each");
  }
  if (x.dims.nbDims < 2) {
    ctx.fail("the input has shape ", toString(x.dims), "; it needs rank 2 or more");
  }
  const auto& lengths = ctx.input(1);
  if (lengths.dtype != DataType::kINT32 && lengths.dtype != DataType::kINT64) {
    ctx.fail("the sequence lengths must be int32 or int64, not ", toString(lengths.dtype));
  }
  const int64_t batch = x.dims[static_cast<int32_t>(batchAxis)];
  if (lengths.dims.nbDims != 1 || lengths.dims[0] != batch) {
    ctx.fail("the sequence lengths have shape ", toString(lengths.dims), "; the input (shape ",
             toString(x.dims), ") has ", batch, " batch entries along axis ", batchAxis,
             ", so they need shape ", batch);
  }
  ctx.setOutput(0, x.dtype, x.dims);
}

void runReverseSequence(const ir::KernelContext& ctx) {
  const auto& x = ctx.input(0);
  const auto& lengths = ctx.input(1);
  const bool batchFirst = ctx.attrs().getInt("batch_axis", 1) == 0;
  const int64_t d0 = x.dims[0];
  const int64_t d1 = x.dims[1];
  const int64_t batch = batchFirst ? d0 : d1;
  const int64_t steps = batchFirst ? d1 : d0;
  int64_t inner = 1;
  for (int32_t i = 2; i < x.dims.nbDims; ++i) inner *= x.dims[i];
  const std::size_t rowBytes = static_cast<std::size_t>(inner) * elementSize(x.dtype);
  const auto* src = x.as<const std::byte>();
  auto* dst = ctx.output(0).as<std::byte>();
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t length = lengths.dtype == DataType::kINT32 ? lengths.as<const int32_t>()[b]
                                                             : lengths.as<const int64_t>()[b];
    if (length < 0 || length > steps) {
      fail(ErrorCode::kFAILED_EXECUTION, "sequence length ", length, " (entry ", b,
           ") is outside [0, ", steps, "]");
    }
    for (int64_t t = 0; t < steps; ++t) {
      const int64_t from = t < length ? length - 1 - t : t;
      const auto offset = [&](int64_t step) {
        const int64_t i0 = batchFirst ? b : step;
        const int64_t i1 = batchFirst ? step : b;
        return static_cast<std::size_t>(i0 * d1 + i1) * rowBytes;
      };
      if (rowBytes > 0) std::memcpy(dst + offset(t), src + offset(from), rowBytes);
    }
  }
}

}  // namespace

void registerReverseSequenceOps(ir::OpRegistry& registry) {
  registry.add({.name = "ReverseSequence",
                .minInputs = 2,
                .maxInputs = 2,
                .nbOutputs = 1,
                .infer = inferReverseSequence,
                .reference = runReverseSequence});
}

}  // namespace kiln::ops
