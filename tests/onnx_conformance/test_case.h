// The ONNX backend node tests: one folder per test (model.onnx, test_data_set_N/), the op each
// test is counted under, and which tests the suite leaves out.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace kiln::conformance {

//! A graph input or output that the test data feeds or checks (initializers listed as inputs
//! are not among them).
struct GraphValue {
  std::string name;
  int32_t elemType = 0;      //!< TensorProto::DataType the model declares; 0 when not a tensor
  bool staticShape = false;  //!< every dimension fixed in the model
};

struct TestCase {
  std::string name;  //!< folder name, e.g. "test_conv_with_strides_padding"
  std::filesystem::path dir;
  //! The op the test is counted under: the one op of the graph (Constant nodes aside), or for a
  //! function-expanded "_expanded" test the op of the test it expands. Ops outside the default
  //! domain carry it: "Binarizer (ai.onnx.ml)".
  std::string op;
  //! Why the suite leaves the test out ("control flow: Loop", "sequence: graph input 'x'"); empty
  //! when it counts.
  std::string excluded;
  std::vector<GraphValue> inputs;               //!< in graph order, as input_N.pb feed them
  std::vector<GraphValue> outputs;              //!< in graph order, as output_N.pb check them
  std::vector<std::filesystem::path> dataSets;  //!< test_data_set_N folders, sorted
};

//! Every test folder under @p nodeDir, sorted by name. Throws std::runtime_error when a model
//! cannot be read.
std::vector<TestCase> discoverTests(const std::filesystem::path& nodeDir);

//! The category of ops the suite excludes ("control flow", "sequence", "string",
//! "optional", "training"), or empty for an op it counts.
std::string excludedCategory(const std::string& opType, const std::string& domain);

}  // namespace kiln::conformance
