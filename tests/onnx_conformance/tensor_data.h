// Test tensors of the ONNX backend tests: decoded from TensorProto files (input_N.pb,
// output_N.pb), converted to and from the bytes of kiln engine IO tensors, and compared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "kiln/types.h"

namespace kiln::conformance {

//! A tensor's values kept exactly: integers and bools as int64, floating point as double, so one
//! comparison serves every element type of the test data.
struct TestTensor {
  std::string name;
  int32_t onnxType = 0;  //!< TensorProto::DataType of the source
  std::vector<int64_t> dims;
  bool isFloat = false;
  std::vector<double> floats;  //!< when isFloat
  std::vector<int64_t> ints;   //!< otherwise (uint64 values above INT64_MAX wrap)

  int64_t count() const { return isFloat ? static_cast<int64_t>(floats.size()) : ints.size(); }
};

//! Name of an ONNX element type ("float", "int64", ...).
std::string onnxTypeName(int32_t onnxType);

//! Reads one serialized TensorProto. Throws std::runtime_error naming the file when it is not a
//! tensor or holds a type without numbers (string, complex).
TestTensor readTensorFile(const std::filesystem::path& path);

//! Reads test data as the type the model declares where the data's own type stands in for it:
//! ONNX 1.12 stores bfloat16 tensors as uint16 bit patterns.
void adoptDeclaredType(TestTensor& tensor, int32_t declaredType);

//! The values of @p tensor as engine IO bytes of @p type (float inputs narrowed as the engine
//! expects, e.g. double data into a float32 input).
std::vector<std::byte> toEngineBytes(const TestTensor& tensor, DataType type);

//! Reads engine IO bytes back into a TestTensor of shape @p dims.
TestTensor fromEngineBytes(std::span<const std::byte> bytes, DataType type, const Dims& dims);

//! "2x3" ("scalar" for rank 0), as kiln spells shapes.
std::string shapeText(const std::vector<int64_t>& dims);

struct Tolerance {
  double atol = 1e-3;
  double rtol = 1e-3;
};

//! Empty when @p actual matches @p expected: equal shapes; floating point within
//! |a - b| <= atol + rtol * |b| (NaN matches NaN, infinities match exactly); integers and bools
//! exactly. Otherwise one line saying what differs, with the largest error.
std::string compareTensors(const TestTensor& actual, const TestTensor& expected,
                           const Tolerance& tolerance);

}  // namespace kiln::conformance
