#include "builder/tactics/timing_cache.h"

#include <cstring>

#include "backends/device.h"
#include "core/cpu_info.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "plan/byte_io.h"

namespace kiln::detail {

namespace {
constexpr char kMagic[8] = {'K', 'I', 'L', 'N', 'T', 'C', 'C', '1'};
constexpr uint32_t kVersion = 1;
}  // namespace

std::optional<TimingCacheData::Entry> TimingCacheData::find(const std::string& key) const {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void TimingCacheData::insert(const std::string& key, Entry entry) {
  std::lock_guard lock(mutex_);
  entries_[key] = std::move(entry);
}

std::size_t TimingCacheData::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

void TimingCacheData::clear() {
  std::lock_guard lock(mutex_);
  entries_.clear();
}

void TimingCacheData::merge(const TimingCacheData& other) {
  if (&other == this) return;
  std::map<std::string, Entry, std::less<>> copy;
  {
    std::lock_guard lock(other.mutex_);
    copy = other.entries_;
  }
  std::lock_guard lock(mutex_);
  for (auto& [key, entry] : copy) entries_.try_emplace(key, std::move(entry));
}

std::vector<std::byte> TimingCacheData::serialize() const {
  plan::ByteWriter w;
  for (char c : kMagic) w.put<uint8_t>(static_cast<uint8_t>(c));
  w.put<uint32_t>(kVersion);
  {
    std::lock_guard lock(mutex_);
    w.put<uint32_t>(static_cast<uint32_t>(entries_.size()));
    for (const auto& [key, entry] : entries_) {
      w.putString(key);
      w.putString(entry.tactic);
      w.put<double>(entry.microseconds);
    }
  }
  w.put<uint64_t>(plan::checksum64(w.bytes()));
  return std::move(w.bytes());
}

void TimingCacheData::deserialize(std::span<const std::byte> bytes) {
  constexpr std::size_t kHeader = sizeof(kMagic) + sizeof(uint32_t);
  if (bytes.size() < kHeader + sizeof(uint32_t) + sizeof(uint64_t) ||
      std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    fail(ErrorCode::kINVALID_ARGUMENT, "not a kiln timing cache (", bytes.size(),
         " bytes without the KILNTCC1 header)");
  }
  const auto body = bytes.first(bytes.size() - sizeof(uint64_t));
  uint64_t stored = 0;
  std::memcpy(&stored, bytes.data() + body.size(), sizeof(stored));
  if (stored != plan::checksum64(body)) {
    fail(ErrorCode::kINVALID_ARGUMENT, "the timing cache is corrupt (checksum mismatch)");
  }
  std::map<std::string, Entry, std::less<>> entries;
  try {
    plan::ByteReader r(body.subspan(sizeof(kMagic)), "timing cache");
    const auto version = r.get<uint32_t>();
    if (version != kVersion) {
      fail(ErrorCode::kINVALID_ARGUMENT, "timing cache version ", version,
           " is not supported (this build reads version ", kVersion, ")");
    }
    const uint32_t count = r.getCount(2 * sizeof(uint32_t) + sizeof(double));
    for (uint32_t i = 0; i < count; ++i) {
      std::string key = r.getString();
      Entry entry;
      entry.tactic = r.getString();
      entry.microseconds = r.get<double>();
      entries[std::move(key)] = std::move(entry);
    }
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kINVALID_ARGUMENT) throw;
    fail(ErrorCode::kINVALID_ARGUMENT, "the timing cache is malformed: ", e.what());
  }
  std::lock_guard lock(mutex_);
  entries_ = std::move(entries);
}

std::string timingKey(const ir::Graph& graph, const ir::Node& node,
                      const BuilderConfigData& config) {
  std::string key = node.op;
  key += '|';
  key += ir::toString(node.attrs);
  auto describe = [&](ir::ValueId v) {
    if (v == ir::kNoValue) {
      key += " -";
      return;
    }
    const ir::Value& value = graph.value(v);
    key += ' ';
    key += toString(value.dtype);
    key += toString(value.dims);
    if (value.isConstant()) key += 'c';
  };
  key += "|in";
  for (ir::ValueId v : node.inputs) describe(v);
  key += "|out";
  for (ir::ValueId v : node.outputs) describe(v);
  key += "|isa";
  for (const auto& feature : hostCpu().features) {
    key += ' ';
    key += feature;
  }
  key += "|threads ";
  key += std::to_string(config.nbThreads > 0 ? config.nbThreads : physicalCoreCount());
  if (config.device == DeviceType::kCPU) {
    key += "|cpu";
  } else {
    // Timings hold for one GPU model: keyed by its name and compute capability.
    const backends::DeviceInfo gpu =
        backends::deviceRuntime(DeviceType::kGPU)->info(config.gpuDevice);
    key += "|gpu " + gpu.name + " sm" + std::to_string(gpu.computeCapability);
  }
  return key;
}

}  // namespace kiln::detail
