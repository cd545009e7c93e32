// Host memory for an engine's inputs and outputs: random or .npy inputs, .npy outputs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "host_buffer.h"
#include "kiln/runtime.h"
#include "options.h"

namespace kiln::cli {

struct IoTensor {
  std::string name;
  TensorIOMode mode = TensorIOMode::kNONE;
  DataType dtype = DataType::kFLOAT;
  Dims dims;
  HostBuffer buffer;
  std::string source;  //!< where an input's values came from ("random", "zeros", a file)
  //! An output of data-dependent shape (-1 extents before the run): bindTensors gives it an
  //! OutputAllocator that sizes buffer and sets dims when the inference knows them.
  bool dataDependent = false;
  std::shared_ptr<OutputAllocator> allocator;
};

//! Sets the shape of every dynamic input of @p context: from @p shapes (--shapes) where given,
//! else the opt shape of the context's profile. Throws CliError naming the input when the
//! context refuses a shape.
void setInputShapes(const Engine& engine, ExecutionContext& context,
                    const std::vector<InputShape>& shapes);

//! One buffer per IO tensor of @p engine, in engine order, sized by @p context's shapes (input
//! shapes set first). Shape-tensor inputs hold their values from @p shapes and are bound to
//! @p context at once (the output shapes depend on them).
std::vector<IoTensor> allocateIoTensors(const Engine& engine, ExecutionContext& context,
                                        const std::vector<InputShape>& shapes);

//! Fills the inputs named in @p files from their .npy files (type and shape must match the
//! engine's) and every other input with random values.
void fillInputs(std::vector<IoTensor>& tensors, const std::vector<InputFile>& files, uint32_t seed);

//! Binds every tensor's buffer to @p context (data-dependent outputs: an allocator that writes
//! into the IoTensor, which must stay where it is while @p context runs).
void bindTensors(ExecutionContext& context, std::vector<IoTensor>& tensors);

//! Creates @p directory (and its parents) unless it exists; throws CliError naming it.
void createOutputDirectory(const std::filesystem::path& directory);

//! Writes DIR/<name>.npy for every output ('/' in names becomes '_'); creates DIR.
void saveOutputs(const std::vector<IoTensor>& tensors, const std::filesystem::path& directory);

//! The file name an output is saved under.
std::string outputFileName(const std::string& tensorName);

}  // namespace kiln::cli
