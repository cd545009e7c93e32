// Little-endian binary writing and bounds-checked reading for the plan file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/error.h"

namespace kiln::plan {

//! 64-bit checksum of @p bytes: word-wise multiply/xor-shift mixing, so that any change to a
//! single 8-byte word always changes the result, at memory speed.
uint64_t checksum64(std::span<const std::byte> bytes) noexcept;

class ByteWriter {
 public:
  template <typename T>
  requires std::is_arithmetic_v<T>
  void put(T value) {
    const auto* p = reinterpret_cast<const std::byte*>(&value);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  void putString(std::string_view s) {
    put<uint32_t>(static_cast<uint32_t>(s.size()));
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    bytes_.insert(bytes_.end(), p, p + s.size());
  }
  void putBytes(std::span<const std::byte> data) {
    bytes_.insert(bytes_.end(), data.begin(), data.end());
  }
  //! Pads with zeros to a multiple of @p alignment.
  void align(std::size_t alignment) {
    while (bytes_.size() % alignment != 0) bytes_.push_back(std::byte{0});
  }
  std::size_t size() const noexcept { return bytes_.size(); }
  std::vector<std::byte>& bytes() noexcept { return bytes_; }

 private:
  std::vector<std::byte> bytes_;
};

//! Reads from a byte span; every read is bounds-checked and throws kINVALID_PLAN naming the
//! section being read.
class ByteReader {
 public:
  ByteReader(std::span<const std::byte> bytes, std::string_view section)
      : bytes_(bytes), section_(section) {}

  template <typename T>
  requires std::is_arithmetic_v<T> T get() {
    need(sizeof(T));
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  std::string getString() {
    const uint32_t n = get<uint32_t>();
    need(n);
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  //! A count of items that each take at least @p minItemBytes: rejects counts that could not
  //! fit in the remaining bytes, so hostile counts never drive huge allocations.
  uint32_t getCount(std::size_t minItemBytes) {
    const uint32_t n = get<uint32_t>();
    if (minItemBytes > 0 && n > remaining() / minItemBytes) {
      fail(ErrorCode::kINVALID_PLAN, "corrupted plan: the ", section_, " section declares ", n,
           " entries, more than its remaining ", remaining(), " bytes can hold");
    }
    return n;
  }
  std::size_t remaining() const noexcept { return bytes_.size() - pos_; }
  std::size_t position() const noexcept { return pos_; }
  std::string_view section() const noexcept { return section_; }

  [[noreturn]] void corrupt(std::string_view what) const {
    fail(ErrorCode::kINVALID_PLAN, "corrupted plan: ", section_, " section: ", what);
  }

 private:
  void need(std::size_t n) const {
    if (n > remaining()) {
      fail(ErrorCode::kINVALID_PLAN, "corrupted plan: the ", section_, " section ends early (",
           "needs ", n, " more bytes at offset ", pos_, ", has ", remaining(), ")");
    }
  }

  std::span<const std::byte> bytes_;
  std::string_view section_;
  std::size_t pos_ = 0;
};

}  // namespace kiln::plan
