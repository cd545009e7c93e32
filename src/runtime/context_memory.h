// ContextMemory: the activation arena and workspace of one execution context, laid out one
// after the other in one block that the context owns (from the engine's Allocator, or kiln's
// own aligned heap) or that the application lends (setDeviceMemory).
#pragma once

#include <cstddef>

#include "core/aligned_buffer.h"

namespace kiln {
class Allocator;
}

namespace kiln::detail {

class ContextMemory {
 public:
  explicit ContextMemory(Allocator* allocator) : allocator_(allocator) {}
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
  AlignedBuffer own_;  // kiln's heap, when there is no allocator
  std::byte* fromAllocator_ = nullptr;
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  bool lent_ = false;
};

}  // namespace kiln::detail
