// docs/onnx-conformance.md: both pass counts, the per-op table, kiln's failures, the excluded
// tests. The text depends only on the results (no dates, no timings), so an unchanged run leaves
// the file unchanged.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "outcome.h"
#include "tensor_data.h"
#include "test_case.h"

namespace kiln::conformance {

//! ONNX Runtime's results, as bench/onnx_conformance/ort_conformance.js writes them.
struct OrtResults {
  std::string version;  //!< of onnxruntime-node
  std::map<std::string, Outcome> tests;
};

//! Reads the JSON of ort_conformance.js. Throws std::runtime_error when it is malformed.
OrtResults readOrtResults(const std::filesystem::path& path);

struct ReportInput {
  std::string dataLabel;  //!< where the tests come from, e.g. "Debian libonnx-testdata 1.12.0-2"
  std::vector<TestCase> tests;          //!< all of them, excluded ones too
  std::map<std::string, Outcome> kiln;  //!< by test name, for the counted tests
  std::optional<OrtResults> ort;
  Tolerance tolerance;
};

std::string renderReport(const ReportInput& input);

//! Writes through a temporary file and a rename, so readers never see half a report.
void writeFileAtomically(const std::filesystem::path& path, const std::string& text);

}  // namespace kiln::conformance
