// Small CUDA kernels the library-backed tactics (cuBLASLt, cuDNN) need around their calls: the
// fused epilogue (bias, residual, activation; ops/epilogue.h), a zero-filling shifted copy
// (explicit padding of a convolution's input, cropping of a deconvolution's full output) and
// the row softmax of attention. Callable from plain C++; all enqueue on @p stream and check
// their launch.
#pragma once

#include <cuda_runtime_api.h>

#include <array>
#include <cstdint>

namespace kiln::backends::cuda {

//! An epilogue activation as the device applies it: the same formula as ops::applyActivation,
//! in double. type is an ActivationType, or -1 for none.
struct DeviceActivation {
  int32_t type = -1;
  double alpha = 0.0;
  double beta = 0.0;
};

//! y[i] = act(y[i] + bias[(i / biasInner) % biasChannels] + residual[i]) for i < count, where
//! a null @p bias or @p residual adds nothing.
void launchEpilogue(float* y, int64_t count, const float* bias, int64_t biasInner,
                    int64_t biasChannels, const float* residual, DeviceActivation act,
                    cudaStream_t stream);

//! For @p planes planes of three dimensions: dst[p][o] = src[p][o - offset] where that lies
//! inside src's extents, else 0 (per dimension; offsets may be negative).
void launchShiftCopy(float* dst, const std::array<int64_t, 3>& dstExtents, const float* src,
                     const std::array<int64_t, 3>& srcExtents, const std::array<int64_t, 3>& offset,
                     int64_t planes, cudaStream_t stream);

//! In place over @p rows rows of @p cols scores: s = softmax(s * scale + mask), where the mask
//! value of (row, col) is mask[maskOffset(row) + col * maskColStride] (see MaskIndex); a row
//! whose largest score is -inf becomes NaN, as the reference's 0 / 0.
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
void launchScaledSoftmax(float* scores, int64_t rows, int64_t cols, double scale, const float* mask,
                         const MaskIndex& maskIndex, cudaStream_t stream);

}  // namespace kiln::backends::cuda
