#include "outcome.h"

namespace kiln::conformance {

std::string_view toString(Status status) {
  switch (status) {
    case Status::kPass:
      return "pass";
    case Status::kFail:
      return "fail";
    case Status::kUnsupported:
      return "unsupported";
    case Status::kCrash:
      return "crash";
  }
  return "fail";
}

Status statusFromString(std::string_view text) {
  for (Status s : {Status::kPass, Status::kFail, Status::kUnsupported, Status::kCrash}) {
    if (toString(s) == text) return s;
  }
  return Status::kFail;
}

}  // namespace kiln::conformance
