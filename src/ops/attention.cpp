// Attention: y = softmax(Q K * scale + mask) V over the last axis — scaled dot-product
// attention as one op. A fused op: the builder's attention-fusion pass makes it from
// MatrixMultiply -> scale -> (mask add) -> SoftMax -> MatrixMultiply.
//
// Inputs: Q [..., Sq, D]; K as the first product's second operand: [..., D, Sk], or [..., Sk, D]
// with attribute "transpose_k" 1; V [..., Sk, Dv]; an optional additive mask (input 3) that
// broadcasts to the scores [..., Sq, Sk]. Q, K and V have the same leading (batch) dims.
// Attribute "scale" (default 1). Output [..., Sq, Dv]. All float32.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/shape_util.h"
#include "ir/op_registry.h"
#include "ops/infer_checks.h"
#include "ops/op_families.h"

namespace kiln::ops {

namespace {

struct AttentionShape {
  int64_t batch = 1;  // product of the leading dims
  int64_t sq = 0, sk = 0, d = 0, dv = 0;
  Dims scores;
};

AttentionShape shapeOf(const Dims& q, const Dims& k, const Dims& v, bool transposeK) {
  AttentionShape s;
  const int32_t r = q.nbDims;
  s.sq = q[r - 2];
  s.d = q[r - 1];
  s.sk = transposeK ? k[r - 2] : k[r - 1];
  s.dv = v[r - 1];
  for (int32_t i = 0; i < r - 2; ++i) s.batch *= q[i];
  s.scores = q;
  s.scores[r - 1] = s.sk;
  return s;
}

void inferAttention(ir::InferContext& ctx) {
  for (int32_t i = 0; i < 3; ++i) requireFloat(ctx, i);
  const Dims& q = ctx.input(0).dims;
  const Dims& k = ctx.input(1).dims;
  const Dims& v = ctx.input(2).dims;
  const bool transposeK = ctx.attrs().getInt("transpose_k", 0) != 0;
  const int32_t r = q.nbDims;
  if (r < 2 || k.nbDims != r || v.nbDims != r) {
    ctx.fail("Q, K and V must have one rank >= 2; they have shapes ", toString(q), ", ",
             toString(k), " and ", toString(v));
  }
  for (int32_t i = 0; i < r - 2; ++i) {
    if (k[i] != q[i] || v[i] != q[i]) {
      ctx.fail("Q, K and V must have the same batch dims; they have shapes ", toString(q), ", ",
               toString(k), " and ", toString(v));
    }
  }
  const int64_t kd = transposeK ? k[r - 1] : k[r - 2];
  const int64_t sk = transposeK ? k[r - 2] : k[r - 1];
  if (kd != q[r - 1]) {
    ctx.fail("Q has shape ", toString(q), " (D = ", q[r - 1], ") but K has shape ", toString(k),
             transposeK ? " (transposed)" : "", " with D = ", kd);
  }
  if (v[r - 2] != sk) {
    ctx.fail("V has shape ", toString(v), " but the keys give ", sk, " positions");
  }
  const AttentionShape s = shapeOf(q, k, v, transposeK);
  if (ctx.hasInput(3)) {
    requireFloat(ctx, 3);
    const Dims& mask = ctx.input(3).dims;
    const Dims b = withLayerContext(
        ctx, [&] { return broadcastShapes(s.scores, mask, "the scores and the mask"); });
    if (!(b == s.scores)) {
      ctx.fail("the mask of shape ", toString(mask), " does not broadcast to the scores ",
               toString(s.scores));
    }
  }
  Dims out = q;
  out[r - 1] = s.dv;
  ctx.setOutput(0, DataType::kFLOAT, out);
}

void runAttention(const ir::KernelContext& ctx) {
  const Dims& qd = ctx.input(0).dims;
  const bool transposeK = ctx.attrs().getInt("transpose_k", 0) != 0;
  const double scale = ctx.attrs().getFloat("scale", 1.0);
  const AttentionShape s = shapeOf(qd, ctx.input(1).dims, ctx.input(2).dims, transposeK);
  const int32_t r = qd.nbDims;
  const float* q = ctx.input(0).as<float>();
  const float* k = ctx.input(1).as<float>();
  const float* v = ctx.input(2).as<float>();
  float* y = ctx.output(0).as<float>();

  // Mask strides over the scores' dims (0 where the mask repeats).
  const float* mask = ctx.hasInput(3) ? ctx.input(3).as<float>() : nullptr;
  std::vector<int64_t> maskStride(static_cast<std::size_t>(r), 0);
  if (mask != nullptr) {
    const Dims& md = ctx.input(3).dims;
    int64_t stride = 1;
    for (int32_t i = md.nbDims - 1; i >= 0; --i) {
      const int32_t dim = r - md.nbDims + i;
      if (md[i] != 1) maskStride[static_cast<std::size_t>(dim)] = stride;
      stride *= md[i];
    }
  }

  std::vector<double> row(static_cast<std::size_t>(s.sk));
  for (int64_t b = 0; b < s.batch; ++b) {
    const float* qb = q + b * s.sq * s.d;
    const float* kb = k + b * s.sk * s.d;
    const float* vb = v + b * s.sk * s.dv;
    float* yb = y + b * s.sq * s.dv;
    int64_t maskBase = 0;
    {
      int64_t rest = b;
      for (int32_t i = r - 3; i >= 0; --i) {
        maskBase += (rest % qd[i]) * maskStride[static_cast<std::size_t>(i)];
        rest /= qd[i];
      }
    }
    for (int64_t i = 0; i < s.sq; ++i) {
      double largest = -INFINITY;
      for (int64_t j = 0; j < s.sk; ++j) {
        double dot = 0;
        for (int64_t p = 0; p < s.d; ++p) {
          const float kv = transposeK ? kb[j * s.d + p] : kb[p * s.sk + j];
          dot += static_cast<double>(qb[i * s.d + p]) * kv;
        }
        double score = dot * scale;
        if (mask != nullptr) {
          score += mask[maskBase + i * maskStride[static_cast<std::size_t>(r - 2)] +
                        j * maskStride[static_cast<std::size_t>(r - 1)]];
        }
        row[static_cast<std::size_t>(j)] = score;
        largest = std::max(largest, score);
      }
      double sum = 0;
      for (double& e : row) {
        e = std::isinf(largest) && largest < 0 ? 0.0 : std::exp(e - largest);
        sum += e;
      }
      for (int64_t c = 0; c < s.dv; ++c) {
        double acc = 0;
        for (int64_t j = 0; j < s.sk; ++j)
          acc += row[static_cast<std::size_t>(j)] * vb[j * s.dv + c];
        yb[i * s.dv + c] = static_cast<float>(sum > 0 ? acc / sum : NAN);
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
