// DFT (ONNX DFT): a discrete Fourier transform along one axis, summed in double.
//
// The last dimension holds 1 (real) or 2 (real, imaginary) values per element; the output's
// holds 2. Attributes: "axis" (the transformed dimension, anything but the last; negative counts
// from the end), "inverse" (e^{+i...} and a 1 / length scale), "onesided" (only frequencies 0 to
// length / 2), "length" (0: the axis' extent; otherwise the signal is cut or padded with zeros).
#include <cmath>
#include <numbers>
#include <vector>

#include "ir/op_registry.h"
#include "ops/infer_checks.h"
#include "ops/op_families.h"

namespace kiln::ops {

namespace {

struct DftShape {
  int32_t axis = 0;
  int64_t length = 0;   // transform length
  int64_t outputs = 0;  // frequencies written
};

DftShape dftShape(const ir::InferContext* ctx, const ir::Node& node, const Dims& x) {
  const auto fail = [&](auto&&... args) {
    if (ctx != nullptr) ctx->fail(args...);
    ::kiln::fail(ErrorCode::kINTERNAL_ERROR, args...);
  };
  const int32_t rank = x.nbDims;
  if (rank < 2 || (x[rank - 1] != 1 && x[rank - 1] != 2)) {
    fail("the input has shape ", toString(x),
         "; its last dimension must be 1 (real) or 2 (real, imaginary)");
  }
  int64_t axis = node.attrs.getInt("axis", 1);
  if (axis < -rank || axis > rank - 2) {
    fail("axis ", axis, " is outside [", -rank, ", ", rank - 2,
         "] (the last dimension holds the complex parts)");
  }
  if (axis < 0) axis += rank;
  if (axis == rank - 1) fail("axis ", axis, " is the complex dimension");
  DftShape s;
  s.axis = static_cast<int32_t>(axis);
  s.length = node.attrs.getInt("length", 0);
  if (s.length < 0) fail("length ", s.length, " is negative");
  if (s.length == 0) s.length = x[s.axis];
  if (s.length == 0) fail("the transformed axis ", s.axis, " is empty; give a length");
  const bool onesided = node.attrs.getInt("onesided", 0) != 0;
  if (onesided && node.attrs.getInt("inverse", 0) != 0) {
    fail("onesided and inverse cannot both be set");
  }
  s.outputs = onesided ? s.length / 2 + 1 : s.length;
  return s;
}

void inferDft(ir::InferContext& ctx) {
  requireFloat(ctx, 0);
  const Dims& x = ctx.input(0).dims;
  const DftShape s = dftShape(&ctx, ctx.node(), x);
  Dims out = x;
  out[s.axis] = s.outputs;
  out[x.nbDims - 1] = 2;
  ctx.setOutput(0, DataType::kFLOAT, out);
}

void runDft(const ir::KernelContext& ctx) {
  const auto& in = ctx.input(0);
  const Dims& x = in.dims;
  const DftShape s = dftShape(nullptr, ctx.node, x);
  const int32_t rank = x.nbDims;
  const int64_t parts = x[rank - 1];
  int64_t outer = 1;
  for (int32_t d = 0; d < s.axis; ++d) outer *= x[d];
  int64_t inner = 1;
  for (int32_t d = s.axis + 1; d < rank - 1; ++d) inner *= x[d];
  const int64_t extent = x[s.axis];
  const int64_t used = std::min(extent, s.length);  // samples read; the rest are zeros
  const bool inverse = ctx.attrs().getInt("inverse", 0) != 0;
  const double sign = inverse ? 1.0 : -1.0;
  const double scale = inverse ? 1.0 / static_cast<double>(s.length) : 1.0;

  // e^{sign 2 pi i m / N} for m in [0, N): k * t is reduced mod N, which keeps the angles exact.
  const auto n = static_cast<std::size_t>(s.length);
  std::vector<double> cosines(n);
  std::vector<double> sines(n);
  for (std::size_t m = 0; m < n; ++m) {
    const double angle = 2.0 * std::numbers::pi * static_cast<double>(m) / static_cast<double>(n);
    cosines[m] = std::cos(angle);
    sines[m] = sign * std::sin(angle);
  }
  const float* xs = in.as<const float>();
  float* ys = ctx.output(0).as<float>();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      for (int64_t k = 0; k < s.outputs; ++k) {
        double re = 0;
        double im = 0;
        std::size_t m = 0;  // k * t mod N, stepped so that it never overflows
        const auto step = static_cast<std::size_t>(k);
        for (int64_t t = 0; t < used; ++t) {
          const float* e = xs + ((o * extent + t) * inner + i) * parts;
          const double a = e[0];
          const double b = parts == 2 ? e[1] : 0.0;
          re += a * cosines[m] - b * sines[m];
          im += a * sines[m] + b * cosines[m];
          m += step;
          if (m >= n) m -= n;
        }
        float* y = ys + ((o * s.outputs + k) * inner + i) * 2;
        y[0] = static_cast<float>(re * scale);
        y[1] = static_cast<float>(im * scale);
      }
    }
  }
}

}  // namespace

void registerDftOps(ir::OpRegistry& registry) {
  registry.add({.name = "DFT",
                .minInputs = 1,
                .maxInputs = 1,
                .nbOutputs = 1,
                .infer = inferDft,
                .reference = runDft});
}

}  // namespace kiln::ops
