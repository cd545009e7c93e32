// kiln — reads kiln's own JSON network description (docs/network-json.md): a network given
// layer by layer without a model framework. Weights the file does not give are random, so a
// network can be built and timed before it is trained (as giexec does with a bare prototxt).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "kiln/limits.h"
#include "kiln/logger.h"
#include "kiln/network.h"

namespace kiln::parsers {

struct NetworkJsonOptions {
  //! Seed of the random weights; the same seed gives the same weights on every platform.
  uint32_t randomWeightsSeed = 1;
  //! Caps on the file (with its .npy weight files: maxModelBytes), each weights tensor and
  //! input (maxTensorBytes), the layers (maxLayers) and the JSON nesting (maxNestingDepth).
  ModelLimits limits;
};

//! Populates network from kiln's JSON network description at path; weights not given in the
//! file are random. False (and errors logged through logger naming the file and layer) on failure.
//! On failure the network may hold part of the layers and should be discarded. Never throws.
bool parseNetworkJson(const std::filesystem::path& path, NetworkDefinition& network, Logger& logger,
                      const NetworkJsonOptions& options = {});

//! Same from a string; relative weight file paths resolve against baseDir.
bool parseNetworkJsonString(std::string_view text, const std::filesystem::path& baseDir,
                            NetworkDefinition& network, Logger& logger,
                            const NetworkJsonOptions& options = {});

}  // namespace kiln::parsers
