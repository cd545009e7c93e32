#include "npy.h"

#include <array>
#include <cctype>
#include <cstring>
#include <limits>

#include "cli_error.h"
#include "file_io.h"

namespace kiln::cli {
namespace {

constexpr std::array<unsigned char, 6> kMagic = {0x93, 'N', 'U', 'M', 'P', 'Y'};
// NumPy pads the header so the data starts on this boundary.
constexpr std::size_t kHeaderAlign = 64;

struct DtypeEntry {
  std::string_view descr;
  DataType type;
};
constexpr std::array<DtypeEntry, 11> kDtypes = {{
    {"<f4", DataType::kFLOAT},
    {"<f2", DataType::kHALF},
    {"<i4", DataType::kINT32},
    {"<i8", DataType::kINT64},
    {"|b1", DataType::kBOOL},
    {"|u1", DataType::kUINT8},
    {"|i1", DataType::kINT8},
    {"<i2", DataType::kINT16},
    {"<u2", DataType::kUINT16},
    {"<u4", DataType::kUINT32},
    {"<u8", DataType::kUINT64},
}};

std::string supportedDescrs() {
  std::string list;
  for (const DtypeEntry& entry : kDtypes) {
    if (!list.empty()) list += ", ";
    list += entry.descr;
  }
  return list;
}

[[noreturn]] void failFile(const std::string& name, const std::string& message) {
  throw CliError("'" + name + "': " + message);
}

// The header is a Python dict literal: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// This parses exactly the subset NumPy writes (strings, True/False, tuples of ints).
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& name) : text_(text), name_(name) {}

  struct Fields {
    std::optional<std::string> descr;
    std::optional<bool> fortranOrder;
    std::optional<std::vector<int64_t>> shape;
  };

  Fields parse() {
    Fields fields;
    expect('{');
    for (;;) {
      skipSpace();
      if (consume('}')) break;
      const std::string key = parseString();
      expect(':');
      skipSpace();
      if (key == "descr") {
        if (peek() != '\'' && peek() != '"') {
          failFile(name_, "unsupported dtype (structured arrays are not supported); kiln reads " +
                              supportedDescrs());
        }
        fields.descr = parseString();
      } else if (key == "fortran_order") {
        fields.fortranOrder = parseBool();
      } else if (key == "shape") {
        fields.shape = parseShape();
      } else {
        malformed("unknown key '" + key + "'");
      }
      skipSpace();
      if (consume('}')) break;
      expect(',');
    }
    skipSpace();
    if (pos_ != text_.size()) malformed("text after the closing '}'");
    return fields;
  }

 private:
  [[noreturn]] void malformed(const std::string& what) {
    failFile(name_, "malformed .npy header (" + what + ")");
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool consume(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  void expect(char c) {
    skipSpace();
    if (!consume(c)) malformed(std::string("expected '") + c + "'");
  }
  std::string parseString() {
    const char quote = peek();
    if (quote != '\'' && quote != '"') malformed("expected a quoted string");
    ++pos_;
    const std::size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) malformed("unterminated string");
    std::string value(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return value;
  }
  bool parseBool() {
    if (text_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (text_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    malformed("fortran_order must be True or False");
  }
  std::vector<int64_t> parseShape() {
    if (!consume('(')) malformed("shape must be a tuple");
    std::vector<int64_t> shape;
    for (;;) {
      skipSpace();
      if (consume(')')) break;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) {
        malformed("shape must hold non-negative integers");
      }
      int64_t value = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        const int digit = text_[pos_++] - '0';
        if (value > (std::numeric_limits<int64_t>::max() - digit) / 10) {
          malformed("shape extent too large");
        }
        value = value * 10 + digit;
      }
      consume('L');  // Python 2 long literals
      shape.push_back(value);
      skipSpace();
      if (consume(')')) break;
      if (!consume(',')) malformed("expected ',' or ')' in shape");
    }
    return shape;
  }

  std::string_view text_;
  const std::string& name_;
  std::size_t pos_ = 0;
};

uint32_t readLittleEndian(const std::byte* p, std::size_t n) {
  uint32_t value = 0;
  for (std::size_t i = 0; i < n; ++i) value |= std::to_integer<uint32_t>(p[i]) << (8 * i);
  return value;
}

// Element count of @p shape; fails on overflow of the byte size.
int64_t checkedVolume(std::span<const int64_t> shape, std::size_t itemSize,
                      const std::string& name) {
  int64_t count = 1;
  const int64_t limit = std::numeric_limits<int64_t>::max() / static_cast<int64_t>(itemSize);
  for (int64_t extent : shape) {
    if (extent != 0 && count > limit / extent) failFile(name, "shape too large");
    count *= extent;
  }
  return count;
}

}  // namespace

int64_t NpyArray::count() const {
  int64_t n = 1;
  for (int64_t extent : shape) n *= extent;
  return n;
}

std::optional<std::string_view> npyDescr(DataType type) {
  for (const DtypeEntry& entry : kDtypes) {
    if (entry.type == type) return entry.descr;
  }
  return std::nullopt;
}

std::string shapeTuple(std::span<const int64_t> shape) {
  std::string text = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  if (shape.size() == 1) text += ",";
  return text + ")";
}

NpyArray parseNpy(std::span<const std::byte> bytes, const std::string& name) {
  if (bytes.size() < kMagic.size() + 2 ||
      std::memcmp(bytes.data(), kMagic.data(), kMagic.size()) != 0) {
    failFile(name, "not a .npy file (bad magic; expected \\x93NUMPY)");
  }
  const auto major = std::to_integer<int>(bytes[6]);
  const auto minor = std::to_integer<int>(bytes[7]);
  if (major < 1 || major > 3) {
    failFile(name, "unsupported .npy format version " + std::to_string(major) + "." +
                       std::to_string(minor) + " (kiln reads 1.x, 2.x and 3.x)");
  }
  const std::size_t lengthBytes = major == 1 ? 2 : 4;
  const std::size_t preamble = kMagic.size() + 2 + lengthBytes;
  if (bytes.size() < preamble) failFile(name, "truncated .npy header");
  const std::size_t headerLength = readLittleEndian(bytes.data() + 8, lengthBytes);
  if (bytes.size() - preamble < headerLength) failFile(name, "truncated .npy header");
  const std::string_view header(reinterpret_cast<const char*>(bytes.data() + preamble),
                                headerLength);

  const HeaderParser::Fields fields = HeaderParser(header, name).parse();
  if (!fields.descr || !fields.fortranOrder || !fields.shape) {
    failFile(name, "malformed .npy header (it needs 'descr', 'fortran_order' and 'shape')");
  }

  NpyArray array;
  bool known = false;
  for (const DtypeEntry& entry : kDtypes) {
    if (entry.descr == *fields.descr) {
      array.dtype = entry.type;
      known = true;
    }
  }
  if (!known) {
    failFile(name, "unsupported dtype '" + *fields.descr + "'; kiln reads " + supportedDescrs());
  }
  array.shape = *fields.shape;
  const std::size_t itemSize = elementSize(array.dtype);
  const int64_t count = checkedVolume(array.shape, itemSize, name);
  if (*fields.fortranOrder && array.shape.size() > 1) {
    failFile(name,
             "Fortran-order arrays are not supported; save it in C order "
             "(numpy.ascontiguousarray)");
  }

  const std::size_t expected = static_cast<std::size_t>(count) * itemSize;
  const std::size_t actual = bytes.size() - preamble - headerLength;
  if (actual != expected) {
    failFile(name, std::string(actual < expected ? "truncated data" : "unexpected trailing data") +
                       ": " + std::to_string(actual) + " bytes after the header, expected " +
                       std::to_string(expected) + " for shape " + shapeTuple(array.shape) + " of " +
                       *fields.descr);
  }
  const auto* data = bytes.data() + preamble + headerLength;
  array.data.assign(data, data + expected);
  return array;
}

NpyArray readNpy(const std::filesystem::path& path) {
  return parseNpy(readFile(path, ".npy file"), path.string());
}

std::vector<std::byte> encodeNpy(DataType dtype, std::span<const int64_t> shape,
                                 std::span<const std::byte> data) {
  const std::optional<std::string_view> descr = npyDescr(dtype);
  if (!descr) {
    throw CliError("cannot write " + toString(dtype) + " data to .npy (no NumPy dtype for it)");
  }
  int64_t count = 1;
  for (int64_t extent : shape) count *= extent;
  if (static_cast<std::size_t>(count) * elementSize(dtype) != data.size()) {
    throw CliError("internal error: .npy data size does not match shape " + shapeTuple(shape));
  }

  std::string dict = "{'descr': '" + std::string(*descr) +
                     "', 'fortran_order': False, 'shape': " + shapeTuple(shape) + ", }";
  int major = 1;
  std::size_t preamble = kMagic.size() + 2 + 2;
  if (preamble + dict.size() + kHeaderAlign > 65535) {  // the padded length must fit 16 bits
    major = 2;
    preamble = kMagic.size() + 2 + 4;
  }
  // Spaces, then '\n', so the data starts on a kHeaderAlign boundary.
  const std::size_t unpadded = preamble + dict.size() + 1;
  dict.append((kHeaderAlign - unpadded % kHeaderAlign) % kHeaderAlign, ' ');
  dict += '\n';

  std::vector<std::byte> bytes;
  bytes.reserve(preamble + dict.size() + data.size());
  for (unsigned char c : kMagic) bytes.push_back(std::byte{c});
  bytes.push_back(std::byte(major));
  bytes.push_back(std::byte{0});
  const std::size_t length = dict.size();
  for (std::size_t i = 0; i < preamble - kMagic.size() - 2; ++i) {
    bytes.push_back(std::byte((length >> (8 * i)) & 0xff));
  }
  for (char c : dict) bytes.push_back(std::byte(c));
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

void writeNpy(const std::filesystem::path& path, DataType dtype, std::span<const int64_t> shape,
              std::span<const std::byte> data) {
  writeFile(path, encodeNpy(dtype, shape, data), ".npy file");
}

}  // namespace kiln::cli
