// What every fuzz target shares: a logger that turns library bugs into crashes, the small caps
// the targets load models under, and running an engine once on zeroed inputs. Header-only, so a
// new target is one file: fuzz/<name>_fuzz.cpp (fuzz/CMakeLists.txt builds every such file).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "core/aligned_buffer.h"
#include "kiln/kiln.h"
#include "runtime/engine_impl.h"

namespace kiln::fuzz {

//! Silent for ordinary errors (hostile input is expected to fail), but an internal error is a
//! library bug: it aborts, so libFuzzer records the input.
class FuzzLogger final : public Logger {
 public:
  void log(Severity severity, std::string_view message) noexcept override {
    if (severity == Severity::kINTERNAL_ERROR) {
      std::fprintf(stderr, "kiln internal error: %.*s\n", static_cast<int>(message.size()),
                   message.data());
      std::abort();
    }
  }
};

//! Far below the defaults, so that libFuzzer's memory limit (2 GiB) and time limit are never
//! reached by what a file may legitimately ask for.
inline ModelLimits fuzzLimits() {
  ModelLimits limits;
  limits.maxModelBytes = 1 << 20;
  limits.maxTensorBytes = 1 << 20;
  limits.maxLayers = 256;
  return limits;
}

//! A bound on the work of the reference kernels: no kernel touches more than (output elements)
//! x (elements of all its inputs). Engines above it are loaded but not run: large finite work is
//! not a bug, and would only slow the search down.
inline bool cheapToRun(const Engine& engine, double maxWork = 2e8) {
  const ir::Graph& graph = engine.impl().plan().graph;
  double work = 0;
  for (const ir::Node& node : graph.nodes) {
    double in = 1;
    for (ir::ValueId v : node.inputs) {
      if (v != ir::kNoValue) in += static_cast<double>(volume(graph.value(v).dims));
    }
    double out = 0;
    for (ir::ValueId v : node.outputs) out += static_cast<double>(volume(graph.value(v).dims));
    work += in * (out + 1);
  }
  return work <= maxWork;
}

//! Bytes of all the engine's inputs and outputs together (a double: no overflow).
inline double ioBytes(const Engine& engine) {
  double bytes = 0;
  for (int32_t i = 0; i < engine.nbIOTensors(); ++i) {
    const std::string_view name = engine.ioTensorName(i);
    bytes += static_cast<double>(volume(engine.tensorShape(name))) *
             static_cast<double>(elementSize(engine.tensorDataType(name)));
  }
  return bytes;
}

//! Memory for data-dependent outputs, up to the 64 MiB runOnce allows.
class BufferAllocator final : public OutputAllocator {
 public:
  void* reallocateOutput(std::string_view /*name*/, void* /*current*/, uint64_t size,
                         uint64_t /*alignment*/) noexcept override {
    if (size > (uint64_t{64} << 20)) return nullptr;
    try {
      return buffers_.emplace_back(static_cast<std::size_t>(size)).data();
    } catch (...) {
      return nullptr;
    }
  }
  void notifyShape(std::string_view /*name*/, const Dims& /*dims*/) noexcept override {}

 private:
  std::vector<AlignedBuffer> buffers_;
};

//! Runs @p engine once with every input zeroed; failures are fine, crashes are not. Engines whose
//! activations or I/O buffers need more than 64 MiB are not run (an input that no layer reads is
//! not bounded by cheapToRun).
inline void runOnce(Engine& engine) {
  constexpr std::size_t kMaxBytes = std::size_t{64} << 20;
  if (!cheapToRun(engine) || engine.deviceMemorySize() > kMaxBytes ||
      ioBytes(engine) > static_cast<double>(kMaxBytes)) {
    return;
  }
  BufferAllocator allocator;  // outlives the context that uses it
  std::unique_ptr<ExecutionContext> context = engine.createExecutionContext();
  if (!context) return;
  std::vector<AlignedBuffer> buffers;
  for (int32_t i = 0; i < engine.nbIOTensors(); ++i) {
    const std::string_view name = engine.ioTensorName(i);
    const Dims dims = engine.tensorShape(name);
    if (volume(dims) < 0) {
      // A data-dependent output (-1 extents): its memory comes once its size is known.
      context->setOutputAllocator(name, &allocator);
      continue;
    }
    const std::size_t bytes =
        static_cast<std::size_t>(volume(dims)) * elementSize(engine.tensorDataType(name));
    AlignedBuffer& buffer = buffers.emplace_back(bytes == 0 ? 1 : bytes);
    std::fill_n(buffer.data(), buffer.size(), std::byte{0});
    context->setTensorAddress(name, buffer.data());
  }
  context->enqueueV3();
}

inline std::span<const std::byte> asBytes(const uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const std::byte*>(data), size};
}

}  // namespace kiln::fuzz
