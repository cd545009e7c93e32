// Greedy best-fit by size: values are placed largest first at the lowest offset where no
// value alive at the same time overlaps (the heuristic of TFLite's and ORT's arena planners).
#include "builder/memory_planner.h"

#include <algorithm>
#include <numeric>

#include "core/aligned_buffer.h"
#include "core/shape_util.h"

namespace kiln::builder {

namespace {
struct Interval {
  std::size_t value;
  int64_t first;  // node index that writes it
  int64_t last;   // last node index that reads it
  uint64_t bytes;
  uint64_t offset = 0;
};

uint64_t alignUp(uint64_t n) {
  return (n + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
}
}  // namespace

plan::MemoryPlan planMemory(const ir::Graph& graph) {
  plan::MemoryPlan plan;
  plan.valueOffsets.assign(graph.values.size(), -1);

  std::vector<Interval> intervals;
  std::vector<int64_t> slot(graph.values.size(), -1);
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    for (ir::ValueId v : graph.nodes[n].outputs) {
      const ir::Value& value = graph.value(v);
      if (value.isConstant() || graph.isGraphOutput(v) || graph.isGraphInput(v)) continue;
      const uint64_t bytes = checkedByteSize(value.dims, value.dtype, value.name);
      slot[static_cast<std::size_t>(v)] = static_cast<int64_t>(intervals.size());
      intervals.push_back({static_cast<std::size_t>(v), static_cast<int64_t>(n),
                           static_cast<int64_t>(n), alignUp(bytes)});
    }
    for (ir::ValueId v : graph.nodes[n].inputs) {
      if (v == ir::kNoValue) continue;
      const int64_t s = slot[static_cast<std::size_t>(v)];
      if (s >= 0) intervals[static_cast<std::size_t>(s)].last = static_cast<int64_t>(n);
    }
  }

  // Lower bound: the largest total of bytes alive during any one node.
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    uint64_t alive = 0;
    for (const auto& it : intervals) {
      if (it.first <= static_cast<int64_t>(n) && static_cast<int64_t>(n) <= it.last) {
        alive += it.bytes;
      }
    }
    plan.lowerBoundBytes = std::max(plan.lowerBoundBytes, alive);
  }

  std::vector<std::size_t> order(intervals.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return intervals[a].bytes > intervals[b].bytes;
  });
  std::vector<std::size_t> placed;
  for (std::size_t i : order) {
    Interval& cur = intervals[i];
    // Conflicting placements sorted by offset; take the first gap that fits.
    std::vector<const Interval*> conflicts;
    for (std::size_t j : placed) {
      const Interval& other = intervals[j];
      if (other.first <= cur.last && cur.first <= other.last) conflicts.push_back(&other);
    }
    std::sort(conflicts.begin(), conflicts.end(),
              [](const Interval* a, const Interval* b) { return a->offset < b->offset; });
    uint64_t offset = 0;
    for (const Interval* other : conflicts) {
      if (offset + cur.bytes <= other->offset) break;
      offset = std::max(offset, other->offset + other->bytes);
    }
    cur.offset = offset;
    plan.arenaBytes = std::max(plan.arenaBytes, offset + cur.bytes);
    plan.valueOffsets[cur.value] = static_cast<int64_t>(offset);
    placed.push_back(i);
  }
  return plan;
}

}  // namespace kiln::builder
