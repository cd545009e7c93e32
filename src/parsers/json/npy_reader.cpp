#include "parsers/json/npy_reader.h"

#include <cctype>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>

namespace kiln::parsers::netjson {

namespace {

// The Python dict literal of the header: {'descr': '<f4', 'fortran_order': False, 'shape': (2,)}
struct Header {
  std::string descr;
  bool fortranOrder = false;
  std::vector<int64_t> shape;
  bool hasDescr = false, hasOrder = false, hasShape = false;
};

class HeaderParser {
 public:
  explicit HeaderParser(std::string_view text) : text_(text) {}

  bool parse(Header& header, std::string& error) {
    if (!consume('{')) return fail(error, "header does not start with '{'");
    while (true) {
      skipSpace();
      if (consume('}')) break;
      std::string key;
      if (!quoted(key)) return fail(error, "expected a quoted key in the header");
      if (!consume(':')) return fail(error, "expected ':' after '" + key + "' in the header");
      if (key == "descr") {
        if (!quoted(header.descr)) return fail(error, "'descr' is not a string");
        header.hasDescr = true;
      } else if (key == "fortran_order") {
        if (word("True")) {
          header.fortranOrder = true;
        } else if (!word("False")) {
          return fail(error, "'fortran_order' is not True or False");
        }
        header.hasOrder = true;
      } else if (key == "shape") {
        if (!tuple(header.shape)) return fail(error, "'shape' is not a tuple of integers");
        header.hasShape = true;
      } else {
        return fail(error, "unexpected header key '" + key + "'");
      }
      skipSpace();
      if (consume('}')) break;
      if (!consume(',')) return fail(error, "expected ',' or '}' in the header");
    }
    if (!header.hasDescr || !header.hasOrder || !header.hasShape) {
      return fail(error, "header lacks 'descr', 'fortran_order' or 'shape'");
    }
    return true;
  }

 private:
  static bool fail(std::string& error, std::string message) {
    error = std::move(message);
    return false;
  }
  void skipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool consume(char c) {
    skipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool word(std::string_view w) {
    skipSpace();
    if (text_.substr(pos_, w.size()) != w) return false;
    pos_ += w.size();
    return true;
  }
  bool quoted(std::string& out) {
    skipSpace();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) return false;
    const char quote = text_[pos_++];
    const auto end = text_.find(quote, pos_);
    if (end == std::string_view::npos) return false;
    out = std::string(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return true;
  }
  bool tuple(std::vector<int64_t>& out) {
    if (!consume('(')) return false;
    while (true) {
      if (consume(')')) return true;
      skipSpace();
      int64_t value = 0;
      std::size_t digits = 0;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
        if (value > (std::numeric_limits<int64_t>::max() - 9) / 10) return false;
        value = value * 10 + (text_[pos_++] - '0');
        ++digits;
      }
      // NumPy writes "3L" on Python 2.
      if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;
      if (digits == 0) return false;
      out.push_back(value);
      if (consume(')')) return true;
      if (!consume(',')) return false;
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

enum class Source { kF4, kF8, kI4, kI8, kB1 };

std::optional<Source> sourceOf(const std::string& descr) {
  // '|' (not applicable) and '=' (native) are little-endian for 1-byte types and on x86/ARM.
  if (descr == "<f4" || descr == "=f4") return Source::kF4;
  if (descr == "<f8" || descr == "=f8") return Source::kF8;
  if (descr == "<i4" || descr == "=i4") return Source::kI4;
  if (descr == "<i8" || descr == "=i8") return Source::kI8;
  if (descr == "|b1" || descr == "<b1" || descr == "=b1") return Source::kB1;
  return std::nullopt;
}

std::size_t sourceSize(Source s) {
  switch (s) {
    case Source::kF4:
      return 4;
    case Source::kF8:
      return 8;
    case Source::kI4:
      return 4;
    case Source::kI8:
      return 8;
    case Source::kB1:
      return 1;
  }
  return 1;
}

template <typename T>
T load(const std::byte* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

}  // namespace

std::string shapeText(const std::vector<int64_t>& shape) {
  std::string out = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(shape[i]);
  }
  if (shape.size() == 1) out += ",";
  return out + ")";
}

bool parseNpy(std::span<const std::byte> bytes, NpyArray& out, std::string& error) {
  static constexpr unsigned char kMagic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (bytes.size() < 10 || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    error = "not a .npy file (no \\x93NUMPY magic)";
    return false;
  }
  const auto major = static_cast<uint8_t>(bytes[6]);
  std::size_t headerStart = 0, headerLength = 0;
  if (major == 1) {
    headerLength =
        static_cast<uint8_t>(bytes[8]) | (std::size_t{static_cast<uint8_t>(bytes[9])} << 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) {
      error = "truncated .npy header";
      return false;
    }
    for (int i = 3; i >= 0; --i) {
      headerLength =
          (headerLength << 8) | static_cast<uint8_t>(bytes[8 + static_cast<std::size_t>(i)]);
    }
    headerStart = 12;
  } else {
    error = ".npy format version " + std::to_string(major) + " is not supported (1, 2 or 3)";
    return false;
  }
  if (headerLength > bytes.size() - headerStart) {
    error = "truncated .npy header";
    return false;
  }
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()) + headerStart,
                              headerLength);
  Header header;
  if (!HeaderParser(text).parse(header, error)) {
    error = "bad .npy header: " + error;
    return false;
  }
  const auto source = sourceOf(header.descr);
  if (!source) {
    error = "holds dtype '" + header.descr +
            "'; supported: little-endian float32, float64, int32, int64, bool";
    return false;
  }
  if (header.fortranOrder && header.shape.size() > 1) {
    error = "is in Fortran order; save it in C order (np.ascontiguousarray)";
    return false;
  }
  const std::size_t dataStart = headerStart + headerLength;
  const std::size_t available = bytes.size() - dataStart;
  const std::size_t size = sourceSize(*source);
  // Saturates instead of overflowing: a count above the bytes present is refused anyway.
  constexpr uint64_t kTooMany = std::numeric_limits<uint64_t>::max();
  uint64_t count = 1;
  for (int64_t extent : header.shape) {
    if (extent == 0) {
      count = 0;
      break;
    }
    const auto e = static_cast<uint64_t>(extent);
    count = count > kTooMany / e ? kTooMany : count * e;
  }
  if (count > available / size || count * size != available) {
    error =
        "shape " + shapeText(header.shape) + " of '" + header.descr + "' needs " +
        (count > kTooMany / size ? std::string("more than 2^64") : std::to_string(count * size)) +
        " data bytes, the file holds " + std::to_string(available);
    return false;
  }
  out.shape = header.shape;
  out.descr = header.descr;
  const std::byte* src = bytes.data() + dataStart;
  const auto n = static_cast<std::size_t>(count);
  switch (*source) {
    case Source::kF4:
    case Source::kF8: {
      out.type = DataType::kFLOAT;
      out.data.resize(n * sizeof(float));
      for (std::size_t i = 0; i < n; ++i) {
        const float v = *source == Source::kF4 ? load<float>(src + 4 * i)
                                               : static_cast<float>(load<double>(src + 8 * i));
        std::memcpy(out.data.data() + 4 * i, &v, 4);
      }
      break;
    }
    case Source::kI4:
    case Source::kI8: {
      out.type = DataType::kINT32;
      out.data.resize(n * sizeof(int32_t));
      for (std::size_t i = 0; i < n; ++i) {
        int64_t v =
            *source == Source::kI4 ? load<int32_t>(src + 4 * i) : load<int64_t>(src + 8 * i);
        if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
          error =
              "element " + std::to_string(i) + " (" + std::to_string(v) + ") does not fit int32";
          return false;
        }
        const auto narrow = static_cast<int32_t>(v);
        std::memcpy(out.data.data() + 4 * i, &narrow, 4);
      }
      break;
    }
    case Source::kB1: {
      out.type = DataType::kBOOL;
      out.data.resize(n);
      for (std::size_t i = 0; i < n; ++i) {
        out.data[i] = std::byte{static_cast<uint8_t>(src[i]) != 0 ? uint8_t{1} : uint8_t{0}};
      }
      break;
    }
  }
  return true;
}

}  // namespace kiln::parsers::netjson
