// Where the JSON network parser reports problems: every message names the source file and the
// place in it ("layer 3 'conv1' (convolution)"), and errors are counted so the parser can keep
// going and report every problem of a file at once.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "kiln/logger.h"

namespace kiln::parsers::netjson {

class Diagnostics {
 public:
  Diagnostics(Logger& logger, std::string source) : logger_(logger), source_(std::move(source)) {}

  //! Logs "<source>: <where>: <message>" as an error (where may be empty).
  void error(std::string_view where, std::string_view message);
  void info(std::string_view message);
  int32_t errorCount() const noexcept { return errors_; }
  const std::string& source() const noexcept { return source_; }

 private:
  Logger& logger_;
  std::string source_;
  int32_t errors_ = 0;
};

//! " (did you mean 'x'?)" when one of @p candidates is a likely typo of @p word, else "".
std::string didYouMean(std::string_view word, std::span<const std::string_view> candidates);

//! "a, b, c".
std::string joinNames(std::span<const std::string_view> names);

}  // namespace kiln::parsers::netjson
