// kiln — reads ONNX models (ModelProto, opsets 1 and later) into a NetworkDefinition, as
// TensorRT's nvonnxparser does, through the public network API only.
//
// A model with several unsupported nodes is reported whole: one error lists every unsupported
// node by name, op type, opset and reason. Malformed models (bad protobuf, missing initializers,
// dangling tensor names, unknown data types) get an error naming the file, node and tensor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "kiln/limits.h"
#include "kiln/logger.h"
#include "kiln/network.h"
#include "kiln/types.h"

namespace kiln::parsers {

class OnnxParser {
 public:
  //! @p network receives the layers; @p logger every message. Both must outlive the parser.
  OnnxParser(NetworkDefinition& network, Logger& logger);
  ~OnnxParser();
  OnnxParser(const OnnxParser&) = delete;
  OnnxParser& operator=(const OnnxParser&) = delete;

  //! Fixes the shape of graph input @p name, for inputs whose ONNX shape has dynamic dimensions
  //! (dim_param or unknown). Static dimensions of the model must match. Call before parsing.
  void setInputShape(std::string_view name, const Dims& dims);

  //! Caps what a model may make the parser hold. The parser uses maxTensorBytes: no constant
  //! it holds (an initializer, a Constant node, or one it computes: ConstantOfShape, Range,
  //! folded shape arithmetic, ...) may take more, counted in the network's element types
  //! (4 bytes a float32 or int32 element, 1 a bool); a model that needs a larger one gets an
  //! error naming the node and the size. Call before parsing; the defaults are ModelLimits'.
  void setModelLimits(const ModelLimits& limits) noexcept;
  const ModelLimits& modelLimits() const noexcept;

  //! Reads the model at @p path; external data files resolve against its folder.
  bool parseFromFile(const std::filesystem::path& path);

  //! Reads a serialized ModelProto. External data files resolve against @p modelDir, and only
  //! inside it; without a folder, a model with external data is refused.
  bool parse(std::span<const std::byte> model, const std::filesystem::path& modelDir = {});

  //! Errors of the last parse, in the order found. Each is also logged as it is found.
  int32_t nbErrors() const;
  //! Empty for an index out of range.
  std::string error(int32_t index) const;
  //! kSUCCESS for an index out of range.
  ErrorCode errorCode(int32_t index) const;
  void clearErrors();

  //! Opset of the default (ai.onnx) domain of the last model parsed; 0 before.
  int64_t modelOpset() const;
  //! Newest ai.onnx opset whose semantics this parser implements.
  static int64_t maxSupportedOpset() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::parsers
