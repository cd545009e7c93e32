// The Logger of the kiln command: trtexec-style "[E] " / "[W] " / "[I] " / "[V] " lines on
// stderr, with a way to hold errors back so one failure becomes one line.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/logger.h"

namespace kiln::cli {

class CliLogger final : public Logger {
 public:
  explicit CliLogger(Severity threshold = Severity::kINFO) noexcept : threshold_(threshold) {}

  void setThreshold(Severity threshold) noexcept;
  bool verbose() const noexcept;

  void log(Severity severity, std::string_view message) noexcept override;

  //! While held, error messages are kept instead of printed, so that the caller can fold them
  //! into its own single "kiln: error: ..." line.
  void holdErrors(bool hold) noexcept;
  //! The errors kept since the last call, joined with "; " (empty if none).
  std::string takeHeldErrors();

 private:
  mutable std::mutex mutex_;
  Severity threshold_;
  bool holdErrors_ = false;
  std::vector<std::string> held_;
  ConsoleLogger console_{Severity::kVERBOSE};  // prints what passes threshold_, tagged
};

//! Holds the logger's errors for the lifetime of the guard.
class HeldErrors {
 public:
  explicit HeldErrors(CliLogger& logger) noexcept : logger_(logger) { logger_.holdErrors(true); }
  ~HeldErrors() { logger_.holdErrors(false); }
  HeldErrors(const HeldErrors&) = delete;
  HeldErrors& operator=(const HeldErrors&) = delete;

  std::string take() { return logger_.takeHeldErrors(); }

 private:
  CliLogger& logger_;
};

}  // namespace kiln::cli
