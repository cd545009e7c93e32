#include "parsers/onnx/diagnostics.h"

namespace kiln::parsers::onnx_import {

void Diagnostics::error(ErrorCode code, std::string_view message) {
  std::string text = source_ + ": " + std::string(message);
  // A failed internal check is a kiln bug, not a problem of the model: said so to the logger.
  logger_.log(code == ErrorCode::kINTERNAL_ERROR ? Severity::kINTERNAL_ERROR : Severity::kERROR,
              text);
  entries_.push_back({code, std::move(text)});
}

void Diagnostics::warning(std::string_view message) {
  logger_.log(Severity::kWARNING, source_ + ": " + std::string(message));
}

void Diagnostics::info(std::string_view message) {
  logger_.log(Severity::kINFO, source_ + ": " + std::string(message));
}

}  // namespace kiln::parsers::onnx_import
