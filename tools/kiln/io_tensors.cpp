#include "io_tensors.h"

#include <cstring>
#include <map>

#include "cli_error.h"
#include "npy.h"
#include "numeric_convert.h"
#include "random_inputs.h"

namespace kiln::cli {
namespace {

std::vector<int64_t> shapeOf(const Dims& dims) {
  return std::vector<int64_t>(dims.d.begin(), dims.d.begin() + dims.nbDims);
}

// The .npy dtype a tensor is read from and written as: its own, or float32 for bfloat16
// (NumPy has no bfloat16).
DataType fileType(DataType type) {
  return type == DataType::kBF16 ? DataType::kFLOAT : type;
}

std::string describe(DataType type, std::span<const int64_t> shape) {
  const std::optional<std::string_view> descr = npyDescr(type);
  return toString(type) + (descr ? " ('" + std::string(*descr) + "')" : std::string()) + " " +
         shapeTuple(shape);
}

std::string inputNames(const std::vector<IoTensor>& tensors) {
  std::string names;
  for (const IoTensor& t : tensors) {
    if (t.mode != TensorIOMode::kINPUT) continue;
    names += names.empty() ? "'" : ", '";
    names += t.name + "'";
  }
  return names.empty() ? "none" : names;
}

void loadInput(IoTensor& tensor, const InputFile& file) {
  NpyArray array = readNpy(file.path);
  const std::vector<int64_t> expectedShape = shapeOf(tensor.dims);
  const DataType expectedType = fileType(tensor.dtype);
  if (array.dtype != expectedType || array.shape != expectedShape) {
    throw CliError("--loadInputs: input '" + tensor.name + "' from '" + file.path + "': expected " +
                   describe(expectedType, expectedShape) + ", got " +
                   describe(array.dtype, array.shape));
  }
  if (tensor.dtype == DataType::kBF16) {
    const std::size_t count = array.data.size() / sizeof(float);
    for (std::size_t i = 0; i < count; ++i) {
      float value = 0;
      std::memcpy(&value, array.data.data() + i * sizeof(float), sizeof(float));
      const uint16_t bits = floatToBfloat16(value);
      std::memcpy(tensor.buffer.data() + i * sizeof(bits), &bits, sizeof(bits));
    }
  } else {
    std::memcpy(tensor.buffer.data(), array.data.data(), array.data.size());
  }
  tensor.source = file.path;
}

}  // namespace

std::vector<IoTensor> allocateIoTensors(const Engine& engine) {
  std::vector<IoTensor> tensors;
  for (int32_t i = 0; i < engine.nbIOTensors(); ++i) {
    IoTensor tensor;
    tensor.name = std::string(engine.ioTensorName(i));
    tensor.mode = engine.tensorIOMode(tensor.name);
    tensor.dtype = engine.tensorDataType(tensor.name);
    tensor.dims = engine.tensorShape(tensor.name);
    const int64_t count = volume(tensor.dims);
    if (tensor.dims.nbDims < 0 || count < 0) {
      throw CliError("tensor '" + tensor.name + "' has shape " + toString(tensor.dims) +
                     " with unknown extents; kiln exec needs static shapes");
    }
    tensor.buffer = HostBuffer(static_cast<std::size_t>(count) * elementSize(tensor.dtype));
    tensors.push_back(std::move(tensor));
  }
  return tensors;
}

void fillInputs(std::vector<IoTensor>& tensors, const std::vector<InputFile>& files,
                uint32_t seed) {
  for (const InputFile& file : files) {
    IoTensor* target = nullptr;
    for (IoTensor& t : tensors) {
      if (t.name == file.tensor) target = &t;
    }
    if (target == nullptr || target->mode != TensorIOMode::kINPUT) {
      throw CliError("--loadInputs: the engine has no input named '" + file.tensor +
                     "' (inputs: " + inputNames(tensors) + ")");
    }
    loadInput(*target, file);
  }
  uint32_t stream = 0;
  for (IoTensor& t : tensors) {
    if (t.mode != TensorIOMode::kINPUT) continue;
    ++stream;  // per-input streams keep an input's values independent of which are loaded
    if (!t.source.empty()) continue;
    fillRandom(t.dtype, t.buffer.bytes(), seed, stream);
    const bool floating =
        t.dtype == DataType::kFLOAT || t.dtype == DataType::kHALF || t.dtype == DataType::kBF16;
    t.source = floating ? "random" : "zeros";
  }
}

void bindTensors(ExecutionContext& context, std::vector<IoTensor>& tensors) {
  for (IoTensor& t : tensors) {
    // A zero-size tensor still needs a non-null address.
    void* address =
        t.buffer.size() > 0 ? static_cast<void*>(t.buffer.data()) : static_cast<void*>(&t.buffer);
    if (!context.setTensorAddress(t.name, address)) {
      throw CliError("cannot bind tensor '" + t.name + "'");
    }
  }
}

std::string outputFileName(const std::string& tensorName) {
  std::string name = tensorName;
  for (char& c : name) {
    if (c == '/' || c == '\\') c = '_';
  }
  if (name.empty() || name == "." || name == "..") name = "_" + name;
  return name + ".npy";
}

void createOutputDirectory(const std::filesystem::path& directory) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec || !std::filesystem::is_directory(directory)) {
    throw CliError("--saveOutputs: cannot create directory '" + directory.string() +
                   "': " + (ec ? ec.message() : "a file of that name exists"));
  }
}

void saveOutputs(const std::vector<IoTensor>& tensors, const std::filesystem::path& directory) {
  createOutputDirectory(directory);
  std::map<std::string, std::string> taken;  // file name -> tensor
  for (const IoTensor& t : tensors) {
    if (t.mode != TensorIOMode::kOUTPUT) continue;
    const std::string file = outputFileName(t.name);
    if (auto [it, inserted] = taken.emplace(file, t.name); !inserted) {
      throw CliError("--saveOutputs: outputs '" + it->second + "' and '" + t.name +
                     "' would both be saved as '" + file + "'");
    }
    const std::vector<int64_t> shape = shapeOf(t.dims);
    if (t.dtype == DataType::kBF16) {
      std::vector<std::byte> floats(t.buffer.size() * 2);
      for (std::size_t i = 0; i < t.buffer.size() / 2; ++i) {
        uint16_t bits = 0;
        std::memcpy(&bits, t.buffer.data() + 2 * i, 2);
        const float value = bfloat16ToFloat(bits);
        std::memcpy(floats.data() + 4 * i, &value, 4);
      }
      writeNpy(directory / file, DataType::kFLOAT, shape, floats);
    } else {
      writeNpy(directory / file, t.dtype, shape, t.buffer.bytes());
    }
  }
}

}  // namespace kiln::cli
