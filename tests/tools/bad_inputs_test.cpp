// The bad-input catalog (tests/bad_inputs/): `kiln exec` on every malformed plan, network and
// ONNX model listed in manifest.txt must exit with the listed code (1) and say the listed words —
// and never die by a signal. Every file of the catalog must be listed, so none is forgotten.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "run_kiln.h"

namespace {

namespace fs = std::filesystem;

const fs::path kCatalog = fs::path(KILN_SOURCE_DIR) / "tests" / "bad_inputs";

struct Entry {
  std::string file;  // relative to the catalog
  int exitCode = 1;
  std::string expected;
  int line = 0;
};

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t");
  const auto end = s.find_last_not_of(" \t\r");
  return begin == std::string::npos ? std::string() : s.substr(begin, end - begin + 1);
}

// manifest.txt: "<file> | <exit code> | <expected words>", '#' starts a comment line.
std::vector<Entry> readManifest() {
  std::vector<Entry> entries;
  std::ifstream in(kCatalog / "manifest.txt");
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    const auto bar1 = line.find('|');
    const auto bar2 = bar1 == std::string::npos ? bar1 : line.find('|', bar1 + 1);
    Entry e;
    e.line = number;
    if (bar2 == std::string::npos) {
      e.file = "<malformed manifest line " + std::to_string(number) + ">";
    } else {
      e.file = trim(line.substr(0, bar1));
      e.exitCode = std::atoi(trim(line.substr(bar1 + 1, bar2 - bar1 - 1)).c_str());
      e.expected = trim(line.substr(bar2 + 1));
    }
    entries.push_back(e);
  }
  return entries;
}

// The kiln flag that loads a file of this kind.
std::string flagFor(const fs::path& file) {
  const auto ext = file.extension();
  if (ext == ".plan") return "--loadEngine=";
  if (ext == ".onnx") return "--onnx=";
  return "--network=";
}

using kiln::test::readText;
using kiln::test::runKiln;
using Result = kiln::test::CommandResult;

std::string lastLine(const std::string& text) {
  std::string t = text;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  const auto nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

class BadInput : public ::testing::TestWithParam<Entry> {};

TEST_P(BadInput, FailsWithItsMessage) {
  const Entry& e = GetParam();
  ASSERT_FALSE(e.expected.empty()) << "manifest.txt line " << e.line << " is malformed";
  const fs::path file = kCatalog / e.file;
  ASSERT_TRUE(fs::exists(fs::symlink_status(file))) << file;
  const fs::path scratch =
      fs::temp_directory_path() / ("kiln_bad_inputs_" + std::to_string(::getpid()));
  fs::create_directories(scratch);
  const Result r = runKiln(
      {"exec", flagFor(file) + file.string(), "--iterations=1", "--duration=0", "--warmUp=0"},
      scratch);
  fs::remove_all(scratch);
  EXPECT_EQ(r.signal, 0) << e.file << " killed kiln with signal " << r.signal << ":\n" << r.err;
  EXPECT_EQ(r.exitCode, e.exitCode) << e.file << ":\n" << r.err;
  EXPECT_NE(r.err.find(e.expected), std::string::npos)
      << e.file << ": expected '" << e.expected << "' in:\n"
      << r.err;
  EXPECT_EQ(lastLine(r.err).rfind("kiln: error: ", 0), 0u)
      << e.file << ": the last line must be the one-line error:\n"
      << r.err;
}

std::string testName(const ::testing::TestParamInfo<Entry>& info) {
  std::string name = info.param.file;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Catalog, BadInput, ::testing::ValuesIn(readManifest()), testName);

TEST(BadInputCatalog, ListsEveryFile) {
  std::set<std::string> listed;
  for (const Entry& e : readManifest()) listed.insert(e.file);
  EXPECT_GE(listed.size(), 30u);
  for (const char* folder : {"plans", "networks", "models"}) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(kCatalog / folder, ec)) {
      const auto ext = entry.path().extension();
      // .npy and .bin files are weights that networks and models refer to, not inputs of their
      // own.
      if (ext == ".npy" || ext == ".bin") continue;
      const std::string name = std::string(folder) + "/" + entry.path().filename().string();
      EXPECT_TRUE(listed.count(name)) << name << " is missing from manifest.txt";
    }
  }
  for (const std::string& file : listed) {
    EXPECT_TRUE(fs::exists(fs::symlink_status(kCatalog / file))) << file << " does not exist";
  }
}

}  // namespace
