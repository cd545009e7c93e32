// Data-movement kernels (cuda_kernels.h): strided copies (Shuffle, Slice), Concatenation rows,
// Gather along an axis and Identity's casts. They move elements as unsigned words of the
// element's size (or wider words where the tactic found rows aligned for them), so 2-byte
// float16 and bfloat16 elements move as uint16_t.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/float_elements.cuh"

namespace kiln::backends::cuda::kernels {

namespace {

constexpr int kThreads = 256;

unsigned gridFor(int64_t count) {
  const int64_t blocks = (count + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 65536 ? blocks : 65536);
}

template <typename Index>
__device__ Index mapIndex(const IndexMap& map, Index index) {
  Index offset = 0;
  for (int32_t d = map.rank - 1; d > 0; --d) {
    const auto extent = static_cast<Index>(map.extent[d]);
    offset += (index % extent) * static_cast<Index>(map.stride[d]);
    index /= extent;
  }
  if (map.rank > 0) offset += index * static_cast<Index>(map.stride[0]);
  return offset;
}

// --- strided copy ------------------------------------------------------------------------------

// Index is int32_t when every index and offset fits (32-bit division is several times cheaper);
// strides may be negative (a Slice walking backwards).
template <typename T, typename Index>
__global__ void __launch_bounds__(kThreads) stridedCopy(const StridedCopyParams p) {
  const T* x = static_cast<const T*>(p.x);
  T* y = static_cast<T*>(p.y);
  const auto count = static_cast<Index>(p.count);
  const Index gridStep = static_cast<Index>(gridDim.x) * static_cast<Index>(blockDim.x);
  for (Index o = static_cast<Index>(blockIdx.x) * static_cast<Index>(blockDim.x) +
                 static_cast<Index>(threadIdx.x);
       o < count; o += gridStep) {
    Index offset = static_cast<Index>(p.base) + mapIndex<Index>(p.first, o);
    if (p.levels == 2) offset = mapIndex<Index>(p.second, offset);
    y[o] = x[offset];
  }
}

template <typename T>
void launchStridedCopyAs(const StridedCopyParams& p, unsigned grid, cudaStream_t stream) {
  if (p.count <= INT32_MAX && p.inputCount <= INT32_MAX) {
    stridedCopy<T, int32_t><<<grid, kThreads, 0, stream>>>(p);
  } else {
    stridedCopy<T, int64_t><<<grid, kThreads, 0, stream>>>(p);
  }
}

// A copy whose map is a batched 2-d transpose — out[n][i][j] = in[n][j][i], the layout changes
// NCHW <-> NHWC — goes through shared-memory tiles, so that both the reads and the writes are
// coalesced (the element-wise copy reads with a stride of a whole plane).
constexpr int kTile = 32;
constexpr int kTileRows = 8;

template <typename T>
__global__ void __launch_bounds__(kTile* kTileRows)
    transposeTiles(const T* x, T* y, int64_t rows, int64_t cols) {
  __shared__ T tile[kTile][kTile + 1];
  const int64_t plane = static_cast<int64_t>(blockIdx.z) * rows * cols;
  const T* xp = x + plane;
  T* yp = y + plane;
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kTile + threadIdx.x;
  const int64_t r0 = static_cast<int64_t>(blockIdx.y) * kTile;
  for (int k = threadIdx.y; k < kTile; k += kTileRows) {
    if (r0 + k < rows && c < cols) tile[k][threadIdx.x] = xp[(r0 + k) * cols + c];
  }
  __syncthreads();
  const int64_t j = r0 + threadIdx.x;
  for (int k = threadIdx.y; k < kTile; k += kTileRows) {
    const int64_t i = static_cast<int64_t>(blockIdx.x) * kTile + k;
    if (i < cols && j < rows) yp[i * rows + j] = tile[threadIdx.x][k];
  }
}

// The batch, rows and columns of the input planes when @p p is a batched transpose.
bool batchedTranspose(const StridedCopyParams& p, int64_t& batch, int64_t& rows, int64_t& cols) {
  const IndexMap& m = p.first;
  if (p.levels != 1 || p.base != 0 || (m.rank != 2 && m.rank != 3)) return false;
  const int32_t o = m.rank - 2;  // the inner two loops
  cols = m.extent[o];
  rows = m.extent[o + 1];
  if (m.stride[o] != 1 || m.stride[o + 1] != cols) return false;
  batch = m.rank == 3 ? m.extent[0] : 1;
  if (m.rank == 3 && m.stride[0] != rows * cols) return false;
  return batch <= 65535 && (rows + kTile - 1) / kTile <= 65535;
}

template <typename T>
void launchTransposeAs(const StridedCopyParams& p, int64_t batch, int64_t rows, int64_t cols,
                       cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>((cols + kTile - 1) / kTile),
                  static_cast<unsigned>((rows + kTile - 1) / kTile), static_cast<unsigned>(batch));
  transposeTiles<T><<<grid, dim3(kTile, kTileRows), 0, stream>>>(static_cast<const T*>(p.x),
                                                                 static_cast<T*>(p.y), rows, cols);
}

// --- concatenation -----------------------------------------------------------------------------

template <typename T>
__global__ void __launch_bounds__(kThreads)
    concatCopy(const T* x, T* y, int64_t rows, int64_t rowUnits, int64_t pitchUnits) {
  const int64_t count = rows * rowUnits;
  const int64_t gridStep = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += gridStep) {
    const int64_t row = i / rowUnits;
    y[row * pitchUnits + (i - row * rowUnits)] = x[i];
  }
}

template <typename T>
void launchConcatAs(const ConcatCopyParams& p, cudaStream_t stream) {
  const auto w = static_cast<int64_t>(sizeof(T));
  const int64_t rowUnits = p.rowBytes / w;
  concatCopy<T><<<gridFor(p.rows * rowUnits), kThreads, 0, stream>>>(
      static_cast<const T*>(p.x), reinterpret_cast<T*>(static_cast<char*>(p.y) + p.offsetBytes),
      p.rows, rowUnits, p.pitchBytes / w);
}

// --- gather ------------------------------------------------------------------------------------

template <typename T, typename I>
__global__ void __launch_bounds__(kThreads) gather(const GatherParams p) {
  const T* data = static_cast<const T*>(p.data);
  const I* indices = static_cast<const I*>(p.indices);
  T* y = static_cast<T*>(p.y);
  const int64_t count = p.batches * p.outer * p.gathers * p.slice;
  const int64_t gridStep = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < count;
       o += gridStep) {
    const int64_t s = o % p.slice;
    int64_t rest = o / p.slice;
    const int64_t j = rest % p.gathers;
    rest /= p.gathers;
    const int64_t outer = rest % p.outer;
    const int64_t b = rest / p.outer;
    int64_t k = static_cast<int64_t>(indices[b * p.gathers + j]);
    if (k < 0) k += p.n;
    if (k < 0 || k >= p.n) {
      y[o] = T{};
    } else {
      y[o] = data[((b * p.outer + outer) * p.n + k) * p.slice + s];
    }
  }
}

template <typename T>
void launchGatherAs(const GatherParams& p, cudaStream_t stream) {
  const int64_t count = p.batches * p.outer * p.gathers * p.slice;
  if (p.indexBytes == 8) {
    gather<T, int64_t><<<gridFor(count), kThreads, 0, stream>>>(p);
  } else {
    gather<T, int32_t><<<gridFor(count), kThreads, 0, stream>>>(p);
  }
}

// --- cast --------------------------------------------------------------------------------------

// DataType values.
constexpr int32_t kFloat = kFloatElements;
constexpr int32_t kHalf = kHalfElements;
constexpr int32_t kBFloat16 = kBFloat16Elements;
constexpr int32_t kInt8 = 2;
constexpr int32_t kInt32 = 3;
constexpr int32_t kBool = 4;
constexpr int32_t kUint8 = 5;
constexpr int32_t kInt64 = 8;

// Float to integer: truncate toward zero, saturate, NaN gives 0 (ops::convertElements).
template <typename T>
__device__ T saturateFloat(double v, double lo, double hi) {
  if (isnan(v)) return T{0};
  const double t = trunc(v);
  if (t >= hi) return static_cast<T>(hi);
  if (t <= lo) return static_cast<T>(lo);
  return static_cast<T>(t);
}

template <typename T>
__device__ T saturateInt(int64_t v, int64_t lo, int64_t hi) {
  return static_cast<T>(v > hi ? hi : (v < lo ? lo : v));
}

// Values go to float16 and bfloat16 through float32, as the reference rounds them. False where
// @p to is not a floating-point type.
__device__ bool storeAsFloat(float v, int32_t to, void* y, int64_t i) {
  switch (to) {
    case kFloat:
      static_cast<float*>(y)[i] = v;
      return true;
    case kHalf:
      storeFloat(static_cast<__half*>(y), i, v);
      return true;
    case kBFloat16:
      storeFloat(static_cast<__nv_bfloat16*>(y), i, v);
      return true;
    default:
      return false;
  }
}

__device__ void storeFloating(double v, int32_t to, void* y, int64_t i) {
  if (storeAsFloat(static_cast<float>(v), to, y, i)) return;
  switch (to) {
    case kBool:
      static_cast<uint8_t*>(y)[i] = v != 0.0 ? 1 : 0;
      return;
    case kInt8:
      static_cast<int8_t*>(y)[i] = saturateFloat<int8_t>(v, -128.0, 127.0);
      return;
    case kUint8:
      static_cast<uint8_t*>(y)[i] = saturateFloat<uint8_t>(v, 0.0, 255.0);
      return;
    case kInt32:
      static_cast<int32_t*>(y)[i] = saturateFloat<int32_t>(v, -2147483648.0, 2147483647.0);
      return;
    case kInt64: {
      // 2^63 is not an int64: >= it saturates to the maximum explicitly.
      if (isnan(v)) {
        static_cast<int64_t*>(y)[i] = 0;
      } else {
        const double t = trunc(v);
        static_cast<int64_t*>(y)[i] = t >= 9223372036854775808.0    ? INT64_MAX
                                      : t <= -9223372036854775808.0 ? INT64_MIN
                                                                    : static_cast<int64_t>(t);
      }
      return;
    }
    default:
      return;
  }
}

__device__ void storeInteger(int64_t v, int32_t to, void* y, int64_t i) {
  if (storeAsFloat(static_cast<float>(v), to, y, i)) return;
  switch (to) {
    case kBool:
      static_cast<uint8_t*>(y)[i] = v != 0 ? 1 : 0;
      return;
    case kInt8:
      static_cast<int8_t*>(y)[i] = saturateInt<int8_t>(v, -128, 127);
      return;
    case kUint8:
      static_cast<uint8_t*>(y)[i] = saturateInt<uint8_t>(v, 0, 255);
      return;
    case kInt32:
      static_cast<int32_t*>(y)[i] = saturateInt<int32_t>(v, INT32_MIN, INT32_MAX);
      return;
    case kInt64:
      static_cast<int64_t*>(y)[i] = v;
      return;
    default:
      return;
  }
}

__global__ void __launch_bounds__(kThreads) cast(const CastParams p) {
  const int64_t gridStep = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < p.count;
       i += gridStep) {
    switch (p.from) {
      case kFloat:
        storeFloating(static_cast<const float*>(p.x)[i], p.to, p.y, i);
        break;
      case kHalf:
        storeFloating(toFloat(static_cast<const __half*>(p.x)[i]), p.to, p.y, i);
        break;
      case kBFloat16:
        storeFloating(toFloat(static_cast<const __nv_bfloat16*>(p.x)[i]), p.to, p.y, i);
        break;
      case kBool:
        storeInteger(static_cast<const uint8_t*>(p.x)[i] != 0 ? 1 : 0, p.to, p.y, i);
        break;
      case kInt8:
        storeInteger(static_cast<const int8_t*>(p.x)[i], p.to, p.y, i);
        break;
      case kUint8:
        storeInteger(static_cast<const uint8_t*>(p.x)[i], p.to, p.y, i);
        break;
      case kInt32:
        storeInteger(static_cast<const int32_t*>(p.x)[i], p.to, p.y, i);
        break;
      case kInt64:
        storeInteger(static_cast<const int64_t*>(p.x)[i], p.to, p.y, i);
        break;
      default:
        break;
    }
  }
}

// Casts between float types (the precision pass's boundaries): four elements per thread, read
// and written as one aligned word each; the launcher checks both addresses' alignment.
template <typename T>
struct alignas(4 * sizeof(T)) Quad {
  T v[4];
};

template <typename From, typename To>
__global__ void __launch_bounds__(kThreads) castFloats(const From* x, To* y, int64_t count) {
  const int64_t quads = count / 4;
  const int64_t gridStep = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const auto* xq = reinterpret_cast<const Quad<From>*>(x);
  auto* yq = reinterpret_cast<Quad<To>*>(y);
  for (int64_t q = first; q < quads; q += gridStep) {
    const Quad<From> a = xq[q];
    Quad<To> b;
#pragma unroll
    for (int k = 0; k < 4; ++k) b.v[k] = fromFloat<To>(toFloat(a.v[k]));
    yq[q] = b;
  }
  for (int64_t i = quads * 4 + first; i < count; i += gridStep) {
    y[i] = fromFloat<To>(toFloat(x[i]));
  }
}

// Launches castFloats when both types are float types and the addresses allow whole quads;
// false when the general kernel must run.
bool launchCastFloats(const CastParams& p, cudaStream_t stream) {
  if (!isKernelFloat(p.from) || !isKernelFloat(p.to)) return false;
  const auto aligned = [](const void* ptr, int32_t type) {
    const uintptr_t quad = type == kFloat ? 16 : 8;
    return reinterpret_cast<uintptr_t>(ptr) % quad == 0;
  };
  if (!aligned(p.x, p.from) || !aligned(p.y, p.to)) return false;
  const int64_t quads = p.count / 4;
  const unsigned grid = gridFor(quads > 0 ? quads : p.count);
  withFloatElements(p.from, "cast kernel", [&](auto fromElement) {
    withFloatElements(p.to, "cast kernel", [&](auto toElement) {
      using From = decltype(fromElement);
      using To = decltype(toElement);
      castFloats<From, To><<<grid, kThreads, 0, stream>>>(static_cast<const From*>(p.x),
                                                          static_cast<To*>(p.y), p.count);
    });
  });
  return true;
}

// --- PadToChannelsLast ------------------------------------------------------------------------

// Word: the unit a pixel's channels are written in (uint4, uint2, or T itself).
template <typename T, typename Word>
__global__ void padChannels(const PadChannelsParams p) {
  constexpr int kPerWord = sizeof(Word) / sizeof(T);
  const int64_t pixels = p.n * p.plane;
  const bool words = p.channels % kPerWord == 0;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t pixel = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; pixel < pixels;
       pixel += step) {
    const int64_t image = pixel / p.plane;
    const T* x = static_cast<const T*>(p.x) + image * p.c * p.plane + (pixel - image * p.plane);
    T* y = static_cast<T*>(p.y) + pixel * p.channels;
    if (words) {
      for (int64_t c0 = 0; c0 < p.channels; c0 += kPerWord) {
        Word word;
        T* e = reinterpret_cast<T*>(&word);
#pragma unroll
        for (int i = 0; i < kPerWord; ++i) e[i] = c0 + i < p.c ? x[(c0 + i) * p.plane] : T{0};
        *reinterpret_cast<Word*>(y + c0) = word;
      }
    } else {
      for (int64_t c = 0; c < p.channels; ++c) y[c] = c < p.c ? x[c * p.plane] : T{0};
    }
  }
}

}  // namespace

void launchPadChannels(const PadChannelsParams& params, void* stream) {
  const int64_t pixels = params.n * params.plane;
  if (pixels <= 0 || params.channels <= 0) return;
  const auto s = static_cast<cudaStream_t>(stream);
  // A pixel's channels as 16- or 8-byte words where they fill them, else element by element.
  const auto launch = [&](auto element) {
    using T = decltype(element);
    const int64_t bytes = params.channels * static_cast<int64_t>(sizeof(T));
    if (bytes % 16 == 0) {
      padChannels<T, uint4><<<gridFor(pixels), kThreads, 0, s>>>(params);
    } else if (bytes % 8 == 0) {
      padChannels<T, uint2><<<gridFor(pixels), kThreads, 0, s>>>(params);
    } else {
      padChannels<T, T><<<gridFor(pixels), kThreads, 0, s>>>(params);
    }
  };
  switch (params.elementBytes) {
    case 1:
      launch(uint8_t{});
      break;
    case 2:
      launch(uint16_t{});
      break;
    case 4:
      launch(uint32_t{});
      break;
    default:
      launch(uint64_t{});
      break;
  }
  checkLaunch("channels-last padding kernel");
}

void launchStridedCopy(const StridedCopyParams& params, void* stream) {
  if (params.count <= 0) return;
  const auto s = static_cast<cudaStream_t>(stream);
  int64_t batch = 0, rows = 0, cols = 0;
  if ((params.elementBytes == 2 || params.elementBytes == 4) &&
      batchedTranspose(params, batch, rows, cols)) {
    if (params.elementBytes == 2) {
      launchTransposeAs<uint16_t>(params, batch, rows, cols, s);
    } else {
      launchTransposeAs<uint32_t>(params, batch, rows, cols, s);
    }
    checkLaunch("transpose kernel");
    return;
  }
  const unsigned grid = gridFor(params.count);
  switch (params.elementBytes) {
    case 1:
      launchStridedCopyAs<uint8_t>(params, grid, s);
      break;
    case 2:
      launchStridedCopyAs<uint16_t>(params, grid, s);
      break;
    case 4:
      launchStridedCopyAs<uint32_t>(params, grid, s);
      break;
    case 8:
      launchStridedCopyAs<uint64_t>(params, grid, s);
      break;
    case 16:
      launchStridedCopyAs<uint4>(params, grid, s);
      break;
    default:
      fail(ErrorCode::kINTERNAL_ERROR, "strided copy: element size ", params.elementBytes);
  }
  checkLaunch("strided copy kernel");
}

void launchConcatCopy(const ConcatCopyParams& p, void* stream) {
  if (p.rows <= 0 || p.rowBytes <= 0) return;
  const auto s = static_cast<cudaStream_t>(stream);
  // The widest word that divides every size and both addresses.
  const auto fits = [&](int64_t w) {
    return p.rowBytes % w == 0 && p.pitchBytes % w == 0 && p.offsetBytes % w == 0 &&
           reinterpret_cast<uintptr_t>(p.x) % w == 0 && reinterpret_cast<uintptr_t>(p.y) % w == 0;
  };
  if (fits(16)) {
    launchConcatAs<uint4>(p, s);
  } else if (fits(8)) {
    launchConcatAs<uint64_t>(p, s);
  } else if (fits(4)) {
    launchConcatAs<uint32_t>(p, s);
  } else if (fits(2)) {
    launchConcatAs<uint16_t>(p, s);
  } else {
    launchConcatAs<uint8_t>(p, s);
  }
  checkLaunch("concatenation kernel");
}

void launchGather(const GatherParams& params, void* stream) {
  if (params.batches * params.outer * params.gathers * params.slice <= 0) return;
  const auto s = static_cast<cudaStream_t>(stream);
  switch (params.elementBytes) {
    case 1:
      launchGatherAs<uint8_t>(params, s);
      break;
    case 2:
      launchGatherAs<uint16_t>(params, s);
      break;
    case 4:
      launchGatherAs<uint32_t>(params, s);
      break;
    case 8:
      launchGatherAs<uint64_t>(params, s);
      break;
    case 16:
      launchGatherAs<uint4>(params, s);
      break;
    default:
      fail(ErrorCode::kINTERNAL_ERROR, "gather: element size ", params.elementBytes);
  }
  checkLaunch("gather kernel");
}

void launchCast(const CastParams& params, void* stream) {
  if (params.count <= 0) return;
  const auto s = static_cast<cudaStream_t>(stream);
  if (!launchCastFloats(params, s)) cast<<<gridFor(params.count), kThreads, 0, s>>>(params);
  checkLaunch("cast kernel");
}

}  // namespace kiln::backends::cuda::kernels
