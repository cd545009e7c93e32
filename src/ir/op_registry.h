// The op registry: for every op kind, its arity, its shape/type inference and its reference
// kernel. Reference kernels are plain, obviously right FP32 code: the truth every fast kernel
// (and every backend) is tested against.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "ir/graph.h"
#include "kiln/types.h"

namespace kiln {
class ThreadPool;
class AsyncErrors;
}  // namespace kiln

namespace kiln::ir {

//! What shape inference knows about one input or output.
struct TensorInfo {
  bool present = true;  //!< false for an omitted optional input
  DataType dtype = DataType::kFLOAT;
  Dims dims;
  const void* constData = nullptr;  //!< the values, when the input is a constant
  //! Bit i set: dims[i] is an upper bound; the real extent depends on the data (Value's field).
  uint32_t boundedExtents = 0;
  //! A constant whose bytes the plan left out: its consumers' kernels absorbed it into their
  //! prepared weights (backends/prepared_weights.h). constData is null.
  bool absorbed = false;

  bool isConstant() const noexcept { return constData != nullptr || absorbed; }

  template <typename T>
  const T* constAs() const noexcept {
    return static_cast<const T*>(constData);
  }
};

//! Inputs of one node during shape inference; the rule fills in the outputs.
class InferContext {
 public:
  InferContext(const Node& node, std::span<const TensorInfo> inputs,
               std::span<TensorInfo> outputs) noexcept
      : node_(node), inputs_(inputs), outputs_(outputs) {}

  const Node& node() const noexcept { return node_; }
  const Attributes& attrs() const noexcept { return node_.attrs; }
  int32_t nbInputs() const noexcept { return static_cast<int32_t>(inputs_.size()); }
  bool hasInput(int32_t i) const noexcept {
    return i >= 0 && i < nbInputs() && inputs_[static_cast<std::size_t>(i)].present;
  }
  const TensorInfo& input(int32_t i) const { return inputs_[static_cast<std::size_t>(i)]; }
  int32_t nbOutputs() const noexcept { return static_cast<int32_t>(outputs_.size()); }
  TensorInfo& output(int32_t i) { return outputs_[static_cast<std::size_t>(i)]; }
  void setOutput(int32_t i, DataType dtype, const Dims& dims) {
    auto& out = outputs_[static_cast<std::size_t>(i)];
    out.dtype = dtype;
    out.dims = dims;
  }

  //! Throws kINVALID_ARGUMENT as "layer 'NAME' (OP): <message>".
  template <typename... Args>
  [[noreturn]] void fail(Args&&... args) const {
    ::kiln::fail(ErrorCode::kINVALID_ARGUMENT, "layer '", node_.name, "' (", node_.op,
                 "): ", std::forward<Args>(args)...);
  }

 private:
  const Node& node_;
  std::span<const TensorInfo> inputs_;
  std::span<TensorInfo> outputs_;
};

//! A tensor as a kernel sees it: type, shape and memory (row-major, contiguous).
struct TensorView {
  DataType dtype = DataType::kFLOAT;
  Dims dims;
  void* data = nullptr;
  bool present = true;

  int64_t count() const noexcept { return volume(dims); }
  template <typename T>
  T* as() const noexcept {
    return static_cast<T*>(data);
  }
};

//! Everything a kernel gets for one execution of one node.
struct KernelContext {
  const Node& node;
  std::span<const TensorView> inputs;
  std::span<const TensorView> outputs;
  void* workspace = nullptr;
  std::size_t workspaceBytes = 0;
  //! The runtime's threads for parallel kernels (core/thread_pool.h); null runs serially.
  ThreadPool* threads = nullptr;
  //! GPU kernels: the cudaStream_t to enqueue on (null: the default stream). Tensors, constants
  //! and workspace are then device memory, and the kernel must not wait for the device.
  void* stream = nullptr;
  //! Host memory (page-locked for GPU engines) of Kernel::hostWorkspaceBytes, owned by the
  //! execution context, for kernels that stage tensors on the host.
  void* hostWorkspace = nullptr;
  //! Where work that runs after execute() returns (stream callbacks) reports its errors.
  AsyncErrors* asyncErrors = nullptr;
  //! Per output, the dims it really has: the runtime sets each to the output's dims and a
  //! kernel with data-dependent outputs overwrites the extents it found (setOutputDims). Empty
  //! where nobody asks (constant folding, tactic timing).
  std::span<Dims> actualOutputDims = {};

  const Attributes& attrs() const noexcept { return node.attrs; }
  //! Reports the real dims of output @p i (within its upper bound; written compactly).
  void setOutputDims(int32_t i, const Dims& dims) const {
    if (static_cast<std::size_t>(i) < actualOutputDims.size()) {
      actualOutputDims[static_cast<std::size_t>(i)] = dims;
    }
  }
  const TensorView& input(int32_t i) const { return inputs[static_cast<std::size_t>(i)]; }
  bool hasInput(int32_t i) const noexcept {
    return i >= 0 && static_cast<std::size_t>(i) < inputs.size() &&
           inputs[static_cast<std::size_t>(i)].present;
  }
  const TensorView& output(int32_t i) const { return outputs[static_cast<std::size_t>(i)]; }
};

using InferFn = std::function<void(InferContext&)>;
using KernelFn = std::function<void(const KernelContext&)>;

struct OpSchema {
  std::string name;
  int32_t minInputs = 1;
  int32_t maxInputs = 1;
  int32_t nbOutputs = 1;
  InferFn infer;
  KernelFn reference;  //!< may be empty only for ops the builder removes (Constant)
  //! The op takes inputs of data-dependent shape (Value::boundedExtents): its outputs have
  //! the bounded extents of input 0, and the runtime infers its real output shapes from the
  //! real input shapes before running it. Other ops refuse such inputs (inferShapes).
  bool takesDataDependentShapes = false;
  //! Inputs whose values decide output shapes (a Shuffle's shape, a Slice's bounds): they must
  //! be known when the engine is built, as constants or as shape-tensor network inputs given
  //! values by an optimization profile. Shape inference sees them as constData when known and
  //! gives unknown (-1) extents where they decide them otherwise.
  std::vector<int32_t> shapeInputs = {};
};

//! All ops known to this build. Filled once, at first use, by the op families of src/ops.
class OpRegistry {
 public:
  static const OpRegistry& instance();

  void add(OpSchema schema);
  //! Null when @p op is unknown.
  const OpSchema* find(std::string_view op) const;
  //! Throws kUNSUPPORTED_NODE naming @p op when unknown.
  const OpSchema& get(std::string_view op) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, OpSchema, std::less<>> schemas_;
};

//! Runs @p node's inference rule on @p inputs; checks arity first. Throws naming the node.
std::vector<TensorInfo> inferNode(const Node& node, std::span<const TensorInfo> inputs);

//! The bytes of value @p v when they are known before running: a constant, or the output of a
//! Constant node (which the builder folds into its constant); null otherwise (an empty constant
//! is known: non-null). Shape inference hands them to rules that need values (a Shuffle's shape
//! input, constant Gather indices).
const void* knownConstantData(const Graph& graph, ValueId v);

//! The first node reading @p v at one of its shape inputs (OpSchema::shapeInputs), and which
//! input; {kNoNode, -1} when none does.
std::pair<NodeId, int32_t> shapeInputUse(const Graph& graph, ValueId v);

//! Infers dims and dtypes of every value of @p graph in topological order (graph inputs and
//! constants as declared). Requested output types (Node::outputTypes) are applied where the op
//! honours them (Identity casts).
void inferShapes(Graph& graph);

}  // namespace kiln::ir
