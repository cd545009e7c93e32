// The fused attention kernel (flash_attention.h), flash-attention-2 style on mma.sync tensor-core
// instructions (m16n8k16, FP32 accumulation). A block of 4 warps owns 64 query rows (16 per
// warp) of one matrix; it stages them in shared memory once and each warp keeps its Q fragments
// in registers. Per tile of 64 keys the block stages K and V in shared memory; each warp
// computes its 16 x 64 scores into registers, folds them into its rows' running maximum m and
// sum l, rescales its output rows by exp(m_old - m_new) and adds P V — the probabilities go
// from the score accumulators straight into the A fragments of the second product (the C
// layout of two n8 tiles is the A layout of one k16 step) — so the scores never leave
// registers. The output rows (registers too) are divided by l at the end.
//
// Fragment layouts (PTX ISA, mma.m16n8k16 with 16-bit A/B): lane = 4 * g + c; A holds rows g
// and g + 8, columns 2c, 2c + 1 and 2c + 8, 2c + 9; B (k x n) holds k = 2c, 2c + 1 (and + 8) of
// column n = g; C holds rows g and g + 8, columns 2c and 2c + 1.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/flash_attention.h"
#include "backends/cuda/float_elements.cuh"

namespace kiln::backends::cuda {

namespace {

using kernels::fromFloat;
using kernels::toFloat;

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kRows = 16;                 // query rows per warp (one m16 tile)
constexpr int kQueries = kWarps * kRows;  // per block
constexpr int kKeys = 64;                 // per key tile
constexpr int kKeyTiles = kKeys / 8;      // n8 tiles of scores per key tile
constexpr int kPad16 = 8;                 // 16-bit rows padded by 16 bytes against bank conflicts

// Shared memory: Q [kQueries][ld], K [kKeys][ld], V [kKeys][ld] of T, ld = D + kPad16.
template <int D>
constexpr int sharedBytes() {
  return (kQueries + 2 * kKeys) * (D + kPad16) * 2;
}

// Copies rows [row0, row0 + rows) of a [count, width] matrix of T whose rows lie @p pitch
// elements apart into shared memory (row pitch ld), zero where the row is past @p count;
// 16-byte loads (width and pitch are multiples of 8 elements).
template <typename T>
__device__ void loadRows(T* shared, int ld, const T* global, int64_t pitch, int64_t row0,
                         int64_t count, int width, int rows) {
  const int chunks = width / 8;  // 8 elements of 16 bits per 16-byte chunk
  for (int i = threadIdx.x; i < rows * chunks; i += kThreads) {
    const int r = i / chunks;
    const int c = (i % chunks) * 8;
    uint4 value = make_uint4(0, 0, 0, 0);
    if (row0 + r < count) value = *reinterpret_cast<const uint4*>(global + (row0 + r) * pitch + c);
    *reinterpret_cast<uint4*>(shared + r * ld + c) = value;
  }
}

__device__ __forceinline__ uint32_t loadPair(const void* shared) {
  return *static_cast<const uint32_t*>(shared);
}

// Two floats as one register of two T (the low half is @p lo).
template <typename T>
__device__ __forceinline__ uint32_t pack(float lo, float hi) {
  if constexpr (std::is_same_v<T, __half>) {
    const __half2 h = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<const uint32_t*>(&h);
  } else {
    const __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<const uint32_t*>(&h);
  }
}

// Element @p index (0: the low half) of a register of two T, as float.
template <typename T>
__device__ __forceinline__ float unpack(uint32_t pair, int index) {
  const auto bits = static_cast<unsigned short>(index == 0 ? pair & 0xffffu : pair >> 16);
  if constexpr (std::is_same_v<T, __half>) {
    return __half2float(__ushort_as_half(bits));
  } else {
    return __bfloat162float(__ushort_as_bfloat16(bits));
  }
}

// acc += A (16 x 16) B (16 x 8), FP32 accumulation.
template <typename T>
__device__ __forceinline__ void mma(float (&acc)[4], const uint32_t (&a)[4], uint32_t b0,
                                    uint32_t b1) {
  if constexpr (std::is_same_v<T, __half>) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(acc[0]), "+f"(acc[1]), "+f"(acc[2]), "+f"(acc[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  } else {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(acc[0]), "+f"(acc[1]), "+f"(acc[2]), "+f"(acc[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
}

// The B fragment (k16 x n8) of a row-major [k][n] matrix in shared memory whose first element
// is @p origin (row pitch ld): ldmatrix transposes it on the way. Lanes 0-15 name the rows.
__device__ __forceinline__ void loadTransposedB(const void* origin, int ldBytes, int lane,
                                                uint32_t& b0, uint32_t& b1) {
  const auto* row = static_cast<const unsigned char*>(origin) + (lane % 16) * ldBytes;
  const auto address = static_cast<uint32_t>(__cvta_generic_to_shared(row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0,%1}, [%2];\n"
               : "=r"(b0), "=r"(b1)
               : "r"(address));
}

__device__ __forceinline__ float quadMax(float v) {
  v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
  return fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
}

__device__ __forceinline__ float quadSum(float v) {
  v += __shfl_xor_sync(0xffffffffu, v, 1);
  return v + __shfl_xor_sync(0xffffffffu, v, 2);
}

template <typename T, int D>
__global__ void __launch_bounds__(kThreads) flashAttentionKernel(const FlashAttentionParams p) {
  constexpr int ld = D + kPad16;
  extern __shared__ __align__(16) unsigned char smem[];
  T* sQ = reinterpret_cast<T*>(smem);
  T* sK = sQ + kQueries * ld;
  T* sV = sK + kKeys * ld;
  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  const int g = lane / 4;
  const int c = lane % 4;

  const int64_t tiles = (p.sq + kQueries - 1) / kQueries;
  const int64_t b = blockIdx.x / tiles;
  const int64_t q0 = (blockIdx.x % tiles) * kQueries;
  // Matrix b is head b % heads of batch entry b / heads; rows lie heads * D apart.
  const int64_t entry = b / p.heads;
  const int64_t head = b % p.heads;
  const int64_t pitch = p.heads * D;
  const T* q = static_cast<const T*>(p.q) + entry * p.sq * pitch + head * D;
  const T* k = static_cast<const T*>(p.k) + entry * p.sk * pitch + head * D;
  const T* v = static_cast<const T*>(p.v) + entry * p.sk * pitch + head * D;
  const T* mask = static_cast<const T*>(p.mask);
  int64_t maskBase = 0;
  if (mask != nullptr) {
    int64_t rest = b;
    for (int i = p.maskIndex.batchDims - 1; i >= 0; --i) {
      maskBase += (rest % p.maskIndex.batchExtents[i]) * p.maskIndex.batchStrides[i];
      rest /= p.maskIndex.batchExtents[i];
    }
  }

  loadRows(sQ, ld, q, pitch, q0, p.sq, D, kQueries);
  __syncthreads();
  // This warp's Q fragments, for every k16 step of the head.
  uint32_t qf[D / 16][4];
  const T* qw = sQ + warp * kRows * ld;
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) {
    qf[kk][0] = loadPair(qw + g * ld + kk * 16 + 2 * c);
    qf[kk][1] = loadPair(qw + (g + 8) * ld + kk * 16 + 2 * c);
    qf[kk][2] = loadPair(qw + g * ld + kk * 16 + 2 * c + 8);
    qf[kk][3] = loadPair(qw + (g + 8) * ld + kk * 16 + 2 * c + 8);
  }

  // Rows g and g + 8 of this warp's 16: r = 0, 1.
  int64_t query[2];
  int64_t maskRow[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    query[r] = q0 + warp * kRows + g + 8 * r;
    maskRow[r] = maskBase + query[r] * p.maskIndex.rowStride;
  }
  float o[D / 8][4];
#pragma unroll
  for (int j = 0; j < D / 8; ++j) o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.f;
  float m[2] = {-INFINITY, -INFINITY};
  float l[2] = {0.f, 0.f};

  // Mask values of two neighbouring keys as one register of two T: a 4-byte load where the
  // host found the pairs contiguous and aligned (maskPairs), two loads otherwise.
  const bool pairs = mask != nullptr && p.maskPairs;
  const auto maskPair = [&](int r, int64_t key) -> uint32_t {
    if (query[r] >= p.sq || key >= p.sk) return 0;
    const T* at = mask + maskRow[r] + key * p.maskIndex.colStride;
    if (pairs) return __ldg(reinterpret_cast<const unsigned int*>(at));
    const T second = key + 1 < p.sk ? at[p.maskIndex.colStride] : fromFloat<T>(0.f);
    return pack<T>(toFloat(at[0]), toFloat(second));
  };

  for (int64_t key0 = 0; key0 < p.sk; key0 += kKeys) {
    // The tile's mask values, loaded first: their latency hides behind the K and V loads.
    uint32_t mk[kKeyTiles][2];
    if (mask != nullptr) {
#pragma unroll
      for (int j = 0; j < kKeyTiles; ++j) {
#pragma unroll
        for (int r = 0; r < 2; ++r) mk[j][r] = maskPair(r, key0 + j * 8 + 2 * c);
      }
    }
    __syncthreads();  // every warp is done with the previous tile
    if (p.transposedK) {
      loadRows(sK, ld, k, pitch, key0, p.sk, D, kKeys);
    } else {  // K is [d, sk] (heads == 1): read along the keys
      for (int i = threadIdx.x; i < kKeys * D; i += kThreads) {
        const int j = i % kKeys;
        const int d = i / kKeys;
        sK[j * ld + d] = key0 + j < p.sk ? k[d * p.sk + key0 + j] : fromFloat<T>(0.f);
      }
    }
    loadRows(sV, ld, v, pitch, key0, p.sk, D, kKeys);
    __syncthreads();

    // S = Q Kᵀ: this warp's 16 rows by the tile's 64 keys, in registers.
    float s[kKeyTiles][4];
#pragma unroll
    for (int j = 0; j < kKeyTiles; ++j) {
      s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.f;
      const T* keyRow = sK + (j * 8 + g) * ld + 2 * c;
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        mma<T>(s[j], qf[kk], loadPair(keyRow + kk * 16), loadPair(keyRow + kk * 16 + 8));
      }
    }

    // Scale, mask, and -inf past the last key; then the online softmax per row.
#pragma unroll
    for (int j = 0; j < kKeyTiles; ++j) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int r = e / 2;
        const int64_t key = key0 + j * 8 + 2 * c + e % 2;
        float score = -INFINITY;
        if (key < p.sk) {
          score = s[j][e] * p.scale;
          if (mask != nullptr) score += unpack<T>(mk[j][r], e % 2);
        }
        s[j][e] = score;
      }
    }
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      float tileMax = -INFINITY;
#pragma unroll
      for (int j = 0; j < kKeyTiles; ++j)
        tileMax = fmaxf(tileMax, fmaxf(s[j][2 * r], s[j][2 * r + 1]));
      const float mNew = fmaxf(m[r], quadMax(tileMax));
      // Nothing but -inf so far: the row's probabilities and output stay 0.
      const bool empty = mNew == -INFINITY;
      const float alpha = empty || m[r] == -INFINITY ? 0.f : __expf(m[r] - mNew);
      float sum = 0.f;
#pragma unroll
      for (int j = 0; j < kKeyTiles; ++j) {
#pragma unroll
        for (int e = 2 * r; e < 2 * r + 2; ++e) {
          s[j][e] = empty ? 0.f : __expf(s[j][e] - mNew);
          sum += s[j][e];
        }
      }
      l[r] = l[r] * alpha + sum;  // this lane's share; the quad's shares are summed at the end
      m[r] = mNew;
#pragma unroll
      for (int j = 0; j < D / 8; ++j) {
        o[j][2 * r] *= alpha;
        o[j][2 * r + 1] *= alpha;
      }
    }

    // O += P V: the probabilities of two n8 tiles are the A fragment of one k16 step.
#pragma unroll
    for (int t = 0; t < kKeys / 16; ++t) {
      const uint32_t a[4] = {pack<T>(s[2 * t][0], s[2 * t][1]), pack<T>(s[2 * t][2], s[2 * t][3]),
                             pack<T>(s[2 * t + 1][0], s[2 * t + 1][1]),
                             pack<T>(s[2 * t + 1][2], s[2 * t + 1][3])};
#pragma unroll
      for (int j = 0; j < D / 8; ++j) {
        uint32_t b0;
        uint32_t b1;
        loadTransposedB(sV + t * 16 * ld + j * 8, ld * 2, lane, b0, b1);
        mma<T>(o[j], a, b0, b1);
      }
    }
  }

  // A row whose every score was -inf divides 0 by 0, as the reference does.
  T* y = static_cast<T*>(p.y) + entry * p.sq * pitch + head * D;
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const float total = quadSum(l[r]);
    if (query[r] >= p.sq) continue;
    const float inv = total > 0.f ? 1.f / total : NAN;
    T* row = y + query[r] * pitch + 2 * c;
#pragma unroll
    for (int j = 0; j < D / 8; ++j) {
      *reinterpret_cast<uint32_t*>(row + j * 8) = pack<T>(o[j][2 * r] * inv, o[j][2 * r + 1] * inv);
    }
  }
}

template <typename T, int D>
void prepareTyped() {
  check(cudaFuncSetAttribute(flashAttentionKernel<T, D>,
                             cudaFuncAttributeMaxDynamicSharedMemorySize, sharedBytes<D>()),
        "cudaFuncSetAttribute (fused attention shared memory)");
}

template <typename T, int D>
void launchTyped(const FlashAttentionParams& p, cudaStream_t stream) {
  const int64_t blocks = p.batch * ((p.sq + kQueries - 1) / kQueries);
  flashAttentionKernel<T, D>
      <<<static_cast<unsigned>(blocks), kThreads, sharedBytes<D>(), stream>>>(p);
}

// Calls launchTyped or prepareTyped (Prepare) for the params' element type and head size.
template <bool Prepare>
void forParams(const FlashAttentionParams& p, cudaStream_t stream) {
  auto typed = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    switch (p.d) {
      case 32:
        return Prepare ? prepareTyped<T, 32>() : launchTyped<T, 32>(p, stream);
      case 64:
        return Prepare ? prepareTyped<T, 64>() : launchTyped<T, 64>(p, stream);
      default:
        return Prepare ? prepareTyped<T, 128>() : launchTyped<T, 128>(p, stream);
    }
  };
  if (p.type == FloatType::kHalf) {
    typed(static_cast<__half*>(nullptr));
  } else {
    typed(static_cast<__nv_bfloat16*>(nullptr));
  }
}

}  // namespace

bool flashAttentionSupports(FloatType type, int64_t d, int64_t dv) {
  return type != FloatType::kFloat && d == dv && (d == 32 || d == 64 || d == 128);
}

void prepareFlashAttention(const FlashAttentionParams& params) {
  forParams<true>(params, nullptr);
}

void launchFlashAttention(const FlashAttentionParams& params, cudaStream_t stream) {
  if (params.batch <= 0 || params.sq <= 0) return;
  forParams<false>(params, stream);
  checkLaunch("the fused attention kernel");
}

}  // namespace kiln::backends::cuda
