// Offsets by liveness. A value lives from the node that writes it to the last node that reads
// it; values whose lives overlap need disjoint bytes. Finding the smallest arena is NP-hard
// (dynamic storage allocation), so greedy placements are tried in several orders, each with
// first-fit and best-fit, and the smallest arena wins (the heuristics of TFLite's and ORT's
// arena planners, which each win on some graphs). Pointwise nodes may write over an input that
// dies there: the pair is then one block, which is what lets a chain of them use two buffers.
// A reshape's output is its input's block too (TensorRT's copy elision): the node then moves
// nothing, and the block lives until the last reader of either.
#include "builder/memory_planner.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <numeric>
#include <optional>

#include "core/aligned_buffer.h"
#include "core/shape_util.h"
#include "ops/data_movement.h"
#include "ops/window_util.h"

namespace kiln::builder {

namespace {

// One arena allocation: a value, and the values that took its bytes in place after it.
struct Block {
  int64_t first = 0;  // node that writes the first value
  int64_t last = 0;   // last node that reads the last value
  uint64_t bytes = 0;
};

uint64_t alignUp(uint64_t n) {
  return (n + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
}

// Pairs of blocks alive together that the planner lists; a graph with more (thousands of values
// alive at once) is placed by scanning every block instead, in one order only, in less memory.
constexpr std::size_t kMaxConflictPairs = std::size_t{1} << 20;

using Conflicts = std::optional<std::vector<std::vector<std::size_t>>>;

// For every block, the blocks alive at the same time as it, found by a sweep over blocks sorted
// by first node; nullopt past kMaxConflictPairs.
Conflicts conflicts(const std::vector<Block>& blocks) {
  std::vector<std::size_t> byFirst(blocks.size());
  std::iota(byFirst.begin(), byFirst.end(), 0);
  std::stable_sort(byFirst.begin(), byFirst.end(),
                   [&](std::size_t a, std::size_t b) { return blocks[a].first < blocks[b].first; });
  std::vector<std::vector<std::size_t>> out(blocks.size());
  std::size_t pairs = 0;
  std::vector<std::size_t> active;
  for (std::size_t i : byFirst) {
    std::erase_if(active, [&](std::size_t a) { return blocks[a].last < blocks[i].first; });
    pairs += active.size();
    if (pairs > kMaxConflictPairs) return std::nullopt;
    for (std::size_t a : active) {
      out[a].push_back(i);
      out[i].push_back(a);
    }
    active.push_back(i);
  }
  return out;
}

// Calls @p f(j) for every block j alive at the same time as block @p i.
template <typename F>
void forEachConflict(const std::vector<Block>& blocks, const Conflicts& adj, std::size_t i, F&& f) {
  if (adj) {
    for (std::size_t j : (*adj)[i]) f(j);
    return;
  }
  for (std::size_t j = 0; j < blocks.size(); ++j) {
    if (j != i && blocks[j].first <= blocks[i].last && blocks[i].first <= blocks[j].last) f(j);
  }
}

enum class Fit { kFirst, kBest };

// Places blocks in @p order, each in a gap among the already placed blocks it conflicts with:
// the lowest gap that holds it (first fit) or the smallest (best fit), else above them all.
uint64_t place(const std::vector<Block>& blocks, const Conflicts& adj,
               const std::vector<std::size_t>& order, Fit fit, std::vector<uint64_t>& offsets) {
  constexpr uint64_t kUnplaced = std::numeric_limits<uint64_t>::max();
  offsets.assign(blocks.size(), kUnplaced);
  uint64_t arena = 0;
  std::vector<std::pair<uint64_t, uint64_t>> taken;  // [begin, end) of placed conflicting blocks
  for (std::size_t i : order) {
    const uint64_t size = blocks[i].bytes;
    taken.clear();
    forEachConflict(blocks, adj, i, [&](std::size_t j) {
      if (offsets[j] != kUnplaced) taken.emplace_back(offsets[j], offsets[j] + blocks[j].bytes);
    });
    std::sort(taken.begin(), taken.end());
    uint64_t chosen = kUnplaced;
    uint64_t chosenGap = kUnplaced;
    uint64_t cursor = 0;  // end of the occupied bytes below the next block
    for (const auto& [begin, end] : taken) {
      if (begin >= cursor && begin - cursor >= size) {
        const uint64_t gap = begin - cursor;
        if (fit == Fit::kFirst) {
          chosen = cursor;
          break;
        }
        if (gap < chosenGap) {
          chosen = cursor;
          chosenGap = gap;
        }
      }
      cursor = std::max(cursor, end);
    }
    if (chosen == kUnplaced) chosen = cursor;
    offsets[i] = chosen;
    arena = std::max(arena, chosen + size);
  }
  return arena;
}

// Orders to try; ties keep block order (stable sorts), so that plans are deterministic.
std::vector<std::vector<std::size_t>> orders(const std::vector<Block>& blocks,
                                             const Conflicts& adj) {
  std::vector<uint64_t> conflictBytes(blocks.size(), 0);
  for (std::size_t i = 0; adj && i < blocks.size(); ++i) {
    for (std::size_t j : (*adj)[i]) conflictBytes[i] += blocks[j].bytes;
  }
  using Less = std::function<bool(std::size_t, std::size_t)>;
  const std::vector<Less> keys = {
      // Largest first: big blocks fix the arena's size; small ones fill the gaps.
      [&](std::size_t a, std::size_t b) { return blocks[a].bytes > blocks[b].bytes; },
      // Execution order: a stack-like placement, good for chains.
      [&](std::size_t a, std::size_t b) {
        return blocks[a].first != blocks[b].first ? blocks[a].first < blocks[b].first
                                                  : blocks[a].bytes > blocks[b].bytes;
      },
      // Most contended first: blocks alive beside many bytes have the fewest places to go.
      [&](std::size_t a, std::size_t b) {
        return blocks[a].bytes + conflictBytes[a] > blocks[b].bytes + conflictBytes[b];
      },
      // Largest size x lifetime first: long-lived blocks split the arena for everyone else.
      [&](std::size_t a, std::size_t b) {
        const auto area = [&](std::size_t i) {
          const auto length = static_cast<uint64_t>(blocks[i].last - blocks[i].first + 1);
          return static_cast<long double>(blocks[i].bytes) * static_cast<long double>(length);
        };
        return area(a) > area(b);
      },
  };
  std::vector<std::vector<std::size_t>> out;
  for (const Less& key : keys) {
    if (!adj && !out.empty()) break;  // each order scans all blocks: one is enough
    std::vector<std::size_t> order(blocks.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), key);
    out.push_back(std::move(order));
  }
  return out;
}

// The most bytes alive during any one node; no placement can use fewer.
uint64_t lowerBound(const std::vector<Block>& blocks, std::size_t nbNodes) {
  std::vector<uint64_t> starting(nbNodes + 1, 0);
  std::vector<uint64_t> ending(nbNodes + 1, 0);
  for (const Block& b : blocks) {
    starting[static_cast<std::size_t>(b.first)] += b.bytes;
    ending[static_cast<std::size_t>(b.last) + 1] += b.bytes;
  }
  uint64_t alive = 0;
  uint64_t most = 0;
  for (std::size_t n = 0; n < nbNodes; ++n) {
    alive = alive - ending[n] + starting[n];
    most = std::max(most, alive);
  }
  return most;
}

}  // namespace

bool runsInPlace(const ir::Node& node, std::string_view tactic) {
  // Checked kernel by kernel: the reference kernels of these ops (a PointwiseChain writes its
  // output only in its last step) and their "cpu.vec" kernels compute output element i from
  // element i of a same-sized input, in one pass, threads splitting the elements.
  static constexpr std::string_view kOps[] = {"Activation", "ElementWise", "Unary",
                                              "PointwiseChain"};
  if (std::find(std::begin(kOps), std::end(kOps), node.op) == std::end(kOps)) return false;
  if (tactic == "cpu.reference") return true;
  return tactic == "cpu.vec" && (node.op == "Activation" || node.op == "ElementWise");
}

namespace {

// Whether @p perm, applied to dims where dimension k of the result is @p extent(k) and comes
// from source dimension perm[k], keeps every dimension of extent above 1 in its order: the
// bytes then do not move.
template <typename Extent>
bool movesOnlyUnitDims(const std::vector<int64_t>& perm, Extent&& extent) {
  int64_t previous = -1;
  for (std::size_t k = 0; k < perm.size(); ++k) {
    if (extent(k) == 1) continue;
    if (perm[k] < previous) return false;
    previous = perm[k];
  }
  return true;
}

}  // namespace

bool isReshapeAlias(const ir::Graph& graph, const ir::Node& node) {
  // A channels-last node's bytes are not in its dims' order: its reshapes move data.
  if (node.op != "Shuffle" || node.inputs.empty() || node.inputs[0] == ir::kNoValue ||
      node.outputs.size() != 1 || node.attrs.has(ops::kLayoutAttr)) {
    return false;
  }
  const ir::Value& in = graph.value(node.inputs[0]);
  const ir::Value& out = graph.value(node.outputs[0]);
  if (in.dtype != out.dtype || in.boundedExtents != 0 || out.boundedExtents != 0) return false;
  if (in.dims.nbDims < 0 || out.dims.nbDims < 0 || volume(in.dims) != volume(out.dims)) {
    return false;
  }
  for (int32_t k = 0; k < in.dims.nbDims; ++k) {
    if (in.dims[k] < 0) return false;
  }
  for (int32_t k = 0; k < out.dims.nbDims; ++k) {
    if (out.dims[k] < 0) return false;
  }
  if (node.attrs.has("first_perm")) {
    const auto perm = node.attrs.getInts("first_perm");
    if (perm.size() != static_cast<std::size_t>(in.dims.nbDims)) return false;
    // Dimension k of the transposed tensor is input dimension perm[k].
    if (!movesOnlyUnitDims(perm,
                           [&](std::size_t k) { return in.dims[static_cast<int32_t>(perm[k])]; })) {
      return false;
    }
  }
  if (node.attrs.has("second_perm")) {
    const auto perm = node.attrs.getInts("second_perm");
    if (perm.size() != static_cast<std::size_t>(out.dims.nbDims)) return false;
    // Output dimension k is dimension perm[k] of the reshaped tensor, of extent out[k].
    if (!movesOnlyUnitDims(perm,
                           [&](std::size_t k) { return out.dims[static_cast<int32_t>(k)]; })) {
      return false;
    }
  }
  return true;
}

std::vector<uint64_t> concatSlices(const ir::Graph& graph, const ir::Node& node) {
  if (node.op != "Concatenation" || node.outputs.size() != 1 || node.inputs.empty() ||
      node.attrs.has(ops::kLayoutAttr)) {
    return {};
  }
  const ir::Value& out = graph.value(node.outputs[0]);
  const int32_t rank = out.dims.nbDims;
  if (rank < 1 || out.boundedExtents != 0) return {};
  int64_t axis = node.attrs.getInt("axis", ops::concatenationDefaultAxis(rank));
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return {};
  for (int32_t k = 0; k < axis; ++k) {
    if (out.dims[k] != 1) return {};
  }
  std::vector<uint64_t> slices;
  uint64_t at = 0;
  for (ir::ValueId v : node.inputs) {
    if (v == ir::kNoValue) return {};
    const ir::Value& in = graph.value(v);
    if (in.dtype != out.dtype || in.boundedExtents != 0 || in.dims.nbDims != rank) return {};
    // Kernels rely on the planner's alignment for every tensor they get.
    if (at % kBufferAlignment != 0) return {};
    slices.push_back(at);
    at += checkedByteSize(in.dims, in.dtype, in.name);
  }
  if (at != checkedByteSize(out.dims, out.dtype, out.name)) return {};
  return slices;
}

std::vector<bool> elidedNodes(const ir::Graph& graph, const plan::MemoryPlan& memory) {
  std::vector<bool> elided(graph.nodes.size(), false);
  const auto offset = [&](ir::ValueId v) {
    return memory.valueOffsets[static_cast<std::size_t>(v)];
  };
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& node = graph.nodes[n];
    if (isReshapeAlias(graph, node)) {
      elided[n] = offset(node.inputs[0]) >= 0 && offset(node.inputs[0]) == offset(node.outputs[0]);
      continue;
    }
    const std::vector<uint64_t> slices = concatSlices(graph, node);
    const int64_t base = slices.empty() ? -1 : offset(node.outputs[0]);
    if (base < 0) continue;
    bool inside = true;
    for (std::size_t i = 0; inside && i < slices.size(); ++i) {
      const int64_t at = offset(node.inputs[i]);
      inside = at >= 0 && static_cast<uint64_t>(at) == static_cast<uint64_t>(base) + slices[i];
    }
    elided[n] = inside;
  }
  return elided;
}

namespace {

// Every arena value's block: its own, or, in place, the block of the input it overwrites, or,
// for a reshape, its input's, or, for the input of a concatenation placed in its output (and
// that output), the block of the outermost such output.
struct Blocks {
  std::vector<Block> blocks;
  std::vector<int64_t> blockOf;  // per value; -1 outside the arena
  std::vector<uint64_t> within;  // per value: where in its block it begins
  bool shared = false;           // some value took another's bytes in place
  bool placedConcats = false;    // some concatenation's inputs lie in its output
};

// A value placed at @p offset of concatenation output @p value's bytes.
struct Slice {
  ir::ValueId value = ir::kNoValue;
  uint64_t offset = 0;
};

// Per value, the concatenation output it is written into, where the concatenation is its only
// reader and every input of that concatenation can be so (see concatSlices).
std::vector<Slice> concatPlacements(const ir::Graph& graph, const std::vector<bool>& inArena) {
  std::vector<int32_t> reads(graph.values.size(), 0);
  for (const ir::Node& node : graph.nodes) {
    for (ir::ValueId v : node.inputs) {
      if (v != ir::kNoValue) ++reads[static_cast<std::size_t>(v)];
    }
  }
  std::vector<Slice> slices(graph.values.size());
  for (const ir::Node& node : graph.nodes) {
    if (node.outputs.size() != 1 || !inArena[static_cast<std::size_t>(node.outputs[0])]) continue;
    const std::vector<uint64_t> at = concatSlices(graph, node);
    if (at.empty()) continue;
    // Each input read only here (so also distinct), written by a layer into the arena.
    const bool placeable = std::all_of(node.inputs.begin(), node.inputs.end(), [&](ir::ValueId v) {
      const auto vi = static_cast<std::size_t>(v);
      return inArena[vi] && reads[vi] == 1;
    });
    if (!placeable) continue;
    for (std::size_t i = 0; i < at.size(); ++i) {
      slices[static_cast<std::size_t>(node.inputs[i])] = {node.outputs[0], at[i]};
    }
  }
  return slices;
}

Blocks blocksOf(const ir::Graph& graph, std::span<const std::string> tactics, bool concats) {
  const std::size_t nbValues = graph.values.size();
  std::vector<bool> inArena(nbValues, false);
  std::vector<int64_t> lastRead(nbValues, -1);
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    for (ir::ValueId v : graph.nodes[n].outputs) {
      const ir::Value& value = graph.value(v);
      inArena[static_cast<std::size_t>(v)] =
          !value.isConstant() && !graph.isGraphOutput(v) && !graph.isGraphInput(v);
      lastRead[static_cast<std::size_t>(v)] = static_cast<int64_t>(n);
    }
    for (ir::ValueId v : graph.nodes[n].inputs) {
      if (v != ir::kNoValue) lastRead[static_cast<std::size_t>(v)] = static_cast<int64_t>(n);
    }
  }
  // Concatenation inputs go into their output's bytes, which may themselves go into a further
  // concatenation's: every value of such a tree lies in the block of its root (the outermost
  // output), made when the first of them is written (execution order).
  const std::vector<Slice> slice =
      concats ? concatPlacements(graph, inArena) : std::vector<Slice>(nbValues);
  std::vector<int64_t> rootBlock(nbValues, -1);
  const auto placeInRoot = [&](ir::ValueId v) -> std::pair<ir::ValueId, uint64_t> {
    uint64_t offset = 0;
    for (const Slice* s = &slice[static_cast<std::size_t>(v)]; s->value != ir::kNoValue;
         s = &slice[static_cast<std::size_t>(v)]) {
      offset += s->offset;
      v = s->value;
    }
    return {v, offset};
  };
  const auto inTree = [&](ir::ValueId v) {
    const auto vi = static_cast<std::size_t>(v);
    if (slice[vi].value != ir::kNoValue) return true;
    // A root: the output of a concatenation whose inputs lie in it.
    const ir::Value& value = graph.value(v);
    if (value.producer == ir::kNoNode) return false;
    const ir::Node& producer = graph.nodes[static_cast<std::size_t>(value.producer)];
    return producer.op == "Concatenation" && !producer.inputs.empty() &&
           producer.inputs[0] != ir::kNoValue &&
           slice[static_cast<std::size_t>(producer.inputs[0])].value == v;
  };

  Blocks out;
  out.blockOf.assign(nbValues, -1);
  out.within.assign(nbValues, 0);
  // The block of an input of @p node (at index @p at) that its @p output may overwrite: one that
  // dies there (with every other value on its bytes: reshapes of it, or what it reshapes), of
  // the same type and size; -1 when there is none.
  const auto inPlaceBlock = [&](const ir::Node& node, int64_t at, const ir::Value& output,
                                uint64_t bytes) -> int64_t {
    for (ir::ValueId u : node.inputs) {
      if (u == ir::kNoValue) continue;
      const auto ui = static_cast<std::size_t>(u);
      const ir::Value& input = graph.value(u);
      // Equal volumes of one type: broadcasting then maps output element i to input element i
      // (every extent the same, or a leading 1).
      if (out.blockOf[ui] >= 0 && out.within[ui] == 0 &&
          out.blocks[static_cast<std::size_t>(out.blockOf[ui])].last == at &&
          input.dtype == output.dtype && volume(input.dims) == volume(output.dims) &&
          checkedByteSize(input.dims, input.dtype, input.name) == bytes) {
        return out.blockOf[ui];
      }
    }
    return -1;
  };
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& node = graph.nodes[n];
    const auto at = static_cast<int64_t>(n);
    const bool inPlace =
        n < tactics.size() && node.outputs.size() == 1 && runsInPlace(node, tactics[n]);
    if (isReshapeAlias(graph, node) && !inTree(node.outputs[0])) {
      const auto vi = static_cast<std::size_t>(node.outputs[0]);
      const auto ui = static_cast<std::size_t>(node.inputs[0]);
      const int64_t block = out.blockOf[ui];
      if (inArena[vi] && block >= 0) {
        Block& b = out.blocks[static_cast<std::size_t>(block)];
        b.last = std::max(b.last, lastRead[vi]);
        out.blockOf[vi] = block;
        out.within[vi] = out.within[ui];
        continue;
      }
    }
    for (ir::ValueId v : node.outputs) {
      const auto vi = static_cast<std::size_t>(v);
      if (!inArena[vi]) continue;
      const ir::Value& value = graph.value(v);
      const uint64_t bytes = checkedByteSize(value.dims, value.dtype, value.name);
      if (inTree(v)) {
        const auto [root, offset] = placeInRoot(v);
        auto& block = rootBlock[static_cast<std::size_t>(root)];
        if (block < 0) {
          const ir::Value& r = graph.value(root);
          block = static_cast<int64_t>(out.blocks.size());
          out.blocks.push_back({at, at, alignUp(checkedByteSize(r.dims, r.dtype, r.name))});
        }
        Block& b = out.blocks[static_cast<std::size_t>(block)];
        b.last = std::max(b.last, lastRead[vi]);
        out.blockOf[vi] = block;
        out.within[vi] = offset;
        out.placedConcats = true;
        continue;
      }
      const int64_t block = inPlace ? inPlaceBlock(node, at, value, bytes) : -1;
      if (block >= 0) {
        out.blocks[static_cast<std::size_t>(block)].last = lastRead[vi];
        out.blockOf[vi] = block;
        out.shared = true;
      } else {
        out.blockOf[vi] = static_cast<int64_t>(out.blocks.size());
        out.blocks.push_back({at, lastRead[vi], alignUp(bytes)});
      }
    }
  }
  return out;
}

// The smallest arena the placements find for @p blocks, and every block's offset in it.
uint64_t arrange(const std::vector<Block>& blocks, uint64_t lowerBoundBytes,
                 std::vector<uint64_t>& best) {
  const auto adj = conflicts(blocks);
  std::vector<uint64_t> offsets;
  uint64_t bestArena = std::numeric_limits<uint64_t>::max();
  best.clear();
  for (const auto& order : orders(blocks, adj)) {
    for (const Fit fit : {Fit::kFirst, Fit::kBest}) {
      if (!adj && fit == Fit::kBest) break;
      const uint64_t arena = place(blocks, adj, order, fit, offsets);
      if (arena < bestArena) {
        bestArena = arena;
        best.swap(offsets);
      }
      if (bestArena == lowerBoundBytes) return bestArena;
    }
  }
  return bestArena;
}

}  // namespace

namespace {

// The plan of @p graph with in-place sharing as @p tactics allow, and concatenation inputs in
// their output where @p concats; sets @p placedConcats when some were.
plan::MemoryPlan planWith(const ir::Graph& graph, std::span<const std::string> tactics,
                          bool concats, bool& placedConcats) {
  plan::MemoryPlan plan;
  plan.valueOffsets.assign(graph.values.size(), -1);
  Blocks chosen = blocksOf(graph, tactics, concats);
  placedConcats = chosen.placedConcats;
  std::vector<uint64_t> offsets;
  // Sharing bytes never raises the lower bound, but the greedy placements are not monotone:
  // keep the plan without sharing when it happens to come out smaller, so that passing tactics
  // never costs memory.
  plan.lowerBoundBytes = lowerBound(chosen.blocks, graph.nodes.size());
  plan.arenaBytes = arrange(chosen.blocks, plan.lowerBoundBytes, offsets);
  if (chosen.shared) {
    Blocks separate = blocksOf(graph, {}, concats);
    std::vector<uint64_t> separateOffsets;
    const uint64_t arena = arrange(separate.blocks, plan.lowerBoundBytes, separateOffsets);
    if (arena < plan.arenaBytes) {
      plan.arenaBytes = arena;
      chosen = std::move(separate);
      offsets.swap(separateOffsets);
    }
  }
  if (chosen.blocks.empty()) plan.arenaBytes = 0;
  for (std::size_t v = 0; v < graph.values.size(); ++v) {
    const int64_t block = chosen.blockOf[v];
    if (block >= 0) {
      plan.valueOffsets[v] =
          static_cast<int64_t>(offsets[static_cast<std::size_t>(block)] + chosen.within[v]);
    }
  }
  return plan;
}

}  // namespace

plan::MemoryPlan planMemory(const ir::Graph& graph, std::span<const std::string> tactics) {
  bool placedConcats = false;
  plan::MemoryPlan plan = planWith(graph, tactics, /*concats=*/true, placedConcats);
  if (placedConcats) {
    // A concatenation's output lives from its first input written, which may cost memory where
    // its inputs are far apart (all of them reserved meanwhile): copying is kept where that
    // plan comes out smaller. Reshapes never cost memory (their bytes are their input's).
    bool unused = false;
    plan::MemoryPlan copying = planWith(graph, tactics, /*concats=*/false, unused);
    if (copying.arenaBytes < plan.arenaBytes) plan = std::move(copying);
  }
  return plan;
}

}  // namespace kiln::builder
