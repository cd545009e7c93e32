#include "support/test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <random>
#include <sstream>

#include "backends/device.h"

namespace kiln::test {

void CapturingLogger::log(Severity severity, std::string_view message) noexcept {
  std::lock_guard lock(mutex_);
  messages_.emplace_back(severity, std::string(message));
  if (severity <= Severity::kERROR && std::getenv("KILN_TEST_VERBOSE") != nullptr) {
    std::cerr << "[kiln error] " << message << '\n';
  }
}

int32_t CapturingLogger::errorCount() const {
  std::lock_guard lock(mutex_);
  int32_t n = 0;
  for (const auto& [severity, text] : messages_) n += severity <= Severity::kERROR ? 1 : 0;
  return n;
}

std::string CapturingLogger::errors() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [severity, text] : messages_) {
    if (severity <= Severity::kERROR) out += text + "\n";
  }
  return out;
}

bool CapturingLogger::hasError(std::string_view text) const {
  std::lock_guard lock(mutex_);
  for (const auto& [severity, message] : messages_) {
    if (severity <= Severity::kERROR && message.find(text) != std::string::npos) return true;
  }
  return false;
}

bool CapturingLogger::hasMessage(Severity severity, std::string_view text) const {
  std::lock_guard lock(mutex_);
  for (const auto& [level, message] : messages_) {
    if (level == severity && message.find(text) != std::string::npos) return true;
  }
  return false;
}

void CapturingLogger::clear() {
  std::lock_guard lock(mutex_);
  messages_.clear();
}

HostTensor::HostTensor(DataType type, const Dims& shape)
    : dtype(type),
      dims(shape),
      bytes(static_cast<std::size_t>(std::max<int64_t>(volume(shape), 0)) * elementSize(type)) {}

HostTensor HostTensor::fromFloats(const Dims& shape, std::span<const float> values) {
  HostTensor t(DataType::kFLOAT, shape);
  EXPECT_EQ(static_cast<int64_t>(values.size()), t.count()) << "fromFloats: wrong value count";
  if (!values.empty() && !t.bytes.empty()) {
    std::memcpy(t.bytes.data(), values.data(), std::min(t.bytes.size(), values.size_bytes()));
  }
  return t;
}

HostTensor HostTensor::fromInts(const Dims& shape, std::span<const int32_t> values) {
  HostTensor t(DataType::kINT32, shape);
  EXPECT_EQ(static_cast<int64_t>(values.size()), t.count()) << "fromInts: wrong value count";
  if (!values.empty() && !t.bytes.empty()) {
    std::memcpy(t.bytes.data(), values.data(), std::min(t.bytes.size(), values.size_bytes()));
  }
  return t;
}

HostTensor HostTensor::fromBools(const Dims& shape, std::span<const bool> values) {
  HostTensor t(DataType::kBOOL, shape);
  EXPECT_EQ(static_cast<int64_t>(values.size()), t.count()) << "fromBools: wrong value count";
  for (std::size_t i = 0; i < values.size() && i < t.bytes.size(); ++i) {
    t.bytes[i] = std::byte{values[i] ? uint8_t{1} : uint8_t{0}};
  }
  return t;
}

std::vector<float> HostTensor::floats() const {
  auto values = as<float>();
  return {values.begin(), values.end()};
}

std::vector<float> randomFloats(int64_t count, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> values(static_cast<std::size_t>(count));
  for (auto& v : values) v = dist(rng);
  return values;
}

HostTensor randomTensor(const Dims& dims, uint32_t seed, float lo, float hi) {
  const auto values = randomFloats(volume(dims), seed, lo, hi);
  return HostTensor::fromFloats(dims, values);
}

std::vector<HostTensor> buildAndRun(Builder& builder, NetworkDefinition& network,
                                    const std::vector<HostTensor>& inputs,
                                    const std::vector<BuilderFlag>& flags) {
  auto config = builder.createBuilderConfig();
  for (BuilderFlag flag : flags) config->setFlag(flag);
  const auto plan = builder.buildSerializedNetwork(network, *config);
  if (plan.empty()) {
    ADD_FAILURE() << "build failed";
    return {};
  }
  Runtime runtime(builder.logger());
  auto engine = runtime.deserialize(plan);
  if (!engine) {
    ADD_FAILURE() << "deserialize failed";
    return {};
  }
  auto context = engine->createExecutionContext();
  if (!context) {
    ADD_FAILURE() << "createExecutionContext failed";
    return {};
  }
  if (static_cast<int32_t>(inputs.size()) != network.nbInputs()) {
    ADD_FAILURE() << "buildAndRun: " << inputs.size() << " inputs given, network has "
                  << network.nbInputs();
    return {};
  }
  // A GPU engine (the default where a GPU is present) reads and writes device memory.
  const backends::DeviceRuntime* gpu = engine->deviceType() == DeviceType::kGPU
                                           ? backends::deviceRuntime(DeviceType::kGPU)
                                           : nullptr;
  std::vector<backends::DeviceBuffer> deviceCopies;
  auto address = [&](std::vector<std::byte>& bytes, bool upload) -> void* {
    // Non-null even for empty tensors, so binding never fails on size 0.
    if (bytes.empty()) bytes.resize(1);
    if (gpu == nullptr) return bytes.data();
    deviceCopies.emplace_back(*gpu, bytes.size());
    if (upload) {
      gpu->copyAsync(deviceCopies.back().data(), bytes.data(), bytes.size(),
                     backends::CopyKind::kHostToDevice, nullptr);
    }
    return deviceCopies.back().data();
  };
  std::vector<HostTensor> in = inputs;
  for (int32_t i = 0; i < network.nbInputs(); ++i) {
    const auto name = network.input(i).name();
    auto& bytes = in[static_cast<std::size_t>(i)].bytes;
    context->setTensorAddress(name, engine->isShapeInferenceIO(name)
                                        ? static_cast<void*>(bytes.data())
                                        : address(bytes, /*upload=*/true));
  }
  std::vector<HostTensor> outputs;
  for (int32_t i = 0; i < network.nbOutputs(); ++i) {
    const auto name = network.output(i).name();
    outputs.emplace_back(engine->tensorDataType(name), engine->tensorShape(name));
  }
  std::vector<void*> outputAddresses;
  for (int32_t i = 0; i < network.nbOutputs(); ++i) {
    auto& out = outputs[static_cast<std::size_t>(i)];
    outputAddresses.push_back(address(out.bytes, /*upload=*/false));
    context->setTensorAddress(network.output(i).name(), outputAddresses.back());
  }
  if (!context->enqueueV3()) {
    ADD_FAILURE() << "inference failed";
    return {};
  }
  if (gpu != nullptr) {
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      gpu->copyAsync(outputs[i].bytes.data(), outputAddresses[i], outputs[i].bytes.size(),
                     backends::CopyKind::kDeviceToHost, nullptr);
    }
    gpu->synchronize(nullptr);
  }
  for (auto& out : outputs)
    out.bytes.resize(static_cast<std::size_t>(out.count()) * elementSize(out.dtype));
  return outputs;
}

double relativeError(std::span<const float> actual, std::span<const float> expected) {
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const double d = static_cast<double>(actual[i]) - expected[i];
    diff += d * d;
    norm += static_cast<double>(expected[i]) * expected[i];
  }
  return std::isnan(diff) ? std::numeric_limits<double>::infinity()
                          : std::sqrt(diff) / std::max(std::sqrt(norm), 1e-30);
}

void expectClose(std::span<const float> actual, std::span<const float> expected, double atol,
                 double rtol, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what << ": element count differs";
  int reported = 0;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const double a = actual[i];
    const double e = expected[i];
    const bool bothNan = std::isnan(a) && std::isnan(e);
    const bool sameInf = std::isinf(a) && std::isinf(e) && (a > 0) == (e > 0);
    if (bothNan || sameInf) continue;
    if (!(std::fabs(a - e) <= atol + rtol * std::fabs(e))) {
      ADD_FAILURE() << what << "[" << i << "]: got " << a << ", expected " << e;
      if (++reported >= 5) return;
    }
  }
}

void expectInvalidLayer(NetworkFixture& fixture, const Layer& layer, std::string_view text) {
  if (layer) {
    const Dims dims = layer.output(0).dimensions();
    EXPECT_EQ(dims.nbDims, -1) << "layer '" << layer.name() << "' got valid output shape "
                               << toString(dims);
  }
  EXPECT_TRUE(fixture.logger.hasError(text))
      << "expected an error containing '" << text << "', got:\n"
      << fixture.logger.errors();
}

}  // namespace kiln::test
