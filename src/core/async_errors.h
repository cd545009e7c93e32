// AsyncErrors: errors of work that ran after the call that enqueued it returned (a GPU
// backend's host-side steps run in stream callbacks, where nothing can be thrown to the
// caller). The execution context owns one and reports what it holds at its next call.
#pragma once

#include <mutex>
#include <optional>
#include <string>

namespace kiln {

class AsyncErrors {
 public:
  //! Keeps the first error until take(); later ones add nothing (they follow from it).
  void report(std::string message) {
    std::lock_guard lock(mutex_);
    if (!first_) first_ = std::move(message);
  }
  std::optional<std::string> take() {
    std::lock_guard lock(mutex_);
    std::optional<std::string> error = std::move(first_);
    first_.reset();
    return error;
  }

 private:
  std::mutex mutex_;
  std::optional<std::string> first_;
};

}  // namespace kiln
