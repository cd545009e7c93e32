// The result of one conformance test, for kiln and for ONNX Runtime alike.
#pragma once

#include <string>
#include <string_view>

namespace kiln::conformance {

enum class Status {
  kPass,
  kFail,         //!< wrong values, wrong shape, or an error while parsing, building or running
  kUnsupported,  //!< the parser refused the model as unsupported
  kCrash,        //!< the test process died by a signal or ran past its time limit
};

struct Outcome {
  Status status = Status::kFail;
  std::string reason;  //!< one line; empty for a pass
};

std::string_view toString(Status status);
//! The inverse of toString; kFail for anything else.
Status statusFromString(std::string_view text);

}  // namespace kiln::conformance
