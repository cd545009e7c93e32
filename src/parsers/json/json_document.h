// Reads the JSON text of a network description: syntax errors with line and column, and
// repeated keys (which JSON libraries silently collapse to the last one) as errors.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "parsers/json/diagnostics.h"

namespace kiln::parsers::netjson {

using Json = nlohmann::json;

//! Parses @p text into @p out. False, with every problem reported through @p diag, when the text
//! is not valid JSON, an object repeats a key, or arrays and objects nest deeper than
//! @p maxDepth.
bool parseDocument(std::string_view text, Diagnostics& diag, Json& out, int32_t maxDepth);

//! "string \"abc\"", "number 2.5", "array", ... for messages about a value of the wrong type.
std::string describe(const Json& value);

}  // namespace kiln::parsers::netjson
