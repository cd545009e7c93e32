// PointwiseChain: several pointwise layers (Activation, Unary, ElementWise) run as one node. A
// fused op: the builder's pointwise-fusion pass makes it. Input 0 is the chain's input; every
// further input is the second operand of an ElementWise step. Each step is stored in the node's
// attributes under "pw.<i>.": "op" (the step's op), "operand" (the node input it reads besides
// the running value, or -1), "operand_first" (1 when that operand is the step's input 0) and the
// step op's own attributes under "pw.<i>.a.<name>"; "pw.steps" counts them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace kiln::ops {

//! Most steps one chain may have.
inline constexpr int64_t kMaxPointwiseSteps = 64;

struct PointwiseStep {
  ir::Node node;  //!< the step as a stand-alone node (op and attributes; no inputs/outputs)
  int32_t operand = -1;
  bool operandFirst = false;
};

//! The steps stored in @p attrs.
std::vector<PointwiseStep> pointwiseSteps(const ir::Attributes& attrs);

//! Appends @p op with @p attrs as the next step to @p chain.
void appendPointwiseStep(ir::Attributes& chain, const std::string& op, const ir::Attributes& attrs,
                         int32_t operand, bool operandFirst);

}  // namespace kiln::ops
