// Small CUDA kernels the library-backed tactics (cuBLASLt, cuDNN) need around their calls: the
// fused epilogue (bias, residual, activation; ops/epilogue.h), a zero-filling shifted copy
// (explicit padding of a convolution's input, cropping of a deconvolution's full output) and
// the row softmax of attention. Callable from plain C++; all enqueue on @p stream and check
// their launch.
//
// Tensors hold FloatType elements (float, IEEE half or bfloat16), passed as untyped pointers so
// that no CUDA half type reaches the tactics; the kernels load them into float, compute in float
// (double where the FP32 path did) and store rounded to nearest.
#pragma once

#include <cuda_runtime_api.h>

#include <array>
#include <cstddef>
#include <cstdint>

namespace kiln::backends::cuda {

//! The element type of a matrix tactic's float tensors.
enum class FloatType : int32_t { kFloat, kHalf, kBFloat16 };

constexpr std::size_t floatTypeSize(FloatType type) noexcept {
  return type == FloatType::kFloat ? 4 : 2;
}

//! An epilogue activation as the device applies it: the same formula as ops::applyActivation,
//! in double. type is an ActivationType, or -1 for none.
struct DeviceActivation {
  int32_t type = -1;
  double alpha = 0.0;
  double beta = 0.0;
};

//! y[i] = act(y[i] + bias[(i / biasInner) % biasChannels] + residual[i]) for i < count, where
//! a null @p bias or @p residual adds nothing; y, bias and residual all hold @p type elements.
void launchEpilogue(FloatType type, void* y, int64_t count, const void* bias, int64_t biasInner,
                    int64_t biasChannels, const void* residual, DeviceActivation act,
                    cudaStream_t stream);

//! For @p planes planes of three dimensions: dst[p][o] = src[p][o - offset] where that lies
//! inside src's extents, else 0 (per dimension; offsets may be negative). Both hold @p type.
void launchShiftCopy(FloatType type, void* dst, const std::array<int64_t, 3>& dstExtents,
                     const void* src, const std::array<int64_t, 3>& srcExtents,
                     const std::array<int64_t, 3>& offset, int64_t planes, cudaStream_t stream);

//! Over @p rows rows of @p cols FP32 scores: probs = softmax(scores * scale + mask), where the
//! mask value of (row, col) is mask[maskOffset(row) + col * maskColStride] (see MaskIndex); a
//! row whose largest score is -inf becomes NaN, as the reference's 0 / 0. @p scores is scratch
//! (overwritten); @p probs and @p mask hold @p type elements, and @p probs may be @p scores
//! when @p type is kFloat.
struct MaskIndex {
  // row = ((b * sq) + i): offset = base(b) + i * rowStride, base(b) from b's coordinates over
  // up to 6 leading dims (extents and strides), innermost last.
  int32_t batchDims = 0;
  std::array<int64_t, 6> batchExtents{};
  std::array<int64_t, 6> batchStrides{};
  int64_t sq = 1;
  int64_t rowStride = 0;
  int64_t colStride = 0;
};
void launchScaledSoftmax(FloatType type, float* scores, void* probs, int64_t rows, int64_t cols,
                         double scale, const void* mask, const MaskIndex& maskIndex,
                         cudaStream_t stream);

}  // namespace kiln::backends::cuda
