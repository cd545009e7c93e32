// Getting an engine: build a JSON network into plan bytes, or load a plan file.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cli_logger.h"
#include "kiln/runtime.h"
#include "options.h"

namespace kiln::cli {

//! "network 'FILE'" or "ONNX model 'FILE'", for messages.
std::string modelDescription(const BuildOptions& options);

//! Parses options.network (JSON) or options.onnx (with options.shapes) and builds it; saves the
//! plan to options.saveEngine when given. Progress lines go to @p out. Throws CliError (after the
//! library's own "[E] ..." lines) on failure.
std::vector<std::byte> buildPlanFromNetwork(const BuildOptions& options, CliLogger& logger,
                                            std::ostream& out);

//! Loads @p plan (read from @p source, named in the error) with @p runtime. A bad plan gives
//! one CliError line that holds the library's reason.
std::unique_ptr<Engine> deserializePlan(Runtime& runtime, CliLogger& logger,
                                        std::span<const std::byte> plan, const std::string& source);

}  // namespace kiln::cli
