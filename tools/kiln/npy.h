// Reading and writing NumPy .npy files (format versions 1.0, 2.0 and 3.0; C order only).
//
// Supported dtypes and the kiln types they map to: <f4 float32, <f2 float16, <i4 int32,
// <i8 int64, |b1 bool, |u1 uint8, |i1 int8. Every error is a CliError naming the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/types.h"

namespace kiln::cli {

struct NpyArray {
  DataType dtype = DataType::kFLOAT;
  std::vector<int64_t> shape;   //!< empty for a 0-d array
  std::vector<std::byte> data;  //!< C order, little-endian

  int64_t count() const;
};

//! The .npy descr of @p type ("<f4", ...); nullopt for types .npy cannot hold (bfloat16).
std::optional<std::string_view> npyDescr(DataType type);

//! Parses a whole .npy file held in memory; @p name is the file named in errors.
NpyArray parseNpy(std::span<const std::byte> bytes, const std::string& name);
NpyArray readNpy(const std::filesystem::path& path);

//! The bytes of a .npy file holding @p data (which must have volume(shape) elements).
std::vector<std::byte> encodeNpy(DataType dtype, std::span<const int64_t> shape,
                                 std::span<const std::byte> data);
void writeNpy(const std::filesystem::path& path, DataType dtype, std::span<const int64_t> shape,
              std::span<const std::byte> data);

//! "(2, 3)" style shape text as NumPy prints it ("()" for 0-d, "(4,)" for 1-d).
std::string shapeTuple(std::span<const int64_t> shape);

}  // namespace kiln::cli
