// Runs one node test through kiln: parse with OnnxParser, build a CPU engine (through a plan
// round trip, as `kiln build` + `kiln exec` would), run every data set, compare the outputs.
#pragma once

#include "outcome.h"
#include "tensor_data.h"
#include "test_case.h"

namespace kiln::conformance {

//! Never throws: every error becomes a kFail outcome with its reason.
Outcome runKilnTest(const TestCase& test, const Tolerance& tolerance);

}  // namespace kiln::conformance
