// Runtime::deserialize on arbitrary bytes; an engine that loads is run once on zeroed inputs.
//
// Checksums cover every byte of a plan, so almost every blind mutation stops at the first
// checksum and the reader behind it stays unexplored. Two things get past that:
// - each input is also tried "repaired": file length, section checksums and header checksum
//   recomputed as a writer would;
// - a custom mutator that, most of the time, mutates the contents of one section (the graph
//   mostly) and lays the plan out again, so mutations land in counts, ids, shapes, attributes
//   and offsets rather than in the header.
#include <algorithm>
#include <cstring>
#include <optional>

#include "fuzz/fuzz_util.h"
#include "plan/byte_io.h"
#include "plan/plan_format.h"

extern "C" std::size_t LLVMFuzzerMutate(uint8_t* data, std::size_t size, std::size_t maxSize);

namespace {

using kiln::plan::checksum64;

constexpr std::size_t kFixedHeader = 24;  // magic, version, header length, file length
constexpr std::size_t kAlignment = kiln::plan::kSectionAlignment;

template <typename T>
bool load(std::span<const uint8_t> bytes, std::size_t at, T& value) {
  if (at > bytes.size() || bytes.size() - at < sizeof(T)) return false;
  std::memcpy(&value, bytes.data() + at, sizeof(T));
  return true;
}

template <typename T>
void store(uint8_t* bytes, std::size_t at, T value) {
  std::memcpy(bytes + at, &value, sizeof(T));
}

// Where the header and the sections of a plan are; only what the repair and the mutator need.
struct Layout {
  struct Entry {
    std::size_t at;  // position of the entry (id, reserved, offset, length, checksum)
    uint64_t offset;
    uint64_t length;
  };
  uint32_t headerLength = 0;
  std::vector<Entry> entries;
};

// Never leaves @p bytes; nullopt when the header is too damaged to find the section table.
std::optional<Layout> parseLayout(std::span<const uint8_t> bytes) {
  Layout layout;
  if (!load(bytes, 12, layout.headerLength) || layout.headerLength < kFixedHeader + 8 ||
      layout.headerLength > bytes.size()) {
    return std::nullopt;
  }
  const std::size_t end = layout.headerLength - 8;  // the header checksum follows
  std::size_t pos = kFixedHeader;
  auto skip = [&](std::size_t n) {
    if (pos > end || end - pos < n) return false;
    pos += n;
    return true;
  };
  auto skipString = [&] {
    uint32_t n = 0;
    return load(bytes, pos, n) && skip(4) && skip(n);
  };
  uint32_t nbIsa = 0, nbSections = 0;
  // library version, device, device name, CPU features
  if (!skipString() || !skip(4) || !skipString() || !load(bytes, pos, nbIsa) || !skip(4)) {
    return std::nullopt;
  }
  for (uint32_t i = 0; i < nbIsa; ++i) {
    if (!skipString()) return std::nullopt;
  }
  // compute capability, builder flags, section count
  if (!skip(12) || !load(bytes, pos, nbSections) || !skip(4) || nbSections > 16) {
    return std::nullopt;
  }
  for (uint32_t i = 0; i < nbSections; ++i) {
    Layout::Entry entry{pos, 0, 0};
    if (!skip(32)) return std::nullopt;
    load(bytes, entry.at + 8, entry.offset);
    load(bytes, entry.at + 16, entry.length);
    layout.entries.push_back(entry);
  }
  return layout;
}

// Recomputes what a writer would; false when the header is too damaged to find the fields.
bool repair(std::vector<uint8_t>& bytes) {
  if (bytes.size() < kFixedHeader + 8) return false;
  store<uint64_t>(bytes.data(), 16, bytes.size());
  const std::optional<Layout> layout = parseLayout(bytes);
  if (!layout) return false;
  for (const Layout::Entry& e : layout->entries) {
    if (e.offset <= bytes.size() && e.length <= bytes.size() - e.offset) {
      const std::span<const std::byte> section(
          reinterpret_cast<const std::byte*>(bytes.data()) + e.offset, e.length);
      store<uint64_t>(bytes.data(), e.at + 24, checksum64(section));
    }
  }
  const std::span<const std::byte> header(reinterpret_cast<const std::byte*>(bytes.data()),
                                          layout->headerLength - 8);
  store<uint64_t>(bytes.data(), layout->headerLength - 8, checksum64(header));
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

// Mutates one section's contents and lays the plan out again (64-byte aligned sections after
// the header, table and checksums updated). Falls back to a blind mutation when the plan's
// layout cannot be found, and does one now and then anyway, for the header.
std::size_t mutateSection(uint8_t* data, std::size_t size, std::size_t maxSize, unsigned int seed) {
  const std::span<const uint8_t> bytes(data, size);
  const std::optional<Layout> layout = parseLayout(bytes);
  if (!layout || layout->entries.empty() || seed % 8 == 0) {
    return LLVMFuzzerMutate(data, size, maxSize);
  }
  std::vector<std::vector<uint8_t>> sections;
  for (const Layout::Entry& e : layout->entries) {
    if (e.offset > size || e.length > size - e.offset) return LLVMFuzzerMutate(data, size, maxSize);
    sections.emplace_back(data + e.offset, data + e.offset + e.length);
  }
  // The graph (listed first by the writer) most of the time, else any section.
  const std::size_t pick = (seed >> 3) % 4 != 0 ? 0 : (seed >> 5) % sections.size();
  std::vector<uint8_t>& target = sections[pick];
  const std::size_t room = maxSize > size ? maxSize - size : 0;
  const std::size_t oldLength = target.size();
  target.resize(oldLength + std::min<std::size_t>(room, 256) + 1);
  target.resize(LLVMFuzzerMutate(target.data(), oldLength, target.size()));

  std::vector<uint8_t> out(data, data + layout->headerLength);
  for (std::size_t i = 0; i < sections.size(); ++i) {
    out.resize((out.size() + kAlignment - 1) / kAlignment * kAlignment, 0);
    store<uint64_t>(out.data(), layout->entries[i].at + 8, out.size());
    store<uint64_t>(out.data(), layout->entries[i].at + 16, sections[i].size());
    out.insert(out.end(), sections[i].begin(), sections[i].end());
  }
  if (out.size() > maxSize || !repair(out)) return LLVMFuzzerMutate(data, size, maxSize);
  std::memcpy(data, out.data(), out.size());
  return out.size();
}

}  // namespace

extern "C" std::size_t LLVMFuzzerCustomMutator(uint8_t* data, std::size_t size, std::size_t maxSize,
                                               unsigned int seed) {
  return mutateSection(data, size, maxSize, seed);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  loadAndRun(kiln::fuzz::asBytes(data, size));
  std::vector<uint8_t> repaired(data, data + size);
  if (repair(repaired) && !std::equal(repaired.begin(), repaired.end(), data)) {
    loadAndRun(kiln::fuzz::asBytes(repaired.data(), repaired.size()));
  }
  return 0;
}
