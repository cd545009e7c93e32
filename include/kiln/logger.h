// kiln — where the library reports what it does and what went wrong.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/types.h"

namespace kiln {

//! Receives every message of the library. Implementations must be thread-safe: builds and
//! inferences on several threads may log at once.
class Logger {
 public:
  virtual ~Logger() = default;
  virtual void log(Severity severity, std::string_view message) noexcept = 0;
};

//! Writes messages at or above a severity to stderr, prefixed like trtexec ("[E] ", "[W] ", ...).
class ConsoleLogger final : public Logger {
 public:
  explicit ConsoleLogger(Severity threshold = Severity::kWARNING) noexcept
      : threshold_(threshold) {}
  void setThreshold(Severity threshold) noexcept { threshold_ = threshold; }
  Severity threshold() const noexcept { return threshold_; }
  void log(Severity severity, std::string_view message) noexcept override;

 private:
  Severity threshold_;
  std::mutex mutex_;
};

//! Keeps the errors reported by the object it is attached to (as TensorRT's IErrorRecorder).
//! Attach with Builder::setErrorRecorder / Runtime::setErrorRecorder. Thread-safe.
class ErrorRecorder {
 public:
  struct Entry {
    ErrorCode code;
    std::string description;
  };

  virtual ~ErrorRecorder() = default;
  virtual void reportError(ErrorCode code, std::string_view description) noexcept;

  int32_t nbErrors() const;
  Entry error(int32_t index) const;
  void clear();

 private:
  mutable std::mutex mutex_;
  std::vector<Entry> entries_;
};

//! "kiln 0.1.0"-style version string of the library.
std::string_view versionString() noexcept;

}  // namespace kiln
