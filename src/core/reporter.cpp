#include "core/reporter.h"

#include "core/error.h"

namespace kiln {

void Reporter::error(ErrorCode code, std::string_view message) const noexcept {
  logger_->log(code == ErrorCode::kINTERNAL_ERROR ? Severity::kINTERNAL_ERROR : Severity::kERROR,
               message);
  if (recorder_ != nullptr) recorder_->reportError(code, message);
}

void Reporter::error(const Error& e) const noexcept {
  error(e.code(), e.what());
}

void Reporter::warning(std::string_view message) const noexcept {
  logger_->log(Severity::kWARNING, message);
}

void Reporter::info(std::string_view message) const noexcept {
  logger_->log(Severity::kINFO, message);
}

void Reporter::verbose(std::string_view message) const noexcept {
  logger_->log(Severity::kVERBOSE, message);
}

}  // namespace kiln
