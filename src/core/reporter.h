// Where library code sends messages: the user's Logger, and errors also to the ErrorRecorder.
#pragma once

#include <string>
#include <string_view>

#include "kiln/logger.h"

namespace kiln {

class Error;

class Reporter {
 public:
  explicit Reporter(Logger& logger, ErrorRecorder* recorder = nullptr) noexcept
      : logger_(&logger), recorder_(recorder) {}

  void setRecorder(ErrorRecorder* recorder) noexcept { recorder_ = recorder; }
  Logger& logger() const noexcept { return *logger_; }

  void error(ErrorCode code, std::string_view message) const noexcept;
  void error(const Error& error) const noexcept;
  void warning(std::string_view message) const noexcept;
  void info(std::string_view message) const noexcept;
  void verbose(std::string_view message) const noexcept;

 private:
  Logger* logger_;
  ErrorRecorder* recorder_;
};

}  // namespace kiln
