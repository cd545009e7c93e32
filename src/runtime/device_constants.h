// DeviceConstants: an engine's constants (weights) where its kernels read them. On the CPU
// that is where the plan holds them; on a GPU each is uploaded once, at first use, and shared
// by every specialization and context of the engine.
#pragma once

#include <algorithm>
#include <map>
#include <mutex>

#include "backends/device.h"
#include "ir/graph.h"

namespace kiln::detail {

class DeviceConstants {
 public:
  explicit DeviceConstants(const backends::DeviceRuntime& device) : device_(device) {}

  //! Where @p value (a constant) lives on the device; uploads it on first use. Thread-safe.
  void* locate(const ir::Value& value);
  //! Bytes uploaded so far.
  std::size_t deviceBytes() const;

 private:
  struct Upload {
    ir::ConstantBytes bytes;  // keeps the key alive
    backends::DeviceBuffer buffer;
  };

  const backends::DeviceRuntime& device_;
  mutable std::mutex mutex_;
  std::map<const void*, Upload> uploads_;
  std::size_t deviceBytes_ = 0;
};

}  // namespace kiln::detail
