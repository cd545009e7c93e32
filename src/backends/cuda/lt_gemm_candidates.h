// cuBLASLt's heuristic answers as tactics (issue #9: "every cuBLASLt heuristic candidate is a
// tactic timed on the GPU"): a GEMM tactic registers once per candidate, the first under its own
// name and candidate k (k >= 1) as NAME.hK+1. The builder times them all and the plan records
// the winner's name; on load the same query gives the same answer (same GPU and cuBLASLt).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "backends/cuda/lt_gemm.h"
#include "backends/cuda/planned_tactic.h"
#include "backends/tactic.h"

namespace kiln::backends::cuda {

//! @p Planner's plan (a struct with an LtGemmShape `shape`) set to run candidate @p Candidate.
template <typename Plan, std::optional<Plan> (*Planner)(const NodeSpec&), int32_t Candidate>
std::optional<Plan> planCandidate(const NodeSpec& spec) {
  std::optional<Plan> plan = Planner(spec);
  if (plan) plan->shape.candidate = Candidate;
  return plan;
}

inline std::string candidateTacticName(std::string_view name, int32_t candidate) {
  std::string full(name);
  if (candidate > 0) full += ".h" + std::to_string(candidate + 1);
  return full;
}

//! Registers kLtCandidates tactics for @p op, one per cuBLASLt heuristic candidate.
template <typename Plan, typename KernelT, std::optional<Plan> (*Planner)(const NodeSpec&)>
void addLtCandidateTactics(TacticRegistry& registry, const std::string& op, std::string_view name) {
  [&]<int32_t... C>(std::integer_sequence<int32_t, C...>) {
    (registry.add(op, std::make_unique<PlannedTactic<Plan, KernelT>>(
                          candidateTacticName(name, C), &planCandidate<Plan, Planner, C>)),
     ...);
  }
  (std::make_integer_sequence<int32_t, kLtCandidates>{});
}

}  // namespace kiln::backends::cuda
