#include "kiln_runner.h"

#include <algorithm>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "kiln/kiln.h"
#include "kiln/parsers/onnx.h"

namespace kiln::conformance {

namespace {

// Keeps the errors of one test, in order; everything else the library says is dropped.
class ErrorLog final : public Logger {
 public:
  void log(Severity severity, std::string_view message) noexcept override {
    if (severity > Severity::kERROR) return;
    std::lock_guard lock(mutex_);
    errors_.emplace_back(message);
  }
  std::string first() const {
    std::lock_guard lock(mutex_);
    return errors_.empty() ? std::string("(no error was logged)") : errors_.front();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> errors_;
};

std::string firstLine(std::string_view text) {
  const auto end = text.find('\n');
  return std::string(text.substr(0, end));
}

std::string trim(std::string_view text) {
  const auto begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  const auto end = text.find_last_not_of(" \t\r");
  return std::string(text.substr(begin, end - begin + 1));
}

// "node 'n' (Abs, opset 13): why" -> "Abs: why". The node name is left out so the same reason
// reads the same in every test of an op.
std::string unsupportedEntry(std::string_view line) {
  const std::string text = trim(line);
  const auto open = text.find(" (");
  const auto close = text.find("): ", open == std::string::npos ? 0 : open);
  if (text.rfind("node '", 0) != 0 || open == std::string::npos || close == std::string::npos) {
    return text;
  }
  std::string op = text.substr(open + 2, close - open - 2);
  op = op.substr(0, op.find(','));
  return op + ": " + text.substr(close + 3);
}

// The reason of an unsupported model: each distinct entry of the parser's list, or the first
// line of a message that is no list.
std::string unsupportedReason(const std::string& message) {
  if (message.find(" unsupported node") == std::string::npos ||
      message.find('\n') == std::string::npos) {
    return firstLine(message);
  }
  std::vector<std::string> entries;
  std::size_t at = message.find('\n');
  while (at != std::string::npos) {
    const std::size_t next = message.find('\n', at + 1);
    const std::string entry = unsupportedEntry(message.substr(at + 1, next - at - 1));
    if (std::find(entries.begin(), entries.end(), entry) == entries.end()) entries.push_back(entry);
    at = next;
  }
  std::string reason;
  for (const auto& entry : entries) reason += (reason.empty() ? "" : "; ") + entry;
  return reason;
}

struct DataSet {
  std::vector<TestTensor> inputs;
  std::vector<TestTensor> outputs;
};

std::vector<TestTensor> readNumbered(const std::filesystem::path& dir, const std::string& prefix) {
  std::vector<TestTensor> tensors;
  for (int i = 0;; ++i) {
    const auto path = dir / (prefix + std::to_string(i) + ".pb");
    if (!std::filesystem::exists(path)) break;
    tensors.push_back(readTensorFile(path));
  }
  return tensors;
}

Dims toDims(const std::vector<int64_t>& dims) {
  if (dims.size() > static_cast<std::size_t>(Dims::kMaxRank)) {
    throw std::runtime_error("test data of rank " + std::to_string(dims.size()) +
                             " exceeds kiln's rank limit");
  }
  Dims out;
  out.nbDims = static_cast<int32_t>(dims.size());
  for (int32_t i = 0; i < out.nbDims; ++i) out[i] = dims[static_cast<std::size_t>(i)];
  return out;
}

Outcome failed(std::string reason) {
  return {Status::kFail, std::move(reason)};
}

// Messages name the model by its path; the report names the test instead, so it reads the same
// wherever the test data is installed.
std::string withoutModelPath(std::string text, const TestCase& test) {
  const std::string path = (test.dir / "model.onnx").string();
  for (const std::string& prefix : {path + ": ", path}) {
    for (auto at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at)) {
      text.erase(at, prefix.size());
    }
  }
  return text;
}

// Shape-tensor inputs (Tensor::isShapeTensor: a Reshape's shape, a Resize's scales, ...) get one
// optimization profile whose min, opt and max are the test's values; the other inputs keep the
// fixed shapes the parser gave them. False when the profile is refused (the reason is logged).
bool addShapeValueProfile(Builder& builder, const NetworkDefinition& network, BuilderConfig& config,
                          const TestCase& test, const DataSet& data) {
  OptimizationProfile* profile = nullptr;
  for (int32_t i = 0; i < network.nbInputs(); ++i) {
    const Tensor input = network.input(i);
    if (!input.isShapeTensor()) continue;
    for (std::size_t t = 0; t < test.inputs.size() && t < data.inputs.size(); ++t) {
      if (test.inputs[t].name != input.name()) continue;
      if (profile == nullptr) profile = builder.createOptimizationProfile();
      // Float ones (a Resize's scales, a OneHot's depth) as float32, the input's type.
      const std::vector<float> floats(data.inputs[t].floats.begin(), data.inputs[t].floats.end());
      for (OptProfileSelector which :
           {OptProfileSelector::kMIN, OptProfileSelector::kOPT, OptProfileSelector::kMAX}) {
        if (data.inputs[t].isFloat) {
          profile->setShapeValues(input.name(), which, floats);
        } else {
          profile->setShapeValues(input.name(), which, data.inputs[t].ints);
        }
      }
    }
  }
  return profile == nullptr || config.addOptimizationProfile(profile) >= 0;
}

// Outputs of data-dependent shape (NonZero, Unique, ...: -1 extents once the inputs are set)
// are written into the runner's buffer of that output, sized when the engine knows the size.
class BufferOutputAllocator : public OutputAllocator {
 public:
  explicit BufferOutputAllocator(std::vector<std::byte>& buffer) : buffer_(buffer) {}
  void* reallocateOutput(std::string_view, void*, uint64_t size, uint64_t) noexcept override {
    buffer_.assign(size, std::byte{0});  // std::vector's memory is aligned for any scalar
    return buffer_.data();
  }
  void notifyShape(std::string_view, const Dims&) noexcept override {}

 private:
  std::vector<std::byte>& buffer_;
};

Outcome runDataSet(const TestCase& test, const DataSet& data, const Tolerance& tolerance) {
  ErrorLog log;
  Builder builder(log);
  std::unique_ptr<NetworkDefinition> network = builder.createNetwork();
  parsers::OnnxParser parser(*network, log);
  // Dynamic inputs take the shape of the data; static ones must already agree with it.
  for (std::size_t i = 0; i < test.inputs.size() && i < data.inputs.size(); ++i) {
    if (!test.inputs[i].staticShape) {
      parser.setInputShape(test.inputs[i].name, toDims(data.inputs[i].dims));
    }
  }
  if (!parser.parseFromFile(test.dir / "model.onnx")) {
    for (int32_t i = 0; i < parser.nbErrors(); ++i) {
      const ErrorCode code = parser.errorCode(i);
      if (code == ErrorCode::kUNSUPPORTED_NODE || code == ErrorCode::kUNSUPPORTED_STATE) {
        return {Status::kUnsupported, unsupportedReason(parser.error(i))};
      }
    }
    if (parser.nbErrors() == 0) return failed("parse: " + firstLine(log.first()));
    // The parser's message may point at the network's own, logged before it.
    std::string reason = "parse: " + firstLine(parser.error(0));
    if (reason.find("logged above") != std::string::npos) reason += " — " + firstLine(log.first());
    return failed(reason);
  }

  std::unique_ptr<BuilderConfig> config = builder.createBuilderConfig();
  config->setNbThreads(1);
  if (!addShapeValueProfile(builder, *network, *config, test, data)) {
    return failed("profile: " + firstLine(log.first()));
  }
  const std::vector<std::byte> plan = builder.buildSerializedNetwork(*network, *config);
  if (plan.empty()) return failed("build: " + firstLine(log.first()));
  Runtime runtime(log);
  runtime.setNbThreads(1);
  std::unique_ptr<Engine> engine = runtime.deserialize(plan);
  if (!engine) return failed("plan load: " + firstLine(log.first()));
  std::unique_ptr<ExecutionContext> context = engine->createExecutionContext();
  if (!context) return failed("context: " + firstLine(log.first()));

  std::map<std::string, std::size_t, std::less<>> inputIndex;
  for (std::size_t i = 0; i < test.inputs.size(); ++i) inputIndex[test.inputs[i].name] = i;
  std::map<std::string, std::vector<std::byte>, std::less<>> buffers;
  std::vector<std::unique_ptr<BufferOutputAllocator>> allocators;
  for (int32_t i = 0; i < engine->nbIOTensors(); ++i) {
    const std::string name(engine->ioTensorName(i));
    const DataType type = engine->tensorDataType(name);
    if (engine->tensorIOMode(name) == TensorIOMode::kINPUT) {
      const auto it = inputIndex.find(name);
      if (it == inputIndex.end() || it->second >= data.inputs.size()) {
        return failed("engine input '" + name + "' has no test data");
      }
      buffers[name] = toEngineBytes(data.inputs[it->second], type);
      context->setInputTensorAddress(name, buffers[name].data());
    } else {
      const Dims dims = context->tensorShape(name);
      const int64_t count = volume(dims);
      if (count < 0 && dims.nbDims >= 0) {
        allocators.push_back(std::make_unique<BufferOutputAllocator>(buffers[name]));
        context->setOutputAllocator(name, allocators.back().get());
        continue;
      }
      if (count < 0) return failed("output '" + name + "' has shape " + toString(dims));
      buffers[name].assign(std::max<std::size_t>(count * elementSize(type), 1), std::byte{0});
      context->setTensorAddress(name, buffers[name].data());
    }
  }
  if (!context->enqueueV3()) return failed("run: " + firstLine(log.first()));

  for (std::size_t i = 0; i < test.outputs.size() && i < data.outputs.size(); ++i) {
    const std::string& name = test.outputs[i].name;
    if (engine->tensorIOMode(name) != TensorIOMode::kOUTPUT) {
      return failed("graph output '" + name + "' is not an output of the engine");
    }
    const TestTensor actual =
        fromEngineBytes(buffers[name], engine->tensorDataType(name), context->tensorShape(name));
    if (std::string diff = compareTensors(actual, data.outputs[i], tolerance); !diff.empty()) {
      return failed("output '" + name + "': " + diff);
    }
  }
  return {Status::kPass, {}};
}

}  // namespace

Outcome runKilnTest(const TestCase& test, const Tolerance& tolerance) {
  try {
    if (test.dataSets.empty()) return failed("the test has no test_data_set folder");
    for (const auto& dir : test.dataSets) {
      DataSet data{readNumbered(dir, "input_"), readNumbered(dir, "output_")};
      for (std::size_t i = 0; i < data.inputs.size() && i < test.inputs.size(); ++i) {
        adoptDeclaredType(data.inputs[i], test.inputs[i].elemType);
      }
      for (std::size_t i = 0; i < data.outputs.size() && i < test.outputs.size(); ++i) {
        adoptDeclaredType(data.outputs[i], test.outputs[i].elemType);
      }
      if (data.outputs.size() != test.outputs.size()) {
        return failed(dir.filename().string() + " has " + std::to_string(data.outputs.size()) +
                      " outputs for " + std::to_string(test.outputs.size()) + " graph outputs");
      }
      Outcome outcome = runDataSet(test, data, tolerance);
      outcome.reason = withoutModelPath(std::move(outcome.reason), test);
      if (outcome.status != Status::kPass) {
        if (test.dataSets.size() > 1)
          outcome.reason = dir.filename().string() + ": " + outcome.reason;
        return outcome;
      }
    }
    return {Status::kPass, {}};
  } catch (const std::exception& e) {
    return failed(std::string("exception: ") + firstLine(e.what()));
  } catch (...) {
    return failed("exception of unknown type");
  }
}

}  // namespace kiln::conformance
