// A byte buffer aligned for vector loads (kernels may assume 64-byte aligned tensors).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace kiln::cli {

class HostBuffer {
 public:
  HostBuffer() = default;
  explicit HostBuffer(std::size_t bytes) : blocks_((bytes + kAlign - 1) / kAlign), size_(bytes) {}

  std::byte* data() noexcept { return blocks_.empty() ? nullptr : blocks_.front().bytes; }
  const std::byte* data() const noexcept {
    return blocks_.empty() ? nullptr : blocks_.front().bytes;
  }
  std::size_t size() const noexcept { return size_; }
  std::span<std::byte> bytes() noexcept { return {data(), size_}; }
  std::span<const std::byte> bytes() const noexcept { return {data(), size_}; }

 private:
  static constexpr std::size_t kAlign = 64;
  struct alignas(kAlign) Block {
    std::byte bytes[kAlign]{};
  };
  std::vector<Block> blocks_;
  std::size_t size_ = 0;
};

}  // namespace kiln::cli
