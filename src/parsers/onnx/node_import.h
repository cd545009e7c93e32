// What an importer of one ONNX node sees, and the table op_type -> importer.
//
// Every ONNX tensor name maps to a Value: a kiln Tensor, a known constant (initializers,
// Constant nodes, folded shape arithmetic), or both once a constant has been materialized as a
// Constant layer because a layer reads it as data. Importers read attributes and inputs through
// NodeImport, add layers through the public network API, and set the node's outputs.
// They throw UnsupportedNode for what kiln cannot do (collected and reported together), and
// kiln::Error with kINVALID_MODEL for what the model gets wrong.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/network.h"
#include "onnx.pb.h"
#include "parsers/onnx/const_tensor.h"
#include "parsers/onnx/tensor_proto.h"

namespace kiln::parsers::onnx_import {

//! Thrown by importers for a node kiln cannot import; the message is the reason.
class UnsupportedNode : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Value {
  Tensor tensor;                                //!< null until a layer writes it
  std::shared_ptr<const ConstTensor> constant;  //!< the values, when known at parse time
  bool failed = false;  //!< its producer was not imported: readers are skipped quietly
};

//! The parse-wide state importers share.
struct ImportState {
  ImportState(NetworkDefinition& net, ExternalDataRoot dataRoot, uint64_t maxConstantBytes)
      : network(net),
        root(std::move(dataRoot)),
        constants{maxConstantBytes, false},
        folds{std::min(maxConstantBytes, kFoldLimitBytes), true} {}

  NetworkDefinition& network;
  ExternalDataRoot root;
  //! Every constant the parser makes (ModelLimits::maxTensorBytes): larger ones are refused.
  ConstantLimit constants;
  //! Results of parse-time folds: larger ones are left to the network.
  ConstantLimit folds;
  std::map<std::string, Value, std::less<>> values;
  //! Names read by some node or listed as graph outputs (outputs not in it may be dropped).
  std::set<std::string, std::less<>> consumed;
  //! A layer was added whose settings the network rejected: it stays in the network and fails
  //! every later shape inference, so no more layers can be added.
  bool broken = false;

  //! The kiln tensor of @p name, adding a Constant layer for a known constant on first use.
  Tensor materialize(const std::string& name);
};

class NodeImport {
 public:
  NodeImport(ImportState& state, const ::onnx::NodeProto& node, std::string name, int64_t opset);

  NetworkDefinition& network;
  const ::onnx::NodeProto& proto;
  const int64_t opset;

  const std::string& name() const noexcept { return name_; }
  const std::string& opType() const noexcept { return proto.op_type(); }

  // --- inputs --------------------------------------------------------------------------------
  int32_t nbInputs() const noexcept { return proto.input_size(); }
  //! False for an input beyond the list or given as "" (an omitted optional input).
  bool hasInput(int32_t i) const noexcept;
  // The name of input i; empty where the node has no such input.
  const std::string& inputName(int32_t i) const;
  //! The known values of input @p i; null when it is computed at run time (or omitted).
  const ConstTensor* constantInput(int32_t i) const;
  //! True when every present input is a known constant (the node can be folded).
  bool allInputsConstant() const;
  //! The values of input @p i; UnsupportedNode naming @p what when they are not known.
  const ConstTensor& requireConstant(int32_t i, std::string_view what) const;
  //! The kiln tensor of input @p i (a Constant layer for known values).
  Tensor input(int32_t i);
  //! Input @p i for a layer input that decides shapes: a network input as the network takes it
  //! (an int64 shape tensor stays int64, skipping the int32 conversion other layers read), so
  //! that an optimization profile can give its values (Tensor::isShapeTensor).
  Tensor shapeInput(int32_t i);
  //! True when input @p i is not known at parse time but is a network input that can be a
  //! shape tensor (its values come from an optimization profile when the engine is built).
  //! @p orFloat admits float32 inputs too (a Resize's scales, a OneHot's depth).
  bool isShapeTensorInput(int32_t i, bool orFloat = false);
  Dims inputDims(int32_t i) const;
  int32_t inputRank(int32_t i) const { return inputDims(i).nbDims; }
  DataType inputType(int32_t i) const;

  // --- attributes ----------------------------------------------------------------------------
  const ::onnx::AttributeProto* attr(std::string_view name) const;
  bool hasAttr(std::string_view name) const { return attr(name) != nullptr; }
  int64_t attrInt(std::string_view name, int64_t fallback) const;
  float attrFloat(std::string_view name, float fallback) const;
  std::string attrString(std::string_view name, std::string_view fallback) const;
  std::vector<int64_t> attrInts(std::string_view name) const;  //!< empty when absent
  std::vector<float> attrFloats(std::string_view name) const;
  //! The decoded tensor attribute @p name; nullopt when absent.
  std::optional<ConstTensor> attrTensor(std::string_view name) const;

  //! The limits to make constants with (ConstTensor::allocate): constants the node makes, and
  //! results of folds (which decline past theirs).
  const ConstantLimit& constantLimit() const noexcept { return state_.constants; }
  const ConstantLimit& foldLimit() const noexcept { return state_.folds; }

  // --- outputs -------------------------------------------------------------------------------
  int32_t nbOutputs() const noexcept { return proto.output_size(); }
  //! True when output @p i is named and read by some node or is a graph output.
  bool outputUsed(int32_t i) const;
  void setOutput(int32_t i, Tensor tensor);
  void setOutput(int32_t i, ConstTensor values);
  //! Output @p i is input @p j (Identity, Dropout): constants stay constants.
  void forward(int32_t j, int32_t i);
  bool outputSet(int32_t i) const;

  // --- layers --------------------------------------------------------------------------------
  //! Names @p layer after the node ("<node>/<role>"; the layer writing the node's output gets
  //! the node's own name, see setOutput) and checks that the network accepted it and its shapes
  //! work out; throws kiln::Error otherwise (the network logs its reason).
  template <typename L>
  L add(L layer, std::string_view role = {}) {
    checkAdded(layer, role);
    return layer;
  }

  //! A Constant layer holding @p values.
  Tensor constant(const ConstTensor& values, std::string_view role);
  //! A float32 (or int32) constant of rank @p rank with every extent 1, for broadcasting.
  Tensor scalar(float value, int32_t rank, std::string_view role);
  Tensor scalarInt(int32_t value, int32_t rank, std::string_view role);
  Tensor reshape(Tensor x, const Dims& dims, std::string_view role);
  Tensor transpose(Tensor x, std::span<const int32_t> perm, std::string_view role);
  Tensor cast(Tensor x, DataType type, std::string_view role);
  Tensor elementWise(Tensor a, Tensor b, ElementWiseOperation op, std::string_view role);
  Tensor unary(Tensor x, UnaryOperation op, std::string_view role);
  Tensor activation(Tensor x, ActivationType type, std::string_view role,
                    std::optional<float> alpha = std::nullopt,
                    std::optional<float> beta = std::nullopt);
  Tensor reduce(Tensor x, ReduceOperation op, uint32_t axes, bool keep, std::string_view role);
  Tensor slice(Tensor x, const Dims& start, const Dims& size, const Dims& stride,
               std::string_view role);

  [[noreturn]] void unsupported(const std::string& reason) const;
  [[noreturn]] void invalid(const std::string& message) const;

 private:
  void checkAdded(const Layer& layer, std::string_view role);

  ImportState& state_;
  std::string name_;
  std::vector<Layer> added_;    //!< the layers this node added
  bool plainNameUsed_ = false;  //!< a layer carries the node's own name
};

using Importer = void (*)(NodeImport&);

struct ImporterInfo {
  std::string_view opType;
  Importer import;
  int64_t sinceOpset = 1;  //!< older opsets are reported unsupported
};

//! Every op the parser imports.
std::span<const ImporterInfo> importers();
const ImporterInfo* findImporter(std::string_view opType);
//! Why an op without importer is not supported ("no kiln layer yet", ...).
std::string missingImporterReason(std::string_view opType);

// Importers, by family file.
void importConv(NodeImport& n);
void importConvTranspose(NodeImport& n);
void importMaxPool(NodeImport& n);
void importAveragePool(NodeImport& n);
void importGlobalPool(NodeImport& n);
void importGemm(NodeImport& n);
void importMatMul(NodeImport& n);
void importActivation(NodeImport& n);
void importClip(NodeImport& n);
void importPRelu(NodeImport& n);
void importComposedActivation(NodeImport& n);
void importSoftmax(NodeImport& n);
void importHardmax(NodeImport& n);
void importBinary(NodeImport& n);
void importVariadic(NodeImport& n);
void importComparison(NodeImport& n);
void importLogical(NodeImport& n);
void importWhere(NodeImport& n);
void importUnary(NodeImport& n);
void importBatchNormalization(NodeImport& n);
void importInstanceNormalization(NodeImport& n);
void importLayerNormalization(NodeImport& n);
void importLRN(NodeImport& n);
void importReduce(NodeImport& n);
void importArgMinMax(NodeImport& n);
void importTopK(NodeImport& n);
void importBitShift(NodeImport& n);
void importDFT(NodeImport& n);
void importTfIdfVectorizer(NodeImport& n);
void importMaxUnpool(NodeImport& n);
void importReshape(NodeImport& n);
void importFlatten(NodeImport& n);
void importTranspose(NodeImport& n);
void importSqueeze(NodeImport& n);
void importUnsqueeze(NodeImport& n);
void importIdentity(NodeImport& n);
void importCast(NodeImport& n);
void importConstant(NodeImport& n);
void importShape(NodeImport& n);
void importSize(NodeImport& n);
void importConstantOfShape(NodeImport& n);
void importRange(NodeImport& n);
void importConcat(NodeImport& n);
void importSplit(NodeImport& n);
void importSlice(NodeImport& n);
void importGather(NodeImport& n);
void importGatherElements(NodeImport& n);
void importGatherND(NodeImport& n);
void importExpand(NodeImport& n);
void importTile(NodeImport& n);
void importPad(NodeImport& n);
void importDepthToSpace(NodeImport& n);
void importSpaceToDepth(NodeImport& n);
void importResize(NodeImport& n);
void importUpsample(NodeImport& n);
void importGridSample(NodeImport& n);
void importScatter(NodeImport& n);
void importCumSum(NodeImport& n);
void importOneHot(NodeImport& n);
void importTrilu(NodeImport& n);
void importEinsum(NodeImport& n);
void importLoss(NodeImport& n);
void importMod(NodeImport& n);
void importShrink(NodeImport& n);
void importMeanVarianceNormalization(NodeImport& n);
void importEyeLike(NodeImport& n);
void importWindow(NodeImport& n);
void importDet(NodeImport& n);
void importReverseSequence(NodeImport& n);
void importRoiAlign(NodeImport& n);
void importRecurrent(NodeImport& n);  // LSTM, GRU, RNN
void importQuantizeLinear(NodeImport& n);
void importDequantizeLinear(NodeImport& n);
void importDynamicQuantizeLinear(NodeImport& n);
void importConvInteger(NodeImport& n);
void importQLinearConv(NodeImport& n);
void importMatMulInteger(NodeImport& n);
void importQLinearMatMul(NodeImport& n);
void importNonZero(NodeImport& n);
void importCompress(NodeImport& n);
void importUnique(NodeImport& n);
void importNonMaxSuppression(NodeImport& n);

// Helpers shared by the importers.

//! @p axis (negative counts from the end) in [0, rank); kINVALID_MODEL naming @p what otherwise.
int32_t normalizeAxis(const NodeImport& n, int64_t axis, int32_t rank, std::string_view what);
//! Bitmask of @p axes for @p rank (each checked as normalizeAxis; repeats rejected).
uint32_t axesMask(const NodeImport& n, std::span<const int64_t> axes, int32_t rank,
                  std::string_view what);
//! Dims of rank @p rank filled with @p value.
Dims filled(int32_t rank, int64_t value);
//! Dims from a list; kINVALID_MODEL naming @p what when longer than kiln's rank limit.
Dims toDims(const NodeImport& n, std::span<const int64_t> values, std::string_view what);
//! numpy broadcast of two shapes; kINVALID_MODEL naming the node when they do not broadcast.
Dims broadcastDims(const NodeImport& n, const Dims& a, const Dims& b);
//! A Slice layer that broadcasts @p x to the shape held by input @p shapeIndex of the node (or,
//! with @p tile, repeats it the times held there), whose values are known only when the engine
//! is built (a shape-tensor network input); @p x is lifted to the result's rank first
//! (import_tensor_ops.cpp).
Tensor sliceToTarget(NodeImport& n, Tensor x, int32_t shapeIndex, bool tile);
//! A convolution of float32 tensors @p x and @p w (and @p bias unless null) with the node's
//! Conv attributes (import_conv_pool.cpp).
Tensor convolveTensors(NodeImport& n, Tensor x, Tensor w, Tensor bias);

}  // namespace kiln::parsers::onnx_import
