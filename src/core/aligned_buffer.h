// A heap buffer aligned for SIMD and cache lines (64 bytes), owned with RAII.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

namespace kiln {

inline constexpr std::size_t kBufferAlignment = 64;

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t bytes) { resize(bytes); }

  //! Replaces the contents with @p bytes of uninitialized memory; throws std::bad_alloc.
  void resize(std::size_t bytes) {
    data_.reset();
    size_ = 0;
    if (bytes == 0) return;
    const std::size_t rounded =
        (bytes + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
    void* p = std::aligned_alloc(kBufferAlignment, rounded);
    if (p == nullptr) throw std::bad_alloc();
    data_.reset(static_cast<std::byte*>(p));
    size_ = bytes;
  }

  std::byte* data() noexcept { return data_.get(); }
  const std::byte* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }

 private:
  struct Free {
    void operator()(std::byte* p) const noexcept { std::free(p); }
  };
  std::unique_ptr<std::byte, Free> data_;
  std::size_t size_ = 0;
};

}  // namespace kiln
