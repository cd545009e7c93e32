// SoftMax along one axis ("axis", may be negative; see softmaxDefaultAxis when absent).
#include "ops/softmax.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "ir/op_registry.h"
#include "ops/infer_checks.h"
#include "ops/op_families.h"

namespace kiln::ops {

int32_t softmaxDefaultAxis(int32_t rank) {
  if (rank >= 4) return rank - 3;
  return rank >= 1 ? rank - 1 : 0;
}

namespace {

// The axis of @p node for an input of @p rank, in [0, rank); throws naming the layer.
int32_t softmaxAxis(const ir::InferContext& ctx, int32_t rank) {
  const int64_t axis = ctx.attrs().getInt("axis", softmaxDefaultAxis(rank));
  const int64_t normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= rank) {
    ctx.fail("axis ", axis, " is out of range for an input of rank ", rank, " (valid: ", -rank,
             " to ", rank - 1, ")");
  }
  return static_cast<int32_t>(normalized);
}

void inferSoftMax(ir::InferContext& ctx) {
  const auto& in = ctx.input(0);
  requireFloat(ctx, 0);
  if (in.dims.nbDims < 1) ctx.fail("input is a scalar; softmax needs rank >= 1");
  softmaxAxis(ctx, in.dims.nbDims);
  ctx.setOutput(0, DataType::kFLOAT, in.dims);
}

void runSoftMax(const ir::KernelContext& ctx) {
  const Dims& dims = ctx.input(0).dims;
  const int64_t rawAxis = ctx.attrs().getInt("axis", softmaxDefaultAxis(dims.nbDims));
  const auto axis = static_cast<int32_t>(rawAxis < 0 ? rawAxis + dims.nbDims : rawAxis);
  int64_t outer = 1;
  for (int32_t i = 0; i < axis; ++i) outer *= dims[i];
  const int64_t n = dims[axis];
  int64_t inner = 1;
  for (int32_t i = axis + 1; i < dims.nbDims; ++i) inner *= dims[i];

  // An empty tensor has nothing to normalize, however long its softmax axis (a [0, 2^32] input
  // must not size the row buffer).
  if (outer == 0 || inner == 0 || n == 0) return;
  const float* x = ctx.input(0).as<float>();
  float* y = ctx.output(0).as<float>();
  std::vector<double> e(static_cast<std::size_t>(n));
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * n * inner + i;
      // Subtracting the max keeps exp() in range; the result is mathematically the same.
      double max = -INFINITY;
      for (int64_t j = 0; j < n; ++j) max = std::fmax(max, x[base + j * inner]);
      double sum = 0.0;
      for (int64_t j = 0; j < n; ++j) {
        e[static_cast<std::size_t>(j)] = std::exp(static_cast<double>(x[base + j * inner]) - max);
        sum += e[static_cast<std::size_t>(j)];
      }
      for (int64_t j = 0; j < n; ++j) {
        y[base + j * inner] = static_cast<float>(e[static_cast<std::size_t>(j)] / sum);
      }
    }
  }
}

}  // namespace

void registerSoftMaxOps(ir::OpRegistry& registry) {
  registry.add({.name = "SoftMax",
                .minInputs = 1,
                .maxInputs = 1,
                .nbOutputs = 1,
                .infer = inferSoftMax,
                .reference = runSoftMax});
}

}  // namespace kiln::ops
