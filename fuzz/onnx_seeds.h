// Seeds of onnx_parser_fuzz: a few small models written here (one per family of importers, each
// with several encodings of its tensors) and the smallest models of ONNX's node tests.
#pragma once

#include <filesystem>

namespace kiln::fuzz {

//! Writes the models into @p out; false (after saying why on stderr) when one of the written
//! models does not parse and build: a broken seed only fuzzes the parser's first error.
bool writeOnnxSeeds(const std::filesystem::path& out);

//! Copies the @p count smallest model.onnx files of the node tests under @p nodeTests (nothing
//! when that folder does not exist) into @p out.
void copyNodeTestSeeds(const std::filesystem::path& nodeTests, const std::filesystem::path& out,
                       std::size_t count);

}  // namespace kiln::fuzz
