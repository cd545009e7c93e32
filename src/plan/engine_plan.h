// EnginePlan: everything an engine is, in the form the plan file stores. The builder produces
// it, the plan writer serializes it, the plan reader validates and restores it, and the runtime
// instantiates kernels from it.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/aligned_buffer.h"
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

//! The range of one input of an optimization profile, indexed by OptProfileSelector.
struct InputRange {
  std::string name;
  //! A shape-tensor input: its values vary (values[]); the graph holds it as a constant of that
  //! name, replaced when the engine is specialized. Otherwise its extents vary (dims[]).
  bool shapeTensor = false;
  std::array<Dims, 3> dims;
  std::array<std::vector<int64_t>, 3> values;
  //! The values of a float32 shape-tensor input (a Resize's scales, a OneHot's depth), which
  //! keep values[] empty; doubles hold every float exactly.
  std::array<std::vector<double>, 3> floatValues;
};

//! One optimization profile of a dynamic engine. Every profile runs the same graph; only the
//! shapes, the tactics (tuned at the profile's opt shapes) and the memory differ.
struct Profile {
  std::vector<InputRange> inputs;    //!< the dynamic and shape-tensor inputs
  std::vector<std::string> tactics;  //!< per node, as EnginePlan::tactics
  uint64_t arenaBytes = 0;           //!< activation memory at the profile's largest shapes
  uint64_t lowerBoundBytes = 0;      //!< the lower bound at those shapes
  uint64_t workspaceBytes = 0;       //!< largest kernel scratch over min, opt and max
};

//! A static engine has no profiles; its graph, tactics and memory are all there is. A dynamic
//! engine stores the graph specialized to profile 0's opt shapes (a complete static engine) and
//! its profiles; the runtime re-specializes the graph to the shapes a context sets.
struct EnginePlan {
  Target target;
  uint64_t builderFlags = 0;         //!< bit i = BuilderFlag i
  ir::Graph graph;                   //!< nodes in execution order; shapes and types inferred
  std::vector<std::string> tactics;  //!< per node: the chosen tactic's name
  //! Per node (or empty): the weights its kernel prepared, in the order it asks for them
  //! (backends/prepared_weights.h). Static CPU engines only; the constants every reader
  //! absorbed are then marked ir::Value::absorbed and hold no bytes.
  std::vector<std::vector<std::shared_ptr<const AlignedBuffer>>> prepared;
  MemoryPlan memory;
  std::vector<Profile> profiles;  //!< empty for a static engine

  bool isDynamic() const noexcept { return !profiles.empty(); }
};

}  // namespace kiln::plan
