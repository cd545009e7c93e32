#include "cli_logger.h"

#include <cstdio>

namespace kiln::cli {

void CliLogger::setThreshold(Severity threshold) noexcept {
  std::lock_guard lock(mutex_);
  threshold_ = threshold;
}

bool CliLogger::verbose() const noexcept {
  std::lock_guard lock(mutex_);
  return threshold_ >= Severity::kVERBOSE;
}

void CliLogger::log(Severity severity, std::string_view message) noexcept {
  std::lock_guard lock(mutex_);
  if (severity > threshold_) return;
  const bool isError = severity <= Severity::kERROR;
  if (isError && holdErrors_) {
    try {
      held_.emplace_back(message);
      return;
    } catch (...) {  // out of memory: print it instead of losing it
    }
  }
  console_.log(severity, message);
  std::fflush(stderr);
}

void CliLogger::holdErrors(bool hold) noexcept {
  std::lock_guard lock(mutex_);
  holdErrors_ = hold;
}

std::string CliLogger::takeHeldErrors() {
  std::lock_guard lock(mutex_);
  std::string joined;
  for (const std::string& message : held_) {
    if (!joined.empty()) joined += "; ";
    joined += message;
  }
  held_.clear();
  return joined;
}

}  // namespace kiln::cli
