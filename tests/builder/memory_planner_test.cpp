// The memory planner on synthetic graphs: live values never share bytes (except a pointwise
// output over an input that dies there, and a reshape's output over its input), the lower bound
// is the most aligned bytes alive at once, and trying several placement orders finds arenas that
// largest-first alone misses. End to end, reshapes on their input's bytes are not run.
#include "builder/memory_planner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/shape_util.h"
#include "support/test_util.h"

namespace kiln::test {
namespace {

using builder::planMemory;

// A graph built node by node; ops are names only (the planner never runs them).
struct GraphBuilder {
  ir::Graph graph;
  std::vector<std::string> tactics;

  ir::ValueId input(int64_t floats) {
    const ir::ValueId v =
        graph.addValue("in" + std::to_string(graph.inputs.size()), DataType::kFLOAT, Dims{floats});
    graph.inputs.push_back(v);
    return v;
  }
  //! A node of @p op run by @p tactic, with one float output per entry of @p floats.
  std::vector<ir::ValueId> node(const std::string& op, const std::string& tactic,
                                std::vector<ir::ValueId> inputs, std::vector<Dims> outputs) {
    const ir::NodeId n = graph.addNode("n" + std::to_string(graph.nodes.size()), op,
                                       std::move(inputs), static_cast<int32_t>(outputs.size()));
    tactics.push_back(tactic);
    std::vector<ir::ValueId> out = graph.nodes[static_cast<std::size_t>(n)].outputs;
    for (std::size_t i = 0; i < out.size(); ++i) graph.value(out[i]).dims = outputs[i];
    return out;
  }
  ir::ValueId node1(const std::string& op, const std::string& tactic,
                    std::vector<ir::ValueId> inputs, int64_t floats) {
    return node(op, tactic, std::move(inputs), {Dims{floats}})[0];
  }
  void output(ir::ValueId v) { graph.outputs.push_back(v); }
};

struct Life {
  int64_t first = -1;
  int64_t last = -1;
};

// Lifetimes as the runtime sees them: from the writing node to the last reading node.
std::vector<Life> lifetimes(const ir::Graph& graph) {
  std::vector<Life> life(graph.values.size());
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    for (ir::ValueId v : graph.nodes[n].outputs) {
      life[static_cast<std::size_t>(v)] = {static_cast<int64_t>(n), static_cast<int64_t>(n)};
    }
    for (ir::ValueId v : graph.nodes[n].inputs) {
      life[static_cast<std::size_t>(v)].last = static_cast<int64_t>(n);
    }
  }
  return life;
}

uint64_t bytesOf(const ir::Value& value) {
  return checkedByteSize(value.dims, value.dtype, value.name);
}

uint64_t aligned(uint64_t bytes) {
  return (bytes + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
}

// The value whose bytes @p v views or lies in: itself; through reshapes the planner puts on
// their input's bytes, the first value of the chain; through concatenations whose inputs it
// places in their output, the outermost output.
ir::ValueId aliasRoot(const ir::Graph& graph, const plan::MemoryPlan& plan, ir::ValueId v) {
  const std::vector<bool> elided = builder::elidedNodes(graph, plan);
  for (;;) {
    const ir::Value& value = graph.value(v);
    // Into the concatenation that reads v, where it lies in the output.
    bool moved = false;
    for (std::size_t n = 0; n < graph.nodes.size() && !moved; ++n) {
      const ir::Node& node = graph.nodes[n];
      if (elided[n] && node.op == "Concatenation" &&
          std::find(node.inputs.begin(), node.inputs.end(), v) != node.inputs.end()) {
        v = node.outputs[0];
        moved = true;
      }
    }
    if (moved) continue;
    if (value.producer == ir::kNoNode) return v;
    const auto p = static_cast<std::size_t>(value.producer);
    const ir::Node& node = graph.nodes[p];
    if (!elided[p] || node.op != "Shuffle") return v;
    v = node.inputs[0];
  }
}

// Every concatenation the plan skips reads each input once, and reads it only there; every input
// lies in its slice of the output (elidedNodes checks that).
void checkElidedConcats(const ir::Graph& graph, const plan::MemoryPlan& plan) {
  const std::vector<bool> elided = builder::elidedNodes(graph, plan);
  std::vector<int> reads(graph.values.size(), 0);
  for (const ir::Node& node : graph.nodes) {
    for (ir::ValueId v : node.inputs) ++reads[static_cast<std::size_t>(v)];
  }
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    if (!elided[n] || graph.nodes[n].op != "Concatenation") continue;
    for (ir::ValueId v : graph.nodes[n].inputs) {
      EXPECT_EQ(reads[static_cast<std::size_t>(v)], 1)
          << graph.values[static_cast<std::size_t>(v)].name;
    }
  }
}

// Whether @p out may sit on @p in's bytes: @p out is written by a node that may run in place and
// reads @p in for the last time, both of one size, and no reshape of @p in's bytes (or value
// they reshape) is read later.
bool legalInPlace(const GraphBuilder& g, const plan::MemoryPlan& plan,
                  const std::vector<Life>& life, ir::ValueId in, ir::ValueId out) {
  const auto& vin = g.graph.value(in);
  const auto& vout = g.graph.value(out);
  const auto n = static_cast<std::size_t>(life[static_cast<std::size_t>(out)].first);
  const ir::Node& node = g.graph.nodes[n];
  const ir::ValueId root = aliasRoot(g.graph, plan, in);
  for (std::size_t v = 0; v < g.graph.values.size(); ++v) {
    if (plan.valueOffsets[v] >= 0 &&
        aliasRoot(g.graph, plan, static_cast<ir::ValueId>(v)) == root &&
        life[v].last > static_cast<int64_t>(n)) {
      return false;
    }
  }
  return std::find(node.inputs.begin(), node.inputs.end(), in) != node.inputs.end() &&
         builder::runsInPlace(node, g.tactics[n]) && bytesOf(vin) == bytesOf(vout) &&
         vin.dtype == vout.dtype;
}

// Every arena value inside the arena and aligned; values alive together on disjoint bytes unless
// one overwrites the other in place or both view one value's bytes through reshapes. Returns
// how many pairs share bytes in place.
int checkPlan(const GraphBuilder& g, const plan::MemoryPlan& plan) {
  const ir::Graph& graph = g.graph;
  checkElidedConcats(graph, plan);
  const auto life = lifetimes(graph);
  std::vector<ir::ValueId> arena;
  for (std::size_t v = 0; v < graph.values.size(); ++v) {
    const auto id = static_cast<ir::ValueId>(v);
    const int64_t offset = plan.valueOffsets[v];
    const bool expected = graph.values[v].producer != ir::kNoNode && !graph.isGraphOutput(id);
    EXPECT_EQ(offset >= 0, expected) << graph.values[v].name;
    if (offset < 0) continue;
    EXPECT_EQ(offset % static_cast<int64_t>(kBufferAlignment), 0) << graph.values[v].name;
    EXPECT_LE(static_cast<uint64_t>(offset) + bytesOf(graph.values[v]), plan.arenaBytes);
    arena.push_back(id);
  }
  int shared = 0;
  for (std::size_t i = 0; i < arena.size(); ++i) {
    for (std::size_t j = i + 1; j < arena.size(); ++j) {
      const auto a = static_cast<std::size_t>(arena[i]);
      const auto b = static_cast<std::size_t>(arena[j]);
      if (life[a].last < life[b].first || life[b].last < life[a].first) continue;
      const auto oa = static_cast<uint64_t>(plan.valueOffsets[a]);
      const auto ob = static_cast<uint64_t>(plan.valueOffsets[b]);
      const uint64_t ea = oa + bytesOf(graph.values[a]);
      const uint64_t eb = ob + bytesOf(graph.values[b]);
      if (ea <= ob || eb <= oa || bytesOf(graph.values[a]) == 0 || bytesOf(graph.values[b]) == 0) {
        continue;
      }
      const bool aliases = aliasRoot(graph, plan, arena[i]) == aliasRoot(graph, plan, arena[j]);
      // Reshapes and their input on the same bytes, concatenation inputs at their slices of the
      // output (elidedNodes checks where), or a pointwise output over an input.
      const bool inPlace =
          aliases || (oa == ob && (legalInPlace(g, plan, life, arena[i], arena[j]) ||
                                   legalInPlace(g, plan, life, arena[j], arena[i])));
      EXPECT_TRUE(inPlace) << graph.values[a].name << " [" << oa << "," << ea << ") and "
                           << graph.values[b].name << " [" << ob << "," << eb
                           << ") are alive together on the same bytes";
      shared += inPlace && !aliases ? 1 : 0;
    }
  }
  return shared;
}

// The most aligned bytes alive during one node, values counted separately but for values that
// lie in one value's bytes (reshapes on their input's, concatenation inputs in the output): those
// count as that value, alive from the first of them written to the last read.
uint64_t bruteForceLowerBound(const ir::Graph& graph, const plan::MemoryPlan& plan) {
  const auto life = lifetimes(graph);
  std::map<ir::ValueId, Life> groups;
  for (std::size_t v = 0; v < graph.values.size(); ++v) {
    if (plan.valueOffsets[v] < 0) continue;
    const ir::ValueId root = aliasRoot(graph, plan, static_cast<ir::ValueId>(v));
    const auto [it, added] = groups.emplace(root, life[v]);
    it->second.first = std::min(it->second.first, life[v].first);
    it->second.last = std::max(it->second.last, life[v].last);
  }
  uint64_t most = 0;
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    const auto at = static_cast<int64_t>(n);
    uint64_t alive = 0;
    for (const auto& [root, group] : groups) {
      if (group.first <= at && at <= group.last) alive += aligned(bytesOf(graph.value(root)));
    }
    most = std::max(most, alive);
  }
  return most;
}

// A random DAG: each node reads one to three earlier values and writes one or two; pointwise
// nodes ("Activation", "ElementWise" by cpu.vec) keep their first input's size so that they may
// run in place.
GraphBuilder randomGraph(std::mt19937& rng) {
  GraphBuilder g;
  std::vector<ir::ValueId> values = {g.input(1 + static_cast<int64_t>(rng() % 300))};
  const int nodes = 2 + static_cast<int>(rng() % 24);
  for (int n = 0; n < nodes; ++n) {
    std::vector<ir::ValueId> in;
    const int nbIn = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < nbIn; ++i) {
      // Mostly recent values, so that lifetimes are of mixed lengths.
      const std::size_t back = std::min<std::size_t>(values.size(), 1 + rng() % 4);
      in.push_back(values[values.size() - 1 - rng() % back]);
    }
    const unsigned kind = rng() % 6;
    if (kind == 5) {
      // Layers whose outputs a concatenation joins (slices of whole 64-byte lines), one sometimes
      // read again later.
      std::vector<ir::ValueId> parts;
      int64_t total = 0;
      for (int p = 0, nbParts = 1 + static_cast<int>(rng() % 3); p < nbParts; ++p) {
        const int64_t floats = 16 * static_cast<int64_t>(rng() % 20);
        parts.push_back(g.node1("Convolution", "x", {in[rng() % in.size()]}, floats));
        total += floats;
      }
      if (rng() % 4 == 0) values.push_back(parts[rng() % parts.size()]);
      values.push_back(g.node1("Concatenation", "cpu.concat", parts, total));
    } else if (kind == 4) {
      // A reshape (2-d view of the 1-d value), its output on its input's bytes.
      const int64_t floats = volume(g.graph.value(in[0]).dims);
      values.push_back(g.node("Shuffle", "cpu.transpose", {in[0]}, {Dims{1, floats}})[0]);
    } else if (kind == 0) {
      const int64_t floats = volume(g.graph.value(in[0]).dims);
      values.push_back(g.node1("Activation", "cpu.vec", {in[0]}, floats));
    } else if (kind == 1) {
      const int64_t floats = volume(g.graph.value(in[0]).dims);
      values.push_back(g.node1("ElementWise", "cpu.vec", in, floats));
    } else {
      std::vector<Dims> outs = {Dims{static_cast<int64_t>(rng() % 400)}};
      if (rng() % 4 == 0) outs.push_back(Dims{1 + static_cast<int64_t>(rng() % 100)});
      for (ir::ValueId v : g.node("Convolution", "cpu.conv.gemm.avx2", in, outs)) {
        values.push_back(v);
      }
    }
  }
  g.output(values.back());
  if (rng() % 2 == 0 && values.size() > 3) g.output(values[values.size() / 2]);
  return g;
}

TEST(MemoryPlanner, RandomGraphsKeepLiveValuesApart) {
  std::mt19937 rng(7);
  int shared = 0;
  int concats[2] = {0, 0};   // elided, run
  int reshapes[2] = {0, 0};  // elided, run
  for (int trial = 0; trial < 300; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    const GraphBuilder g = randomGraph(rng);
    const plan::MemoryPlan separate = planMemory(g.graph);
    EXPECT_EQ(checkPlan(g, separate), 0);
    EXPECT_EQ(separate.lowerBoundBytes, bruteForceLowerBound(g.graph, separate));
    EXPECT_GE(separate.arenaBytes, separate.lowerBoundBytes);

    const plan::MemoryPlan inPlace = planMemory(g.graph, g.tactics);
    shared += checkPlan(g, inPlace);
    const std::vector<bool> elided = builder::elidedNodes(g.graph, inPlace);
    for (std::size_t n = 0; n < g.graph.nodes.size(); ++n) {
      const std::string& op = g.graph.nodes[n].op;
      if (op == "Concatenation") ++concats[elided[n] ? 0 : 1];
      if (op == "Shuffle") ++reshapes[elided[n] ? 0 : 1];
    }
    EXPECT_GE(inPlace.arenaBytes, inPlace.lowerBoundBytes);
    EXPECT_LE(inPlace.lowerBoundBytes, separate.lowerBoundBytes);
    EXPECT_LE(inPlace.arenaBytes, separate.arenaBytes) << "sharing bytes must never cost memory";
    if (HasFailure()) break;
  }
  EXPECT_GT(shared, 50) << "the random graphs should give many chances to run in place";
  // Elided and not (a part read again, an engine output): both should come up.
  EXPECT_GT(concats[0], 50);
  EXPECT_GT(concats[1], 10);
  EXPECT_GT(reshapes[0], 50);
}

TEST(MemoryPlanner, LowerBoundCountsAlignedBytesAliveTogether) {
  GraphBuilder g;
  const ir::ValueId in = g.input(8);
  const ir::ValueId a = g.node1("Convolution", "x", {in}, 1);    // 4 bytes -> 64
  const ir::ValueId b = g.node1("Convolution", "x", {a}, 20);    // 80 bytes -> 128
  const ir::ValueId c = g.node1("Convolution", "x", {a, b}, 0);  // empty
  g.output(g.node1("Convolution", "x", {b, c}, 4));
  const plan::MemoryPlan plan = planMemory(g.graph);
  checkPlan(g, plan);
  EXPECT_EQ(plan.lowerBoundBytes, 64u + 128u);
  EXPECT_EQ(plan.arenaBytes, 64u + 128u);
}

TEST(MemoryPlanner, PointwiseChainRunsInOneBuffer) {
  GraphBuilder g;
  const ir::ValueId in = g.input(1000);
  const ir::ValueId conv = g.node1("Convolution", "cpu.conv.gemm.avx2", {in}, 1000);
  const ir::ValueId relu = g.node1("Activation", "cpu.vec", {conv}, 1000);
  const ir::ValueId add = g.node1("ElementWise", "cpu.vec", {relu, relu}, 1000);
  const ir::ValueId chain = g.node1("PointwiseChain", "cpu.reference", {add}, 1000);
  const ir::ValueId exp = g.node1("Unary", "cpu.reference", {chain}, 1000);
  g.output(g.node1("Convolution", "cpu.conv.gemm.avx2", {exp}, 10));

  const plan::MemoryPlan plan = planMemory(g.graph, g.tactics);
  EXPECT_EQ(checkPlan(g, plan), 4);
  for (ir::ValueId v : {relu, add, chain, exp}) {
    EXPECT_EQ(plan.valueOffsets[static_cast<std::size_t>(v)],
              plan.valueOffsets[static_cast<std::size_t>(conv)]);
  }
  EXPECT_EQ(plan.arenaBytes, aligned(4000));
  EXPECT_EQ(plan.lowerBoundBytes, aligned(4000));

  // Without tactics nothing runs in place: neighbours need two buffers.
  const plan::MemoryPlan separate = planMemory(g.graph);
  EXPECT_EQ(checkPlan(g, separate), 0);
  EXPECT_EQ(separate.arenaBytes, 2 * aligned(4000));
}

TEST(MemoryPlanner, InPlaceOnlyOverInputsThatDieOfTheSameSize) {
  GraphBuilder g;
  const ir::ValueId in = g.input(256);
  const ir::ValueId a = g.node1("Convolution", "cpu.conv.gemm.avx2", {in}, 256);
  // a is read again below: the activation must not overwrite it.
  const ir::ValueId keep = g.node1("Activation", "cpu.vec", {a}, 256);
  // A broadcast to a larger output cannot take its small input's bytes.
  const ir::ValueId small = g.node1("Convolution", "cpu.conv.gemm.avx2", {keep}, 16);
  const ir::ValueId wide = g.node1("ElementWise", "cpu.vec", {small, a}, 256);
  // Not pointwise kernels: a softmax, and a pointwise op under a tactic not known to be one.
  const ir::ValueId soft = g.node1("SoftMax", "cpu.vec", {wide}, 256);
  const ir::ValueId other = g.node1("Activation", "cpu.unknown", {soft}, 256);
  g.output(g.node1("Convolution", "cpu.conv.gemm.avx2", {other}, 4));

  const plan::MemoryPlan plan = planMemory(g.graph, g.tactics);
  checkPlan(g, plan);
  const auto offset = [&](ir::ValueId v) { return plan.valueOffsets[static_cast<std::size_t>(v)]; };
  EXPECT_NE(offset(keep), offset(a));
  // wide may take a's bytes (a dies there, same size) but not small's.
  EXPECT_EQ(offset(wide), offset(a));
  EXPECT_NE(offset(soft), offset(wide));
  EXPECT_NE(offset(other), offset(soft));
}

TEST(MemoryPlanner, RunsInPlaceOnlyForElementwiseKernels) {
  ir::Node node;
  for (const char* op : {"Activation", "ElementWise"}) {
    node.op = op;
    EXPECT_TRUE(builder::runsInPlace(node, "cpu.vec")) << op;
    EXPECT_TRUE(builder::runsInPlace(node, "cpu.reference")) << op;
    EXPECT_FALSE(builder::runsInPlace(node, "cpu.other")) << op;
  }
  for (const char* op : {"Unary", "PointwiseChain"}) {
    node.op = op;
    EXPECT_TRUE(builder::runsInPlace(node, "cpu.reference")) << op;
    EXPECT_FALSE(builder::runsInPlace(node, "cpu.vec")) << op;
  }
  for (const char* op : {"SoftMax", "Convolution", "Shuffle", "Identity", "Select"}) {
    node.op = op;
    EXPECT_FALSE(builder::runsInPlace(node, "cpu.reference")) << op;
  }
}

// A Shuffle node of @p perm1 / @p perm2 (empty: absent) from @p in to @p outDims.
ir::ValueId shuffle(GraphBuilder& g, ir::ValueId in, const Dims& outDims,
                    std::vector<int64_t> perm1 = {}, std::vector<int64_t> perm2 = {}) {
  const ir::ValueId out = g.node("Shuffle", "cpu.transpose", {in}, {outDims})[0];
  ir::Node& node = g.graph.nodes.back();
  if (!perm1.empty()) node.attrs.set("first_perm", std::move(perm1));
  if (!perm2.empty()) node.attrs.set("second_perm", std::move(perm2));
  return out;
}

TEST(MemoryPlanner, ReshapesAreAliasesTransposesAreNot) {
  GraphBuilder g;
  const ir::ValueId in = g.input(24);
  const ir::ValueId a = g.node("Convolution", "x", {in}, {Dims{2, 3, 1, 4}})[0];
  EXPECT_FALSE(builder::isReshapeAlias(g.graph, g.graph.nodes.back()));
  const auto last = [&] { return g.graph.nodes.back(); };
  shuffle(g, a, Dims{6, 4});  // reshape
  EXPECT_TRUE(builder::isReshapeAlias(g.graph, last()));
  shuffle(g, a, Dims{2, 3, 4, 1}, {0, 1, 3, 2});  // moves only the unit dimension
  EXPECT_TRUE(builder::isReshapeAlias(g.graph, last()));
  shuffle(g, a, Dims{3, 2, 1, 4}, {1, 0, 2, 3});  // a transpose
  EXPECT_FALSE(builder::isReshapeAlias(g.graph, last()));
  shuffle(g, a, Dims{4, 6}, {}, {1, 0});  // reshape to [6, 4], then a transpose
  EXPECT_FALSE(builder::isReshapeAlias(g.graph, last()));
  shuffle(g, a, Dims{1, 24}, {}, {1, 0});  // reshape to [24, 1], the unit dimension moved
  EXPECT_TRUE(builder::isReshapeAlias(g.graph, last()));
  const ir::ValueId half = g.node1("Convolution", "x", {in}, 24);
  g.graph.value(half).dtype = DataType::kHALF;
  shuffle(g, half, Dims{24});  // another type: no view of the same bytes
  EXPECT_FALSE(builder::isReshapeAlias(g.graph, last()));
  const ir::ValueId bounded = g.node1("Convolution", "x", {in}, 24);
  g.graph.value(bounded).boundedExtents = 1;  // data-dependent: its real extent varies
  shuffle(g, bounded, Dims{24});
  EXPECT_FALSE(builder::isReshapeAlias(g.graph, last()));
  g.graph.nodes.back().op = "Identity";
  EXPECT_FALSE(builder::isReshapeAlias(g.graph, last()));
}

// A reshape's output shares its input's bytes, and the pair lives until the last reader of
// either: later values do not take those bytes, and a pointwise layer does not write over the
// input while its reshape is still read (nor over the reshape while its input is).
TEST(MemoryPlanner, ReshapeSharesItsInputsBytesForBothLifetimes) {
  GraphBuilder g;
  const ir::ValueId in = g.input(256);
  const ir::ValueId a = g.node1("Convolution", "cpu.conv.gemm.avx2", {in}, 256);  // node 0
  const ir::ValueId r = shuffle(g, a, Dims{16, 16});                              // node 1
  // a dies here, but its bytes live on as r: no in place.
  const ir::ValueId relu = g.node1("Activation", "cpu.vec", {a}, 256);  // node 2
  const ir::ValueId b = g.node1("Convolution", "cpu.conv.gemm.avx2", {relu}, 256);
  const ir::ValueId c = g.node1("Convolution", "cpu.conv.gemm.avx2", {b, r}, 256);
  // r and a die here: the whole block does, so this may run in place.
  const ir::ValueId s = shuffle(g, c, Dims{256});
  const ir::ValueId add = g.node1("ElementWise", "cpu.vec", {c, s}, 256);
  g.output(g.node1("Convolution", "cpu.conv.gemm.avx2", {add}, 4));

  const plan::MemoryPlan plan = planMemory(g.graph, g.tactics);
  checkPlan(g, plan);
  const auto offset = [&](ir::ValueId v) { return plan.valueOffsets[static_cast<std::size_t>(v)]; };
  EXPECT_EQ(offset(r), offset(a));
  EXPECT_NE(offset(relu), offset(a));
  EXPECT_NE(offset(b), offset(a));
  EXPECT_EQ(offset(s), offset(c));
  EXPECT_EQ(offset(add), offset(c));
  // Never more than the values alive at once: a/r, relu, b, then c.
  EXPECT_EQ(plan.arenaBytes, plan.lowerBoundBytes);
  EXPECT_EQ(plan.lowerBoundBytes, 3 * aligned(1024));
}

// Engine inputs and outputs are not in the arena: a reshape of one (or into one) keeps its copy.
TEST(MemoryPlanner, ReshapesOfEngineInputsAndOutputsAreNoAliases) {
  GraphBuilder g;
  const ir::ValueId in = g.input(64);
  const ir::ValueId r = shuffle(g, in, Dims{8, 8});
  const ir::ValueId a = g.node1("Convolution", "x", {r}, 64);
  const ir::ValueId out = shuffle(g, a, Dims{8, 8});
  g.output(out);
  const plan::MemoryPlan plan = planMemory(g.graph, g.tactics);
  checkPlan(g, plan);
  EXPECT_GE(plan.valueOffsets[static_cast<std::size_t>(r)], 0);
  EXPECT_EQ(plan.valueOffsets[static_cast<std::size_t>(out)], -1);
}

// A Concatenation node along @p axis of @p inputs into @p outDims.
ir::ValueId concat(GraphBuilder& g, std::vector<ir::ValueId> inputs, const Dims& outDims,
                   int64_t axis) {
  const ir::ValueId out = g.node("Concatenation", "cpu.concat", std::move(inputs), {outDims})[0];
  g.graph.nodes.back().attrs.set("axis", axis);
  return out;
}

TEST(MemoryPlanner, ConcatSlicesOnlyWhereEachInputIsOneAlignedRange) {
  GraphBuilder g;
  const ir::ValueId in = g.input(4);
  const ir::ValueId a = g.node("Convolution", "x", {in}, {Dims{1, 16, 3, 3}})[0];
  const ir::ValueId b = g.node("Convolution", "x", {in}, {Dims{1, 32, 3, 3}})[0];
  const ir::ValueId c = g.node("Convolution", "x", {in}, {Dims{2, 16, 3, 3}})[0];
  const ir::ValueId d = g.node("Convolution", "x", {in}, {Dims{2, 32, 3, 3}})[0];
  const ir::ValueId e = g.node("Convolution", "x", {in}, {Dims{1, 3, 3, 3}})[0];
  const auto last = [&] { return g.graph.nodes.back(); };
  concat(g, {a, b}, Dims{1, 48, 3, 3}, 1);
  EXPECT_EQ(builder::concatSlices(g.graph, last()), (std::vector<uint64_t>{0, 16 * 9 * 4}));
  concat(g, {a, b}, Dims{1, 48, 3, 3}, -3);
  EXPECT_EQ(builder::concatSlices(g.graph, last()), (std::vector<uint64_t>{0, 16 * 9 * 4}));
  concat(g, {c, d}, Dims{2, 48, 3, 3}, 1);  // batch 2: each input is two ranges
  EXPECT_TRUE(builder::concatSlices(g.graph, last()).empty());
  concat(g, {a, c}, Dims{3, 16, 3, 3}, 0);  // the outermost axis
  EXPECT_EQ(builder::concatSlices(g.graph, last()), (std::vector<uint64_t>{0, 16 * 9 * 4}));
  concat(g, {e, a}, Dims{1, 19, 3, 3}, 1);  // a would start 108 bytes in: unaligned
  EXPECT_TRUE(builder::concatSlices(g.graph, last()).empty());
  concat(g, {a, e}, Dims{1, 19, 3, 3}, 1);  // only the end is unaligned
  EXPECT_EQ(builder::concatSlices(g.graph, last()), (std::vector<uint64_t>{0, 16 * 9 * 4}));
  concat(g, {a, b}, Dims{1, 16, 6, 3}, 2);  // along H: each input is 16 ranges
  EXPECT_TRUE(builder::concatSlices(g.graph, last()).empty());
}

// Producers write their outputs into the concatenation's: its inputs lie at their slices, the
// output's bytes live from the first of them written, and the concatenation is skipped. Not so
// where an input is read elsewhere too, is an engine input, or the output is an engine output.
TEST(MemoryPlanner, ConcatInputsLieInTheirSlicesOfTheOutput) {
  GraphBuilder g;
  const ir::ValueId in = g.input(256);
  const ir::ValueId x = g.node("Convolution", "x", {in}, {Dims{1, 64}})[0];
  const ir::ValueId a = g.node("Convolution", "x", {x}, {Dims{1, 32}})[0];
  // b's producer could run in place over x (which dies there), but b goes into the output.
  const ir::ValueId b = g.node("Activation", "cpu.vec", {x}, {Dims{1, 64}})[0];
  const ir::ValueId o = concat(g, {a, b}, Dims{1, 96}, 1);
  // o's bytes go into a further concatenation's.
  const ir::ValueId p = g.node("Convolution", "x", {in}, {Dims{1, 16}})[0];
  const ir::ValueId q = concat(g, {p, o}, Dims{1, 112}, 1);
  // Not elided: k is read again; the engine input in is not in the arena.
  const ir::ValueId k = g.node("Convolution", "x", {q}, {Dims{1, 16}})[0];
  const ir::ValueId r = concat(g, {k, q}, Dims{1, 128}, 1);
  const ir::ValueId s = concat(g, {r, k}, Dims{1, 144}, 1);
  const ir::ValueId t = concat(g, {s, in}, Dims{1, 400}, 1);
  g.output(g.node1("Convolution", "x", {t}, 4));
  // An engine output: not in the arena.
  const ir::ValueId u = g.node("Convolution", "x", {t}, {Dims{1, 16}})[0];
  const ir::ValueId w = g.node("Convolution", "x", {t}, {Dims{1, 16}})[0];
  g.output(concat(g, {u, w}, Dims{1, 32}, 1));

  const plan::MemoryPlan plan = planMemory(g.graph, g.tactics);
  checkPlan(g, plan);
  const auto offset = [&](ir::ValueId v) { return plan.valueOffsets[static_cast<std::size_t>(v)]; };
  EXPECT_EQ(offset(p), offset(q));
  EXPECT_EQ(offset(o), offset(q) + 64);
  EXPECT_EQ(offset(a), offset(o));
  EXPECT_EQ(offset(b), offset(o) + 128);
  EXPECT_NE(offset(b), offset(x));
  const std::vector<bool> elided = builder::elidedNodes(g.graph, plan);
  const auto elidedAt = [&](ir::ValueId v) {
    return static_cast<bool>(elided[static_cast<std::size_t>(g.graph.value(v).producer)]);
  };
  EXPECT_TRUE(elidedAt(o));
  EXPECT_TRUE(elidedAt(q));
  EXPECT_FALSE(elidedAt(r));
  EXPECT_FALSE(elidedAt(s));
  EXPECT_FALSE(elidedAt(t));
  EXPECT_FALSE(elided.back());
  EXPECT_EQ(plan.arenaBytes, plan.lowerBoundBytes);
}

// An input written long before the others: placing it in the output would keep the whole output
// alive beside the large values in between, so the concatenation keeps its copy.
TEST(MemoryPlanner, ConcatCopiesWherePlacingItsInputsCostsMemory) {
  GraphBuilder g;
  const ir::ValueId in = g.input(4);
  const ir::ValueId a = g.node("Convolution", "x", {in}, {Dims{1, 256}})[0];
  const ir::ValueId b1 = g.node("Convolution", "x", {in}, {Dims{1, 4096}})[0];
  const ir::ValueId b2 = g.node("Convolution", "x", {b1}, {Dims{1, 4096}})[0];
  const ir::ValueId b3 = g.node("Convolution", "x", {b2}, {Dims{1, 256}})[0];
  const ir::ValueId o = concat(g, {a, b3}, Dims{1, 512}, 1);
  g.output(g.node1("Convolution", "x", {o}, 4));
  const plan::MemoryPlan plan = planMemory(g.graph, g.tactics);
  checkPlan(g, plan);
  EXPECT_FALSE(builder::elidedNodes(g.graph, plan)[4]);
  EXPECT_EQ(plan.arenaBytes, 1024u + 2 * 16384u);
}

// Lifetimes where placing the largest blocks first leaves a gap too small for the last one
// (832 bytes); placing in execution order reaches the lower bound.
TEST(MemoryPlanner, SeveralOrdersReachTheLowerBound) {
  GraphBuilder g;
  const ir::ValueId in = g.input(4);
  const ir::ValueId a = g.node1("Convolution", "x", {in}, 80);                       // nodes 0-1
  const ir::ValueId c = g.node1("Convolution", "x", {a}, 80);                        // nodes 1-2
  const auto last = g.node("Convolution", "x", {c}, {Dims{4}, Dims{48}, Dims{64}});  // node 2
  g.output(last[0]);
  const plan::MemoryPlan plan = planMemory(g.graph);
  checkPlan(g, plan);
  EXPECT_EQ(plan.lowerBoundBytes, 320u + 192u + 256u);
  EXPECT_EQ(plan.arenaBytes, plan.lowerBoundBytes);
}

// Thousands of values alive at once: more pairs than the planner lists, so it scans instead.
TEST(MemoryPlanner, ManyValuesAliveTogether) {
  GraphBuilder g;
  const ir::ValueId in = g.input(4);
  std::vector<Dims> dims;
  for (int i = 0; i < 1600; ++i) dims.push_back(Dims{1 + i % 40});
  const std::vector<ir::ValueId> parts = g.node("Split", "x", {in}, dims);
  const ir::ValueId head = g.node1("Activation", "cpu.vec", {parts[0]}, 1);
  std::vector<ir::ValueId> all = parts;
  all.push_back(head);
  g.output(g.node1("Concatenation", "x", all, 4));
  const plan::MemoryPlan plan = planMemory(g.graph, g.tactics);
  checkPlan(g, plan);
  EXPECT_EQ(plan.arenaBytes, plan.lowerBoundBytes);
}

TEST(MemoryPlanner, EmptyAndAllExternalGraphs) {
  GraphBuilder g;
  const ir::ValueId in = g.input(4);
  g.output(g.node1("Activation", "cpu.vec", {in}, 4));
  const plan::MemoryPlan plan = planMemory(g.graph, g.tactics);
  EXPECT_EQ(plan.arenaBytes, 0u);
  EXPECT_EQ(plan.lowerBoundBytes, 0u);
  EXPECT_EQ(planMemory(ir::Graph{}).arenaBytes, 0u);
}

// End to end, passes off so that every pointwise layer stays a node of its own: whatever runs in
// place computes what the layers mean.
TEST(MemoryPlanner, PointwiseLayersComputeTheSameInPlace) {
  NetworkFixture f;
  const Dims dims{2, 3, 5};
  const Tensor x = f.net().addInput("x", DataType::kFLOAT, dims);
  const Tensor relu = f.net().addActivation(x, ActivationType::kRELU).output(0);
  const Tensor sig = f.net().addActivation(relu, ActivationType::kSIGMOID).output(0);
  const Tensor sum = f.net().addElementWise(sig, x, ElementWiseOperation::kSUM).output(0);
  const Tensor sq = f.net().addElementWise(sum, sum, ElementWiseOperation::kPROD).output(0);
  const Tensor neg = f.net().addUnary(sq, UnaryOperation::kNEG).output(0);
  const Tensor out = f.net().addActivation(neg, ActivationType::kTANH).output(0);
  f.net().markOutput(out);
  auto config = f.builder.createBuilderConfig();
  for (const auto& pass : BuilderConfig::optimizationPassNames()) {
    ASSERT_TRUE(config->setPassEnabled(pass, false));
  }
  const auto plan = f.builder.buildSerializedNetwork(f.net(), *config);
  ASSERT_FALSE(plan.empty()) << f.logger.errors();
  Runtime runtime(f.logger);
  const auto engine = runtime.deserialize(plan);
  ASSERT_TRUE(engine) << f.logger.errors();
  EXPECT_EQ(engine->nbLayers(), 6);
  auto context = engine->createExecutionContext();
  std::vector<float> in = randomFloats(volume(dims), 3, -2.f, 2.f);
  std::vector<float> y(in.size());
  void* bindings[] = {in.data(), y.data()};
  ASSERT_TRUE(context->executeV2(bindings)) << f.logger.errors();
  std::vector<float> expected;
  for (const float v : in) {
    const double s = 1.0 / (1.0 + std::exp(-std::max(0.0, static_cast<double>(v)))) + v;
    expected.push_back(static_cast<float>(std::tanh(-(s * s))));
  }
  expectClose(y, expected, 1e-5, 1e-4);
}

// Collects the reported time of every layer of one run.
class LayerTimes final : public Profiler {
 public:
  void reportLayerTime(std::string_view layerName, float ms) noexcept override {
    times[std::string(layerName)] = ms;
  }
  std::map<std::string, float> times;
};

// y = reshape(relu(x) reshaped + tanh(relu(x)) reshaped): the two inner reshapes view their
// inputs' bytes and do not run (relu's bytes must then outlive the tanh that reads relu last),
// the last writes the engine's output and copies. With @p dynamic, the batch is -1.
std::unique_ptr<Engine> reshapeEngine(NetworkFixture& f, Runtime& runtime, bool dynamic) {
  const Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{dynamic ? -1 : 2, 4, 6});
  auto relu = f.net().addActivation(x, ActivationType::kRELU);
  relu.setName("relu");
  const auto reshape = [&](Tensor t, const Dims& dims, const char* name) {
    auto layer = f.net().addShuffle(t);
    layer.setReshapeDimensions(dims);
    layer.setName(name);
    return layer.output(0);
  };
  const Tensor r = reshape(relu.output(0), Dims{0, -1}, "r");
  auto tanh = f.net().addActivation(relu.output(0), ActivationType::kTANH);
  const Tensor t = reshape(tanh.output(0), Dims{0, 24}, "t");
  const Tensor sum = f.net().addElementWise(r, t, ElementWiseOperation::kSUM).output(0);
  Tensor y = reshape(sum, Dims{0, 4, 6}, "y");
  y.setName("y");
  f.net().markOutput(y);
  auto config = f.builder.createBuilderConfig();
  for (const auto& pass : BuilderConfig::optimizationPassNames()) {
    EXPECT_TRUE(config->setPassEnabled(pass, false));
  }
  if (dynamic) {
    OptimizationProfile* profile = f.builder.createOptimizationProfile();
    profile->setDimensions("x", OptProfileSelector::kMIN, Dims{1, 4, 6});
    profile->setDimensions("x", OptProfileSelector::kOPT, Dims{2, 4, 6});
    profile->setDimensions("x", OptProfileSelector::kMAX, Dims{5, 4, 6});
    EXPECT_EQ(config->addOptimizationProfile(profile), 0);
  }
  const auto plan = f.builder.buildSerializedNetwork(f.net(), *config);
  if (plan.empty()) return nullptr;
  return runtime.deserialize(plan);
}

void expectReshapesElided(ExecutionContext& context, int64_t batch) {
  SCOPED_TRACE("batch " + std::to_string(batch));
  const Dims dims{batch, 4, 6};
  const std::vector<float> in = randomFloats(volume(dims), 11, -2.f, 2.f);
  std::vector<float> y(in.size(), -100.f);
  LayerTimes profiler;
  context.setProfiler(&profiler);
  ASSERT_TRUE(context.setInputShape("x", dims));
  ASSERT_TRUE(context.setInputTensorAddress("x", in.data()));
  ASSERT_TRUE(context.setTensorAddress("y", y.data()));
  ASSERT_TRUE(context.enqueueV3());
  context.setProfiler(nullptr);
  std::vector<float> expected;
  for (const float v : in) {
    const float relu = std::max(v, 0.f);
    expected.push_back(relu + std::tanh(relu));
  }
  expectClose(y, expected, 1e-5, 1e-4);
  ASSERT_EQ(profiler.times.size(), 6u);
  EXPECT_EQ(profiler.times["r"], 0.f);
  EXPECT_EQ(profiler.times["t"], 0.f);
}

TEST(MemoryPlanner, ReshapesOnTheirInputsBytesDoNotRun) {
  NetworkFixture f;
  Runtime runtime(f.logger);
  const auto engine = reshapeEngine(f, runtime, /*dynamic=*/false);
  ASSERT_TRUE(engine) << f.logger.errors();
  EXPECT_EQ(engine->nbLayers(), 6);
  auto context = engine->createExecutionContext();
  expectReshapesElided(*context, 2);
}

TEST(MemoryPlanner, ReshapesDoNotRunAtEveryShapeOfAProfile) {
  NetworkFixture f;
  Runtime runtime(f.logger);
  const auto engine = reshapeEngine(f, runtime, /*dynamic=*/true);
  ASSERT_TRUE(engine) << f.logger.errors();
  auto context = engine->createExecutionContext();
  for (int64_t batch : {2, 5, 1, 2}) expectReshapesElided(*context, batch);
}

// y = tanh(concat(relu(x), sigmoid(x)) along the channels): at batch 1 the activations write
// their slices of the concatenation's output and it is skipped; at batch 3 (each input three
// ranges of the output) it copies.
TEST(MemoryPlanner, ConcatenationOfBatchOneIsWrittenByItsProducers) {
  NetworkFixture f;
  Runtime runtime(f.logger);
  const Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{-1, 16, 4});
  const Tensor relu = f.net().addActivation(x, ActivationType::kRELU).output(0);
  const Tensor sig = f.net().addActivation(x, ActivationType::kSIGMOID).output(0);
  const Tensor parts[] = {relu, sig};
  auto cat = f.net().addConcatenation(parts);
  cat.setAxis(1);
  cat.setName("cat");
  Tensor y = f.net().addActivation(cat.output(0), ActivationType::kTANH).output(0);
  y.setName("y");
  f.net().markOutput(y);
  auto config = f.builder.createBuilderConfig();
  for (const auto& pass : BuilderConfig::optimizationPassNames()) {
    ASSERT_TRUE(config->setPassEnabled(pass, false));
  }
  OptimizationProfile* profile = f.builder.createOptimizationProfile();
  profile->setDimensions("x", OptProfileSelector::kMIN, Dims{1, 16, 4});
  profile->setDimensions("x", OptProfileSelector::kOPT, Dims{1, 16, 4});
  profile->setDimensions("x", OptProfileSelector::kMAX, Dims{3, 16, 4});
  ASSERT_EQ(config->addOptimizationProfile(profile), 0);
  const auto plan = f.builder.buildSerializedNetwork(f.net(), *config);
  ASSERT_FALSE(plan.empty()) << f.logger.errors();
  const auto engine = runtime.deserialize(plan);
  ASSERT_TRUE(engine) << f.logger.errors();
  auto context = engine->createExecutionContext();
  for (const int64_t batch : {1, 3, 1}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    const Dims dims{batch, 16, 4};
    const std::vector<float> in = randomFloats(volume(dims), 5, -3.f, 3.f);
    std::vector<float> out(in.size() * 2, -100.f);
    LayerTimes profiler;
    context->setProfiler(&profiler);
    ASSERT_TRUE(context->setInputShape("x", dims));
    ASSERT_TRUE(context->setInputTensorAddress("x", in.data()));
    ASSERT_TRUE(context->setTensorAddress("y", out.data()));
    ASSERT_TRUE(context->enqueueV3()) << f.logger.errors();
    context->setProfiler(nullptr);
    std::vector<float> expected;
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t i = 0; i < 64; ++i) {
        expected.push_back(std::tanh(std::max(in[static_cast<std::size_t>(b * 64 + i)], 0.f)));
      }
      for (int64_t i = 0; i < 64; ++i) {
        const double v = in[static_cast<std::size_t>(b * 64 + i)];
        expected.push_back(static_cast<float>(std::tanh(1.0 / (1.0 + std::exp(-v)))));
      }
    }
    expectClose(out, expected, 1e-5, 1e-4);
    ASSERT_EQ(profiler.times.count("cat"), 1u);
    if (batch == 1) {
      EXPECT_EQ(profiler.times["cat"], 0.f);
    } else {
      EXPECT_GT(profiler.times["cat"], 0.f);
    }
  }
}

}  // namespace
}  // namespace kiln::test
