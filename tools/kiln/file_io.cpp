#include "file_io.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "cli_error.h"

namespace kiln::cli {
namespace {

struct FileCloser {
  void operator()(std::FILE* file) const noexcept { std::fclose(file); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

std::string describe(std::string_view what, const std::filesystem::path& path) {
  return std::string(what) + " '" + path.string() + "'";
}

}  // namespace

std::vector<std::byte> readFile(const std::filesystem::path& path, std::string_view what) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw CliError("cannot read " + describe(what, path) + ": it is a directory");
  }
  FilePtr file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    throw CliError("cannot open " + describe(what, path) + ": " + std::strerror(errno));
  }
  std::vector<std::byte> bytes;
  std::byte chunk[1 << 16];
  for (;;) {
    const std::size_t n = std::fread(chunk, 1, sizeof(chunk), file.get());
    bytes.insert(bytes.end(), chunk, chunk + n);
    if (n < sizeof(chunk)) break;
  }
  if (std::ferror(file.get())) {
    throw CliError("cannot read " + describe(what, path) + ": " + std::strerror(errno));
  }
  return bytes;
}

void writeFile(const std::filesystem::path& path, std::span<const std::byte> bytes,
               std::string_view what) {
  FilePtr file(std::fopen(path.c_str(), "wb"));
  if (!file) {
    throw CliError("cannot create " + describe(what, path) + ": " + std::strerror(errno));
  }
  if (std::fwrite(bytes.data(), 1, bytes.size(), file.get()) != bytes.size() ||
      std::fflush(file.get()) != 0) {
    throw CliError("cannot write " + describe(what, path) + ": " + std::strerror(errno));
  }
  if (std::fclose(file.release()) != 0) {
    throw CliError("cannot write " + describe(what, path) + ": " + std::strerror(errno));
  }
}

}  // namespace kiln::cli
