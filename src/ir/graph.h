// The IR: a graph of nodes (operations) and values (tensors). Parsers and the network API build
// it, passes rewrite it, tactics run its nodes, and the plan stores it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ir/attributes.h"
#include "kiln/types.h"

namespace kiln::ir {

using ValueId = int32_t;
using NodeId = int32_t;
inline constexpr ValueId kNoValue = -1;
inline constexpr NodeId kNoNode = -1;

//! Bytes of a constant tensor, shared between copies of a graph (immutable once made).
using ConstantBytes = std::shared_ptr<const std::vector<std::byte>>;

struct Value {
  std::string name;
  DataType dtype = DataType::kFLOAT;
  Dims dims;
  NodeId producer = kNoNode;  //!< node writing it; kNoNode for graph inputs and constants
  int32_t producerOutput = 0;
  ConstantBytes constant;  //!< set for constants (weights); size = volume * element size
  //! Bit i set: extent i depends on the data (NonZero, Unique, ...). dims[i] is then only an
  //! upper bound, which memory is planned for; the kernel reports the real extent at run time
  //! and the API shows -1 there until it is known (docs/architecture.md).
  uint32_t boundedExtents = 0;
  //! A constant whose bytes the engine no longer holds (constant is empty): every kernel that
  //! reads it absorbed it into its prepared weights (backends/prepared_weights.h).
  bool absorbed = false;

  bool isConstant() const noexcept { return constant != nullptr; }
};

struct Node {
  std::string name;
  std::string op;  //!< key into the OpRegistry ("Convolution", "ElementWise", ...)
  Attributes attrs;
  std::vector<ValueId> inputs;  //!< kNoValue marks an omitted optional input
  std::vector<ValueId> outputs;
  std::vector<std::string> fusedFrom;  //!< names of the network layers this node stands for
  std::optional<DataType> precision;   //!< requested compute precision
  std::vector<std::optional<DataType>> outputTypes;  //!< requested output types
};

class Graph {
 public:
  std::string name;
  std::vector<Node> nodes;
  std::vector<Value> values;
  std::vector<ValueId> inputs;   //!< graph inputs, in declaration order
  std::vector<ValueId> outputs;  //!< graph outputs, in marking order

  ValueId addValue(std::string valueName, DataType dtype, const Dims& dims);
  ValueId addConstant(std::string valueName, DataType dtype, const Dims& dims,
                      std::vector<std::byte> bytes);
  //! Appends a node and @p nbOutputs fresh output values named "<node>_output_<i>"
  //! (just "<node>_output" for one output).
  NodeId addNode(std::string nodeName, std::string op, std::vector<ValueId> nodeInputs,
                 int32_t nbOutputs);

  Value& value(ValueId id);
  const Value& value(ValueId id) const;
  Node& node(NodeId id);
  const Node& node(NodeId id) const;

  bool isGraphInput(ValueId id) const;
  bool isGraphOutput(ValueId id) const;

  //! For every value, the nodes that read it (in node order).
  std::vector<std::vector<NodeId>> consumers() const;

  //! Node ids in an order where every producer precedes its consumers; throws
  //! kINVALID_ARGUMENT naming a node on the cycle when there is one.
  std::vector<NodeId> topologicalOrder() const;

  //! Keeps only the nodes in @p order (in that order), drops values nothing refers to, and
  //! renumbers everything.
  void rebuild(const std::vector<NodeId>& order);

  //! Throws kINVALID_ARGUMENT on dangling ids, values with two producers and the like.
  void validate() const;
};

}  // namespace kiln::ir
