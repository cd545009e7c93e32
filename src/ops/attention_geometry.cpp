#include "ops/attention_geometry.h"

#include <cstddef>

#include "core/shape_util.h"

namespace kiln::ops {

namespace {

std::string shapes(const Dims& q, const Dims& k, const Dims& v) {
  return toString(q) + ", " + toString(k) + " and " + toString(v);
}

std::optional<AttentionGeometry> packed(const Dims& q, const Dims& k, const Dims& v, int64_t heads,
                                        bool transposeK, std::string& error) {
  if (q.nbDims != 3 || k.nbDims != 3 || v.nbDims != 3) {
    error = "with packed heads Q, K and V must be [B, S, H*D]; they have shapes " + shapes(q, k, v);
    return std::nullopt;
  }
  if (!transposeK) {
    error = "with packed heads K must be [B, Sk, H*D] (transpose_k 1)";
    return std::nullopt;
  }
  if (k[0] != q[0] || v[0] != q[0] || k[2] != q[2] || v[1] != k[1] || q[2] % heads != 0 ||
      v[2] % heads != 0) {
    error = "Q, K and V of shapes " + shapes(q, k, v) + " do not hold " + std::to_string(heads) +
            " heads each of one batch and key count";
    return std::nullopt;
  }
  AttentionGeometry g;
  g.heads = heads;
  g.count = q[0] * heads;
  g.sq = q[1];
  g.sk = k[1];
  g.d = q[2] / heads;
  g.dv = v[2] / heads;
  g.transposeK = true;
  g.scores = Dims{q[0], heads, g.sq, g.sk};
  return g;
}

// Q, K and V as one [B, S, 3*H*D] tensor: Q's heads, K's, then V's in every row.
std::optional<AttentionGeometry> packedQkv(const Dims& q, const Dims& k, const Dims& v,
                                           int64_t heads, bool transposeK, std::string& error) {
  if (heads == 0 || !transposeK) {
    error = "packed QKV needs packed heads (heads > 0) and transpose_k 1";
    return std::nullopt;
  }
  if (q.nbDims != 3 || k != q || v != q || q[2] % (3 * heads) != 0) {
    error = "with packed QKV, Q, K and V must be one [B, S, 3*H*D] tensor with H = " +
            std::to_string(heads) + "; they have shapes " + shapes(q, k, v);
    return std::nullopt;
  }
  AttentionGeometry g;
  g.heads = heads;
  g.packedQkv = true;
  g.count = q[0] * heads;
  g.sq = q[1];
  g.sk = q[1];
  g.d = q[2] / (3 * heads);
  g.dv = g.d;
  g.transposeK = true;
  g.scores = Dims{q[0], heads, g.sq, g.sk};
  return g;
}

}  // namespace

std::optional<AttentionGeometry> attentionGeometry(const Dims& q, const Dims& k, const Dims& v,
                                                   const ir::Attributes& attrs,
                                                   std::string& error) {
  const bool transposeK = attrs.getInt("transpose_k", 0) != 0;
  const int64_t heads = attrs.getInt("heads", 0);
  if (heads < 0) {
    error = "heads is " + std::to_string(heads) + "; it must be positive (or 0: not packed)";
    return std::nullopt;
  }
  if (attrs.getInt("packed_qkv", 0) != 0) return packedQkv(q, k, v, heads, transposeK, error);
  if (heads > 0) return packed(q, k, v, heads, transposeK, error);
  const int32_t r = q.nbDims;
  if (r < 2 || k.nbDims != r || v.nbDims != r) {
    error = "Q, K and V must have one rank >= 2; they have shapes " + shapes(q, k, v);
    return std::nullopt;
  }
  AttentionGeometry g;
  for (int32_t i = 0; i < r - 2; ++i) {
    if (k[i] != q[i] || v[i] != q[i]) {
      error = "Q, K and V must have the same batch dims; they have shapes " + shapes(q, k, v);
      return std::nullopt;
    }
    g.count *= q[i];
  }
  g.transposeK = transposeK;
  g.sq = q[r - 2];
  g.d = q[r - 1];
  g.sk = transposeK ? k[r - 2] : k[r - 1];
  g.dv = v[r - 1];
  const int64_t kd = transposeK ? k[r - 1] : k[r - 2];
  if (kd != g.d) {
    error = "Q has shape " + toString(q) + " (D = " + std::to_string(g.d) + ") but K has shape " +
            toString(k) + (transposeK ? " (transposed)" : "") + " with D = " + std::to_string(kd);
    return std::nullopt;
  }
  if (v[r - 2] != g.sk) {
    error =
        "V has shape " + toString(v) + " but the keys give " + std::to_string(g.sk) + " positions";
    return std::nullopt;
  }
  g.scores = q;
  g.scores[r - 1] = g.sk;
  return g;
}

std::vector<int64_t> attentionMaskStrides(const AttentionGeometry& g, const Dims& maskDims) {
  const int32_t r = g.scores.nbDims;
  if (maskDims.nbDims > r) return {};
  std::vector<int64_t> strides(static_cast<std::size_t>(r), 0);
  int64_t stride = 1;
  for (int32_t i = maskDims.nbDims - 1; i >= 0; --i) {
    const int32_t dim = r - maskDims.nbDims + i;
    if (maskDims[i] != 1 && maskDims[i] != g.scores[dim]) return {};
    if (maskDims[i] != 1) strides[static_cast<std::size_t>(dim)] = stride;
    stride *= maskDims[i];
  }
  return strides;
}

int64_t attentionMaskBase(const AttentionGeometry& g, const std::vector<int64_t>& strides,
                          int64_t i) {
  int64_t base = 0;
  for (int32_t dim = g.scores.nbDims - 3; dim >= 0; --dim) {
    base += (i % g.scores[dim]) * strides[static_cast<std::size_t>(dim)];
    i /= g.scores[dim];
  }
  return base;
}

}  // namespace kiln::ops
