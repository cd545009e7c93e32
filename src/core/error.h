// The one exception type used inside the library. The public API boundary catches it and
// reports it through the Logger / ErrorRecorder; it never escapes to users.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

#include "kiln/types.h"

namespace kiln {

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

namespace detail {
template <typename... Args>
std::string concat(Args&&... args) {
  std::ostringstream out;
  (out << ... << std::forward<Args>(args));
  return out.str();
}
}  // namespace detail

//! Throws Error(code, concatenation of args).
template <typename... Args>
[[noreturn]] void fail(ErrorCode code, Args&&... args) {
  throw Error(code, detail::concat(std::forward<Args>(args)...));
}

//! Throws kINTERNAL_ERROR unless @p condition holds: for invariants, not user errors.
#define KILN_ASSERT(condition)                                                         \
  do {                                                                                 \
    if (!(condition))                                                                  \
      ::kiln::fail(::kiln::ErrorCode::kINTERNAL_ERROR, "internal error: ", #condition, \
                   " failed at ", __FILE__, ":", __LINE__);                            \
  } while (false)

}  // namespace kiln
