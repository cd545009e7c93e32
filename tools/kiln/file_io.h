// Whole-file reads and writes with errors that name the file.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

namespace kiln::cli {

//! The bytes of @p path. @p what says what the file is ("plan", "input") in the error.
std::vector<std::byte> readFile(const std::filesystem::path& path, std::string_view what);

//! Writes @p bytes to @p path, replacing it; the parent directory must exist.
void writeFile(const std::filesystem::path& path, std::span<const std::byte> bytes,
               std::string_view what);

}  // namespace kiln::cli
