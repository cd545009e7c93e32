// Tactics: the ways a backend can run a node. The builder picks one per node (timing the
// candidates); the plan records its name; the runtime re-creates its Kernel from that name.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backends/prepared_weights.h"
#include "ir/graph.h"
#include "ir/op_registry.h"
#include "kiln/types.h"

namespace kiln::backends {

//! A node with its inferred input and output types and shapes.
struct NodeSpec {
  const ir::Node& node;
  std::span<const ir::TensorInfo> inputs;
  std::span<const ir::TensorInfo> outputs;
  //! Where the kernel's prepared weights go, or come from (a plan that stores them); null:
  //! the kernel allocates its own.
  PreparedWeights* prepared = nullptr;
};

//! A tactic instantiated for one node: ready to run, holding any prepared state.
class Kernel {
 public:
  virtual ~Kernel() = default;
  //! Scratch memory one execution needs (given in KernelContext::workspace).
  virtual std::size_t workspaceBytes() const { return 0; }
  //! Host scratch one execution needs (KernelContext::hostWorkspace; page-locked on GPUs).
  virtual std::size_t hostWorkspaceBytes() const { return 0; }
  virtual void execute(const ir::KernelContext& ctx) const = 0;
};

class Tactic {
 public:
  virtual ~Tactic() = default;
  //! Unique within its op, stable across versions: it is stored in plans ("cpu.reference").
  virtual std::string_view name() const = 0;
  virtual DeviceType device() const = 0;
  //! CPU features the kernel needs ("avx2", "avx512f", ...); empty for portable code.
  virtual std::vector<std::string> requiredIsa() const { return {}; }
  virtual bool supports(const NodeSpec& spec) const = 0;
  //! May still throw kiln::Error for a node supports() accepted, where a library refuses the
  //! configuration only when asked for it (a cuDNN algorithm with no kernel for these
  //! descriptors); the builder then skips the tactic.
  virtual std::unique_ptr<Kernel> instantiate(const NodeSpec& spec) const = 0;
};

//! True when this CPU has every feature @p tactic requires.
bool runsHere(const Tactic& tactic);

//! Tactics of every backend built in, per op. Filled once, at first use.
class TacticRegistry {
 public:
  static const TacticRegistry& instance();

  void add(std::string op, std::unique_ptr<Tactic> tactic);
  //! Tactics for @p op on @p device, in registration order.
  std::vector<const Tactic*> candidates(std::string_view op, DeviceType device) const;
  //! Null when no tactic of that name is registered for @p op.
  const Tactic* find(std::string_view op, std::string_view name) const;

 private:
  std::map<std::string, std::vector<std::unique_ptr<Tactic>>, std::less<>> tactics_;
};

}  // namespace kiln::backends
