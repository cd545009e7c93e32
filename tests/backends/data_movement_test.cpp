// The data-movement tactics (cpu.concat, cpu.transpose) against the reference kernels, bit for
// bit, on every element size: Concatenation on every axis with uneven and empty inputs;
// Shuffle transposes that keep the innermost dimension (runs) and that move it (tiles, with
// ragged edges), reshape-only shuffles, size-1 and empty dimensions; both on one thread and
// two; and the shuffles left to the reference.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "backends/tactic.h"
#include "core/thread_pool.h"
#include "ir/op_registry.h"
#include "tactic_check.h"

namespace kiln::test {
namespace {

struct ByteInput {
  Dims dims;
  std::vector<std::byte> bytes;
};

ByteInput randomBytes(const Dims& dims, DataType type, uint32_t seed) {
  ByteInput in{dims,
               std::vector<std::byte>(static_cast<std::size_t>(volume(dims)) * elementSize(type))};
  std::mt19937 rng(seed);
  for (auto& b : in.bytes) b = static_cast<std::byte>(rng() & 0xff);
  return in;
}

// Runs @p op through the reference and every fast CPU tactic that takes it (on @p threads
// threads), expecting the same bytes; returns how many fast tactics ran.
int32_t checkBytes(const std::string& op, const ir::Attributes& attrs,
                   const std::vector<ByteInput>& inputs, DataType type, int32_t threads) {
  ir::Node node;
  node.name = "node";
  node.op = op;
  node.attrs = attrs;
  std::vector<ir::TensorInfo> infos;
  std::vector<ir::TensorView> views;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    node.inputs.push_back(static_cast<ir::ValueId>(i));
    ir::TensorInfo info;
    info.dtype = type;
    info.dims = inputs[i].dims;
    infos.push_back(info);
    views.push_back({type, inputs[i].dims, const_cast<std::byte*>(inputs[i].bytes.data()), true});
  }
  node.outputs.push_back(static_cast<ir::ValueId>(inputs.size()));
  const std::vector<ir::TensorInfo> outInfos = ir::inferNode(node, infos);
  const Dims outDims = outInfos[0].dims;
  const std::size_t outBytes = static_cast<std::size_t>(volume(outDims)) * elementSize(type);

  // Outputs poisoned with a pattern no input byte run is likely to have, plus a guard byte
  // behind the end that must survive.
  auto run = [&](const std::function<void(const ir::KernelContext&)>& fn, ThreadPool* pool,
                 uint8_t poison) {
    std::vector<std::byte> out(outBytes + 1, static_cast<std::byte>(poison));
    const ir::TensorView outView{type, outDims, out.data(), true};
    const ir::KernelContext ctx{node,    views, std::span<const ir::TensorView>(&outView, 1),
                                nullptr, 0,     pool};
    fn(ctx);
    EXPECT_EQ(out.back(), static_cast<std::byte>(poison)) << "wrote past the output";
    out.pop_back();
    return out;
  };
  const auto& schema = ir::OpRegistry::instance().get(op);
  const auto expected = run(schema.reference, nullptr, 0xA5);

  ThreadPool pool(threads);
  const backends::NodeSpec spec{node, infos, outInfos};
  int32_t ran = 0;
  for (const backends::Tactic* tactic :
       backends::TacticRegistry::instance().candidates(op, DeviceType::kCPU)) {
    if (tactic->name() == "cpu.reference" || !tacticRunsHere(*tactic)) continue;
    if (!tactic->supports(spec)) continue;
    ++ran;
    const auto kernel = tactic->instantiate(spec);
    const auto actual =
        run([&](const ir::KernelContext& ctx) { kernel->execute(ctx); }, &pool, 0x5A);
    EXPECT_TRUE(actual.size() == expected.size() &&
                std::memcmp(actual.data(), expected.data(), actual.size()) == 0)
        << op << " tactic " << tactic->name() << " differs from the reference, " << toString(type)
        << " output " << toString(outDims);
  }
  return ran;
}

const DataType kTypes[] = {DataType::kFLOAT, DataType::kHALF, DataType::kINT8, DataType::kINT64,
                           DataType::kBOOL};

TEST(DataMovementTactics, ConcatEveryAxisAndType) {
  struct Case {
    std::vector<Dims> inputs;
    int64_t axis;
  };
  const Case cases[] = {
      // SqueezeNet's Fire and GoogLeNet's inception ends: channels of batch 1, large enough to
      // be threaded.
      {{shape({1, 64, 55, 55}), shape({1, 64, 55, 55})}, 1},
      {{shape({1, 64, 28, 28}), shape({1, 128, 28, 28}), shape({1, 32, 28, 28}),
        shape({1, 32, 28, 28})},
       1},
      // UNet's decoder, batch 2, negative axis.
      {{shape({2, 16, 24, 24}), shape({2, 8, 24, 24})}, -3},
      {{shape({3, 5, 7}), shape({3, 2, 7}), shape({3, 1, 7})}, 1},
      {{shape({3, 5, 7}), shape({3, 5, 2})}, 2},
      {{shape({3, 5, 7}), shape({4, 5, 7})}, 0},
      {{shape({3000, 70}), shape({3000, 33})}, -1},  // many short rows, threaded
      {{shape({5}), shape({0}), shape({3})}, 0},     // an empty input between two
      {{shape({2, 0, 4}), shape({2, 3, 4})}, 1},
      {{shape({0, 3}), shape({0, 5})}, 1},  // an empty output
      {{shape({1, 1, 1}), shape({1, 1, 1})}, 2},
      {{shape({4, 1, 9})}, 1},  // one input
      {{shape({2, 3, 4, 5, 6}), shape({2, 3, 1, 5, 6}), shape({2, 3, 7, 5, 6})}, 2},
  };
  uint32_t seed = 1;
  for (const auto& c : cases) {
    for (const DataType type : kTypes) {
      for (const int32_t threads : {1, 2}) {
        std::vector<ByteInput> inputs;
        for (const auto& d : c.inputs) inputs.push_back(randomBytes(d, type, seed++));
        ir::Attributes attrs;
        attrs.set("axis", c.axis);
        SCOPED_TRACE(toString(c.inputs[0]) + " axis " + std::to_string(c.axis) + " " +
                     toString(type) + " threads " + std::to_string(threads));
        EXPECT_EQ(checkBytes("Concatenation", attrs, inputs, type, threads), 1);
      }
    }
  }
}

TEST(DataMovementTactics, ConcatDefaultAxis) {
  for (const int32_t threads : {1, 2}) {
    // No axis attribute: rank - 3.
    const std::vector<ByteInput> inputs = {randomBytes(shape({2, 3, 4, 5}), DataType::kFLOAT, 7),
                                           randomBytes(shape({2, 6, 4, 5}), DataType::kFLOAT, 8)};
    EXPECT_EQ(checkBytes("Concatenation", {}, inputs, DataType::kFLOAT, threads), 1);
  }
}

ir::Attributes permAttrs(const char* name, std::vector<int64_t> perm) {
  ir::Attributes a;
  a.set(name, std::move(perm));
  return a;
}

TEST(DataMovementTactics, TransposeEveryPermutationAndType) {
  struct Case {
    Dims x;
    std::vector<int64_t> perm;
  };
  const Case cases[] = {
      // BERT's head split and merge (runs of 64 elements), threaded.
      {shape({1, 128, 3, 4, 64}), {2, 0, 3, 1, 4}},
      {shape({1, 4, 128, 64}), {0, 2, 1, 3}},
      // The innermost dimension moves: 2-d tiles, with ragged edges and batches of them.
      {shape({1, 4, 128, 64}), {0, 1, 3, 2}},
      {shape({64, 96}), {1, 0}},
      {shape({37, 53}), {1, 0}},
      {shape({3, 5}), {1, 0}},
      {shape({1, 19, 300}), {0, 2, 1}},
      {shape({2, 3, 17, 21}), {0, 2, 3, 1}},  // NCHW -> NHWC
      {shape({2, 17, 21, 3}), {0, 3, 1, 2}},  // NHWC -> NCHW
      {shape({5, 6, 7, 8}), {3, 2, 1, 0}},
      {shape({4, 1, 33, 1, 9}), {4, 3, 2, 1, 0}},  // size-1 dims dropped
      {shape({2, 3, 4, 5, 6}), {1, 4, 0, 3, 2}},
      {shape({1, 1, 1}), {2, 1, 0}},  // one element
      {shape({1, 8, 1}), {2, 1, 0}},  // nothing moves
      {shape({0, 4, 5}), {2, 0, 1}},  // empty
      {shape({6, 0}), {1, 0}},
      {shape({1000, 2, 3}), {1, 2, 0}},  // a long moving dimension and a short one
      {shape({300, 50}), {1, 0}},        // strips of rows, the last one short
      {shape({2, 3, 70, 50}), {1, 0, 3, 2}},
  };
  uint32_t seed = 100;
  for (const auto& c : cases) {
    for (const DataType type : kTypes) {
      for (const int32_t threads : {1, 2}) {
        const std::vector<ByteInput> inputs = {randomBytes(c.x, type, seed++)};
        SCOPED_TRACE(toString(c.x) + " " + toString(type) + " threads " + std::to_string(threads));
        EXPECT_EQ(checkBytes("Shuffle", permAttrs("first_perm", c.perm), inputs, type, threads), 1);
      }
    }
  }
}

TEST(DataMovementTactics, TransposeAfterReshapeAndReshapeOnly) {
  for (const DataType type : kTypes) {
    for (const int32_t threads : {1, 2}) {
      SCOPED_TRACE(toString(type) + " threads " + std::to_string(threads));
      // [1, 128, 256] -> [1, 128, 4, 64] -> [1, 4, 128, 64] (BERT's head split as one Shuffle).
      ir::Attributes split = permAttrs("second_perm", {0, 2, 1, 3});
      split.set("reshape", std::vector<int64_t>{1, 128, 4, 64});
      EXPECT_EQ(
          checkBytes("Shuffle", split, {randomBytes(shape({1, 128, 256}), type, 1)}, type, threads),
          1);
      // Moving the innermost dimension after a reshape.
      ir::Attributes tiles = permAttrs("second_perm", {1, 0});
      tiles.set("reshape", std::vector<int64_t>{30, 45});
      EXPECT_EQ(
          checkBytes("Shuffle", tiles, {randomBytes(shape({6, 5, 45}), type, 2)}, type, threads),
          1);
      // A reshape alone (and an identity permutation) is a copy.
      ir::Attributes reshape = permAttrs("first_perm", {0, 1, 2});
      reshape.set("reshape", std::vector<int64_t>{0, -1});
      EXPECT_EQ(checkBytes("Shuffle", reshape, {randomBytes(shape({100, 30, 50}), type, 3)}, type,
                           threads),
                1);
    }
  }
}

// A kernel run on other dims than it was built for (a dynamic shape) whose walk the fast paths
// do not take (runs of 2 floats) gives the reference's bytes.
TEST(DataMovementTactics, TransposeOtherDimsAtRunTime) {
  ir::Node node;
  node.name = "node";
  node.op = "Shuffle";
  node.attrs = permAttrs("first_perm", {1, 0, 2});
  node.inputs = {0};
  node.outputs = {1};
  ir::TensorInfo built;
  built.dims = shape({30, 40, 64});
  const std::vector<ir::TensorInfo> infos = {built};
  const std::vector<ir::TensorInfo> outInfos = ir::inferNode(node, infos);
  const backends::Tactic* tactic =
      backends::TacticRegistry::instance().find("Shuffle", "cpu.transpose");
  ASSERT_NE(tactic, nullptr);
  ASSERT_TRUE(tactic->supports({node, infos, outInfos}));
  const auto kernel = tactic->instantiate({node, infos, outInfos});

  const ByteInput x = randomBytes(shape({30, 40, 2}), DataType::kFLOAT, 9);
  const ir::TensorView in{DataType::kFLOAT, x.dims, const_cast<std::byte*>(x.bytes.data()), true};
  std::vector<std::byte> expected(x.bytes.size()), actual(x.bytes.size());
  ThreadPool pool(2);
  for (auto* out : {&expected, &actual}) {
    const ir::TensorView outView{DataType::kFLOAT, shape({40, 30, 2}), out->data(), true};
    const ir::KernelContext ctx{node,
                                std::span<const ir::TensorView>(&in, 1),
                                std::span<const ir::TensorView>(&outView, 1),
                                nullptr,
                                0,
                                &pool};
    if (out == &expected) {
      ir::OpRegistry::instance().get("Shuffle").reference(ctx);
    } else {
      kernel->execute(ctx);
    }
  }
  EXPECT_EQ(std::memcmp(expected.data(), actual.data(), actual.size()), 0);
}

// Two transposes and short contiguous runs stay with the reference.
TEST(DataMovementTactics, TransposeLeavesOthersToReference) {
  ir::Attributes both = permAttrs("first_perm", {1, 0, 2});
  both.set("second_perm", std::vector<int64_t>{2, 1, 0});
  EXPECT_EQ(checkBytes("Shuffle", both, {randomBytes(shape({3, 4, 5}), DataType::kFLOAT, 1)},
                       DataType::kFLOAT, 2),
            0);
  // Runs of 2 floats (8 bytes).
  EXPECT_EQ(checkBytes("Shuffle", permAttrs("first_perm", {1, 0, 2}),
                       {randomBytes(shape({30, 40, 2}), DataType::kFLOAT, 2)}, DataType::kFLOAT, 2),
            0);
}

}  // namespace
}  // namespace kiln::test
