// The memory planner on synthetic graphs: live values never share bytes (except a pointwise
// output over an input that dies there), the lower bound is the most aligned bytes alive at
// once, and trying several placement orders finds arenas that largest-first alone misses.
#include "builder/memory_planner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
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

// Whether @p out may sit on @p in's bytes: @p out is written by a node that may run in place and
// reads @p in for the last time, both of one size.
bool legalInPlace(const GraphBuilder& g, const std::vector<Life>& life, ir::ValueId in,
                  ir::ValueId out) {
  const auto& vin = g.graph.value(in);
  const auto& vout = g.graph.value(out);
  const auto n = static_cast<std::size_t>(life[static_cast<std::size_t>(out)].first);
  const ir::Node& node = g.graph.nodes[n];
  return life[static_cast<std::size_t>(in)].last == static_cast<int64_t>(n) &&
         std::find(node.inputs.begin(), node.inputs.end(), in) != node.inputs.end() &&
         builder::runsInPlace(node, g.tactics[n]) && bytesOf(vin) == bytesOf(vout) &&
         vin.dtype == vout.dtype;
}

// Every arena value inside the arena and aligned; values alive together on disjoint bytes unless
// one overwrites the other in place. Returns how many pairs share bytes in place.
int checkPlan(const GraphBuilder& g, const plan::MemoryPlan& plan) {
  const ir::Graph& graph = g.graph;
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
      const bool inPlace = oa == ob && (legalInPlace(g, life, arena[i], arena[j]) ||
                                        legalInPlace(g, life, arena[j], arena[i]));
      EXPECT_TRUE(inPlace) << graph.values[a].name << " [" << oa << "," << ea << ") and "
                           << graph.values[b].name << " [" << ob << "," << eb
                           << ") are alive together on the same bytes";
      shared += inPlace ? 1 : 0;
    }
  }
  return shared;
}

// The most aligned bytes alive during one node, values counted separately.
uint64_t bruteForceLowerBound(const ir::Graph& graph, const plan::MemoryPlan& plan) {
  const auto life = lifetimes(graph);
  uint64_t most = 0;
  for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
    uint64_t alive = 0;
    for (std::size_t v = 0; v < graph.values.size(); ++v) {
      const auto at = static_cast<int64_t>(n);
      if (plan.valueOffsets[v] >= 0 && life[v].first <= at && at <= life[v].last) {
        alive += aligned(bytesOf(graph.values[v]));
      }
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
    const unsigned kind = rng() % 4;
    if (kind == 0) {
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
  for (int trial = 0; trial < 300; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    const GraphBuilder g = randomGraph(rng);
    const plan::MemoryPlan separate = planMemory(g.graph);
    EXPECT_EQ(checkPlan(g, separate), 0);
    EXPECT_EQ(separate.lowerBoundBytes, bruteForceLowerBound(g.graph, separate));
    EXPECT_GE(separate.arenaBytes, separate.lowerBoundBytes);

    const plan::MemoryPlan inPlace = planMemory(g.graph, g.tactics);
    shared += checkPlan(g, inPlace);
    EXPECT_GE(inPlace.arenaBytes, inPlace.lowerBoundBytes);
    EXPECT_LE(inPlace.lowerBoundBytes, separate.lowerBoundBytes);
    EXPECT_LE(inPlace.arenaBytes, separate.arenaBytes) << "sharing bytes must never cost memory";
    if (HasFailure()) break;
  }
  EXPECT_GT(shared, 50) << "the random graphs should give many chances to run in place";
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

}  // namespace
}  // namespace kiln::test
