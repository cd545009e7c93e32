// EnginePlan: everything an engine is, in the form the plan file stores. The builder produces
// it, the plan writer serializes it, the plan reader validates and restores it, and the runtime
// instantiates kernels from it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kiln/types.h"

namespace kiln::plan {

//! What the engine was built for; a plan loads only on a matching target.
struct Target {
  DeviceType device = DeviceType::kCPU;
  std::string deviceName;                //!< CPU model name or GPU name
  std::vector<std::string> requiredIsa;  //!< CPU features the chosen tactics need
  int32_t computeCapability = 0;         //!< GPUs: major * 10 + minor
};

//! Where each activation value lives in the context's arena.
struct MemoryPlan {
  uint64_t arenaBytes = 0;
  uint64_t lowerBoundBytes = 0;       //!< largest total of values alive at once
  std::vector<int64_t> valueOffsets;  //!< per graph value; -1 when not in the arena
};

struct EnginePlan {
  Target target;
  uint64_t builderFlags = 0;         //!< bit i = BuilderFlag i
  ir::Graph graph;                   //!< nodes in execution order; shapes and types inferred
  std::vector<std::string> tactics;  //!< per node: the chosen tactic's name
  MemoryPlan memory;
};

}  // namespace kiln::plan
