// Reductions (cuda_kernels.h): Reduce, SoftMax and LayerNorm.
//
// Where the reduced elements are contiguous, a warp (short rows) or a block (long rows) folds
// each row with shuffles; otherwise one thread folds each output, so that neighbouring threads
// read neighbouring addresses. Sums and products accumulate in double like the reference;
// SoftMax and LayerNorm accumulate in float (rows of at most a few thousand, well inside the
// tests' tolerance).
#include <cuda_runtime.h>

#include <cstdint>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_kernels.h"

namespace kiln::backends::cuda::kernels {

namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr unsigned kFullMask = 0xffffffffu;

unsigned gridFor(int64_t items, int64_t perBlock) {
  const int64_t blocks = (items + perBlock - 1) / perBlock;
  return static_cast<unsigned>(blocks < 65536 ? blocks : 65536);
}

__device__ int64_t mapIndex(const IndexMap& map, int64_t index) {
  int64_t offset = 0;
  for (int32_t d = map.rank - 1; d > 0; --d) {
    const int64_t extent = map.extent[d];
    offset += (index % extent) * map.stride[d];
    index /= extent;
  }
  if (map.rank > 0) offset += index * map.stride[0];
  return offset;
}

// --- Reduce ------------------------------------------------------------------------------------

// ReduceOperation values.
constexpr int32_t kSum = 0;
constexpr int32_t kProd = 1;
constexpr int32_t kMax = 2;
constexpr int32_t kMin = 3;
constexpr int32_t kAvg = 4;

template <int32_t Op>
struct Fold;

template <>
struct Fold<kSum> {
  using Acc = double;
  static __device__ Acc identity() { return 0.0; }
  static __device__ Acc add(Acc a, Acc x) { return a + x; }
};
template <>
struct Fold<kAvg> : Fold<kSum> {};
template <>
struct Fold<kProd> {
  using Acc = double;
  static __device__ Acc identity() { return 1.0; }
  static __device__ Acc add(Acc a, Acc x) { return a * x; }
};
// NaN wins: once the accumulator is NaN no number replaces it.
template <>
struct Fold<kMax> {
  using Acc = float;
  static __device__ Acc identity() { return -INFINITY; }
  static __device__ Acc add(Acc a, Acc x) { return isnan(x) || x > a ? x : a; }
};
template <>
struct Fold<kMin> {
  using Acc = float;
  static __device__ Acc identity() { return INFINITY; }
  static __device__ Acc add(Acc a, Acc x) { return isnan(x) || x < a ? x : a; }
};

template <int32_t Op>
__device__ float finish(typename Fold<Op>::Acc acc, int64_t reduced) {
  if constexpr (Op == kAvg) {
    return static_cast<float>(acc / static_cast<double>(reduced));  // 0 / 0 = NaN when empty
  } else {
    return static_cast<float>(acc);
  }
}

template <int32_t Op, typename Acc>
__device__ Acc warpFold(Acc v) {
  for (int offset = 16; offset > 0; offset /= 2) {
    v = Fold<Op>::add(v, __shfl_xor_sync(kFullMask, v, offset));
  }
  return v;
}

// One thread per output; the reduced index walks with its strides.
template <int32_t Op>
__global__ void __launch_bounds__(kThreads) reduceColumns(const ReduceParams p) {
  using F = Fold<Op>;
  const int64_t gridStep = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < p.outputs;
       o += gridStep) {
    const float* base = p.x + mapIndex(p.kept, o);
    typename F::Acc acc = F::identity();
    if (p.folded.rank == 1) {
      const int64_t stride = p.folded.stride[0];
      for (int64_t r = 0; r < p.reduced; ++r) acc = F::add(acc, __ldg(base + r * stride));
    } else {
      for (int64_t r = 0; r < p.reduced; ++r) {
        acc = F::add(acc, __ldg(base + mapIndex(p.folded, r)));
      }
    }
    p.y[o] = finish<Op>(acc, p.reduced);
  }
}

// One warp per output; lanes stride over the reduced index.
template <int32_t Op>
__global__ void __launch_bounds__(kThreads) reduceRowsWarp(const ReduceParams p) {
  using F = Fold<Op>;
  const int lane = threadIdx.x % 32;
  const int64_t warpStep = static_cast<int64_t>(gridDim.x) * kWarps;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32; o < p.outputs;
       o += warpStep) {
    const float* base = p.x + mapIndex(p.kept, o);
    typename F::Acc acc = F::identity();
    for (int64_t r = lane; r < p.reduced; r += 32) {
      acc = F::add(acc, __ldg(base + (p.innerReduced == 1 ? r : mapIndex(p.folded, r))));
    }
    acc = warpFold<Op>(acc);
    if (lane == 0) p.y[o] = finish<Op>(acc, p.reduced);
  }
}

// One block per output, for long rows.
template <int32_t Op>
__global__ void __launch_bounds__(kThreads) reduceRowsBlock(const ReduceParams p) {
  using F = Fold<Op>;
  using Acc = typename F::Acc;
  __shared__ Acc partial[kWarps];
  const int lane = threadIdx.x % 32;
  const int warp = threadIdx.x / 32;
  for (int64_t o = blockIdx.x; o < p.outputs; o += gridDim.x) {
    const float* base = p.x + mapIndex(p.kept, o);
    Acc acc = F::identity();
    for (int64_t r = threadIdx.x; r < p.reduced; r += kThreads) {
      acc = F::add(acc, __ldg(base + (p.innerReduced == 1 ? r : mapIndex(p.folded, r))));
    }
    acc = warpFold<Op>(acc);
    if (lane == 0) partial[warp] = acc;
    __syncthreads();
    if (warp == 0) {
      acc = lane < kWarps ? partial[lane] : F::identity();
      acc = warpFold<Op>(acc);
      if (lane == 0) p.y[o] = finish<Op>(acc, p.reduced);
    }
    __syncthreads();  // partial is reused by the next output
  }
}

template <int32_t Op>
void launchReduceOp(const ReduceParams& p, cudaStream_t stream) {
  // Contiguous rows: warps or blocks; otherwise neighbouring outputs are neighbouring inputs.
  if (p.innerReduced == 0 || p.reduced < 64) {
    reduceColumns<Op><<<gridFor(p.outputs, kThreads), kThreads, 0, stream>>>(p);
  } else if (p.reduced < 4096) {
    reduceRowsWarp<Op><<<gridFor(p.outputs, kWarps), kThreads, 0, stream>>>(p);
  } else {
    reduceRowsBlock<Op><<<gridFor(p.outputs, 1), kThreads, 0, stream>>>(p);
  }
}

// --- SoftMax -----------------------------------------------------------------------------------

__device__ float warpMax(float v) {
  for (int offset = 16; offset > 0; offset /= 2) {
    v = fmaxf(v, __shfl_xor_sync(kFullMask, v, offset));
  }
  return v;
}

__device__ float warpSum(float v) {
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(kFullMask, v, offset);
  return v;
}

// Block-wide fold of one value per thread; every thread gets the result. @p scratch holds one
// value per warp and may be reused once this returns.
template <bool IsMax>
__device__ float blockFold(float v, float* scratch) {
  const int lane = threadIdx.x % 32;
  const int warp = threadIdx.x / 32;
  v = IsMax ? warpMax(v) : warpSum(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float r = lane < kWarps ? scratch[lane] : (IsMax ? -INFINITY : 0.f);
  r = IsMax ? warpMax(r) : warpSum(r);
  __syncthreads();
  return r;
}

// One thread per (outer, inner) line of a strided axis.
__global__ void __launch_bounds__(kThreads) softmaxColumns(const SoftMaxParams p) {
  const int64_t lines = p.outer * p.inner;
  const int64_t gridStep = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t line = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; line < lines;
       line += gridStep) {
    const int64_t base = (line / p.inner) * p.n * p.inner + line % p.inner;
    const float* x = p.x + base;
    float* y = p.y + base;
    float max = -INFINITY;
    for (int64_t j = 0; j < p.n; ++j) max = fmaxf(max, __ldg(x + j * p.inner));
    float sum = 0.f;
    for (int64_t j = 0; j < p.n; ++j) sum += expf(__ldg(x + j * p.inner) - max);
    const float scale = 1.f / sum;
    for (int64_t j = 0; j < p.n; ++j) y[j * p.inner] = expf(__ldg(x + j * p.inner) - max) * scale;
  }
}

// One warp per contiguous row.
__global__ void __launch_bounds__(kThreads) softmaxRowsWarp(const SoftMaxParams p) {
  const int lane = threadIdx.x % 32;
  const int64_t warpStep = static_cast<int64_t>(gridDim.x) * kWarps;
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32; row < p.outer;
       row += warpStep) {
    const float* x = p.x + row * p.n;
    float* y = p.y + row * p.n;
    float max = -INFINITY;
    for (int64_t j = lane; j < p.n; j += 32) max = fmaxf(max, __ldg(x + j));
    max = warpMax(max);
    float sum = 0.f;
    for (int64_t j = lane; j < p.n; j += 32) sum += expf(__ldg(x + j) - max);
    sum = warpSum(sum);
    const float scale = 1.f / sum;
    for (int64_t j = lane; j < p.n; j += 32) y[j] = expf(__ldg(x + j) - max) * scale;
  }
}

// One block per long contiguous row.
__global__ void __launch_bounds__(kThreads) softmaxRowsBlock(const SoftMaxParams p) {
  __shared__ float scratch[kWarps];
  for (int64_t row = blockIdx.x; row < p.outer; row += gridDim.x) {
    const float* x = p.x + row * p.n;
    float* y = p.y + row * p.n;
    float max = -INFINITY;
    for (int64_t j = threadIdx.x; j < p.n; j += kThreads) max = fmaxf(max, __ldg(x + j));
    max = blockFold<true>(max, scratch);
    float sum = 0.f;
    for (int64_t j = threadIdx.x; j < p.n; j += kThreads) sum += expf(__ldg(x + j) - max);
    sum = blockFold<false>(sum, scratch);
    const float scale = 1.f / sum;
    for (int64_t j = threadIdx.x; j < p.n; j += kThreads) y[j] = expf(__ldg(x + j) - max) * scale;
  }
}

// --- LayerNorm ---------------------------------------------------------------------------------

__device__ void normalizeRow(const LayerNormParams& p, const float* x, float* y, float mean,
                             float rstd, int64_t first, int64_t step) {
  for (int64_t j = first; j < p.inner; j += step) {
    float v = (__ldg(x + j) - mean) * rstd;
    if (p.gamma != nullptr) v *= __ldg(p.gamma + j);
    if (p.beta != nullptr) v += __ldg(p.beta + j);
    y[j] = v;
  }
}

__global__ void __launch_bounds__(kThreads) layerNormWarp(const LayerNormParams p) {
  const int lane = threadIdx.x % 32;
  const int64_t warpStep = static_cast<int64_t>(gridDim.x) * kWarps;
  const float count = static_cast<float>(p.inner);
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32; row < p.rows;
       row += warpStep) {
    const float* x = p.x + row * p.inner;
    float sum = 0.f;
    for (int64_t j = lane; j < p.inner; j += 32) sum += __ldg(x + j);
    const float mean = warpSum(sum) / count;
    float squares = 0.f;
    for (int64_t j = lane; j < p.inner; j += 32) {
      const float d = __ldg(x + j) - mean;
      squares += d * d;
    }
    const float rstd = 1.f / sqrtf(warpSum(squares) / count + p.epsilon);
    normalizeRow(p, x, p.y + row * p.inner, mean, rstd, lane, 32);
  }
}

__global__ void __launch_bounds__(kThreads) layerNormBlock(const LayerNormParams p) {
  __shared__ float scratch[kWarps];
  const float count = static_cast<float>(p.inner);
  for (int64_t row = blockIdx.x; row < p.rows; row += gridDim.x) {
    const float* x = p.x + row * p.inner;
    float sum = 0.f;
    for (int64_t j = threadIdx.x; j < p.inner; j += kThreads) sum += __ldg(x + j);
    const float mean = blockFold<false>(sum, scratch) / count;
    float squares = 0.f;
    for (int64_t j = threadIdx.x; j < p.inner; j += kThreads) {
      const float d = __ldg(x + j) - mean;
      squares += d * d;
    }
    const float rstd = 1.f / sqrtf(blockFold<false>(squares, scratch) / count + p.epsilon);
    normalizeRow(p, x, p.y + row * p.inner, mean, rstd, threadIdx.x, kThreads);
  }
}

}  // namespace

void launchReduce(const ReduceParams& params, void* stream) {
  if (params.outputs <= 0) return;
  const auto s = static_cast<cudaStream_t>(stream);
  switch (params.op) {
    case kSum:
      launchReduceOp<kSum>(params, s);
      break;
    case kProd:
      launchReduceOp<kProd>(params, s);
      break;
    case kMax:
      launchReduceOp<kMax>(params, s);
      break;
    case kMin:
      launchReduceOp<kMin>(params, s);
      break;
    case kAvg:
      launchReduceOp<kAvg>(params, s);
      break;
    default:
      fail(ErrorCode::kINTERNAL_ERROR, "reduce kernel: unknown operation ", params.op);
  }
  checkLaunch("reduce kernel");
}

void launchSoftMax(const SoftMaxParams& params, void* stream) {
  if (params.outer <= 0 || params.n <= 0 || params.inner <= 0) return;
  const auto s = static_cast<cudaStream_t>(stream);
  if (params.inner != 1) {
    softmaxColumns<<<gridFor(params.outer * params.inner, kThreads), kThreads, 0, s>>>(params);
  } else if (params.n <= 1024) {
    softmaxRowsWarp<<<gridFor(params.outer, kWarps), kThreads, 0, s>>>(params);
  } else {
    softmaxRowsBlock<<<gridFor(params.outer, 1), kThreads, 0, s>>>(params);
  }
  checkLaunch("softmax kernel");
}

void launchLayerNorm(const LayerNormParams& params, void* stream) {
  if (params.rows <= 0 || params.inner <= 0) return;
  const auto s = static_cast<cudaStream_t>(stream);
  if (params.inner <= 1024) {
    layerNormWarp<<<gridFor(params.rows, kWarps), kThreads, 0, s>>>(params);
  } else {
    layerNormBlock<<<gridFor(params.rows, 1), kThreads, 0, s>>>(params);
  }
  checkLaunch("layer norm kernel");
}

}  // namespace kiln::backends::cuda::kernels
