// Trilu: input x (rank >= 2, any type), attributes "upper" and "k". ONNX Trilu over the last two
// dimensions [.., N, M]: element (i, j) is kept when j - i >= k (upper) or j - i <= k (lower)
// and zeroed otherwise. The kernel works on bytes: all-zero bytes are 0 in every type.
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
  const int64_t k = std::clamp<int64_t>(ctx.attrs().getInt("k", 0), -(rows + cols), rows + cols);
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
                .maxInputs = 1,
                .nbOutputs = 1,
                .infer = inferTrilu,
                .reference = runTrilu});
}

}  // namespace kiln::ops
