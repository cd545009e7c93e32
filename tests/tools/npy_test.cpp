// The kiln command's .npy reader and writer: round trips for every dtype, NumPy's exact header
// layout, and one clear error (naming the file) for each kind of malformed file.
#include "npy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "cli_error.h"

namespace kiln::cli {
namespace {

std::vector<std::byte> toBytes(std::string_view text) {
  std::vector<std::byte> bytes(text.size());
  if (!text.empty()) std::memcpy(bytes.data(), text.data(), text.size());  // data() may be null
  return bytes;
}

// A file as NumPy writes it: magic, version, little-endian header length, padded dict, data.
std::vector<std::byte> npyFile(int major, const std::string& dict, std::size_t dataBytes) {
  const std::size_t lengthBytes = major == 1 ? 2 : 4;
  std::string header = dict;
  const std::size_t unpadded = 8 + lengthBytes + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string file = "\x93NUMPY";
  file += static_cast<char>(major);
  file += '\0';
  for (std::size_t i = 0; i < lengthBytes; ++i) {
    file += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  }
  file += header;
  std::vector<std::byte> bytes = toBytes(file);
  for (std::size_t i = 0; i < dataBytes; ++i) bytes.push_back(std::byte(i & 0x7f));
  return bytes;
}

std::string errorOf(std::span<const std::byte> bytes, const std::string& name = "in.npy") {
  try {
    (void)parseNpy(bytes, name);
  } catch (const CliError& e) {
    return e.what();
  }
  return "(no error)";
}

struct DtypeCase {
  DataType type;
  std::string_view descr;
};

// Deterministic test names for ctest (the default prints the struct's bytes, pointers included).
void PrintTo(const DtypeCase& c, std::ostream* os) {
  *os << c.descr;
}

class NpyRoundTrip : public ::testing::TestWithParam<DtypeCase> {};

TEST_P(NpyRoundTrip, EveryShapeSurvives) {
  const DtypeCase c = GetParam();
  EXPECT_EQ(npyDescr(c.type), c.descr);
  const std::vector<std::vector<int64_t>> shapes = {{}, {7}, {2, 3}, {3, 1, 5}, {0, 4}};
  for (const auto& shape : shapes) {
    int64_t count = 1;
    for (int64_t e : shape) count *= e;
    std::vector<std::byte> data(static_cast<std::size_t>(count) * elementSize(c.type));
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = std::byte((i * 37 + 11) & 0xff);
    if (c.type == DataType::kBOOL) {
      for (std::size_t i = 0; i < data.size(); ++i) data[i] = std::byte(i % 2);
    }

    const std::vector<std::byte> file = encodeNpy(c.type, shape, data);
    // NumPy's layout: the data starts on a 64-byte boundary, the header ends with '\n'.
    const std::size_t headerLength =
        std::to_integer<std::size_t>(file[8]) | std::to_integer<std::size_t>(file[9]) << 8;
    EXPECT_EQ((10 + headerLength) % 64, 0u);
    EXPECT_EQ(file[10 + headerLength - 1], std::byte{'\n'});
    EXPECT_EQ(file.size(), 10 + headerLength + data.size());

    const NpyArray back = parseNpy(file, "round.npy");
    EXPECT_EQ(back.dtype, c.type);
    EXPECT_EQ(back.shape, shape);
    EXPECT_EQ(back.data, data) << shapeTuple(shape);
    EXPECT_EQ(back.count(), count);
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllDtypes, NpyRoundTrip,
    ::testing::Values(DtypeCase{DataType::kFLOAT, "<f4"}, DtypeCase{DataType::kHALF, "<f2"},
                      DtypeCase{DataType::kINT32, "<i4"}, DtypeCase{DataType::kINT64, "<i8"},
                      DtypeCase{DataType::kBOOL, "|b1"}, DtypeCase{DataType::kUINT8, "|u1"},
                      DtypeCase{DataType::kINT8, "|i1"}),
    [](const ::testing::TestParamInfo<DtypeCase>& info) {
      return kiln::toString(info.param.type);
    });

TEST(Npy, WritesTheHeaderNumPyWrites) {
  const std::vector<int64_t> shape = {2, 3};
  const std::vector<std::byte> data(24);
  const std::vector<std::byte> file = encodeNpy(DataType::kFLOAT, shape, data);
  const std::string text(reinterpret_cast<const char*>(file.data()), file.size());
  EXPECT_EQ(text.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  EXPECT_EQ(text.substr(10, dict.size()), dict);
  EXPECT_EQ(text.find_first_not_of(' ', 10 + dict.size()), 127u) << "spaces, then a newline at 127";
  EXPECT_EQ(shapeTuple(std::vector<int64_t>{}), "()");
  EXPECT_EQ(shapeTuple(std::vector<int64_t>{4}), "(4,)");
}

TEST(Npy, ReadsVersion2AndOtherSpellings) {
  // Version 2 (32-bit header length), double quotes, no trailing comma, Python 2 long literals.
  const auto file =
      npyFile(2, "{\"descr\": \"<i4\", \"shape\": (2L, 2L), \"fortran_order\": False}", 16);
  const NpyArray array = parseNpy(file, "v2.npy");
  EXPECT_EQ(array.dtype, DataType::kINT32);
  EXPECT_EQ(array.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(array.data.size(), 16u);
}

TEST(Npy, OneDimensionalFortranOrderIsTheSameLayout) {
  const auto file = npyFile(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (3,), }", 12);
  EXPECT_EQ(parseNpy(file, "f.npy").shape, (std::vector<int64_t>{3}));
}

TEST(Npy, FileRoundTripAndMissingFile) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("kiln_npy_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::vector<int64_t> shape = {3};
  const std::vector<std::byte> data(12, std::byte{5});
  writeNpy(dir / "a.npy", DataType::kFLOAT, shape, data);
  const NpyArray back = readNpy(dir / "a.npy");
  EXPECT_EQ(back.data, data);

  try {
    (void)readNpy(dir / "missing.npy");
    ADD_FAILURE() << "no error for a missing file";
  } catch (const CliError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.npy"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

TEST(NpyErrors, BadMagic) {
  auto file = npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 4);
  file[1] = std::byte{'X'};
  const std::string error = errorOf(file);
  EXPECT_NE(error.find("'in.npy'"), std::string::npos) << error;
  EXPECT_NE(error.find("bad magic"), std::string::npos) << error;
  EXPECT_NE(errorOf(toBytes("")).find("bad magic"), std::string::npos);
}

TEST(NpyErrors, FortranOrder) {
  const auto file = npyFile(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24);
  const std::string error = errorOf(file);
  EXPECT_NE(error.find("'in.npy'"), std::string::npos) << error;
  EXPECT_NE(error.find("Fortran"), std::string::npos) << error;
}

TEST(NpyErrors, TruncatedData) {
  const auto file = npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 23);
  const std::string error = errorOf(file);
  EXPECT_NE(error.find("'in.npy'"), std::string::npos) << error;
  EXPECT_NE(error.find("truncated data"), std::string::npos) << error;
  EXPECT_NE(error.find("expected 24"), std::string::npos) << error;
}

TEST(NpyErrors, TrailingData) {
  const auto file = npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 9);
  EXPECT_NE(errorOf(file).find("trailing data"), std::string::npos) << errorOf(file);
}

TEST(NpyErrors, TruncatedHeader) {
  auto file = npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8);
  file.resize(40);
  const std::string error = errorOf(file);
  EXPECT_NE(error.find("truncated .npy header"), std::string::npos) << error;
  file.resize(9);
  EXPECT_NE(errorOf(file).find("truncated .npy header"), std::string::npos) << errorOf(file);
}

TEST(NpyErrors, UnsupportedDtype) {
  for (const char* descr : {"<f8", ">f4", ">u2", "<c8"}) {
    const auto file = npyFile(
        1, std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (2,), }", 16);
    const std::string error = errorOf(file);
    EXPECT_NE(error.find("'in.npy'"), std::string::npos) << error;
    EXPECT_NE(error.find(std::string("unsupported dtype '") + descr + "'"), std::string::npos)
        << error;
    EXPECT_NE(error.find("<f4"), std::string::npos) << "the message lists what is supported";
  }
  const auto structured =
      npyFile(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8);
  EXPECT_NE(errorOf(structured).find("unsupported dtype"), std::string::npos)
      << errorOf(structured);
}

TEST(NpyErrors, UnsupportedVersion) {
  auto file = npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 4);
  file[6] = std::byte{9};
  EXPECT_NE(errorOf(file).find("version 9.0"), std::string::npos) << errorOf(file);
}

TEST(NpyErrors, MalformedHeaders) {
  const char* headers[] = {
      "{'descr': '<f4', 'fortran_order': False}",                           // no shape
      "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }",          // bad bool
      "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }",         // negative extent
      "{'descr': '<f4', 'fortran_order': False, 'shape': [1], }",           // not a tuple
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1, }",  // unknown key
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)",             // no '}'
      "not a dict at all",
  };
  for (const char* header : headers) {
    const std::string error = errorOf(npyFile(1, header, 4));
    EXPECT_NE(error.find("'in.npy'"), std::string::npos) << header << ": " << error;
    EXPECT_TRUE(error.find("malformed .npy header") != std::string::npos)
        << header << ": " << error;
  }
}

TEST(NpyErrors, HugeShapeDoesNotOverflow) {
  const auto file = npyFile(
      1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", 4);
  EXPECT_NE(errorOf(file).find("too large"), std::string::npos) << errorOf(file);
}

TEST(NpyErrors, NoDtypeForBfloat16) {
  const std::vector<int64_t> shape = {1};
  const std::vector<std::byte> data(2);
  EXPECT_THROW((void)encodeNpy(DataType::kBF16, shape, data), CliError);
}

}  // namespace
}  // namespace kiln::cli
