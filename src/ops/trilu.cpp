// Trilu: inputs [x (rank >= 2, any type), optional k (INT32/INT64 scalar or one-element vector,
// read at run time; it replaces the attribute)], attributes "upper" and "k". ONNX Trilu over the
// last two dimensions [.., N, M]: element (i, j) is kept when j - i >= k (upper) or j - i <= k
// (lower) and zeroed otherwise. The kernel works on bytes: all-zero bytes are 0 in every type.
#include <algorithm>
#include <cstring>

#include "ir/op_registry.h"
#include "ops/op_families.h"

namespace kiln::ops {

namespace {

void inferTrilu(ir::InferContext& ctx) {
  const auto& in = ctx.input(0);
  if (in.dims.nbDims < 2) {
    ctx.fail("the input must have rank >= 2 (a matrix or a batch of them), not shape ",
             toString(in.dims));
  }
  if (ctx.hasInput(1)) {
    const auto& k = ctx.input(1);
    if (k.dtype != DataType::kINT32 && k.dtype != DataType::kINT64) {
      ctx.fail("k (input 1) must be int32 or int64, not ", toString(k.dtype));
    }
    if (k.dims.nbDims > 1 || volume(k.dims) != 1) {
      ctx.fail("k (input 1) must be a scalar (or one-element vector), not of shape ",
               toString(k.dims));
    }
  }
  ctx.setOutput(0, in.dtype, in.dims);
}

void runTrilu(const ir::KernelContext& ctx) {
  const auto& in = ctx.input(0);
  const auto& out = ctx.output(0);
  const bool upper = ctx.attrs().getInt("upper", 1) != 0;
  const int32_t r = in.dims.nbDims;
  const int64_t rows = in.dims[r - 2];
  const int64_t cols = in.dims[r - 1];
  const int64_t count = in.count();
  if (count == 0) return;
  // Beyond +-(rows + cols) every k means the same; limiting it keeps i + k from overflowing.
  int64_t diagonal = ctx.attrs().getInt("k", 0);
  if (ctx.hasInput(1)) {
    const auto& kInput = ctx.input(1);
    diagonal = kInput.dtype == DataType::kINT32 ? kInput.as<const int32_t>()[0]
                                                : kInput.as<const int64_t>()[0];
  }
  const int64_t k = std::clamp<int64_t>(diagonal, -(rows + cols), rows + cols);
  const int64_t matrices = count / (rows * cols);
  const std::size_t esize = elementSize(in.dtype);
  const auto* src = in.as<const std::byte>();
  auto* dst = out.as<std::byte>();
  for (int64_t m = 0; m < matrices; ++m) {
    for (int64_t i = 0; i < rows; ++i) {
      // Kept columns [first, last): j >= i + k (upper) or j <= i + k (lower).
      const int64_t first = upper ? std::clamp<int64_t>(i + k, 0, cols) : 0;
      const int64_t last = upper ? cols : std::clamp<int64_t>(i + k + 1, 0, cols);
      const auto row = static_cast<std::size_t>((m * rows + i) * cols) * esize;
      const auto begin = static_cast<std::size_t>(first) * esize;
      const auto end = static_cast<std::size_t>(last) * esize;
      const auto width = static_cast<std::size_t>(cols) * esize;
      std::memset(dst + row, 0, begin);
      std::memmove(dst + row + begin, src + row + begin, end - begin);
      std::memset(dst + row + end, 0, width - end);
    }
  }
}

}  // namespace

void registerTriluOps(ir::OpRegistry& registry) {
  registry.add({.name = "Trilu",
                .minInputs = 1,
                .maxInputs = 2,
                .nbOutputs = 1,
                .infer = inferTrilu,
                .reference = runTrilu});
}

}  // namespace kiln::ops
