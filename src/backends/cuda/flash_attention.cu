// The fused attention kernel (flash_attention.h). A block of 4 warps owns 64 query rows (16 per
// warp) of one batch entry. Per tile of 64 keys: the block stages K and V in shared memory;
// each warp computes its 16 x 64 scores on tensor cores, folds them into its rows' running
// maximum m and sum l (two lanes per row, 32 columns each), rescales its output rows by
// exp(m_old - m_new), writes the probabilities as T and adds P V on tensor cores into its
// float output rows, which stay in shared memory. At the end each row is divided by l.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <mma.h>

#include <cstdint>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/flash_attention.h"
#include "backends/cuda/float_elements.cuh"

namespace kiln::backends::cuda {

namespace {

using namespace nvcuda;  // NOLINT: wmma
using kernels::fromFloat;
using kernels::toFloat;

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kRows = 16;                 // query rows per warp (one WMMA tile)
constexpr int kQueries = kWarps * kRows;  // per block
constexpr int kKeys = 64;                 // per key tile
constexpr int kLaneKeys = kKeys / 2;  // columns of a key tile one lane takes (two lanes per row)
constexpr int kPad16 = 8;             // 16-bit rows padded by 16 bytes against bank conflicts
constexpr int kPad32 = 4;

template <int D, int DV>
struct Layout {
  static constexpr int ldQ = D + kPad16;
  static constexpr int ldV = DV + kPad16;
  static constexpr int ldS = kKeys + kPad32;
  static constexpr int ldP = kKeys + kPad16;
  static constexpr int ldO = DV + kPad32;
  static constexpr int q = 0;                             // T [kQueries][ldQ]
  static constexpr int k = q + kQueries * ldQ * 2;        // T [kKeys][ldQ]
  static constexpr int v = k + kKeys * ldQ * 2;           // T [kKeys][ldV]
  static constexpr int s = v + kKeys * ldV * 2;           // float [warps][kRows][ldS]
  static constexpr int p = s + kWarps * kRows * ldS * 4;  // T [warps][kRows][ldP]
  static constexpr int o = p + kWarps * kRows * ldP * 2;  // float [warps][kRows][ldO]
  static constexpr int bytes = o + kWarps * kRows * ldO * 4;
};

// Copies rows [row0, row0 + rows) of a [count, width] matrix of T into shared memory (row
// pitch ld), zero where the row is past @p count; 16-byte loads (width is a multiple of 16).
template <typename T>
__device__ void loadRows(T* shared, int ld, const T* global, int64_t row0, int64_t count, int width,
                         int rows) {
  const int chunks = width / 8;  // 8 elements of 16 bits per 16-byte chunk
  for (int i = threadIdx.x; i < rows * chunks; i += kThreads) {
    const int r = i / chunks;
    const int c = (i % chunks) * 8;
    uint4 value = make_uint4(0, 0, 0, 0);
    if (row0 + r < count) value = *reinterpret_cast<const uint4*>(global + (row0 + r) * width + c);
    *reinterpret_cast<uint4*>(shared + r * ld + c) = value;
  }
}

template <typename T, int D, int DV>
__global__ void __launch_bounds__(kThreads) flashAttentionKernel(const FlashAttentionParams p) {
  using L = Layout<D, DV>;
  extern __shared__ __align__(128) unsigned char smem[];
  T* sQ = reinterpret_cast<T*>(smem + L::q);
  T* sK = reinterpret_cast<T*>(smem + L::k);
  T* sV = reinterpret_cast<T*>(smem + L::v);
  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  float* sS = reinterpret_cast<float*>(smem + L::s) + warp * kRows * L::ldS;
  T* sP = reinterpret_cast<T*>(smem + L::p) + warp * kRows * L::ldP;
  float* sO = reinterpret_cast<float*>(smem + L::o) + warp * kRows * L::ldO;

  const int64_t tiles = (p.sq + kQueries - 1) / kQueries;
  const int64_t b = blockIdx.x / tiles;
  const int64_t q0 = (blockIdx.x % tiles) * kQueries;
  const T* q = static_cast<const T*>(p.q) + b * p.sq * D;
  const T* k = static_cast<const T*>(p.k) + b * p.sk * D;
  const T* v = static_cast<const T*>(p.v) + b * p.sk * DV;
  const T* mask = static_cast<const T*>(p.mask);
  int64_t maskBase = 0;
  if (mask != nullptr) {
    int64_t rest = b;
    for (int i = p.maskIndex.batchDims - 1; i >= 0; --i) {
      maskBase += (rest % p.maskIndex.batchExtents[i]) * p.maskIndex.batchStrides[i];
      rest /= p.maskIndex.batchExtents[i];
    }
  }

  loadRows(sQ, L::ldQ, q, q0, p.sq, D, kQueries);
  for (int i = lane; i < kRows * L::ldO; i += 32) sO[i] = 0.f;

  // Two lanes per row: lane / 2 is the row, lane % 2 the half of the columns.
  const int row = lane / 2;
  const int half = lane % 2;
  const int64_t query = q0 + warp * kRows + row;
  const int c0 = half * kLaneKeys;  // this lane's first column of a key tile
  const int64_t maskRow = maskBase + query * p.maskIndex.rowStride;
  float m = -INFINITY;
  float l = 0.f;

  for (int64_t key0 = 0; key0 < p.sk; key0 += kKeys) {
    __syncthreads();  // every warp is done with the previous tile
    if (p.transposedK) {
      loadRows(sK, L::ldQ, k, key0, p.sk, D, kKeys);
    } else {  // K is [d, sk]: read along the keys
      for (int i = threadIdx.x; i < kKeys * D; i += kThreads) {
        const int j = i % kKeys;
        const int c = i / kKeys;
        sK[j * L::ldQ + c] = key0 + j < p.sk ? k[c * p.sk + key0 + j] : fromFloat<T>(0.f);
      }
    }
    loadRows(sV, L::ldV, v, key0, p.sk, DV, kKeys);
    __syncthreads();

    // This lane's mask values for the tile, loaded now so that their latency hides behind the
    // products: four 16-byte loads where the row's 32 values are contiguous and aligned.
    const bool vecMask = mask != nullptr && query < p.sq && p.maskIndex.colStride == 1 &&
                         key0 + c0 + kLaneKeys <= p.sk &&
                         reinterpret_cast<uintptr_t>(mask + maskRow + key0 + c0) % 16 == 0;
    uint4 maskRegs[kLaneKeys * sizeof(T) / 16];
    if (vecMask) {
      const auto* src = reinterpret_cast<const uint4*>(mask + maskRow + key0 + c0);
#pragma unroll
      for (int i = 0; i < kLaneKeys * static_cast<int>(sizeof(T)) / 16; ++i) maskRegs[i] = src[i];
    }

    // S = Q Kᵀ for this warp's 16 rows and the tile's 64 keys.
    for (int n = 0; n < kKeys / 16; ++n) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::fill_fragment(acc, 0.f);
      for (int kk = 0; kk < D / 16; ++kk) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> bt;
        wmma::load_matrix_sync(a, sQ + warp * kRows * L::ldQ + kk * 16, L::ldQ);
        wmma::load_matrix_sync(bt, sK + n * 16 * L::ldQ + kk * 16, L::ldQ);
        wmma::mma_sync(acc, a, bt, acc);
      }
      wmma::store_matrix_sync(sS + n * 16, acc, L::ldS, wmma::mem_row_major);
    }
    __syncwarp();

    // Online softmax over this lane's 32 columns of its row. The mask values come from
    // registers loaded before the products (vectorized where they are contiguous).
    float tileMax = -INFINITY;
#pragma unroll
    for (int j = 0; j < kLaneKeys; ++j) {
      const int c = c0 + j;
      float s = -INFINITY;
      if (key0 + c < p.sk) {
        s = sS[row * L::ldS + c] * p.scale;
        if (mask != nullptr && query < p.sq) {
          s += vecMask ? toFloat(reinterpret_cast<const T*>(maskRegs)[j])
                       : toFloat(mask[maskRow + (key0 + c) * p.maskIndex.colStride]);
        }
      }
      sS[row * L::ldS + c] = s;
      tileMax = fmaxf(tileMax, s);
    }
    tileMax = fmaxf(tileMax, __shfl_xor_sync(0xffffffffu, tileMax, 1));
    const float mNew = fmaxf(m, tileMax);
    // Nothing but -inf so far: the row's probabilities and output stay 0.
    const bool empty = mNew == -INFINITY;
    const float alpha = empty || m == -INFINITY ? 0.f : __expf(m - mNew);
    float sum = 0.f;
#pragma unroll
    for (int c = c0; c < c0 + kLaneKeys; ++c) {
      const float e = empty ? 0.f : __expf(sS[row * L::ldS + c] - mNew);
      sum += e;
      sP[row * L::ldP + c] = fromFloat<T>(e);
    }
    sum += __shfl_xor_sync(0xffffffffu, sum, 1);
    l = l * alpha + sum;
    m = mNew;
    for (int c = half * (DV / 2); c < (half + 1) * (DV / 2); ++c) sO[row * L::ldO + c] *= alpha;
    __syncwarp();

    // O += P V.
    for (int n = 0; n < DV / 16; ++n) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::load_matrix_sync(acc, sO + n * 16, L::ldO, wmma::mem_row_major);
      for (int kk = 0; kk < kKeys / 16; ++kk) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> bv;
        wmma::load_matrix_sync(a, sP + kk * 16, L::ldP);
        wmma::load_matrix_sync(bv, sV + kk * 16 * L::ldV + n * 16, L::ldV);
        wmma::mma_sync(acc, a, bv, acc);
      }
      wmma::store_matrix_sync(sO + n * 16, acc, L::ldO, wmma::mem_row_major);
    }
    __syncwarp();
  }

  // A row whose every score was -inf divides 0 by 0, as the reference does.
  if (query < p.sq) {
    T* y = static_cast<T*>(p.y) + (b * p.sq + query) * DV;
    const float inv = 1.f / l;
    for (int c = half * (DV / 2); c < (half + 1) * (DV / 2); ++c) {
      y[c] = fromFloat<T>(l > 0.f ? sO[row * L::ldO + c] * inv : NAN);
    }
  }
}

template <typename T, int D>
void launchTyped(const FlashAttentionParams& p, cudaStream_t stream) {
  using L = Layout<D, D>;
  static_assert(L::q % 32 == 0 && L::k % 32 == 0 && L::v % 32 == 0 && L::s % 32 == 0 &&
                    L::p % 32 == 0 && L::o % 32 == 0,
                "WMMA tiles need 32-byte aligned shared memory");
  check(cudaFuncSetAttribute(flashAttentionKernel<T, D, D>,
                             cudaFuncAttributeMaxDynamicSharedMemorySize, L::bytes),
        "cudaFuncSetAttribute (fused attention shared memory)");
  const int64_t blocks = p.batch * ((p.sq + kQueries - 1) / kQueries);
  flashAttentionKernel<T, D, D><<<static_cast<unsigned>(blocks), kThreads, L::bytes, stream>>>(p);
}

template <typename T>
void launchForHead(const FlashAttentionParams& p, cudaStream_t stream) {
  switch (p.d) {
    case 32:
      return launchTyped<T, 32>(p, stream);
    case 64:
      return launchTyped<T, 64>(p, stream);
    default:
      return launchTyped<T, 128>(p, stream);
  }
}

}  // namespace

bool flashAttentionSupports(FloatType type, int64_t d, int64_t dv) {
  return type != FloatType::kFloat && d == dv && (d == 32 || d == 64 || d == 128);
}

void launchFlashAttention(const FlashAttentionParams& params, cudaStream_t stream) {
  if (params.batch <= 0 || params.sq <= 0) return;
  if (params.type == FloatType::kHalf) {
    launchForHead<__half>(params, stream);
  } else {
    launchForHead<__nv_bfloat16>(params, stream);
  }
  checkLaunch("the fused attention kernel");
}

}  // namespace kiln::backends::cuda
