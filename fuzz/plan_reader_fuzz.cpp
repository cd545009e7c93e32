// Runtime::deserialize on arbitrary bytes; an engine that loads is run once on zeroed inputs.
//
// Checksums cover every byte of a plan, so almost every mutation stops at the first checksum
// and the reader behind it would stay unexplored. Each input is therefore also tried "repaired":
// file length, section checksums and header checksum recomputed as a writer would, which lets
// mutations of counts, ids, shapes and attributes reach the graph and memory checks.
#include <cstring>

#include "fuzz/fuzz_util.h"
#include "plan/byte_io.h"
#include "plan/plan_format.h"

namespace {

using kiln::plan::checksum64;

// Little-endian field access that never leaves the buffer.
struct Cursor {
  std::vector<std::byte>& bytes;
  std::size_t pos = 0;

  template <typename T>
  bool get(T& value) {
    if (pos > bytes.size() || bytes.size() - pos < sizeof(T)) return false;
    std::memcpy(&value, bytes.data() + pos, sizeof(T));
    pos += sizeof(T);
    return true;
  }
  bool skipString() {
    uint32_t n = 0;
    if (!get(n) || bytes.size() - pos < n) return false;  // get() keeps pos <= size
    pos += n;
    return true;
  }
};

template <typename T>
void store(std::vector<std::byte>& bytes, std::size_t at, T value) {
  std::memcpy(bytes.data() + at, &value, sizeof(T));
}

// Recomputes what a writer would; false when the header is too damaged to find the fields.
bool repair(std::vector<std::byte>& bytes) {
  constexpr std::size_t kFixed = 24;  // magic, version, header length, file length
  if (bytes.size() < kFixed + 8) return false;
  store<uint64_t>(bytes, 16, bytes.size());
  uint32_t headerLength = 0;
  std::memcpy(&headerLength, bytes.data() + 12, 4);
  if (headerLength < kFixed + 8 || headerLength > bytes.size()) return false;

  Cursor c{bytes, kFixed};
  int32_t device = 0, capability = 0;
  uint32_t nbIsa = 0, nbSections = 0;
  uint64_t flags = 0;
  if (!c.skipString() || !c.get(device) || !c.skipString() || !c.get(nbIsa)) return false;
  for (uint32_t i = 0; i < nbIsa; ++i) {
    if (!c.skipString()) return false;
  }
  if (!c.get(capability) || !c.get(flags) || !c.get(nbSections)) return false;
  for (uint32_t i = 0; i < nbSections; ++i) {
    const std::size_t entry = c.pos;
    uint32_t id = 0, reserved = 0;
    uint64_t offset = 0, length = 0, sum = 0;
    if (!c.get(id) || !c.get(reserved) || !c.get(offset) || !c.get(length) || !c.get(sum)) {
      return false;
    }
    if (offset <= bytes.size() && length <= bytes.size() - offset) {
      const std::span<const std::byte> section(bytes.data() + offset, length);
      store<uint64_t>(bytes, entry + 24, checksum64(section));
    }
  }
  const std::span<const std::byte> header(bytes.data(), headerLength - 8);
  store<uint64_t>(bytes, headerLength - 8, checksum64(header));
  return true;
}

void loadAndRun(std::span<const std::byte> plan) {
  kiln::fuzz::FuzzLogger logger;
  kiln::Runtime runtime(logger);
  runtime.setNbThreads(1);
  runtime.setModelLimits(kiln::fuzz::fuzzLimits());
  std::unique_ptr<kiln::Engine> engine = runtime.deserialize(plan);
  if (engine) kiln::fuzz::runOnce(*engine);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::span<const std::byte> plan = kiln::fuzz::asBytes(data, size);
  loadAndRun(plan);
  std::vector<std::byte> repaired(plan.begin(), plan.end());
  if (repair(repaired) && !std::equal(repaired.begin(), repaired.end(), plan.begin())) {
    loadAndRun(repaired);
  }
  return 0;
}
