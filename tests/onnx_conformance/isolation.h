// Runs each conformance test in a forked child, so a test that crashes or hangs the library
// costs only its own result, never the suite.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "outcome.h"
#include "test_case.h"

namespace kiln::conformance {

struct IsolationOptions {
  int jobs = 2;               //!< children running at once
  int timeoutSeconds = 60;    //!< a child running longer is killed and counts as a crash
  bool fork = true;           //!< false: run in this process (for a debugger)
  bool quietChildren = true;  //!< send the children's stdout and stderr to /dev/null
};

//! Calls @p run for every test, each in its own child process, and @p done in this process as each
//! finishes (in completion order). A child that dies by a signal, exits without a result, or runs
//! out of time yields a kCrash outcome saying which.
void runIsolated(const std::vector<const TestCase*>& tests, const IsolationOptions& options,
                 const std::function<Outcome(const TestCase&)>& run,
                 const std::function<void(std::size_t, const Outcome&)>& done);

}  // namespace kiln::conformance
