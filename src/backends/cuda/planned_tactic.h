// The shape most CUDA tactics share: a planner function decides what the kernel supports
// (supports() is "the plan exists") and instantiate() builds the kernel from that plan, so the
// two can never disagree.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "backends/tactic.h"
#include "core/error.h"
#include "ir/op_registry.h"
#include "kiln/types.h"

namespace kiln::backends::cuda {

//! instantiate() on a node that supports() rejected: the builder never does this, so it is a bug.
[[noreturn]] inline void unsupported(const NodeSpec& spec, std::string_view tactic) {
  fail(ErrorCode::kINTERNAL_ERROR, "layer '", spec.node.name, "' (", spec.node.op, "): tactic ",
       tactic, " does not support it");
}

//! A GPU tactic whose kernel KernelT is constructed from the Plan that @p planner returns
//! (nullopt: the node is not supported).
template <typename Plan, typename KernelT>
class PlannedTactic final : public Tactic {
 public:
  using Planner = std::optional<Plan> (*)(const NodeSpec&);

  PlannedTactic(std::string name, Planner planner) : name_(std::move(name)), planner_(planner) {}
  std::string_view name() const override { return name_; }
  DeviceType device() const override { return DeviceType::kGPU; }
  bool supports(const NodeSpec& spec) const override { return planner_(spec).has_value(); }
  std::unique_ptr<Kernel> instantiate(const NodeSpec& spec) const override {
    auto plan = planner_(spec);
    if (!plan) unsupported(spec, name_);
    return std::make_unique<KernelT>(std::move(*plan));
  }

 private:
  std::string name_;
  Planner planner_;
};

//! The kernel of a one-input, one-output op whose launcher takes the plan with its `x` (input 0)
//! and `y` (output 0) device addresses filled in.
template <typename Params, void (*Launch)(const Params&, void*)>
class InputOutputKernel final : public Kernel {
 public:
  explicit InputOutputKernel(const Params& params) : params_(params) {}
  void execute(const ir::KernelContext& ctx) const override {
    Params p = params_;
    p.x = ctx.input(0).data;
    p.y = ctx.output(0).data;
    Launch(p, ctx.stream);
  }

 private:
  Params params_;
};

}  // namespace kiln::backends::cuda
