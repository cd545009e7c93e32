// ContextMemory: the activation arena and workspace of one execution context, laid out one
// after the other in one block of the engine's device that the context owns (from the
// engine's Allocator, or the device's own memory) or that the application lends
// (setDeviceMemory).
#pragma once

#include <cstddef>

#include "backends/device.h"
#include "core/aligned_buffer.h"

namespace kiln {
class Allocator;
}

namespace kiln::detail {

class ContextMemory {
 public:
  ContextMemory(Allocator* allocator, const backends::DeviceRuntime& device)
      : allocator_(allocator), device_(device) {}
  ~ContextMemory() { release(); }
  ContextMemory(const ContextMemory&) = delete;
  ContextMemory& operator=(const ContextMemory&) = delete;

  //! Owns at least @p bytes from now on (keeps the block it has when that is large enough);
  //! throws std::bad_alloc when the allocator fails.
  void reserve(std::size_t bytes);
  //! Uses the caller's @p bytes at @p memory from now on.
  void lend(std::byte* memory, std::size_t bytes);
  void release() noexcept;

  std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool isLent() const noexcept { return lent_; }

 private:
  Allocator* allocator_;
  const backends::DeviceRuntime& device_;
  backends::DeviceBuffer own_;  // the device's memory, when there is no allocator
  std::byte* fromAllocator_ = nullptr;
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  bool lent_ = false;
};

}  // namespace kiln::detail
