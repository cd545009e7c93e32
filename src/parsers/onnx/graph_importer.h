// The whole-model pass: opset, initializers, inputs, node order, one importer call per node,
// outputs; every unsupported node collected and reported in one error.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "kiln/limits.h"
#include "kiln/network.h"
#include "onnx.pb.h"
#include "parsers/onnx/diagnostics.h"
#include "parsers/onnx/tensor_proto.h"

namespace kiln::parsers::onnx_import {

//! Oldest and newest ai.onnx opsets whose semantics the importers implement (before opset 7,
//! per op: legacy_opsets.h).
inline constexpr int64_t kMinOpset = 1;
inline constexpr int64_t kMaxOpset = 21;

struct ImportOptions {
  ExternalDataRoot root;
  //! Largest constant, in bytes as the network holds it (ModelLimits::maxTensorBytes).
  uint64_t maxConstantBytes = ModelLimits{}.maxTensorBytes;
  //! Shapes given by setInputShape, by graph input name.
  std::map<std::string, Dims, std::less<>> inputShapes;
};

//! Populates @p network from @p model. Returns false after reporting every problem found
//! through @p diag. Sets @p opset to the model's ai.onnx opset (0 when it has none).
bool importModel(const ::onnx::ModelProto& model, const ImportOptions& options,
                 NetworkDefinition& network, Diagnostics& diag, int64_t& opset);

}  // namespace kiln::parsers::onnx_import
