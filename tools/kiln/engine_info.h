// The "=== Engine ===" section: IO tensors, layer count, activation memory.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>

#include "kiln/runtime.h"

namespace kiln::cli {

//! Where the engine came from, shown above its description.
struct EngineSource {
  std::string description;  //!< "plan 'model.plan'" or "network 'net.json'"
  std::size_t planBytes = 0;
};

void printEngineInfo(std::ostream& out, const Engine& engine, const EngineSource& source);

}  // namespace kiln::cli
