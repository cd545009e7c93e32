// Sliding-window arithmetic shared by Convolution, Deconvolution and Pooling: reading and checking
// the window attributes, output extents, and the padding the SAME modes derive. Shape inference
// and the reference kernels both go through these functions, so they cannot disagree.
//
// Attributes (all optional except the kernel/window extents): "stride" and "dilation" (default 1
// per spatial dimension), "pre_padding" and "post_padding" (default 0), "padding_mode"
// (PaddingMode as int, default kEXPLICIT_ROUND_DOWN).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "ir/attributes.h"
#include "ir/op_registry.h"
#include "kiln/network.h"

namespace kiln::ops {

//! Largest kernel, stride, dilation or padding accepted: keeps every window computation far from
//! 64-bit overflow (extents are at most 2^40).
inline constexpr int64_t kMaxWindowValue = (int64_t{1} << 31) - 1;

//! The window settings of one node, defaults filled in. All Dims have the kernel's rank.
struct WindowParams {
  Dims kernel;
  Dims stride;
  Dims dilation;
  Dims prePadding;
  Dims postPadding;
  PaddingMode mode = PaddingMode::kEXPLICIT_ROUND_DOWN;

  int32_t rank() const noexcept { return kernel.nbDims; }
};

//! Reads the window attributes; the extents come from @p kernelAttr ("kernel" or "window").
//! Absent attributes get their defaults at the kernel's rank; present ones are returned as
//! stored (checkWindowParams validates them).
WindowParams readWindowParams(const ir::Attributes& attrs, std::string_view kernelAttr);

//! Empty when @p params is valid; otherwise what is wrong, naming the extents @p kernelWord.
std::string checkWindowParams(const WindowParams& params, std::string_view kernelWord);

//! Empty when @p size is a valid kernel/window size (rank 1 to 3, extents in [1, 2^31)).
std::string checkWindowSize(const Dims& size, std::string_view what);

//! Empty when @p dims has rank @p rank and every value lies in [minValue, kMaxWindowValue].
std::string checkWindowDims(const Dims& dims, int32_t rank, int64_t minValue,
                            std::string_view what);

//! Dims of rank @p rank with every extent @p value.
Dims filledDims(int32_t rank, int64_t value);

//! One spatial dimension of a window: output extent and the padding really applied (derived
//! in SAME modes; may be negative for a transposed convolution in SAME mode).
struct WindowExtent {
  int64_t out = 0;
  int64_t pre = 0;
  int64_t post = 0;
};

//! How ROUND_UP treats a last window that would start in the right padding.
enum class CeilRule {
  kPlainCeil,        //!< convolution: keep it (it reads zeros)
  kDropPaddingOnly,  //!< pooling (TensorRT/ONNX ceil_mode): drop it
};

//! Extent of a dilated kernel: dilation * (kernel - 1) + 1.
constexpr int64_t dilatedExtent(int64_t kernel, int64_t dilation) noexcept {
  return dilation * (kernel - 1) + 1;
}

//! Floor and ceiling of a / b for b > 0 (any sign of a).
constexpr int64_t floorDiv(int64_t a, int64_t b) noexcept {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}
constexpr int64_t ceilDiv(int64_t a, int64_t b) noexcept {
  return -floorDiv(-a, b);
}

//! Forward window (convolution, pooling) over an input extent @p in >= 0 in spatial dimension
//! @p dim of @p params. Explicit modes: floor/ceil((in + pre + post - kernelExtent) / stride) + 1;
//! the caller must have checked in + pre + post >= kernelExtent. SAME modes: ceil(in / stride),
//! total padding max((out - 1) * stride + kernelExtent - in, 0), the odd unit at the end (UPPER)
//! or the start (LOWER); explicit padding is ignored.
WindowExtent forwardWindow(int64_t in, const WindowParams& params, int32_t dim, CeilRule rule);

//! Transposed window (deconvolution) over an input extent @p in >= 0. Explicit modes (both
//! roundings alike): (in - 1) * stride + kernelExtent - pre - post. SAME modes, as ONNX
//! ConvTranspose auto_pad: out = in * stride, total = (in - 1) * stride + kernelExtent - out,
//! pre = floor(total / 2) (UPPER) or total - floor(total / 2) (LOWER), post = the rest. An empty
//! input gives an empty output. The caller must rule out overflow (transposedTooLarge).
WindowExtent transposedWindow(int64_t in, const WindowParams& params, int32_t dim);

//! True when the full transposed output for @p in (in * stride + kernelExtent) would exceed
//! kMaxTensorElements, or overflow.
bool transposedTooLarge(int64_t in, const WindowParams& params, int32_t dim);

//! A window geometry padded to three spatial dimensions (leading dimensions of extent 1), so
//! reference kernels handle 1-d, 2-d and 3-d with one loop nest.
struct Geometry3 {
  std::array<int64_t, 3> in{1, 1, 1};
  std::array<int64_t, 3> out{1, 1, 1};
  std::array<int64_t, 3> kernel{1, 1, 1};
  std::array<int64_t, 3> stride{1, 1, 1};
  std::array<int64_t, 3> dilation{1, 1, 1};
  std::array<int64_t, 3> pre{0, 0, 0};
  std::array<int64_t, 3> post{0, 0, 0};

  int64_t inVolume() const noexcept { return in[0] * in[1] * in[2]; }
  int64_t outVolume() const noexcept { return out[0] * out[1] * out[2]; }
  int64_t kernelVolume() const noexcept { return kernel[0] * kernel[1] * kernel[2]; }
};

//! The geometry of a node with @p params over input spatial extents @p inDims (the trailing
//! params.rank() dimensions of an [N, C, spatial...] shape) and the node's output dims.
Geometry3 makeGeometry(const WindowParams& params, const Dims& inDims, const Dims& outDims,
                       bool transposed, CeilRule rule);

//! Attribute "layout" of Convolution and Pooling (2-d only): absent or "NCHW" is channels-first;
//! "NHWC" is channels-last: x [N, H, W, C], a convolution's weights [K, R, S, C/groups] (KRSC),
//! y [N, P, Q, K], a residual [N, P, Q, K]; the bias stays [K]. The builder's layout pass
//! (builder/layout.h) sets it for GPU tensor-core kernels. "NCHW8c" (Convolution and 2-d
//! Pooling) is channel-blocked: x [N, C/8, H, W, 8] (channel c of pixel (h, w) at
//! [n, c / 8, h, w, c % 8]), or for a convolution an NCHW x [N, C, H, W] read in place, y and a
//! residual [N, K/8, P, Q, 8]; the weights stay KCRS and the bias [K]. The CPU's blocked layout
//! step (builder/channel_blocking.h) sets it for its blocked depthwise, 1x1, direct and pooling
//! kernels.
inline constexpr const char* kLayoutAttr = "layout";
inline constexpr const char* kChannelsFirst = "NCHW";
inline constexpr const char* kChannelsLast = "NHWC";
inline constexpr const char* kChannelsBlocked = "NCHW8c";

//! Channels of a block in the NCHW8c layout.
inline constexpr int64_t kChannelBlock = 8;

enum class Layout { kChannelsFirst, kChannelsLast, kChannelsBlocked };

//! The node's "layout" (channels-first when absent or of a value shape inference rejects through
//! checkLayout).
Layout layoutOf(const ir::Attributes& attrs);
const char* layoutName(Layout layout);

//! Whether the node's "layout" is "NHWC" (false when absent; any other value is not NHWC,
//! which shape inference rejects through checkLayout).
inline bool channelsLast(const ir::Attributes& attrs) {
  return layoutOf(attrs) == Layout::kChannelsLast;
}
//! Whether the node is channels-first: "layout" absent or "NCHW".
inline bool channelsFirst(const ir::Attributes& attrs) {
  return layoutOf(attrs) == Layout::kChannelsFirst;
}

//! Empty when the node's "layout" is absent, "NCHW", or "NHWC" with @p spatialRank 2, or
//! "NCHW8c" with @p spatialRank 2 where @p blockedAllowed; otherwise what is wrong.
std::string checkLayout(const ir::Attributes& attrs, int32_t spatialRank,
                        bool blockedAllowed = false);

//! [N, H, W, C] -> [N, C, H, W] (also KRSC -> KCRS); other ranks are returned unchanged.
Dims toChannelsFirst(const Dims& dims);
//! [N, C, H, W] -> [N, H, W, C]; other ranks are returned unchanged.
Dims toChannelsLast(const Dims& dims);
//! [N, C, H, W] -> [N, C / 8, H, W, 8] (C a multiple of 8); other ranks are returned unchanged.
Dims toChannelsBlocked(const Dims& dims);
//! [N, C / 8, H, W, 8] -> [N, C, H, W]; other shapes are returned unchanged.
Dims fromChannelsBlocked(const Dims& dims);

//! Copies the rank-4 float tensor @p src of @p srcDims into @p dst transposed: dst's dimension i
//! is src's dimension perm[i].
void permute4d(const float* src, const Dims& srcDims, const std::array<int32_t, 4>& perm,
               float* dst);

//! Copies [N, C, H, W] @p src (@p nchw, C a multiple of 8; elements of @p esize bytes) into
//! [N, C / 8, H, W, 8] @p dst, or back (@p toBlocked false: @p src blocked, @p dst NCHW).
void reblockChannels(const std::byte* src, const Dims& nchw, std::size_t esize, bool toBlocked,
                     std::byte* dst);

inline constexpr std::array<int32_t, 4> kToChannelsFirst{0, 3, 1, 2};
inline constexpr std::array<int32_t, 4> kToChannelsLast{0, 2, 3, 1};

//! Shape inference of a node in @p layout (channels-last or blocked) through its channels-first
//! rule @p infer: the inputs at @p converted (x, a kernel, a residual; those absent are skipped)
//! must have the layout's rank and are shown to @p infer as [N, C, H, W]; output 0 comes back in
//! the layout. Messages of @p infer say that their shapes are shown channels-first.
void inferInLayout(ir::InferContext& ctx, Layout layout, std::span<const int32_t> converted,
                   void (*infer)(ir::InferContext&));

//! The reference kernel of a node in @p layout: the inputs at @p converted and output 0 are
//! converted to channels-first around @p kernel, the channels-first reference.
void runInLayout(const ir::KernelContext& ctx, Layout layout, std::span<const int32_t> converted,
                 void (*kernel)(const ir::KernelContext&));

}  // namespace kiln::ops
