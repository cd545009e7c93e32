// The one error type of the kiln command: main() prints it as "kiln: error: <message>".
#pragma once

#include <stdexcept>
#include <string>

namespace kiln::cli {

//! A failure the user can act on. The message is one line and names the file, flag or tensor
//! at fault.
class CliError : public std::runtime_error {
 public:
  explicit CliError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace kiln::cli
