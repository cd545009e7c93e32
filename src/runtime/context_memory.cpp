#include "runtime/context_memory.h"

#include <new>

#include "kiln/runtime.h"

namespace kiln::detail {

void ContextMemory::reserve(std::size_t bytes) {
  if (!lent_ && data_ != nullptr && size_ >= bytes) return;
  release();
  if (bytes == 0) return;
  if (allocator_ != nullptr) {
    void* p = allocator_->allocate(bytes, kBufferAlignment);
    if (p == nullptr) throw std::bad_alloc();
    fromAllocator_ = static_cast<std::byte*>(p);
    data_ = fromAllocator_;
  } else {
    own_ = backends::DeviceBuffer(device_, bytes);
    data_ = static_cast<std::byte*>(own_.data());
  }
  size_ = bytes;
}

void ContextMemory::lend(std::byte* memory, std::size_t bytes) {
  release();
  data_ = memory;
  size_ = bytes;
  lent_ = true;
}

void ContextMemory::release() noexcept {
  if (fromAllocator_ != nullptr) allocator_->deallocate(fromAllocator_);
  fromAllocator_ = nullptr;
  own_.reset();
  data_ = nullptr;
  size_ = 0;
  lent_ = false;
}

}  // namespace kiln::detail
