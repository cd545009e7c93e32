// LRN: local response normalization across channels (axis 1) of a float32 input of rank >= 3
// ([N, C, spatial...]), as TensorRT, Caffe and ONNX define it:
//
//   y[c] = x[c] / (k + alpha / window * sum_{c' in W(c)} x[c']^2) ^ beta
//
// W(c) runs from c - floor((window - 1) / 2) to c + ceil((window - 1) / 2), clipped to [0, C).
// Attributes: "window" (int, >= 1), "alpha", "beta", "k" (finite doubles).
// TensorRT accepts only odd windows in [1, 15] (and bounds alpha, beta and k); kiln accepts any
// window >= 1 (an even window reaches one channel further up than down, as ONNX's) and any
// finite parameters: a base that is not positive gives what pow gives (inf or NaN).
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "ir/op_registry.h"
#include "ops/infer_checks.h"
#include "ops/op_families.h"

namespace kiln::ops {

namespace {

void inferLRN(ir::InferContext& ctx) {
  const auto& x = ctx.input(0);
  requireFloat(ctx, 0);
  if (x.dims.nbDims < 3) {
    ctx.fail("input has shape ", toString(x.dims), " (rank ", x.dims.nbDims,
             "); LRN needs rank 3 or more [N, C, spatial...]");
  }
  const int64_t window = ctx.attrs().getInt("window", 0);
  if (window < 1) ctx.fail("the window must hold at least 1 channel, not ", window);
  for (const char* name : {"alpha", "beta", "k"}) {
    const double value = ctx.attrs().getFloat(name, 0.0);
    if (!std::isfinite(value)) ctx.fail(name, " must be finite, not ", value);
  }
  ctx.setOutput(0, DataType::kFLOAT, x.dims);
}

void runLRN(const ir::KernelContext& ctx) {
  const auto& x = ctx.input(0);
  const int64_t window = ctx.attrs().getInt("window", 1);
  const double alpha = ctx.attrs().getFloat("alpha", 0.0);
  const double beta = ctx.attrs().getFloat("beta", 0.0);
  const double k = ctx.attrs().getFloat("k", 0.0);
  const int64_t batch = x.dims[0];
  const int64_t channels = x.dims[1];
  int64_t inner = 1;
  for (int32_t i = 2; i < x.dims.nbDims; ++i) inner *= x.dims[i];
  const int64_t below = (window - 1) / 2;
  const int64_t above = window - 1 - below;
  const double scale = alpha / static_cast<double>(window);
  const float* xs = x.as<float>();
  float* ys = ctx.output(0).as<float>();

  for (int64_t n = 0; n < batch; ++n) {
    const float* xn = xs + n * channels * inner;
    float* yn = ys + n * channels * inner;
    for (int64_t c = 0; c < channels; ++c) {
      const int64_t first = std::max<int64_t>(c - below, 0);
      const int64_t last = std::min<int64_t>(c + above, channels - 1);
      for (int64_t i = 0; i < inner; ++i) {
        double squares = 0.0;
        for (int64_t j = first; j <= last; ++j) {
          const double v = xn[j * inner + i];
          squares += v * v;
        }
        const double v = xn[c * inner + i];
        yn[c * inner + i] = static_cast<float>(v / std::pow(k + scale * squares, beta));
      }
    }
  }
}

}  // namespace

void registerNormalizationOps(ir::OpRegistry& registry) {
  registry.add({.name = "LRN",
                .minInputs = 1,
                .maxInputs = 1,
                .nbOutputs = 1,
                .infer = inferLRN,
                .reference = runLRN});
}

}  // namespace kiln::ops
