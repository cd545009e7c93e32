// Helpers shared by the test suites: a capturing logger, host tensors, random data, and a
// one-call "build this network, round-trip its plan, run it" harness.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "kiln/kiln.h"

namespace kiln::test {

//! Records every message; counts errors. Prints errors to stderr when KILN_TEST_VERBOSE is set.
class CapturingLogger final : public Logger {
 public:
  void log(Severity severity, std::string_view message) noexcept override;
  int32_t errorCount() const;
  //! All messages of severity kERROR or worse, one per line.
  std::string errors() const;
  //! True when some error message contains @p text.
  bool hasError(std::string_view text) const;
  //! True when some message of exactly @p severity contains @p text.
  bool hasMessage(Severity severity, std::string_view text) const;
  void clear();

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<Severity, std::string>> messages_;
};

//! A tensor in host memory.
struct HostTensor {
  DataType dtype = DataType::kFLOAT;
  Dims dims;
  std::vector<std::byte> bytes;

  HostTensor() = default;
  HostTensor(DataType type, const Dims& shape);
  static HostTensor fromFloats(const Dims& shape, std::span<const float> values);
  static HostTensor fromInts(const Dims& shape, std::span<const int32_t> values);
  static HostTensor fromBools(const Dims& shape, std::span<const bool> values);

  int64_t count() const { return volume(dims); }
  template <typename T>
  std::span<T> as() {
    return {reinterpret_cast<T*>(bytes.data()), bytes.size() / sizeof(T)};
  }
  template <typename T>
  std::span<const T> as() const {
    return {reinterpret_cast<const T*>(bytes.data()), bytes.size() / sizeof(T)};
  }
  std::vector<float> floats() const;
};

//! Uniform random floats in [lo, hi), deterministic for a seed.
std::vector<float> randomFloats(int64_t count, uint32_t seed, float lo = -1.f, float hi = 1.f);
HostTensor randomTensor(const Dims& dims, uint32_t seed, float lo = -1.f, float hi = 1.f);

//! Weights viewing @p values (which must outlive the call that takes them).
inline Weights floatWeights(std::span<const float> values) {
  return Weights{DataType::kFLOAT, values.data(), static_cast<int64_t>(values.size())};
}

//! Builds @p network (via a plan round trip: buildSerializedNetwork + Runtime::deserialize),
//! binds @p inputs to the network inputs in order, runs once, and returns the outputs in
//! network output order. Records a test failure (and returns empty) when any step fails.
std::vector<HostTensor> buildAndRun(Builder& builder, NetworkDefinition& network,
                                    const std::vector<HostTensor>& inputs,
                                    const std::vector<BuilderFlag>& flags = {});

//! ||actual - expected|| / ||expected|| (the measure for reduced precision); infinity when a
//! value is NaN. The spans have equal sizes.
double relativeError(std::span<const float> actual, std::span<const float> expected);

//! Expects |actual - expected| <= atol + rtol * |expected| elementwise; reports the first
//! mismatches with their index.
void expectClose(std::span<const float> actual, std::span<const float> expected, double atol = 1e-5,
                 double rtol = 1e-4, const std::string& what = "output");

//! A logger + builder + network in one, for single-layer tests.
struct NetworkFixture {
  CapturingLogger logger;
  Builder builder{logger};
  std::unique_ptr<NetworkDefinition> network = builder.createNetwork();

  NetworkDefinition& net() { return *network; }
  std::vector<HostTensor> run(const std::vector<HostTensor>& inputs) {
    return buildAndRun(builder, *network, inputs);
  }
};

//! Expects that @p layer, just added to @p fixture's network, is invalid, and that the logged
//! error contains @p text. As in TensorRT, add* refuses bad arguments at once (null handle) while
//! shape problems — which settings given after the add call may still fix — surface when the
//! layer's output shapes are queried (and fail the build); this accepts either.
void expectInvalidLayer(NetworkFixture& fixture, const Layer& layer, std::string_view text);

}  // namespace kiln::test
