// A minimal reader for NumPy's .npy files holding the weights of a JSON network description:
// little-endian float32/float64 (read as float32), int32/int64 (read as int32) and bool, in C
// order. Anything else is refused with a message saying what the file holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "kiln/types.h"

namespace kiln::parsers::netjson {

struct NpyArray {
  DataType type = DataType::kFLOAT;  //!< kFLOAT, kINT32 or kBOOL
  std::vector<int64_t> shape;
  std::vector<std::byte> data;  //!< count() elements of type
  std::string descr;            //!< the file's own type ("<f8"), for messages

  int64_t count() const noexcept { return static_cast<int64_t>(data.size() / elementSize(type)); }
};

//! Parses the bytes of a .npy file. False with the reason in @p error on any problem.
bool parseNpy(std::span<const std::byte> bytes, NpyArray& out, std::string& error);

//! "(2, 3)" as NumPy prints shapes.
std::string shapeText(const std::vector<int64_t>& shape);

}  // namespace kiln::parsers::netjson
