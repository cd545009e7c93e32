// kiln — NetworkDefinition: the graph of layers and tensors a Builder turns into an engine.
//
// Tensor and Layer objects are small handles (network pointer + index), cheap to copy and
// valid as long as the NetworkDefinition that made them. A default-constructed or failed handle
// is "null": it converts to false, and every call on it logs an error and does nothing.
// Errors (bad shapes, unknown names, bad weights) are reported through the Builder's Logger and
// make the add* call return a null handle; nothing throws across the API.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/types.h"

namespace kiln {

namespace detail {
class NetworkImpl;
struct HandleAccess;
}  // namespace detail

class Layer;

//! A tensor of the network: an input, a layer output, or a constant.
class Tensor {
 public:
  Tensor() = default;
  explicit operator bool() const noexcept { return net_ != nullptr; }

  std::string_view name() const;
  void setName(std::string_view name);
  //! Shape (inferred on demand for layer outputs; as declared for inputs).
  Dims dimensions() const;
  //! Change a network input's shape.
  void setDimensions(const Dims& dims);
  DataType type() const;
  //! Change a network input's type, or request an output type for a network output.
  void setType(DataType type);
  bool isNetworkInput() const;
  bool isNetworkOutput() const;
  //! True for an int32/int64 network input of rank 0 or 1 that some layer reads at an input
  //! whose values decide shapes (a Shuffle's shape, a Slice's bounds, a Reduce's axes, ...):
  //! the build needs its values, given by an optimization profile
  //! (OptimizationProfile::setShapeValues; kiln --optShapes), as in TensorRT. Also for such a
  //! float32 input (a Resize's scales, a OneHot's depth), which TensorRT does not have.
  bool isShapeTensor() const;
  //! The layer that writes this tensor (null for network inputs).
  Layer producer() const;

  friend bool operator==(const Tensor& a, const Tensor& b) noexcept {
    return a.net_ == b.net_ && a.id_ == b.id_;
  }

 private:
  friend struct detail::HandleAccess;
  Tensor(detail::NetworkImpl* net, int32_t id) noexcept : net_(net), id_(id) {}
  detail::NetworkImpl* net_ = nullptr;
  int32_t id_ = -1;
};

enum class LayerType : int32_t {
  kCONVOLUTION,
  kDECONVOLUTION,
  kPOOLING,
  kFULLY_CONNECTED,
  kMATRIX_MULTIPLY,
  kACTIVATION,
  kSOFTMAX,
  kELEMENTWISE,
  kUNARY,
  kSCALE,
  kCONCATENATION,
  kSHUFFLE,
  kCONSTANT,
  kPADDING,
  kLRN,
  kREDUCE,
  kTOPK,
  kGATHER,
  kSLICE,
  kIDENTITY,
  kSELECT,
  kRESIZE,
  kSCATTER,
  kCUMULATIVE,
  kONE_HOT,
  kGRID_SAMPLE,
  kTRILU,  //!< kiln's own (TensorRT has no such layer)
  kLOSS,   //!< kiln's own (ONNX NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss)
  kQUANTIZE,
  kDEQUANTIZE,
  kDETERMINANT,  //!< kiln's own (ONNX Det)
  kREVERSE_SEQUENCE,
  kROI_ALIGN,            //!< kiln's own (ONNX RoiAlign)
  kMAX_POOLING_INDICES,  //!< kiln's own (ONNX MaxPool with dilations or Indices)
  kEINSUM,
  kDFT,               //!< kiln's own (ONNX DFT)
  kTFIDF_VECTORIZER,  //!< kiln's own (ONNX TfIdfVectorizer)
  kMAX_UNPOOL,        //!< kiln's own (ONNX MaxUnpool)
  kDROPOUT,           //!< kiln's own (ONNX Dropout with a run-time training mode)
  kNON_ZERO,
  kNMS,
  kCOMPRESS,  //!< kiln's own (ONNX Compress)
  kUNIQUE,    //!< kiln's own (ONNX Unique)
  kRANGE,     //!< kiln's own (ONNX Range with bounds from shape tensors)
  kRNN,       //!< ONNX LSTM, GRU and RNN (TensorRT's IRNNv2Layer)
};

std::string_view toString(LayerType type) noexcept;

//! A layer of the network. Typed layers (ConvolutionLayer, ...) add their own settings;
//! Layer::as<T>() converts when the type matches (null handle otherwise).
class Layer {
 public:
  Layer() = default;
  explicit operator bool() const noexcept { return net_ != nullptr; }

  LayerType type() const;
  std::string_view name() const;
  void setName(std::string_view name);

  int32_t nbInputs() const;
  Tensor input(int32_t index) const;
  //! Replace input @p index (TensorRT's setInput).
  void setInput(int32_t index, Tensor tensor);
  int32_t nbOutputs() const;
  Tensor output(int32_t index) const;

  //! Compute precision requested for this layer (honored where the builder flags allow).
  void setPrecision(DataType type);
  DataType precision() const;
  bool precisionIsSet() const;
  //! Output type requested for output @p index. On an IdentityLayer this is the cast target.
  void setOutputType(int32_t index, DataType type);
  DataType outputType(int32_t index) const;

  template <typename T>
  T as() const {
    return (net_ != nullptr && type() == T::kType) ? T(net_, id_) : T();
  }

  friend bool operator==(const Layer& a, const Layer& b) noexcept {
    return a.net_ == b.net_ && a.id_ == b.id_;
  }

 protected:
  friend struct detail::HandleAccess;
  Layer(detail::NetworkImpl* net, int32_t id) noexcept : net_(net), id_(id) {}
  detail::NetworkImpl* net_ = nullptr;
  int32_t id_ = -1;
};

#define KILN_LAYER_HANDLE(Class, Enum)                                     \
 public:                                                                   \
  static constexpr LayerType kType = LayerType::Enum;                      \
  Class() = default;                                                       \
                                                                           \
 private:                                                                  \
  friend class Layer;                                                      \
  friend struct detail::HandleAccess;                                      \
  Class(detail::NetworkImpl* net, int32_t id) noexcept : Layer(net, id) {} \
                                                                           \
 public:

//! How convolution and pooling padding is derived (as TensorRT's PaddingMode).
enum class PaddingMode : int32_t {
  kEXPLICIT_ROUND_DOWN,  //!< explicit pre/post padding, output size rounded down
  kEXPLICIT_ROUND_UP,    //!< explicit pre/post padding, output size rounded up (ceil mode)
  kSAME_UPPER,           //!< output = ceil(input / stride); extra padding at the end
  kSAME_LOWER,           //!< output = ceil(input / stride); extra padding at the start
};

//! N-d convolution (1, 2 or 3 spatial dims) over an [N, C, spatial...] input.
//! Kernel weights: [K, C/groups, kernel...]; bias: [K] or none. Either may instead be a float32
//! tensor computed at run time, of the same shape: setInput(1, kernel), setInput(2, bias).
class ConvolutionLayer : public Layer {
  KILN_LAYER_HANDLE(ConvolutionLayer, kCONVOLUTION)
  int64_t nbOutputMaps() const;
  Dims kernelSize() const;
  void setStride(const Dims& stride);
  Dims stride() const;
  //! Symmetric padding (sets pre and post padding).
  void setPadding(const Dims& padding);
  void setPrePadding(const Dims& padding);
  Dims prePadding() const;
  void setPostPadding(const Dims& padding);
  Dims postPadding() const;
  void setPaddingMode(PaddingMode mode);
  PaddingMode paddingMode() const;
  void setDilation(const Dims& dilation);
  Dims dilation() const;
  void setNbGroups(int64_t groups);
  int64_t nbGroups() const;
  void setKernelWeights(Weights weights);
  void setBiasWeights(Weights weights);
};

//! N-d transposed convolution. Kernel weights: [C, K/groups, kernel...]; bias: [K] or none.
//! Either may instead be a float32 tensor of that shape: setInput(1, kernel), setInput(2, bias).
//! Padding crops the full output (as ONNX ConvTranspose pads and TensorRT's deconvolution).
class DeconvolutionLayer : public Layer {
  KILN_LAYER_HANDLE(DeconvolutionLayer, kDECONVOLUTION)
  int64_t nbOutputMaps() const;
  Dims kernelSize() const;
  void setStride(const Dims& stride);
  Dims stride() const;
  void setPadding(const Dims& padding);
  void setPrePadding(const Dims& padding);
  Dims prePadding() const;
  void setPostPadding(const Dims& padding);
  Dims postPadding() const;
  void setPaddingMode(PaddingMode mode);
  PaddingMode paddingMode() const;
  void setDilation(const Dims& dilation);
  Dims dilation() const;
  void setNbGroups(int64_t groups);
  int64_t nbGroups() const;
  void setKernelWeights(Weights weights);
  void setBiasWeights(Weights weights);
};

enum class PoolingType : int32_t {
  kMAX,
  kAVERAGE,
  kMAX_AVERAGE_BLEND,  //!< (1 - blendFactor) * max + blendFactor * average (as TensorRT)
};

//! N-d pooling over an [N, C, spatial...] input.
class PoolingLayer : public Layer {
  KILN_LAYER_HANDLE(PoolingLayer, kPOOLING)
  void setPoolingType(PoolingType type);
  PoolingType poolingType() const;
  void setWindowSize(const Dims& window);
  Dims windowSize() const;
  void setStride(const Dims& stride);
  Dims stride() const;
  void setPadding(const Dims& padding);
  void setPrePadding(const Dims& padding);
  Dims prePadding() const;
  void setPostPadding(const Dims& padding);
  Dims postPadding() const;
  void setPaddingMode(PaddingMode mode);
  PaddingMode paddingMode() const;
  //! Average pooling: true (default) divides by the window cells inside the input only.
  void setAverageCountExcludesPadding(bool exclusive);
  bool averageCountExcludesPadding() const;
  void setBlendFactor(float factor);
  float blendFactor() const;
};

//! Fully connected layer (TensorRT's semantics): an input of rank >= 3 has its last three
//! dimensions flattened to C*H*W, the output replaces them with [K, 1, 1]; rank 2 [N, C] -> [N, K].
//! Kernel weights: [K, C*H*W]; bias: [K] or none.
class FullyConnectedLayer : public Layer {
  KILN_LAYER_HANDLE(FullyConnectedLayer, kFULLY_CONNECTED)
  int64_t nbOutputChannels() const;
  void setKernelWeights(Weights weights);
  void setBiasWeights(Weights weights);
};

enum class MatrixOperation : int32_t {
  kNONE,       //!< use the last two dimensions as they are
  kTRANSPOSE,  //!< swap the last two dimensions
  kVECTOR,     //!< the last dimension is a vector (not a matrix)
};

//! Batched matrix product with numpy broadcasting of the batch dimensions.
class MatrixMultiplyLayer : public Layer {
  KILN_LAYER_HANDLE(MatrixMultiplyLayer, kMATRIX_MULTIPLY)
  void setOperation(int32_t index, MatrixOperation op);
  MatrixOperation operation(int32_t index) const;
};

enum class ActivationType : int32_t {
  kRELU,              //!< max(x, 0)
  kSIGMOID,           //!< 1 / (1 + exp(-x))
  kTANH,              //!< tanh(x)
  kLEAKY_RELU,        //!< x >= 0 ? x : alpha * x
  kELU,               //!< x >= 0 ? x : alpha * (exp(x) - 1)
  kSELU,              //!< beta * (x >= 0 ? x : alpha * (exp(x) - 1))
  kSOFTSIGN,          //!< x / (1 + |x|)
  kSOFTPLUS,          //!< alpha * log(exp(beta * x) + 1)
  kCLIP,              //!< min(max(x, alpha), beta)
  kHARD_SIGMOID,      //!< max(0, min(1, alpha * x + beta))
  kSCALED_TANH,       //!< alpha * tanh(beta * x)
  kTHRESHOLDED_RELU,  //!< x > alpha ? x : 0
  kGELU_ERF,          //!< 0.5 x (1 + erf(x / sqrt 2))
  kGELU_TANH,         //!< 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  kSILU,              //!< x / (1 + exp(-x)): SiLU (swish), EfficientNet's and YOLO's
  kHARD_SWISH,        //!< x * max(0, min(1, x / 6 + 0.5)): MobileNetV3's
};

class ActivationLayer : public Layer {
  KILN_LAYER_HANDLE(ActivationLayer, kACTIVATION)
  void setActivationType(ActivationType type);
  ActivationType activationType() const;
  void setAlpha(float alpha);
  float alpha() const;
  void setBeta(float beta);
  float beta() const;
};

//! Softmax along one axis. Default axis: rank - 3 for rank >= 4, else rank - 1.
class SoftMaxLayer : public Layer {
  KILN_LAYER_HANDLE(SoftMaxLayer, kSOFTMAX)
  //! Negative values count from the end.
  void setAxis(int32_t axis);
  int32_t axis() const;
};

enum class ElementWiseOperation : int32_t {
  kSUM,
  kPROD,
  kMAX,
  kMIN,
  kSUB,
  kDIV,
  kPOW,
  kFLOOR_DIV,
  kAND,      //!< bool inputs
  kOR,       //!< bool inputs
  kXOR,      //!< bool inputs
  kEQUAL,    //!< bool output
  kGREATER,  //!< bool output
  kLESS,     //!< bool output
  kMOD,      //!< a - floor(a / b) * b: remainder with the divisor's sign (Python %, ONNX Mod)
  kFMOD,     //!< remainder with the dividend's sign (C fmod, ONNX Mod with fmod 1)
  //! int32 inputs shifted as unsigned 32-bit patterns (ONNX BitShift); a shift count outside
  //! [0, 31] gives 0.
  kSHIFT_LEFT,
  kSHIFT_RIGHT,
};

//! Binary element-wise operation with numpy broadcasting.
class ElementWiseLayer : public Layer {
  KILN_LAYER_HANDLE(ElementWiseLayer, kELEMENTWISE)
  void setOperation(ElementWiseOperation op);
  ElementWiseOperation operation() const;
};

enum class UnaryOperation : int32_t {
  kEXP,
  kLOG,
  kSQRT,
  kRECIP,
  kABS,
  kNEG,
  kSIN,
  kCOS,
  kTAN,
  kSINH,
  kCOSH,
  kASIN,
  kACOS,
  kATAN,
  kASINH,
  kACOSH,
  kATANH,
  kCEIL,
  kFLOOR,
  kERF,
  kNOT,  //!< bool input
  kSIGN,
  kROUND,  //!< half to even
  kISINF,  //!< bool output
  kISNAN,  //!< bool output
};

class UnaryLayer : public Layer {
  KILN_LAYER_HANDLE(UnaryLayer, kUNARY)
  void setOperation(UnaryOperation op);
  UnaryOperation operation() const;
};

enum class ScaleMode : int32_t {
  kUNIFORM,      //!< one coefficient for the whole tensor
  kCHANNEL,      //!< one coefficient per channel (along the channel axis)
  kELEMENTWISE,  //!< one coefficient per element of [C, spatial...]
};

//! output = (input * scale + shift) ^ power; each of shift/scale/power may be empty (0/1/1).
class ScaleLayer : public Layer {
  KILN_LAYER_HANDLE(ScaleLayer, kSCALE)
  ScaleMode mode() const;
  void setChannelAxis(int32_t axis);
  int32_t channelAxis() const;
  void setShift(Weights shift);
  void setScale(Weights scale);
  void setPower(Weights power);
};

//! Default axis: rank - 3 for rank >= 3, else 0 (TensorRT's rule).
class ConcatenationLayer : public Layer {
  KILN_LAYER_HANDLE(ConcatenationLayer, kCONCATENATION)
  void setAxis(int32_t axis);
  int32_t axis() const;
};

//! first transpose -> reshape -> second transpose. Reshape dims: 0 copies the input
//! extent (unless zeroIsPlaceholder is false), -1 is inferred.
class ShuffleLayer : public Layer {
  KILN_LAYER_HANDLE(ShuffleLayer, kSHUFFLE)
  void setFirstTranspose(std::span<const int32_t> permutation);
  std::vector<int32_t> firstTranspose() const;
  void setReshapeDimensions(const Dims& dims);
  Dims reshapeDimensions() const;
  bool hasReshape() const;
  void setSecondTranspose(std::span<const int32_t> permutation);
  std::vector<int32_t> secondTranspose() const;
  void setZeroIsPlaceholder(bool placeholder);
  //! kiln's own (ONNX Unsqueeze and Squeeze): input 1 (int32/int64, a constant or shape-tensor
  //! network input) holds axes, negative counting from the end, to insert as extent 1 or, with
  //! @p squeeze, to remove (each of extent 1), instead of reshape dimensions.
  void setAxesInput(bool squeeze);
  bool zeroIsPlaceholder() const;
};

class ConstantLayer : public Layer {
  KILN_LAYER_HANDLE(ConstantLayer, kCONSTANT)
  Dims dimensions() const;
};

enum class PaddingFill : int32_t {
  kCONSTANT,  //!< fill with the padding value
  kREFLECT,   //!< mirror without repeating the edge
  kEDGE,      //!< repeat the edge value
};

//! Pads (or, with negative amounts, crops) the trailing dimensions. Pre/post padding of rank r
//! applies to the last r dimensions of the input. kiln's own (ONNX Pad): setInput(1, pads),
//! int32/int64 ONNX pads of every dimension (all begins, then all ends; a constant or
//! shape-tensor network input), replaces them, and then setInput(2, value), a float32 scalar
//! computed at run time, may replace the value.
class PaddingLayer : public Layer {
  KILN_LAYER_HANDLE(PaddingLayer, kPADDING)
  void setPrePadding(const Dims& padding);
  Dims prePadding() const;
  void setPostPadding(const Dims& padding);
  Dims postPadding() const;
  void setFill(PaddingFill fill);
  PaddingFill fill() const;
  void setValue(float value);
  float value() const;
};

//! Local response normalization across channels:
//! y = x / (k + alpha / window * sum(x^2 over the window)) ^ beta.
class LRNLayer : public Layer {
  KILN_LAYER_HANDLE(LRNLayer, kLRN)
  int64_t windowSize() const;
  float alpha() const;
  float beta() const;
  float k() const;
};

enum class ReduceOperation : int32_t { kSUM, kPROD, kMAX, kMIN, kAVG };

class ReduceLayer : public Layer {
  KILN_LAYER_HANDLE(ReduceLayer, kREDUCE)
  ReduceOperation operation() const;
  //! Bit i set: dimension i is reduced.
  uint32_t reduceAxes() const;
  bool keepDimensions() const;
  //! kiln's own (ONNX ReduceSum's axes input): setInput(1, axes), an int32/int64 constant or
  //! shape-tensor network input of ONNX axes (negative counting from the end), replaces the
  //! mask. Empty axes reduce every dimension, or none when @p noop is set.
  void setEmptyAxesNoop(bool noop);
};

enum class TopKOperation : int32_t { kMAX, kMIN };

//! Two outputs: values and int32 indices of the k largest (or smallest) along one axis.
//! setInput(1, k): an int32/int64 scalar, a constant or shape-tensor network input, gives k.
class TopKLayer : public Layer {
  KILN_LAYER_HANDLE(TopKLayer, kTOPK)
  TopKOperation operation() const;
  int32_t k() const;
  uint32_t reduceAxes() const;
};

enum class GatherMode : int32_t {
  kDEFAULT,  //!< ONNX Gather: output = data.shape[:axis] + indices.shape + data.shape[axis+1:]
  kELEMENT,  //!< ONNX GatherElements
  kND,       //!< ONNX GatherND (with nbElementWiseDims batch dimensions)
};

//! Gathers along an axis with int32 (or int64) indices; negative indices count from the end.
class GatherLayer : public Layer {
  KILN_LAYER_HANDLE(GatherLayer, kGATHER)
  void setGatherAxis(int32_t axis);
  int32_t gatherAxis() const;
  GatherMode mode() const;
  void setNbElementWiseDims(int32_t dims);
  int32_t nbElementWiseDims() const;
};

//! output[i] = input[start + i * stride] for i in [0, size) per dimension.
class SliceLayer : public Layer {
  KILN_LAYER_HANDLE(SliceLayer, kSLICE)
  void setStart(const Dims& start);
  Dims start() const;
  void setSize(const Dims& size);
  Dims size() const;
  void setStride(const Dims& stride);
  Dims stride() const;
  //! kiln's own (ONNX Slice): with @p onnx set, inputs 1 and 2 (setInput: int32/int64 starts
  //! and ends) and optionally 3 and 4 (axes, steps), constants or shape-tensor network inputs,
  //! decide the slice as ONNX clamps them; start, size and stride are then ignored.
  void setOnnxBounds(bool onnx);
  //! kiln's own (ONNX Expand and Tile): input 1 (setInput; int32/int64, a constant or
  //! shape-tensor network input) holds the shape to broadcast the input to (numpy rules,
  //! right-aligned; the input has the output's rank) or, with @p tile, the number of times to
  //! repeat the input along each dimension; start, size and stride are then ignored.
  void setTargetInput(bool tile);
  //! kiln's own (ONNX Split): the output is part @p index of the input split along @p axis into
  //! parts of the sizes that input 1 holds (int32/int64, a constant or shape-tensor network
  //! input); start, size and stride are then ignored.
  void setSplitInput(int32_t axis, int32_t index);
};

//! Copies its input; with setOutputType(0, T) it converts to T (a cast).
class IdentityLayer : public Layer {
  KILN_LAYER_HANDLE(IdentityLayer, kIDENTITY)
};

//! output = condition ? then : else, with numpy broadcasting; condition is bool.
class SelectLayer : public Layer {
  KILN_LAYER_HANDLE(SelectLayer, kSELECT)
};

//! How Resize and GridSample interpolate (TensorRT's InterpolationMode).
enum class InterpolationMode : int32_t {
  kNEAREST,  //!< the nearest input element (rounding per ResizeRoundMode in Resize)
  kLINEAR,   //!< N-linear over every resized dimension (bilinear in GridSample)
  kCUBIC,    //!< cubic convolution (Keys) with coefficient A over every resized dimension
};
using ResizeMode = InterpolationMode;

//! How Resize maps an output coordinate x_out of one dimension to an input coordinate x_in
//! (ONNX Resize's coordinate_transformation_mode). scale is the dimension's scale factor (the
//! one set, or output / input length when output dimensions are set) and L = input length *
//! scale, a fraction when it comes from a scale.
enum class ResizeCoordinateTransformation : int32_t {
  kALIGN_CORNERS,         //!< x_in = x_out * (input length - 1) / (L - 1); 0 when L == 1
  kASYMMETRIC,            //!< x_in = x_out / scale
  kHALF_PIXEL,            //!< x_in = (x_out + 0.5) / scale - 0.5
  kPYTORCH_HALF_PIXEL,    //!< as kHALF_PIXEL, but 0 when the output length is 1
  kTF_HALF_PIXEL_FOR_NN,  //!< x_in = (x_out + 0.5) / scale (ONNX tf_half_pixel_for_nn)
  kHALF_PIXEL_SYMMETRIC,  //!< ONNX half_pixel_symmetric (opset 19)
  //! ONNX tf_crop_and_resize: x_in = (start + x_out * (end - start) / (output length - 1)) *
  //! (input length - 1) with [start, end] the dimension's region of interest (the middle of it
  //! when the output length is 1); outputs whose x_in falls outside the input get the
  //! extrapolation value. float32 only.
  kTF_CROP_AND_RESIZE,
};

//! Resize: which input coordinate an output of length 1 reads (TensorRT's ResizeSelector).
enum class ResizeSelector : int32_t {
  kFORMULA,  //!< the coordinate transformation's formula
  kUPPER,    //!< coordinate 0 (kHALF_PIXEL + kUPPER is ONNX pytorch_half_pixel)
};

//! How nearest-neighbour Resize rounds a fractional input coordinate (ONNX nearest_mode).
enum class ResizeRoundMode : int32_t {
  kROUND_PREFER_FLOOR,  //!< round, halves down
  kROUND_PREFER_CEIL,   //!< round, halves up
  kFLOOR,
  kCEIL,
  kHALF_DOWN = kROUND_PREFER_FLOOR,  //!< TensorRT's name
  kHALF_UP = kROUND_PREFER_CEIL,     //!< TensorRT's name
};

//! Resizes every dimension of its input (ONNX Resize, TensorRT IResizeLayer). The output shape
//! comes from, in this order: input 1 when set (setInput(1, t) with t a constant: float scales,
//! or int32/int64 output dimensions, one per input dimension), setOutputDimensions, or
//! setScales (output length = floor(input length * scale)). Defaults are TensorRT's: kNEAREST,
//! kASYMMETRIC, kFORMULA, kFLOOR, cubic coefficient -0.75, exclude outside off. Linear and cubic
//! interpolate float32 data; nearest copies any type. Input coordinates outside the input take
//! the edge value.
class ResizeLayer : public Layer {
  KILN_LAYER_HANDLE(ResizeLayer, kRESIZE)
  //! Sets the output shape (its rank must be the input's); clears the scales.
  void setOutputDimensions(const Dims& dims);
  //! The dimensions set by setOutputDimensions; nbDims -1 when scales are used instead.
  Dims outputDimensions() const;
  //! One scale (> 0) per input dimension; clears the output dimensions.
  void setScales(std::span<const float> scales);
  //! The scales set by setScales; empty when output dimensions are used instead.
  std::vector<float> scales() const;
  void setResizeMode(InterpolationMode mode);
  InterpolationMode resizeMode() const;
  void setCoordinateTransformation(ResizeCoordinateTransformation transformation);
  ResizeCoordinateTransformation coordinateTransformation() const;
  void setSelectorForSinglePixel(ResizeSelector selector);
  ResizeSelector selectorForSinglePixel() const;
  void setNearestRounding(ResizeRoundMode mode);
  ResizeRoundMode nearestRounding() const;
  //! A of cubic convolution (ONNX cubic_coeff_a; -0.75 as PyTorch, -0.5 as TensorFlow).
  void setCubicCoeff(float a);
  float cubicCoeff() const;
  //! Linear and cubic: taps outside the input get weight 0 and the rest are renormalized.
  void setExcludeOutside(bool exclude);
  bool excludeOutside() const;
  //! kTF_CROP_AND_RESIZE: 2 * rank values, the starts of every dimension then the ends, as
  //! fractions of (input length - 1). Default: empty (the transformation then fails).
  //! setInput(2, roi) with a float32 tensor of those values (after input 1) takes them at run
  //! time instead.
  void setRegionOfInterest(std::span<const float> roi);
  std::vector<float> regionOfInterest() const;
  //! kTF_CROP_AND_RESIZE: the value of outputs that map outside the input (default 0).
  void setExtrapolationValue(float value);
  float extrapolationValue() const;
};

enum class ScatterMode : int32_t {
  kELEMENT,  //!< ONNX ScatterElements: output[i with i[axis] = indices[i]] = updates[i]
  kND,       //!< ONNX ScatterND: indices [..., k] address slices data[t0, .., tk-1, :]
};

//! How an update combines with the value already there (ONNX's reduction attribute). With
//! kNONE, repeated indices leave the last update (in row-major order of the indices).
enum class ScatterReduction : int32_t { kNONE, kADD, kMUL, kMAX, kMIN };

//! output = data with updates written at indices (int32 or int64; negative values count from the
//! end). Indices out of range fail the execution, or the build when they are constant.
//! kNONE copies any type; other reductions need float32, int32 or int64 data.
class ScatterLayer : public Layer {
  KILN_LAYER_HANDLE(ScatterLayer, kSCATTER)
  void setMode(ScatterMode mode);
  ScatterMode mode() const;
  //! kELEMENT only; negative values count from the end (default 0).
  void setAxis(int32_t axis);
  int32_t axis() const;
  void setReduction(ScatterReduction reduction);
  ScatterReduction reduction() const;
};

enum class CumulativeOperation : int32_t { kSUM };

//! Cumulative sum along an axis (ONNX CumSum, TensorRT ICumulativeLayer); float32, int32, int64.
//! exclusive: element i sums the elements before i only; reverse: sums run from the end.
class CumulativeLayer : public Layer {
  KILN_LAYER_HANDLE(CumulativeLayer, kCUMULATIVE)
  void setOperation(CumulativeOperation op);
  CumulativeOperation operation() const;
  void setExclusive(bool exclusive);
  bool exclusive() const;
  void setReverse(bool reverse);
  bool reverse() const;
};

//! One-hot encoding (ONNX OneHot, TensorRT IOneHotLayer): the output has the indices' shape with
//! a dimension of length depth inserted at axis; it holds values[1] where that position equals
//! the index and values[0] elsewhere. Indices in [-depth, depth) (negative count from the end);
//! others give a row of values[0]. Indices: int32, int64 or float32 (truncated); values: two
//! elements of any type (the output's); depth: a constant scalar (int32, int64 or float32).
class OneHotLayer : public Layer {
  KILN_LAYER_HANDLE(OneHotLayer, kONE_HOT)
  //! In [-(indices rank + 1), indices rank]; negative values count from the end.
  void setAxis(int32_t axis);
  int32_t axis() const;
};

//! Where a sampling location outside the input reads (TensorRT's SampleMode). GridSample takes
//! kFILL (zeros), kCLAMP (border) and kREFLECT (reflection).
enum class SampleMode : int32_t { kSTRICT_BOUNDS, kWRAP, kCLAMP, kFILL, kREFLECT };

//! Samples input [N, C, H, W] at grid [N, Ho, Wo, 2] (x, y in [-1, 1]) into [N, C, Ho, Wo]
//! (ONNX GridSample, TensorRT IGridSampleLayer). Defaults: kLINEAR, align corners off, kFILL.
//! Nearest rounds halves to even; cubic uses A = -0.75 (PyTorch's grid_sample).
class GridSampleLayer : public Layer {
  KILN_LAYER_HANDLE(GridSampleLayer, kGRID_SAMPLE)
  void setInterpolationMode(InterpolationMode mode);
  InterpolationMode interpolationMode() const;
  //! true: -1 and 1 are the centers of the corner pixels; false: their outer edges.
  void setAlignCorners(bool align);
  bool alignCorners() const;
  void setSampleMode(SampleMode mode);
  SampleMode sampleMode() const;
};

//! Keeps the upper (j - i >= k) or lower (j - i <= k) triangle of the last two dimensions and
//! zeroes the rest (ONNX Trilu). Any data type. setInput(1, k) with an int32/int64 scalar
//! tensor gives k at run time instead of setK.
//! start, start + delta, ... up to limit (excluded): a vector of max(ceil((limit - start) /
//! delta), 0) elements (ONNX Range). start, limit and delta are scalars of one type (float32,
//! int32 or int64) that decide the length, so each is a constant or a shape-tensor network input
//! (Tensor::isShapeTensor). No settings.
class RangeLayer : public Layer {
  KILN_LAYER_HANDLE(RangeLayer, kRANGE)
};

class TriluLayer : public Layer {
  KILN_LAYER_HANDLE(TriluLayer, kTRILU)
  void setUpper(bool upper);
  bool upper() const;
  //! Diagonal offset: 0 is the main diagonal, positive above it, negative below.
  void setK(int64_t k);
  int64_t k() const;
};

enum class LossType : int32_t {
  kNEGATIVE_LOG_LIKELIHOOD,  //!< the input holds log-probabilities (ONNX NegativeLogLikelihoodLoss)
  kSOFTMAX_CROSS_ENTROPY,    //!< the input holds scores (ONNX SoftmaxCrossEntropyLoss)
};

enum class LossReduction : int32_t {
  kNONE,  //!< one loss per target element
  kSUM,   //!< their sum (a scalar)
  kMEAN,  //!< their sum divided by the sum of the weights of the targets not ignored (a scalar)
};

//! kiln's own layer: a classification loss. Input 0: float32 [N, C] or [N, C, d1, ...]; input 1:
//! int32/int64 class indices [N, d1, ...]; optional input 2 (setInput(2, w)): float32 class
//! weights [C] (default 1). With logp the input (kNEGATIVE_LOG_LIKELIHOOD) or its log_softmax
//! along dimension 1 (kSOFTMAX_CROSS_ENTROPY), loss[n, d] = -weight[t] * logp[n, t, d] for
//! t = target[n, d]; targets equal to the ignore index give 0 and weigh 0. Output 0: the loss
//! (kNONE: the target's shape; else a scalar); output 1: logp. A target outside [0, C) that is
//! not the ignore index fails the execution.
class LossLayer : public Layer {
  KILN_LAYER_HANDLE(LossLayer, kLOSS)
  LossType lossType() const;
  void setReduction(LossReduction reduction);
  LossReduction reduction() const;
  //! Targets equal to @p index are ignored (ONNX ignore_index; any value, negative included).
  void setIgnoreIndex(int64_t index);
  void clearIgnoreIndex();
  bool hasIgnoreIndex() const;
  int64_t ignoreIndex() const;  //!< 0 when none is set
};

//! Einstein summation (ONNX Einsum, TensorRT IEinsumLayer) over 1 to 16 inputs of one type
//! (float32 or int32). The equation is numpy's: "ij,jk->ik", letters a-z and A-Z, at most one
//! "..." per term for broadcast dimensions, spaces anywhere; a letter repeated in one term takes
//! the diagonal, letters left out of the output are summed. Without "->" the output is "..."
//! then the letters used once, in ASCII order.
class EinsumLayer : public Layer {
  KILN_LAYER_HANDLE(EinsumLayer, kEINSUM)
  void setEquation(std::string_view equation);
  std::string equation() const;
};

//! y = saturate(round_half_even(x / scale) + zeroPoint) (ONNX QuantizeLinear, TensorRT
//! IQuantizeLayer), computed in float32. Input 1: float32 scale, one value (rank 0 or [1]) or
//! one per element of the axis; optional input 2 (setInput(2, z)): the zero point (int32, int8 or
//! uint8) of the scale's shape. The output holds the values as int32 (kiln's integer type inside
//! networks), saturated to the range of the quantized type; mark it as an output of that type
//! (setType) to get 8-bit values.
class QuantizeLayer : public Layer {
  KILN_LAYER_HANDLE(QuantizeLayer, kQUANTIZE)
  //! The axis of a per-axis scale (default 1; negative counts from the end).
  void setAxis(int32_t axis);
  int32_t axis() const;
  //! kINT8 ([-128, 127], the default) or kUINT8 ([0, 255]).
  void setToType(DataType type);
  DataType toType() const;
};

//! y = (x - zeroPoint) * scale (ONNX DequantizeLinear, TensorRT IDequantizeLayer): x int32, int8
//! or uint8; scale and zero point as QuantizeLayer's; output float32.
class DequantizeLayer : public Layer {
  KILN_LAYER_HANDLE(DequantizeLayer, kDEQUANTIZE)
  void setAxis(int32_t axis);
  int32_t axis() const;
};

//! kiln's own layer (ONNX Det): float32 [..., M, M] -> [...], the determinant of each matrix.
class DeterminantLayer : public Layer {
  KILN_LAYER_HANDLE(DeterminantLayer, kDETERMINANT)
};

//! Reverses the first lengths[b] elements along the sequence axis of each batch entry b (ONNX
//! ReverseSequence, TensorRT IReverseSequenceLayer). Input: rank >= 2, any type; lengths: int32
//! or int64 [B], each in [0, T]. The batch and sequence axes are 0 and 1 (defaults 1 and 0).
class ReverseSequenceLayer : public Layer {
  KILN_LAYER_HANDLE(ReverseSequenceLayer, kREVERSE_SEQUENCE)
  void setBatchAxis(int32_t axis);
  int32_t batchAxis() const;
  void setSequenceAxis(int32_t axis);
  int32_t sequenceAxis() const;
};

enum class RoiAlignMode : int32_t { kAVERAGE, kMAX };

//! kiln's own layer (ONNX RoiAlign): input [N, C, H, W] float32, regions [R, 4] float32 (x1, y1,
//! x2, y2), batch indices [R] int32/int64 -> [R, C, outputHeight, outputWidth]. Each output cell
//! pools bilinear samples of its bin of the region (scaled by the spatial scale). Defaults:
//! kAVERAGE, 1x1, sampling ratio 0 (adaptive), spatial scale 1, aligned (ONNX half_pixel).
class RoiAlignLayer : public Layer {
  KILN_LAYER_HANDLE(RoiAlignLayer, kROI_ALIGN)
  void setMode(RoiAlignMode mode);
  RoiAlignMode mode() const;
  void setOutputSize(int64_t height, int64_t width);
  int64_t outputHeight() const;
  int64_t outputWidth() const;
  //! Samples per bin side; 0: ceil(region extent / output extent).
  void setSamplingRatio(int64_t ratio);
  int64_t samplingRatio() const;
  void setSpatialScale(float scale);
  float spatialScale() const;
  //! true: regions shift by -0.5 (half_pixel); false: ONNX output_half_pixel (opset 10).
  void setAligned(bool aligned);
  bool aligned() const;
};

//! kiln's own layer (ONNX MaxPool with dilations or its Indices output): max pooling over
//! [N, C, spatial...] float32 (1 to 3 spatial dimensions) with dilation. Output 0: the maxima;
//! output 1: int32, the flat index of each (first) maximum, plane * spatial volume + the spatial
//! offset (row-major, or column-major with setColumnMajorIndices). Padding cells never count.
class MaxPoolingIndicesLayer : public Layer {
  KILN_LAYER_HANDLE(MaxPoolingIndicesLayer, kMAX_POOLING_INDICES)
  Dims windowSize() const;
  void setStride(const Dims& stride);
  Dims stride() const;
  void setPrePadding(const Dims& padding);
  Dims prePadding() const;
  void setPostPadding(const Dims& padding);
  Dims postPadding() const;
  void setPaddingMode(PaddingMode mode);
  PaddingMode paddingMode() const;
  void setDilation(const Dims& dilation);
  Dims dilation() const;
  //! ONNX storage_order 1: spatial offsets with dimension 0 varying fastest.
  void setColumnMajorIndices(bool columnMajor);
  bool columnMajorIndices() const;
};

//! Discrete Fourier transform along one axis (ONNX DFT), computed in float32 with double sums.
//! The input's last dimension holds 1 (real) or 2 (real, imaginary) values per element; the
//! output's holds 2. The axis may be any dimension but the last.
class DFTLayer : public Layer {
  KILN_LAYER_HANDLE(DFTLayer, kDFT)
  //! The transformed axis (negative counts from the end, the complex dimension included).
  void setAxis(int32_t axis);
  int32_t axis() const;
  void setInverse(bool inverse);  //!< inverse transform, scaled by 1 / length
  bool inverse() const;
  //! Only the first length / 2 + 1 frequencies (real input; ONNX onesided).
  void setOnesided(bool onesided);
  bool onesided() const;
  //! Transform length (ONNX dft_length): the signal is cut or padded with zeros to it; 0 (the
  //! default) takes the axis' extent.
  void setLength(int64_t length);
  int64_t length() const;
};

enum class TfIdfMode : int32_t {
  kTF,     //!< term frequency
  kIDF,    //!< the weight of each n-gram found (1 without weights)
  kTFIDF,  //!< term frequency times weight
};

//! Counts n-grams of an int32 sequence (ONNX TfIdfVectorizer): input [C] or [B, C], output float32
//! [max(ngramIndexes) + 1] or [B, that]. The pool lists the n-grams to count, shortest first:
//! ngramCounts[i] is where the (i + 1)-grams start. An n-gram is n items taken skip + 1 apart, for
//! every skip from 0 to maxSkipCount; every n from minGramLength to maxGramLength is counted.
class TfIdfVectorizerLayer : public Layer {
  KILN_LAYER_HANDLE(TfIdfVectorizerLayer, kTFIDF_VECTORIZER)
  void setMode(TfIdfMode mode);
  TfIdfMode mode() const;
  void setGramLengths(int32_t minLength, int32_t maxLength);
  int32_t minGramLength() const;
  int32_t maxGramLength() const;
  void setMaxSkipCount(int32_t count);
  int32_t maxSkipCount() const;
};

//! Puts each value at its flat index in a zero output (ONNX MaxUnpool, the inverse of a max
//! pooling with indices). Input 0: float32 [N, C, spatial...]; input 1: int32 indices of the same
//! shape, offsets into the whole output. The output's spatial extents are
//! (in - 1) * stride + window - prePadding - postPadding unless setOutputDimensions gives the
//! whole shape, or setInput(2, shape) (int32/int64, a constant or shape-tensor network input).
class MaxUnpoolLayer : public Layer {
  KILN_LAYER_HANDLE(MaxUnpoolLayer, kMAX_UNPOOL)
  Dims windowSize() const;
  void setStride(const Dims& stride);  //!< default: the window size
  Dims stride() const;
  void setPrePadding(const Dims& padding);
  Dims prePadding() const;
  void setPostPadding(const Dims& padding);
  Dims postPadding() const;
  //! The whole output shape; rank 0 (the default) computes it from the settings above.
  void setOutputDimensions(const Dims& dims);
  Dims outputDimensions() const;
};

//! Dropout whose training mode is known only at run time (ONNX Dropout with a training_mode
//! input). Output 0 is the input and output 1 an all-true bool mask when the training mode is
//! false or the ratio 0; otherwise inference fails (kFAILED_EXECUTION), as kiln does not drop
//! values at random.
class DropoutLayer : public Layer {
  KILN_LAYER_HANDLE(DropoutLayer, kDROPOUT)
};

// Layers with outputs of data-dependent shape: the extent marked below is known only once the
// layer ran; Tensor::dimensions and Engine::tensorShape show it as -1 and memory is planned for
// its upper bound. Such a tensor can only be a network output (optionally through a cast):
// read it with an OutputAllocator (ExecutionContext::setOutputAllocator).

//! The coordinates of the nonzero elements of the input (TensorRT's INonZeroLayer): int32
//! [rank, N] (a scalar counts as rank 1), N data-dependent (at most the input's volume).
class NonZeroLayer : public Layer {
  KILN_LAYER_HANDLE(NonZeroLayer, kNON_ZERO)
};

//! The slices along an axis (or, by default, the elements of the flattened input) whose bool
//! condition [L] is true (ONNX Compress); entries beyond L are dropped. The extent along the
//! axis (or the one extent) is data-dependent.
class CompressLayer : public Layer {
  KILN_LAYER_HANDLE(CompressLayer, kCOMPRESS)
  //! Compresses along @p axis (negative counts from the end) instead of the flattened input.
  void setAxis(int32_t axis);
  int32_t axis() const;
  bool hasAxis() const;
};

//! The unique elements (or, with an axis, the unique slices along it) of the input (ONNX
//! Unique). Outputs: 0 the unique values, 1 the index of the first occurrence of each, 2 for
//! each input element (slice) the index of its value in output 0, 3 the count of each (int32).
//! Outputs 0, 1 and 3 have a data-dependent extent (output 0: along the axis).
class UniqueLayer : public Layer {
  KILN_LAYER_HANDLE(UniqueLayer, kUNIQUE)
  //! Ascending order (slices: lexicographic; the default) or the order of first occurrence.
  void setSorted(bool sorted);
  bool sorted() const;
  //! Unique slices along @p axis (negative counts from the end) instead of elements.
  void setAxis(int32_t axis);
  int32_t axis() const;
  bool hasAxis() const;
};

enum class BoundingBoxFormat : int32_t {
  kCORNER_PAIRS,  //!< [y1, x1, y2, x2], any two opposite corners
  kCENTER_SIZES,  //!< [x_center, y_center, width, height]
};

//! Non-maximum suppression with the semantics of ONNX NonMaxSuppression (TensorRT's INMSLayer
//! has the same inputs). Inputs: boxes float [B, N, 4], scores float [B, C, N], and
//! maxOutputBoxesPerClass (int32 scalar; 0 selects nothing); setInput(3, iouThreshold) and
//! setInput(4, scoreThreshold) add float scalars (defaults: 0, no score filter). Per batch and
//! class, boxes scoring above the threshold are taken by descending score, each suppressing
//! later ones with IoU above the IoU threshold. Output: int32 [selected, 3] rows (batch, class,
//! box) by batch, class, then selection order; selected is data-dependent (at most
//! B * C * min(N, maxOutputBoxesPerClass when a constant)).
class NMSLayer : public Layer {
  KILN_LAYER_HANDLE(NMSLayer, kNMS)
  void setBoundingBoxFormat(BoundingBoxFormat format);
  BoundingBoxFormat boundingBoxFormat() const;
};

enum class RNNOperation : int32_t {
  kRNN,   //!< Ht = f(Xt*Wi^T + Ht-1*Ri^T + Wbi + Rbi); default f: Tanh
  kLSTM,  //!< gates i, o, f, c; default activations Sigmoid, Tanh, Tanh
  kGRU,   //!< gates z, r, h; default activations Sigmoid, Tanh
};

enum class RNNDirection : int32_t { kFORWARD, kREVERSE, kBIDIRECTIONAL };

//! One recurrent layer with the semantics of ONNX LSTM, GRU and RNN (opset 14, layout
//! included). Input 0: X float32 [seqLength, batch, inputSize] ([batch, seqLength, inputSize]
//! with setBatchFirst); W [D, G*H, inputSize] and R [D, G*H, H] (G: 4 gates i o f c for LSTM, 3
//! z r h for GRU, 1 for RNN; H: the hidden size; D: 2 when bidirectional, else 1). Optional
//! inputs, set with setInput: 3 bias [D, 2*G*H] (W's, then R's), 4 sequence lengths int32/int64
//! [batch] (each in [0, seqLength]; steps past it give zeros in Y), 5 initial hidden state
//! [D, batch, H] ([batch, D, H] with setBatchFirst), and for LSTM 6 initial cell state (as the
//! hidden state) and 7 peepholes [D, 3*H] (i o f). Outputs: 0 Y [seqLength, D, batch, H]
//! ([batch, seqLength, D, H] with setBatchFirst), 1 the last hidden state, 2 (LSTM) the last
//! cell state, both of the initial state's shape. Computed in float32.
class RNNLayer : public Layer {
  KILN_LAYER_HANDLE(RNNLayer, kRNN)
  RNNOperation operation() const;
  int64_t hiddenSize() const;
  void setDirection(RNNDirection direction);  //!< default kFORWARD; W and R need D entries
  RNNDirection direction() const;
  void setBatchFirst(bool batchFirst);  //!< ONNX layout 1
  bool batchFirst() const;
  //! Gate pre-activations are clipped to [-threshold, threshold]; 0 (the default): no clipping.
  void setClip(float threshold);
  float clip() const;
  void setInputForget(bool coupled);  //!< LSTM: the forget gate is 1 - the input gate
  bool inputForget() const;
  //! GRU: the reset gate scales Ht-1*Rh^T + Rbh instead of Ht-1 (cuDNN's and PyTorch's GRU).
  void setLinearBeforeReset(bool linear);
  bool linearBeforeReset() const;
  //! The cell's activations in ONNX order (LSTM f, g, h; GRU f, g; RNN f): one direction's list
  //! (used by both directions) or one list per direction, forward first. @p alphas and @p betas:
  //! one per activation, or empty for the activation defaults (ActivationLayer's).
  void setActivations(std::span<const ActivationType> types, std::span<const float> alphas = {},
                      std::span<const float> betas = {});
  //! The list set with setActivations; empty for the defaults.
  std::vector<ActivationType> activations() const;
};

#undef KILN_LAYER_HANDLE

//! The network: create with Builder::createNetwork().
class NetworkDefinition {
 public:
  ~NetworkDefinition();
  NetworkDefinition(const NetworkDefinition&) = delete;
  NetworkDefinition& operator=(const NetworkDefinition&) = delete;

  Tensor addInput(std::string_view name, DataType type, const Dims& dims);
  //! Marks a tensor as a network output. False (and a logged error) for a null tensor.
  bool markOutput(Tensor tensor);
  void unmarkOutput(Tensor tensor);

  ConvolutionLayer addConvolution(Tensor input, int64_t nbOutputMaps, const Dims& kernelSize,
                                  Weights kernel, Weights bias);
  DeconvolutionLayer addDeconvolution(Tensor input, int64_t nbOutputMaps, const Dims& kernelSize,
                                      Weights kernel, Weights bias);
  PoolingLayer addPooling(Tensor input, PoolingType type, const Dims& windowSize);
  FullyConnectedLayer addFullyConnected(Tensor input, int64_t nbOutputs, Weights kernel,
                                        Weights bias);
  MatrixMultiplyLayer addMatrixMultiply(Tensor input0, MatrixOperation op0, Tensor input1,
                                        MatrixOperation op1);
  ActivationLayer addActivation(Tensor input, ActivationType type);
  SoftMaxLayer addSoftMax(Tensor input);
  ElementWiseLayer addElementWise(Tensor input0, Tensor input1, ElementWiseOperation op);
  UnaryLayer addUnary(Tensor input, UnaryOperation op);
  ScaleLayer addScale(Tensor input, ScaleMode mode, Weights shift, Weights scale, Weights power);
  //! Scale along an explicit channel axis (TensorRT's addScaleNd).
  ScaleLayer addScaleNd(Tensor input, ScaleMode mode, Weights shift, Weights scale, Weights power,
                        int32_t channelAxis);
  ConcatenationLayer addConcatenation(std::span<const Tensor> inputs);
  ShuffleLayer addShuffle(Tensor input);
  ConstantLayer addConstant(const Dims& dims, Weights weights);
  PaddingLayer addPadding(Tensor input, const Dims& prePadding, const Dims& postPadding);
  LRNLayer addLRN(Tensor input, int64_t window, float alpha, float beta, float k);
  ReduceLayer addReduce(Tensor input, ReduceOperation op, uint32_t reduceAxes, bool keepDimensions);
  TopKLayer addTopK(Tensor input, TopKOperation op, int32_t k, uint32_t reduceAxes);
  GatherLayer addGather(Tensor data, Tensor indices, int32_t axis);
  GatherLayer addGatherV2(Tensor data, Tensor indices, GatherMode mode);
  SliceLayer addSlice(Tensor input, const Dims& start, const Dims& size, const Dims& stride);
  IdentityLayer addIdentity(Tensor input);
  //! An identity that converts to @p type.
  IdentityLayer addCast(Tensor input, DataType type);
  SelectLayer addSelect(Tensor condition, Tensor thenInput, Tensor elseInput);
  //! Set the output shape with setOutputDimensions, setScales or setInput(1, ...).
  ResizeLayer addResize(Tensor input);
  ScatterLayer addScatter(Tensor data, Tensor indices, Tensor updates, ScatterMode mode);
  //! @p axis: an int32/int64 scalar (or one-element vector) tensor, constant or run-time.
  CumulativeLayer addCumulative(Tensor input, Tensor axis, CumulativeOperation op, bool exclusive,
                                bool reverse);
  //! @p values: [off, on]; @p depth: a constant scalar.
  OneHotLayer addOneHot(Tensor indices, Tensor values, Tensor depth, int32_t axis);
  GridSampleLayer addGridSample(Tensor input, Tensor grid);
  //! kiln's own layer (ONNX Trilu); @p k: the diagonal offset.
  TriluLayer addTrilu(Tensor input, bool upper, int64_t k = 0);
  //! kiln's own layer (ONNX Range): start, start + delta, ... before limit.
  RangeLayer addRange(Tensor start, Tensor limit, Tensor delta);
  //! @p inputs: @p nbInputs tensors (1 to 16), one per term of @p equation.
  EinsumLayer addEinsum(const Tensor* inputs, int32_t nbInputs, std::string_view equation);
  //! kiln's own layer (ONNX NegativeLogLikelihoodLoss / SoftmaxCrossEntropyLoss).
  LossLayer addLoss(Tensor input, Tensor target, LossType type,
                    LossReduction reduction = LossReduction::kMEAN);
  //! @p toType: kINT8 or kUINT8. The zero point, if any: setInput(2, zeroPoint).
  QuantizeLayer addQuantize(Tensor input, Tensor scale, DataType toType = DataType::kINT8);
  DequantizeLayer addDequantize(Tensor input, Tensor scale);
  //! kiln's own layer (ONNX Det).
  DeterminantLayer addDeterminant(Tensor input);
  ReverseSequenceLayer addReverseSequence(Tensor input, Tensor sequenceLengths);
  //! kiln's own layer (ONNX RoiAlign).
  RoiAlignLayer addRoiAlign(Tensor input, Tensor rois, Tensor batchIndices);
  //! kiln's own layer (ONNX MaxPool with dilations or Indices).
  MaxPoolingIndicesLayer addMaxPoolingWithIndices(Tensor input, const Dims& windowSize);
  //! kiln's own layer (ONNX DFT).
  DFTLayer addDFT(Tensor input, int32_t axis, bool inverse = false);
  //! kiln's own layer (ONNX TfIdfVectorizer). @p weights: one per n-gram, or empty (all 1).
  TfIdfVectorizerLayer addTfIdfVectorizer(Tensor input, TfIdfMode mode,
                                          std::span<const int64_t> pool,
                                          std::span<const int64_t> ngramCounts,
                                          std::span<const int64_t> ngramIndexes,
                                          std::span<const float> weights);
  //! kiln's own layer (ONNX MaxUnpool).
  MaxUnpoolLayer addMaxUnpool(Tensor input, Tensor indices, const Dims& windowSize);
  //! kiln's own layer (ONNX Dropout): @p ratio float32 and @p trainingMode bool scalars.
  DropoutLayer addDropout(Tensor input, Tensor ratio, Tensor trainingMode);
  NonZeroLayer addNonZero(Tensor input);
  //! kiln's own layer (ONNX Compress): @p condition bool [L].
  CompressLayer addCompress(Tensor input, Tensor condition);
  //! kiln's own layer (ONNX Unique).
  UniqueLayer addUnique(Tensor input);
  NMSLayer addNMS(Tensor boxes, Tensor scores, Tensor maxOutputBoxesPerClass);
  //! An LSTM, GRU or RNN layer (see RNNLayer): @p weights W and @p recurrence R are float32
  //! tensors (constants: addConstant) of @p hiddenSize units.
  RNNLayer addRNN(Tensor input, RNNOperation op, int64_t hiddenSize, Tensor weights,
                  Tensor recurrence);

  int32_t nbInputs() const;
  Tensor input(int32_t index) const;
  int32_t nbOutputs() const;
  Tensor output(int32_t index) const;
  int32_t nbLayers() const;
  Layer layer(int32_t index) const;
  //! Tensor by name; null if none has that name.
  Tensor tensor(std::string_view name) const;

  void setName(std::string_view name);
  std::string_view name() const;

  //! Internal representation (for the builder and parsers inside the library).
  detail::NetworkImpl& impl() noexcept { return *impl_; }
  const detail::NetworkImpl& impl() const noexcept { return *impl_; }

 private:
  friend class Builder;
  explicit NetworkDefinition(std::unique_ptr<detail::NetworkImpl> impl);
  std::unique_ptr<detail::NetworkImpl> impl_;
};

}  // namespace kiln
