// Attention: y = softmax(Q K * scale + mask) V over the last axis — scaled dot-product
// attention as one op. A fused op: the builder's attention-fusion pass makes it from
// MatrixMultiply -> scale -> (mask add) -> SoftMax -> MatrixMultiply.
//
// Inputs: Q [..., Sq, D]; K as the first product's second operand: [..., D, Sk], or [..., Sk, D]
// with attribute "transpose_k" 1; V [..., Sk, Dv]; an optional additive mask (input 3) that
// broadcasts to the scores [..., Sq, Sk]. Q, K and V have the same leading (batch) dims.
// Attribute "scale" (default 1). Output [..., Sq, Dv]. All float32.
// With attribute "heads" = H (the attention-heads layout step sets it), the heads are packed into
// the last dim: Q [B, Sq, H*D], K [B, Sk, H*D] (transpose_k 1), V [B, Sk, H*Dv], the mask
// broadcasts to [B, H, Sq, Sk] and the output is [B, Sq, H*Dv] (ops/attention_geometry.h). With
// "packed_qkv" 1 as well, inputs 0-2 are one [B, S, 3*H*D] tensor (Q's heads, K's, V's in every
// row), as one projection writes them.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "ops/attention_geometry.h"
#include "ops/infer_checks.h"
#include "ops/op_families.h"

namespace kiln::ops {

namespace {

void inferAttention(ir::InferContext& ctx) {
  for (int32_t i = 0; i < 3; ++i) requireFloat(ctx, i);
  const Dims& q = ctx.input(0).dims;
  const Dims& v = ctx.input(2).dims;
  std::string error;
  const auto g = attentionGeometry(q, ctx.input(1).dims, v, ctx.attrs(), error);
  if (!g) ctx.fail(error);
  if (ctx.hasInput(3)) {
    requireFloat(ctx, 3);
    const Dims& mask = ctx.input(3).dims;
    const Dims b = withLayerContext(
        ctx, [&] { return broadcastShapes(g->scores, mask, "the scores and the mask"); });
    if (!(b == g->scores)) {
      ctx.fail("the mask of shape ", toString(mask), " does not broadcast to the scores ",
               toString(g->scores));
    }
  }
  // [..., Sq, Dv], or [B, Sq, H*Dv] with packed heads (V's last dim but with packed QKV).
  Dims out = q;
  out[q.nbDims - 1] = g->heads * g->dv;
  ctx.setOutput(0, DataType::kFLOAT, out);
}

void runAttention(const ir::KernelContext& ctx) {
  std::string error;
  const auto g = attentionGeometry(ctx.input(0).dims, ctx.input(1).dims, ctx.input(2).dims,
                                   ctx.attrs(), error);
  if (!g) fail(ErrorCode::kINTERNAL_ERROR, "Attention: ", error);
  const double scale = ctx.attrs().getFloat("scale", 1.0);
  const float* q = ctx.input(0).as<float>();
  const float* k = ctx.input(1).as<float>();
  const float* v = ctx.input(2).as<float>();
  float* y = ctx.output(0).as<float>();
  const float* mask = ctx.hasInput(3) ? ctx.input(3).as<float>() : nullptr;
  const std::vector<int64_t> maskStrides =
      mask != nullptr ? attentionMaskStrides(*g, ctx.input(3).dims) : std::vector<int64_t>{};
  const int32_t r = g->scores.nbDims;
  const int64_t maskRow = mask != nullptr ? maskStrides[static_cast<std::size_t>(r - 2)] : 0;
  const int64_t maskCol = mask != nullptr ? maskStrides[static_cast<std::size_t>(r - 1)] : 0;
  // K's element (key j, component p): rows are keys, or columns are.
  const int64_t kKeyStep = g->transposeK ? g->kPitch() : 1;
  const int64_t kDimStep = g->transposeK ? 1 : g->kPitch();

  // Nothing to write: no rows, however many keys (an empty query must not size the row buffer).
  if (g->count == 0 || g->sq == 0 || g->dv == 0) return;
  std::vector<double> row(static_cast<std::size_t>(g->sk));
  for (int64_t b = 0; b < g->count; ++b) {
    const float* qb = q + g->qOffset(b);
    const float* kb = k + g->kOffset(b);
    const float* vb = v + g->vOffset(b);
    float* yb = y + g->yOffset(b);
    const int64_t maskBase = mask != nullptr ? attentionMaskBase(*g, maskStrides, b) : 0;
    for (int64_t i = 0; i < g->sq; ++i) {
      double largest = -INFINITY;
      for (int64_t j = 0; j < g->sk; ++j) {
        double dot = 0;
        for (int64_t p = 0; p < g->d; ++p) {
          dot += static_cast<double>(qb[i * g->qPitch() + p]) * kb[j * kKeyStep + p * kDimStep];
        }
        double score = dot * scale;
        if (mask != nullptr) score += mask[maskBase + i * maskRow + j * maskCol];
        row[static_cast<std::size_t>(j)] = score;
        largest = std::max(largest, score);
      }
      double sum = 0;
      for (double& e : row) {
        e = std::isinf(largest) && largest < 0 ? 0.0 : std::exp(e - largest);
        sum += e;
      }
      for (int64_t c = 0; c < g->dv; ++c) {
        double acc = 0;
        for (int64_t j = 0; j < g->sk; ++j) {
          acc += row[static_cast<std::size_t>(j)] * vb[j * g->vPitch() + c];
        }
        yb[i * g->yPitch() + c] = static_cast<float>(sum > 0 ? acc / sum : NAN);
      }
    }
  }
}

}  // namespace

void registerAttentionOps(ir::OpRegistry& registry) {
  registry.add({.name = "Attention",
                .minInputs = 3,
                .maxInputs = 4,
                .nbOutputs = 1,
                .infer = inferAttention,
                .reference = runAttention});
}

}  // namespace kiln::ops
