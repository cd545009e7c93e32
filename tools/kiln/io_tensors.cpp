#include "io_tensors.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <new>

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

namespace {
const InputShape* findShape(const std::vector<InputShape>& shapes, const std::string& name) {
  for (const InputShape& shape : shapes) {
    if (shape.tensor == name) return &shape;
  }
  return nullptr;
}

bool isKnown(const Dims& dims) {
  return dims.nbDims >= 0 && volume(dims) >= 0;
}
}  // namespace

void setInputShapes(const Engine& engine, ExecutionContext& context,
                    const std::vector<InputShape>& shapes) {
  for (const InputShape& shape : shapes) {
    if (engine.tensorIOMode(shape.tensor) != TensorIOMode::kINPUT) {
      throw CliError("--shapes: the engine has no input named '" + shape.tensor + "'");
    }
  }
  for (int32_t i = 0; i < engine.nbIOTensors(); ++i) {
    const std::string name(engine.ioTensorName(i));
    if (engine.tensorIOMode(name) != TensorIOMode::kINPUT || engine.isShapeInferenceIO(name)) {
      continue;
    }
    const Dims generic = engine.tensorShape(name);
    const InputShape* given = findShape(shapes, name);
    if (given == nullptr && isKnown(generic)) continue;
    Dims dims = engine.profileShape(name, context.optimizationProfile(), OptProfileSelector::kOPT);
    if (given != nullptr) {
      dims.nbDims = static_cast<int32_t>(given->dims.size());
      for (std::size_t d = 0; d < given->dims.size(); ++d) dims.d[d] = given->dims[d];
    }
    if (!context.setInputShape(name, dims)) {
      throw CliError("--shapes: input '" + name + "' cannot take shape " + toString(dims) +
                     " (the reason is logged above)");
    }
  }
}

std::vector<IoTensor> allocateIoTensors(const Engine& engine, ExecutionContext& context,
                                        const std::vector<InputShape>& shapes) {
  std::vector<IoTensor> tensors;
  // Inputs first: the output shapes follow from the input shapes and shape-tensor values.
  for (const TensorIOMode mode : {TensorIOMode::kINPUT, TensorIOMode::kOUTPUT}) {
    for (int32_t i = 0; i < engine.nbIOTensors(); ++i) {
      IoTensor tensor;
      tensor.name = std::string(engine.ioTensorName(i));
      tensor.mode = engine.tensorIOMode(tensor.name);
      if (tensor.mode != mode) continue;
      tensor.dtype = engine.tensorDataType(tensor.name);
      tensor.dims = context.tensorShape(tensor.name);
      const int64_t count = volume(tensor.dims);
      if (mode == TensorIOMode::kOUTPUT && tensor.dims.nbDims >= 0 && !isKnown(tensor.dims)) {
        tensor.dataDependent = true;  // the inputs are set: only the data decides the rest
        tensors.push_back(std::move(tensor));
        continue;
      }
      if (!isKnown(tensor.dims)) {
        throw CliError("tensor '" + tensor.name + "' has shape " + toString(tensor.dims) +
                       " with unknown extents; give the inputs' shapes with --shapes");
      }
      tensor.buffer = HostBuffer(static_cast<std::size_t>(count) * elementSize(tensor.dtype));
      if (engine.isShapeInferenceIO(tensor.name)) {
        const InputShape* values = findShape(shapes, tensor.name);
        std::vector<int64_t> given =
            values != nullptr
                ? values->dims
                : engine.profileTensorValues(tensor.name, context.optimizationProfile(),
                                             OptProfileSelector::kOPT);
        if (static_cast<int64_t>(given.size()) != count) {
          throw CliError("--shapes: shape-tensor input '" + tensor.name + "' takes " +
                         std::to_string(count) + " values, got " + std::to_string(given.size()));
        }
        for (std::size_t k = 0; k < given.size(); ++k) {
          if (tensor.dtype == DataType::kINT32) {
            const auto v = static_cast<int32_t>(given[k]);
            std::memcpy(tensor.buffer.data() + k * sizeof(v), &v, sizeof(v));
          } else {
            std::memcpy(tensor.buffer.data() + k * sizeof(int64_t), &given[k], sizeof(int64_t));
          }
        }
        tensor.source = values != nullptr ? "--shapes" : "the profile's opt values";
        if (!context.setInputTensorAddress(tensor.name, tensor.buffer.data())) {
          throw CliError("cannot bind shape-tensor input '" + tensor.name + "'");
        }
      }
      tensors.push_back(std::move(tensor));
    }
  }
  // Back to engine order.
  std::vector<IoTensor> ordered;
  for (int32_t i = 0; i < engine.nbIOTensors(); ++i) {
    for (IoTensor& t : tensors) {
      if (t.name == engine.ioTensorName(i)) ordered.push_back(std::move(t));
    }
  }
  return ordered;
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

namespace {
// Writes a data-dependent output into its IoTensor once the inference knows its size.
class IoTensorAllocator : public OutputAllocator {
 public:
  explicit IoTensorAllocator(IoTensor& tensor) : tensor_(tensor) {}
  void* reallocateOutput(std::string_view, void* current, uint64_t size,
                         uint64_t /*alignment: HostBuffer is 64-byte aligned*/) noexcept override {
    if (current == nullptr || current != tensor_.buffer.data() || tensor_.buffer.size() < size) {
      try {
        tensor_.buffer = HostBuffer(static_cast<std::size_t>(size));
      } catch (const std::bad_alloc&) {
        return nullptr;
      }
    }
    return tensor_.buffer.data();
  }
  void notifyShape(std::string_view, const Dims& dims) noexcept override { tensor_.dims = dims; }

 private:
  IoTensor& tensor_;
};
}  // namespace

void bindTensors(ExecutionContext& context, std::vector<IoTensor>& tensors) {
  for (IoTensor& t : tensors) {
    if (t.dataDependent) {
      t.allocator = std::make_shared<IoTensorAllocator>(t);
      if (!context.setOutputAllocator(t.name, t.allocator.get())) {
        throw CliError("cannot set an output allocator for '" + t.name + "'");
      }
      continue;
    }
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
    if (volume(t.dims) < 0) {
      throw CliError("--saveOutputs: output '" + t.name + "' has shape " + toString(t.dims) +
                     " (no inference wrote it)");
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
      // An allocator's buffer may be larger than the tensor (never empty).
      writeNpy(
          directory / file, t.dtype, shape,
          t.buffer.bytes().first(std::min<std::size_t>(
              t.buffer.size(), static_cast<std::size_t>(volume(t.dims)) * elementSize(t.dtype))));
    }
  }
}

}  // namespace kiln::cli
