// Reductions (cuda_kernels.h): Reduce, SoftMax and LayerNorm.
//
// Where the reduced elements are contiguous, a warp (short rows) or a block (long rows) folds
// each row with shuffles; otherwise one thread folds each output, so that neighbouring threads
// read neighbouring addresses. Sums and products accumulate in double like the reference;
// SoftMax and LayerNorm accumulate in float (rows of at most a few thousand, well inside the
// tests' tolerance). Half and bfloat16 tensors are widened as they are read, so no partial sum,
// maximum or variance is ever held in 16 bits; only outputs are rounded to the element type.
#include <cuda_runtime.h>

#include <cstdint>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/float_elements.cuh"

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
template <int32_t Op, typename T>
__global__ void __launch_bounds__(kThreads) reduceColumns(const ReduceParams p) {
  using F = Fold<Op>;
  const int64_t gridStep = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < p.outputs;
       o += gridStep) {
    const T* base = static_cast<const T*>(p.x) + mapIndex(p.kept, o);
    typename F::Acc acc = F::identity();
    if (p.folded.rank == 1) {
      const int64_t stride = p.folded.stride[0];
      for (int64_t r = 0; r < p.reduced; ++r) acc = F::add(acc, loadFloat(base, r * stride));
    } else {
      for (int64_t r = 0; r < p.reduced; ++r) {
        acc = F::add(acc, loadFloat(base, mapIndex(p.folded, r)));
      }
    }
    storeFloat(static_cast<T*>(p.y), o, finish<Op>(acc, p.reduced));
  }
}

// One warp per output; lanes stride over the reduced index.
template <int32_t Op, typename T>
__global__ void __launch_bounds__(kThreads) reduceRowsWarp(const ReduceParams p) {
  using F = Fold<Op>;
  const int lane = threadIdx.x % 32;
  const int64_t warpStep = static_cast<int64_t>(gridDim.x) * kWarps;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32; o < p.outputs;
       o += warpStep) {
    const T* base = static_cast<const T*>(p.x) + mapIndex(p.kept, o);
    typename F::Acc acc = F::identity();
    for (int64_t r = lane; r < p.reduced; r += 32) {
      acc = F::add(acc, loadFloat(base, p.innerReduced == 1 ? r : mapIndex(p.folded, r)));
    }
    acc = warpFold<Op>(acc);
    if (lane == 0) storeFloat(static_cast<T*>(p.y), o, finish<Op>(acc, p.reduced));
  }
}

// One block per output, for long rows.
template <int32_t Op, typename T>
__global__ void __launch_bounds__(kThreads) reduceRowsBlock(const ReduceParams p) {
  using F = Fold<Op>;
  using Acc = typename F::Acc;
  __shared__ Acc partial[kWarps];
  const int lane = threadIdx.x % 32;
  const int warp = threadIdx.x / 32;
  for (int64_t o = blockIdx.x; o < p.outputs; o += gridDim.x) {
    const T* base = static_cast<const T*>(p.x) + mapIndex(p.kept, o);
    Acc acc = F::identity();
    for (int64_t r = threadIdx.x; r < p.reduced; r += kThreads) {
      acc = F::add(acc, loadFloat(base, p.innerReduced == 1 ? r : mapIndex(p.folded, r)));
    }
    acc = warpFold<Op>(acc);
    if (lane == 0) partial[warp] = acc;
    __syncthreads();
    if (warp == 0) {
      acc = lane < kWarps ? partial[lane] : F::identity();
      acc = warpFold<Op>(acc);
      if (lane == 0) storeFloat(static_cast<T*>(p.y), o, finish<Op>(acc, p.reduced));
    }
    __syncthreads();  // partial is reused by the next output
  }
}

template <int32_t Op, typename T>
void launchReduceOp(const ReduceParams& p, cudaStream_t stream) {
  // Contiguous rows: warps or blocks; otherwise neighbouring outputs are neighbouring inputs.
  if (p.innerReduced == 0 || p.reduced < 64) {
    reduceColumns<Op, T><<<gridFor(p.outputs, kThreads), kThreads, 0, stream>>>(p);
  } else if (p.reduced < 4096) {
    reduceRowsWarp<Op, T><<<gridFor(p.outputs, kWarps), kThreads, 0, stream>>>(p);
  } else {
    reduceRowsBlock<Op, T><<<gridFor(p.outputs, 1), kThreads, 0, stream>>>(p);
  }
}

template <typename T>
void launchReduceAs(const ReduceParams& p, cudaStream_t stream) {
  switch (p.op) {
    case kSum:
      return launchReduceOp<kSum, T>(p, stream);
    case kProd:
      return launchReduceOp<kProd, T>(p, stream);
    case kMax:
      return launchReduceOp<kMax, T>(p, stream);
    case kMin:
      return launchReduceOp<kMin, T>(p, stream);
    case kAvg:
      return launchReduceOp<kAvg, T>(p, stream);
    default:
      fail(ErrorCode::kINTERNAL_ERROR, "reduce kernel: unknown operation ", p.op);
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
template <typename T>
__global__ void __launch_bounds__(kThreads) softmaxColumns(const SoftMaxParams p) {
  const int64_t lines = p.outer * p.inner;
  const int64_t gridStep = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t line = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; line < lines;
       line += gridStep) {
    const int64_t base = (line / p.inner) * p.n * p.inner + line % p.inner;
    const T* x = static_cast<const T*>(p.x) + base;
    T* y = static_cast<T*>(p.y) + base;
    float max = -INFINITY;
    for (int64_t j = 0; j < p.n; ++j) max = fmaxf(max, loadFloat(x, j * p.inner));
    float sum = 0.f;
    for (int64_t j = 0; j < p.n; ++j) sum += expf(loadFloat(x, j * p.inner) - max);
    const float scale = 1.f / sum;
    for (int64_t j = 0; j < p.n; ++j) {
      storeFloat(y, j * p.inner, expf(loadFloat(x, j * p.inner) - max) * scale);
    }
  }
}

// One warp per contiguous row.
template <typename T>
__global__ void __launch_bounds__(kThreads) softmaxRowsWarp(const SoftMaxParams p) {
  const int lane = threadIdx.x % 32;
  const int64_t warpStep = static_cast<int64_t>(gridDim.x) * kWarps;
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32; row < p.outer;
       row += warpStep) {
    const T* x = static_cast<const T*>(p.x) + row * p.n;
    T* y = static_cast<T*>(p.y) + row * p.n;
    float max = -INFINITY;
    for (int64_t j = lane; j < p.n; j += 32) max = fmaxf(max, loadFloat(x, j));
    max = warpMax(max);
    float sum = 0.f;
    for (int64_t j = lane; j < p.n; j += 32) sum += expf(loadFloat(x, j) - max);
    sum = warpSum(sum);
    const float scale = 1.f / sum;
    for (int64_t j = lane; j < p.n; j += 32) storeFloat(y, j, expf(loadFloat(x, j) - max) * scale);
  }
}

// One block per long contiguous row.
template <typename T>
__global__ void __launch_bounds__(kThreads) softmaxRowsBlock(const SoftMaxParams p) {
  __shared__ float scratch[kWarps];
  for (int64_t row = blockIdx.x; row < p.outer; row += gridDim.x) {
    const T* x = static_cast<const T*>(p.x) + row * p.n;
    T* y = static_cast<T*>(p.y) + row * p.n;
    float max = -INFINITY;
    for (int64_t j = threadIdx.x; j < p.n; j += kThreads) max = fmaxf(max, loadFloat(x, j));
    max = blockFold<true>(max, scratch);
    float sum = 0.f;
    for (int64_t j = threadIdx.x; j < p.n; j += kThreads) sum += expf(loadFloat(x, j) - max);
    sum = blockFold<false>(sum, scratch);
    const float scale = 1.f / sum;
    for (int64_t j = threadIdx.x; j < p.n; j += kThreads) {
      storeFloat(y, j, expf(loadFloat(x, j) - max) * scale);
    }
  }
}

// --- LayerNorm ---------------------------------------------------------------------------------

template <typename T>
__device__ void normalizeRow(const LayerNormParams& p, const T* x, T* y, float mean, float rstd,
                             int64_t first, int64_t step) {
  const auto* gamma = static_cast<const T*>(p.gamma);
  const auto* beta = static_cast<const T*>(p.beta);
  for (int64_t j = first; j < p.inner; j += step) {
    float v = (loadFloat(x, j) - mean) * rstd;
    if (gamma != nullptr) v *= loadFloat(gamma, j);
    if (beta != nullptr) v += loadFloat(beta, j);
    storeFloat(y, j, v);
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads) layerNormWarp(const LayerNormParams p) {
  const int lane = threadIdx.x % 32;
  const int64_t warpStep = static_cast<int64_t>(gridDim.x) * kWarps;
  const float count = static_cast<float>(p.inner);
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32; row < p.rows;
       row += warpStep) {
    const T* x = static_cast<const T*>(p.x) + row * p.inner;
    float sum = 0.f;
    for (int64_t j = lane; j < p.inner; j += 32) sum += loadFloat(x, j);
    const float mean = warpSum(sum) / count;
    float squares = 0.f;
    for (int64_t j = lane; j < p.inner; j += 32) {
      const float d = loadFloat(x, j) - mean;
      squares += d * d;
    }
    const float rstd = 1.f / sqrtf(warpSum(squares) / count + p.epsilon);
    normalizeRow(p, x, static_cast<T*>(p.y) + row * p.inner, mean, rstd, lane, 32);
  }
}

// One warp per row that fits in its registers: each lane reads its share of the row once, as
// 16-byte words (Words per lane at most), and the mean, the variance and the normalized values
// all come from registers — one read of x instead of three.
template <typename T, int Words>
__global__ void __launch_bounds__(kThreads) layerNormRegisters(const LayerNormParams p) {
  constexpr int kPerWord = 16 / sizeof(T);
  const int lane = threadIdx.x % 32;
  const int64_t warpStep = static_cast<int64_t>(gridDim.x) * kWarps;
  const int rowWords = static_cast<int>(p.inner / kPerWord);
  const float count = static_cast<float>(p.inner);
  const auto* gamma = static_cast<const uint4*>(p.gamma);
  const auto* beta = static_cast<const uint4*>(p.beta);
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32; row < p.rows;
       row += warpStep) {
    const auto* x = static_cast<const uint4*>(p.x) + row * rowWords;
    float v[Words][kPerWord];
    float sum = 0.f;
#pragma unroll
    for (int w = 0; w < Words; ++w) {
      const int word = lane + 32 * w;
      uint4 raw = make_uint4(0, 0, 0, 0);
      if (word < rowWords) raw = x[word];
      const T* e = reinterpret_cast<const T*>(&raw);
#pragma unroll
      for (int i = 0; i < kPerWord; ++i) {
        v[w][i] = toFloat(e[i]);
        sum += v[w][i];
      }
    }
    const float mean = warpSum(sum) / count;
    float squares = 0.f;
#pragma unroll
    for (int w = 0; w < Words; ++w) {
      if (lane + 32 * w >= rowWords) continue;
#pragma unroll
      for (int i = 0; i < kPerWord; ++i) {
        const float d = v[w][i] - mean;
        squares += d * d;
      }
    }
    const float rstd = 1.f / sqrtf(warpSum(squares) / count + p.epsilon);
    auto* y = static_cast<uint4*>(p.y) + row * rowWords;
#pragma unroll
    for (int w = 0; w < Words; ++w) {
      const int word = lane + 32 * w;
      if (word >= rowWords) continue;
      uint4 g = make_uint4(0, 0, 0, 0);
      uint4 b = make_uint4(0, 0, 0, 0);
      if (gamma != nullptr) g = gamma[word];
      if (beta != nullptr) b = beta[word];
      const T* ge = reinterpret_cast<const T*>(&g);
      const T* be = reinterpret_cast<const T*>(&b);
      uint4 out;
      T* oe = reinterpret_cast<T*>(&out);
#pragma unroll
      for (int i = 0; i < kPerWord; ++i) {
        float r = (v[w][i] - mean) * rstd;
        if (gamma != nullptr) r *= toFloat(ge[i]);
        if (beta != nullptr) r += toFloat(be[i]);
        oe[i] = fromFloat<T>(r);
      }
      y[word] = out;
    }
  }
}

// Launches layerNormRegisters with the fewest words per lane that hold a row; false when a row
// is not whole 16-byte words, a pointer is not 16-byte aligned, or a row needs more than 8.
template <typename T>
bool launchLayerNormRegisters(const LayerNormParams& p, cudaStream_t s) {
  constexpr int64_t kPerWord = 16 / sizeof(T);
  const auto aligned = [](const void* q) { return reinterpret_cast<uintptr_t>(q) % 16 == 0; };
  if (p.inner % kPerWord != 0 || !aligned(p.x) || !aligned(p.y) || !aligned(p.gamma) ||
      !aligned(p.beta)) {
    return false;
  }
  const int64_t perLane = (p.inner / kPerWord + 31) / 32;
  const unsigned grid = gridFor(p.rows, kWarps);
  if (perLane <= 1) {
    layerNormRegisters<T, 1><<<grid, kThreads, 0, s>>>(p);
  } else if (perLane <= 2) {
    layerNormRegisters<T, 2><<<grid, kThreads, 0, s>>>(p);
  } else if (perLane <= 4) {
    layerNormRegisters<T, 4><<<grid, kThreads, 0, s>>>(p);
  } else if (perLane <= 8) {
    layerNormRegisters<T, 8><<<grid, kThreads, 0, s>>>(p);
  } else {
    return false;
  }
  return true;
}

template <typename T>
__global__ void __launch_bounds__(kThreads) layerNormBlock(const LayerNormParams p) {
  __shared__ float scratch[kWarps];
  const float count = static_cast<float>(p.inner);
  for (int64_t row = blockIdx.x; row < p.rows; row += gridDim.x) {
    const T* x = static_cast<const T*>(p.x) + row * p.inner;
    float sum = 0.f;
    for (int64_t j = threadIdx.x; j < p.inner; j += kThreads) sum += loadFloat(x, j);
    const float mean = blockFold<false>(sum, scratch) / count;
    float squares = 0.f;
    for (int64_t j = threadIdx.x; j < p.inner; j += kThreads) {
      const float d = loadFloat(x, j) - mean;
      squares += d * d;
    }
    const float rstd = 1.f / sqrtf(blockFold<false>(squares, scratch) / count + p.epsilon);
    normalizeRow(p, x, static_cast<T*>(p.y) + row * p.inner, mean, rstd, threadIdx.x, kThreads);
  }
}

}  // namespace

void launchReduce(const ReduceParams& params, void* stream) {
  if (params.outputs <= 0) return;
  const auto s = static_cast<cudaStream_t>(stream);
  withFloatElements(params.dtype, "reduce kernel",
                    [&](auto element) { launchReduceAs<decltype(element)>(params, s); });
  checkLaunch("reduce kernel");
}

void launchSoftMax(const SoftMaxParams& params, void* stream) {
  if (params.outer <= 0 || params.n <= 0 || params.inner <= 0) return;
  const auto s = static_cast<cudaStream_t>(stream);
  withFloatElements(params.dtype, "softmax kernel", [&](auto element) {
    using T = decltype(element);
    if (params.inner != 1) {
      softmaxColumns<T><<<gridFor(params.outer * params.inner, kThreads), kThreads, 0, s>>>(params);
    } else if (params.n <= 1024) {
      softmaxRowsWarp<T><<<gridFor(params.outer, kWarps), kThreads, 0, s>>>(params);
    } else {
      softmaxRowsBlock<T><<<gridFor(params.outer, 1), kThreads, 0, s>>>(params);
    }
  });
  checkLaunch("softmax kernel");
}

void launchLayerNorm(const LayerNormParams& params, void* stream) {
  if (params.rows <= 0 || params.inner <= 0) return;
  const auto s = static_cast<cudaStream_t>(stream);
  withFloatElements(params.dtype, "layer norm kernel", [&](auto element) {
    using T = decltype(element);
    if (launchLayerNormRegisters<T>(params, s)) return;
    if (params.inner <= 1024) {
      layerNormWarp<T><<<gridFor(params.rows, kWarps), kThreads, 0, s>>>(params);
    } else {
      layerNormBlock<T><<<gridFor(params.rows, 1), kThreads, 0, s>>>(params);
    }
  });
  checkLaunch("layer norm kernel");
}

}  // namespace kiln::backends::cuda::kernels
