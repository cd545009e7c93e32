// What a pass gets besides the graph, and the graph queries and edits passes share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/reporter.h"
#include "ir/graph.h"

namespace kiln::builder {

struct PassContext {
  std::string_view pass;
  const Reporter& reporter;
  //! Constant folding leaves outputs larger than this to run time, and no pass makes a constant
  //! larger than this (a fusion that would need one is not done).
  uint64_t constantFoldLimitBytes = uint64_t{16} << 20;

  //! The one place passes make constant storage: zeroed bytes for a constant of @p dims and
  //! @p type, or nullopt when it would take more than constantFoldLimitBytes (the pass then
  //! leaves the layers as they are, computed at run time). A constant that takes the place of
  //! the constant @p replaces (weights rewritten in place of the model's) may be as large as
  //! that one: the model paid for those bytes.
  std::optional<std::vector<std::byte>> newConstant(const ir::Graph& graph, const Dims& dims,
                                                    DataType type,
                                                    ir::ValueId replaces = ir::kNoValue) const;

  //! Logs one rewrite (verbose): "pass NAME: WHAT".
  void log(const std::string& what) const;
};

//! Consumers of every value, for one pass over a graph that does not change them meanwhile.
class Uses {
 public:
  explicit Uses(const ir::Graph& graph) : graph_(graph), users_(graph.consumers()) {}

  const std::vector<ir::NodeId>& of(ir::ValueId v) const {
    return users_[static_cast<std::size_t>(v)];
  }
  //! The node alone reads @p v (once or more), and @p v is not a graph output.
  bool onlyUser(ir::ValueId v, ir::NodeId node) const;
  //! The one node that reads @p v when it is not a graph output; kNoNode otherwise.
  ir::NodeId soleUser(ir::ValueId v) const;
  //! Recomputes after an edit.
  void refresh() { users_ = graph_.consumers(); }

 private:
  const ir::Graph& graph_;
  std::vector<std::vector<ir::NodeId>> users_;
};

//! The producer of @p v when it is a node output, with @p op (any op when empty); else null.
const ir::Node* producerOf(const ir::Graph& graph, ir::ValueId v, std::string_view op = {});
ir::NodeId producerId(const ir::Graph& graph, ir::ValueId v);

//! Reads @p v's float constant, or empty when @p v is not a float constant.
std::vector<float> floatConstant(const ir::Graph& graph, ir::ValueId v);
//! The one value of a float constant whose elements are all equal (a scalar, possibly
//! broadcast); false when @p v is not such a constant.
bool uniformConstant(const ir::Graph& graph, ir::ValueId v, double& value);
//! The float elements of storage from PassContext::newConstant (for a float32 constant).
std::span<float> floatsOf(std::vector<std::byte>& storage);
//! A new float constant named after @p name, holding @p storage (from PassContext::newConstant).
ir::ValueId addFloatConstant(ir::Graph& graph, const std::string& name, const Dims& dims,
                             std::vector<std::byte> storage);

//! Makes every node input that reads @p from read @p to instead.
void replaceUses(ir::Graph& graph, ir::ValueId from, ir::ValueId to);

//! Node @p keep takes over the output of node @p absorbed (which must be a single-output node
//! reading only what @p keep may read) and @p absorbed is removed: @p keep now writes the value
//! @p absorbed wrote (its name, consumers and any graph output role stay), and its fusedFrom
//! gains the absorbed node's.
void absorb(ir::Graph& graph, ir::NodeId keep, ir::NodeId absorbed);

//! Splits single-output node @p node in two: it writes a new value "<name><suffix>" of @p dims
//! (its own type), and a new node @p op named "<name><suffix>_next" reads that value and
//! @p extraInputs and writes the value @p node wrote (its name, readers, graph output role, and
//! the type and precision requested for it stay). Returns the new node (no attributes, no
//! fusedFrom: @p node still stands for the network's layer).
ir::NodeId splitAfter(ir::Graph& graph, ir::NodeId node, const std::string& suffix,
                      const Dims& dims, std::string op, std::vector<ir::ValueId> extraInputs = {});

//! Removes a node from the graph (it stays as a tombstone, dropped when the pass ends).
void removeNode(ir::Graph& graph, ir::NodeId node);

//! Removes a single-input, single-output node that passes its input through unchanged, making
//! its readers read the input. False (nothing changed) when its output is a graph output and
//! its input cannot take over that role.
bool bypassNode(ir::Graph& graph, const Uses& uses, ir::NodeId node);

//! "a + b + c" of the fusedFrom names, for logs.
std::string joinNames(const std::vector<std::string>& names);

}  // namespace kiln::builder
