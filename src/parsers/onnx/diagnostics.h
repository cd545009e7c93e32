// Where the ONNX parser reports problems: every message starts with the model's name, is logged
// as it is found, and is kept (with its code) for OnnxParser::error().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/logger.h"

namespace kiln::parsers::onnx_import {

class Diagnostics {
 public:
  struct Entry {
    ErrorCode code;
    std::string message;
  };

  Diagnostics(Logger& logger, std::string source) : logger_(logger), source_(std::move(source)) {}

  //! Logs and keeps "<source>: <message>".
  void error(ErrorCode code, std::string_view message);
  void warning(std::string_view message);
  void info(std::string_view message);

  int32_t errorCount() const noexcept { return static_cast<int32_t>(entries_.size()); }
  const std::vector<Entry>& entries() const noexcept { return entries_; }
  const std::string& source() const noexcept { return source_; }

 private:
  Logger& logger_;
  std::string source_;
  std::vector<Entry> entries_;
};

}  // namespace kiln::parsers::onnx_import
