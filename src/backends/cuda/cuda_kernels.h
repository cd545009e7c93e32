// Launchers of kiln's own CUDA kernels for the non-matrix ops (pointwise chains, pooling,
// reductions, softmax, layer norm, data movement). Parameters are plain structs that the tactic
// classes (*_tactics.cpp) prepare at instantiate() and fill with device pointers at execute(),
// so no kiln header reaches nvcc and no CUDA header reaches the tactics beyond cuda_check.h.
// Every launcher enqueues on @p stream (a cudaStream_t), checks its launch and returns at once;
// 64-bit indexing throughout (tensors may exceed 2^31 elements).
//
// The float kernels take their tensors' element type in a `dtype` field (a DataType value:
// kFloatElements, kHalfElements or kBFloat16Elements); they load it to float, compute and
// accumulate in float (or double), and store it rounded to nearest.
#pragma once

#include <cstdint>

namespace kiln::backends::cuda::kernels {

inline constexpr int32_t kKernelMaxRank = 8;

//! DataType values of the float element types the kernels take (kFLOAT, kHALF, kBF16).
inline constexpr int32_t kFloatElements = 0;
inline constexpr int32_t kHalfElements = 1;
inline constexpr int32_t kBFloat16Elements = 7;

//! Whether a DataType value is one of the float element types above.
constexpr bool isKernelFloat(int32_t dtype) {
  return dtype == kFloatElements || dtype == kHalfElements || dtype == kBFloat16Elements;
}

// --- pointwise chains ------------------------------------------------------------------------

inline constexpr int32_t kPwMaxInputs = 16;
inline constexpr int32_t kPwMaxSteps = 64;

//! Step op codes: activations keep ActivationType's value, Unary ops add kPwUnaryBase and
//! ElementWise ops kPwBinaryBase.
inline constexpr int32_t kPwUnaryBase = 100;
inline constexpr int32_t kPwBinaryBase = 200;

struct PwStep {
  int32_t code = 0;
  int32_t operand = -1;  //!< input read besides the running value; -1 for unary steps
  int32_t operandFirst = 0;
  float alpha = 0.f;
  float beta = 0.f;
};

struct PointwiseParams {
  const void* inputs[kPwMaxInputs] = {};  //!< all of dtype
  void* output = nullptr;                 //!< dtype, or bool where outputBool
  int64_t count = 0;                      //!< output elements
  int32_t dtype = kFloatElements;
  int32_t nbInputs = 0;
  int32_t nbSteps = 0;
  int32_t outputBool = 0;  //!< 1: the output is BOOL (one byte, value != 0)
  int32_t rank = 1;        //!< merged output loops; 0 means every input is flat (no broadcast)
  int64_t extent[kKernelMaxRank] = {};
  //! stride[i][d]: elements input i advances per step of loop d (0 where broadcast).
  int64_t stride[kPwMaxInputs][kKernelMaxRank] = {};
  //! Flat mode only: 1 when input i has one element (read at 0), 0 when it is full-size.
  int32_t scalar[kPwMaxInputs] = {};
  PwStep steps[kPwMaxSteps] = {};
};

void launchPointwise(const PointwiseParams& params, void* stream);

// --- pooling -----------------------------------------------------------------------------------

struct PoolingParams {
  const void* x = nullptr;
  void* y = nullptr;
  int32_t dtype = kFloatElements;  //!< of x and y
  int64_t planes = 0;              //!< N * C
  //! 0: x and y are [N, C, spatial...]; else [N, spatial..., C] with C = channels.
  int32_t channelsLast = 0;
  int64_t channels = 1;
  int64_t in[3] = {1, 1, 1};
  int64_t out[3] = {1, 1, 1};
  int64_t kernel[3] = {1, 1, 1};
  int64_t stride[3] = {1, 1, 1};
  int64_t pre[3] = {0, 0, 0};
  int64_t post[3] = {0, 0, 0};
  int32_t type = 0;  //!< PoolingType
  int32_t excludePadding = 1;
  float blend = 0.f;
};

void launchPooling(const PoolingParams& params, void* stream);

// --- reductions ------------------------------------------------------------------------------

//! A row-major index space of up to kKernelMaxRank loops mapped to offsets by strides.
struct IndexMap {
  int32_t rank = 0;  //!< 0: every index maps to offset 0
  int64_t extent[kKernelMaxRank] = {};
  int64_t stride[kKernelMaxRank] = {};
};

//! Appends a loop of @p extent and @p stride to @p map (outermost first), dropping extent 1 and
//! merging it into the previous loop when the two walk memory as one. The caller keeps the
//! loops within kKernelMaxRank.
inline void appendLoop(IndexMap& map, int64_t extent, int64_t stride) {
  if (extent == 1) return;
  if (map.rank > 0 && map.stride[map.rank - 1] == stride * extent) {
    map.extent[map.rank - 1] *= extent;
    map.stride[map.rank - 1] = stride;
    return;
  }
  map.extent[map.rank] = extent;
  map.stride[map.rank] = stride;
  ++map.rank;
}

struct ReduceParams {
  const void* x = nullptr;
  void* y = nullptr;
  int32_t dtype = kFloatElements;  //!< of x and y
  int64_t outputs = 0;
  int64_t reduced = 0;  //!< input elements folded into each output
  int32_t op = 0;       //!< ReduceOperation
  //! 0: the reduced elements are strided; 1: they are one contiguous run (offset = index);
  //! 2: the innermost reduced dimension is contiguous (rows of a warp or block read it).
  int32_t innerReduced = 0;
  IndexMap kept;    //!< output index -> input offset of its first element
  IndexMap folded;  //!< reduced index -> input offset relative to that
};

void launchReduce(const ReduceParams& params, void* stream);

struct SoftMaxParams {
  const void* x = nullptr;
  void* y = nullptr;
  int32_t dtype = kFloatElements;  //!< of x and y
  int64_t outer = 0;
  int64_t n = 0;
  int64_t inner = 0;
};

void launchSoftMax(const SoftMaxParams& params, void* stream);

struct LayerNormParams {
  const void* x = nullptr;
  const void* gamma = nullptr;  //!< null when absent
  const void* beta = nullptr;
  void* y = nullptr;
  int32_t dtype = kFloatElements;  //!< of x, gamma, beta and y
  int64_t rows = 0;
  int64_t inner = 0;
  float epsilon = 1e-5f;
};

void launchLayerNorm(const LayerNormParams& params, void* stream);

// --- data movement ---------------------------------------------------------------------------

//! y[o] = x[first(o)] for a linear output index o, where first maps o to an index of a
//! row-major intermediate space and second (when levels == 2) maps that to the input offset:
//! a Shuffle's two transposes around its reshape, or a Slice's strided window (levels == 1).
struct StridedCopyParams {
  const void* x = nullptr;
  void* y = nullptr;
  int64_t count = 0;
  int32_t elementBytes = 4;  //!< 1, 2, 4, 8 or 16 (whole runs of narrower elements)
  int32_t levels = 1;
  int64_t base = 0;        //!< added to the first map's offset (a Slice's start)
  int64_t inputCount = 0;  //!< input elements (every offset lies below)
  IndexMap first;
  IndexMap second;
};

void launchStridedCopy(const StridedCopyParams& params, void* stream);

//! One input of a Concatenation: rows of rowBytes copied to y + offsetBytes + row * pitchBytes.
struct ConcatCopyParams {
  const void* x = nullptr;
  void* y = nullptr;
  int64_t rows = 0;
  int64_t rowBytes = 0;
  int64_t pitchBytes = 0;
  int64_t offsetBytes = 0;
};

void launchConcatCopy(const ConcatCopyParams& params, void* stream);

//! Gather along one axis: data [batches, outer, n, slice], indices [batches, gathers],
//! output [batches, outer, gathers, slice] (slice in elements of elementBytes). An index out
//! of [-n, n) writes zeros (the reference fails the execution instead).
struct GatherParams {
  const void* data = nullptr;
  const void* indices = nullptr;
  void* y = nullptr;
  int32_t indexBytes = 4;  //!< 4 (int32) or 8 (int64)
  int32_t elementBytes = 4;
  int64_t batches = 1;
  int64_t outer = 1;
  int64_t n = 0;
  int64_t gathers = 0;
  int64_t slice = 1;
};

void launchGather(const GatherParams& params, void* stream);

//! Identity's conversions between kinds of element (DataType values): float32, float16,
//! bfloat16, int32, int64, bool, int8, uint8. Floats round to nearest; floats to integers
//! truncate and saturate (NaN: 0), as ops::convertElements.
struct CastParams {
  const void* x = nullptr;
  void* y = nullptr;
  int64_t count = 0;
  int32_t from = 0;
  int32_t to = 0;
};

void launchCast(const CastParams& params, void* stream);

//! PadToChannelsLast (ops/pad_to_channels_last.cpp): x [n, c, plane] to y [n, plane, channels],
//! zero past c; one thread per pixel, its channels written as 16- or 8-byte words where they fit.
struct PadChannelsParams {
  const void* x = nullptr;
  void* y = nullptr;
  int32_t elementBytes = 2;  //!< 1, 2, 4 or 8
  int64_t n = 0;
  int64_t c = 0;
  int64_t plane = 0;  //!< H * W
  int64_t channels = 0;
};

void launchPadChannels(const PadChannelsParams& params, void* stream);

}  // namespace kiln::backends::cuda::kernels
