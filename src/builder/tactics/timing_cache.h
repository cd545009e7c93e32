// The timing cache behind kiln::TimingCache: the tactic each timed layer signature chose, so a
// rebuild (or another network with the same layers) skips timing them. Keys name the op, its
// attributes, input/output types and shapes (and which inputs are constant), the target ISA and
// the thread count; a cache moved to another CPU simply misses.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "builder/builder_config.h"
#include "ir/graph.h"

namespace kiln::detail {

struct TimingCacheData {
  struct Entry {
    std::string tactic;
    double microseconds = 0.0;
  };

  std::optional<Entry> find(const std::string& key) const;
  void insert(const std::string& key, Entry entry);
  std::size_t size() const;
  void clear();
  //! Adds the entries of @p other this cache lacks.
  void merge(const TimingCacheData& other);

  std::vector<std::byte> serialize() const;
  //! Replaces the contents with @p bytes (as serialize() wrote them); throws
  //! kINVALID_ARGUMENT saying what is wrong.
  void deserialize(std::span<const std::byte> bytes);

 private:
  mutable std::mutex mutex_;  // one cache may serve builds on several threads
  std::map<std::string, Entry, std::less<>> entries_;
};

//! The cache key of @p node in @p graph (shapes inferred) for a build with @p config.
std::string timingKey(const ir::Graph& graph, const ir::Node& node,
                      const BuilderConfigData& config);

}  // namespace kiln::detail
