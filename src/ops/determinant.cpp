// Determinant (ONNX Det): x [..., M, M] float32 -> [...], the determinant of each square matrix
// of the last two dimensions, by LU decomposition with partial pivoting in double. A 0x0 matrix
// has determinant 1.
#include <cmath>
#include <utility>
#include <vector>

#include "ir/op_registry.h"
#include "ops/infer_checks.h"
#include "ops/op_families.h"

namespace kiln::ops {

namespace {

void inferDeterminant(ir::InferContext& ctx) {
  requireFloat(ctx, 0);
  const Dims& x = ctx.input(0).dims;
  if (x.nbDims < 2 || x[x.nbDims - 1] != x[x.nbDims - 2]) {
    ctx.fail("the input has shape ", toString(x),
             "; it needs square matrices in its last two dimensions [..., M, M]");
  }
  Dims out = x;
  out.nbDims = x.nbDims - 2;
  ctx.setOutput(0, DataType::kFLOAT, out);
}

double determinant(std::vector<double>& a, int64_t m) {
  double det = 1.0;
  for (int64_t col = 0; col < m; ++col) {
    int64_t pivot = col;
    for (int64_t r = col + 1; r < m; ++r) {
      if (std::fabs(a[r * m + col]) > std::fabs(a[pivot * m + col])) pivot = r;
    }
    if (a[pivot * m + col] == 0.0) return 0.0;
    if (pivot != col) {
      for (int64_t c = 0; c < m; ++c) std::swap(a[col * m + c], a[pivot * m + c]);
      det = -det;
    }
    const double p = a[col * m + col];
    det *= p;
    for (int64_t r = col + 1; r < m; ++r) {
      const double f = a[r * m + col] / p;
      for (int64_t c = col; c < m; ++c) a[r * m + c] -= f * a[col * m + c];
    }
  }
  return det;
}

void runDeterminant(const ir::KernelContext& ctx) {
  const auto& x = ctx.input(0);
  const int64_t m = x.dims[x.dims.nbDims - 1];
  const int64_t size = m * m;
  const int64_t count = ctx.output(0).count();
  const float* xs = x.as<const float>();
  float* y = ctx.output(0).as<float>();
  std::vector<double> a(static_cast<std::size_t>(size));
  for (int64_t i = 0; i < count; ++i) {
    for (int64_t k = 0; k < size; ++k) a[static_cast<std::size_t>(k)] = xs[i * size + k];
    y[i] = static_cast<float>(determinant(a, m));
  }
}

}  // namespace

void registerDeterminantOps(ir::OpRegistry& registry) {
  registry.add({.name = "Determinant",
                .minInputs = 1,
                .maxInputs = 1,
                .nbOutputs = 1,
                .infer = inferDeterminant,
                .reference = runDeterminant});
}

}  // namespace kiln::ops
