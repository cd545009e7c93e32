// Fused attention for 16-bit tensors ("cuda.attention.fused", attention_tactic.cpp):
// Y = softmax(Q Kᵀ · scale + mask) V in one kernel, flash-attention style — each block takes 64
// queries of one batch entry and walks the keys in tiles of 64 on tensor cores (WMMA), keeping
// a running row maximum and sum (online softmax), so the score matrix never reaches memory.
// Scores, the softmax and the output accumulate in float. Callable from plain C++.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "backends/cuda/pointwise_kernels.h"

namespace kiln::backends::cuda {

// With heads > 1 the matrices are packed heads (ops/attention_geometry.h): q is
// [batch / heads, sq, heads * d], k [batch / heads, sk, heads * d] (transposedK), v and y alike
// with dv; matrix b is head b % heads of entry b / heads.
struct FlashAttentionParams {
  const void* q = nullptr;            //!< [batch, sq, d]
  const void* k = nullptr;            //!< [batch, sk, d], or [batch, d, sk] when !transposedK
  const void* v = nullptr;            //!< [batch, sk, dv]
  const void* mask = nullptr;         //!< optional, indexed by maskIndex (as launchScaledSoftmax)
  void* y = nullptr;                  //!< [batch, sq, dv]
  FloatType type = FloatType::kHalf;  //!< of q, k, v, mask and y: kHalf or kBFloat16
  int64_t batch = 0;                  //!< matrices (batch entries times packed heads)
  int64_t heads = 1;                  //!< packed heads per batch entry (1: not packed)
  int64_t sq = 0;
  int64_t sk = 0;
  int32_t d = 0;   //!< head size of q and k
  int32_t dv = 0;  //!< head size of v and y
  bool transposedK = true;
  bool masked = false;  //!< the node has a mask input (its address goes in `mask`)
  //! The mask values of keys 2i and 2i + 1 of a row are contiguous and 4-byte aligned (colStride
  //! 1, even row and batch strides, an even key count): the kernel loads them as one word.
  bool maskPairs = false;
  float scale = 1.f;
  MaskIndex maskIndex;
};

//! Whether the fused kernel runs this configuration (16-bit type, d == dv in {32, 64, 128}).
bool flashAttentionSupports(FloatType type, int64_t d, int64_t dv);

//! Sets up the kernel that @p params need (its shared-memory size) on the current GPU: once,
//! when the layer's kernel is made, not on every launch.
void prepareFlashAttention(const FlashAttentionParams& params);

void launchFlashAttention(const FlashAttentionParams& params, cudaStream_t stream);

}  // namespace kiln::backends::cuda
