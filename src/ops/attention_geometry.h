// Where the matrices of an Attention node (ops/attention.cpp) lie in its tensors, for the
// reference kernel and the backends' tactics alike.
//
// Q, K, V and Y each hold `count` matrices. Matrix i of Q starts at element qOffset(i) and its
// rows lie qPitch() elements apart; likewise K, V and Y. Unpacked, the matrices are the trailing
// two dims and follow one another. With packed heads (attribute "heads" = H), Q is [B, Sq, H*D],
// K [B, Sk, H*D] (rows are keys: "transpose_k" 1), V [B, Sk, H*Dv] and Y [B, Sq, H*Dv] — the
// layout the Q/K/V projections write and the output projection reads, so no head
// split/merge transposes are needed — and matrix b*H + h is head h of batch entry b.
// With packed QKV as well (attribute "packed_qkv" 1: one projection wrote all three), Q, K and V
// are one tensor [B, S, 3*H*D] given three times: each row holds Q's heads, then K's, then V's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ir/attributes.h"
#include "kiln/types.h"

namespace kiln::ops {

struct AttentionGeometry {
  int64_t count = 1;  //!< matrices per tensor: the batch dims' product (times H when packed)
  int64_t heads = 1;  //!< H when the heads are packed into the last dim, else 1
  int64_t sq = 0;
  int64_t sk = 0;
  int64_t d = 0;
  int64_t dv = 0;
  bool transposeK = false;  //!< K's rows are keys ([Sk, D]); else K is [D, Sk]
  bool packedQkv = false;   //!< Q, K and V are one [B, S, 3*H*D] tensor (heads packed too)
  Dims scores;  //!< [batch..., Sq, Sk] (packed: [B, H, Sq, Sk]): what a mask broadcasts to

  int64_t qPitch() const noexcept { return packedQkv ? 3 * heads * d : heads * d; }
  int64_t kPitch() const noexcept { return transposeK ? qPitch() : sk; }
  int64_t vPitch() const noexcept { return packedQkv ? 3 * heads * d : heads * dv; }
  int64_t yPitch() const noexcept { return heads * dv; }
  int64_t qOffset(int64_t i) const noexcept {
    return (i / heads) * sq * qPitch() + (i % heads) * d;
  }
  int64_t kOffset(int64_t i) const noexcept {
    return (i / heads) * sk * qPitch() + (i % heads) * d + (packedQkv ? heads * d : 0);
  }
  int64_t vOffset(int64_t i) const noexcept {
    return (i / heads) * sk * vPitch() + (i % heads) * dv + (packedQkv ? 2 * heads * d : 0);
  }
  int64_t yOffset(int64_t i) const noexcept {
    return (i / heads) * sq * heads * dv + (i % heads) * dv;
  }
};

//! The geometry of Q, K and V of these dims under the node's attributes ("transpose_k",
//! "heads", "packed_qkv"), or nullopt with @p error saying what does not fit.
std::optional<AttentionGeometry> attentionGeometry(const Dims& q, const Dims& k, const Dims& v,
                                                   const ir::Attributes& attrs, std::string& error);

//! The element strides of a mask of @p maskDims broadcast to @p g's scores, one per scores dim
//! (0 where the mask repeats); empty when the mask does not broadcast to the scores.
std::vector<int64_t> attentionMaskStrides(const AttentionGeometry& g, const Dims& maskDims);

//! The mask's element offset for matrix @p i (its coordinates over the scores' leading dims).
int64_t attentionMaskBase(const AttentionGeometry& g, const std::vector<int64_t>& strides,
                          int64_t i);

}  // namespace kiln::ops
