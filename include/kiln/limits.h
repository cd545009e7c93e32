// kiln — caps on what a model or plan may ask for. Model and plan files come from strangers:
// every size they declare is checked against these caps (with overflow-checked arithmetic)
// before anything is allocated from it, so a hostile file gets an error naming the cap, never
// a huge allocation. docs/security.md says what kiln promises about untrusted input.
#pragma once

#include <cstdint>

namespace kiln {

//! The defaults admit any model that runs on one machine; a service that loads files from
//! strangers should lower them to what it expects to serve.
struct ModelLimits {
  //! Largest model or plan, in bytes: a plan file, or a model file together with the weight
  //! files it refers to.
  uint64_t maxModelBytes = uint64_t{1} << 36;  // 64 GiB
  //! Largest single tensor, in bytes: an input, output, activation or weights tensor.
  uint64_t maxTensorBytes = uint64_t{1} << 34;  // 16 GiB
  //! Most layers (nodes) in one network or plan.
  int64_t maxLayers = int64_t{1} << 20;
  //! Deepest nesting of a model document: JSON arrays and objects; for ONNX, protobuf messages
  //! and subgraphs. Bounds recursion (and the time spent naming places in deep documents).
  int32_t maxNestingDepth = 64;
};

}  // namespace kiln
