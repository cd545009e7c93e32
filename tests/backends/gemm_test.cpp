// FullyConnected and MatrixMultiply GEMM tactics against the reference kernels: odd sizes (not
// multiples of any vector width or tile), K beyond one cache block, vectors, transposes,
// broadcast batches, empty tensors, and the fused epilogue.
#include <gtest/gtest.h>

#include "backends/tactic.h"
#include "ops/activation.h"
#include "tactic_check.h"

namespace kiln::test {
namespace {

ir::Attributes fcAttrs(int64_t outputs) {
  ir::Attributes a;
  a.set("num_output", outputs);
  return a;
}

TEST(GemmTactics, AllIsasAreRegistered) {
  const auto candidates =
      backends::TacticRegistry::instance().candidates("FullyConnected", DeviceType::kCPU);
  int32_t fast = 0;
  for (const auto* t : candidates) fast += t->name() != "cpu.reference";
  EXPECT_GE(fast, 3);
}

TEST(GemmTactics, FullyConnectedOddShapes) {
  const struct {
    Dims x;
    int64_t k;
  } cases[] = {{shape({1, 7}), 5},        {shape({3, 17}), 33}, {shape({13, 300}), 29},
               {shape({2, 3, 5, 7}), 19}, {shape({1, 1}), 1},   {shape({25, 64}), 48},
               {shape({0, 9}), 4},        {shape({5, 600}), 70}};
  uint32_t seed = 1;
  for (const auto& c : cases) {
    int64_t flat = 1;
    for (int32_t i = c.x.nbDims >= 3 ? c.x.nbDims - 3 : 1; i < c.x.nbDims; ++i) flat *= c.x[i];
    for (bool constant : {true, false}) {
      for (bool bias : {true, false}) {
        std::vector<CheckInput> in = {randomInput(c.x, seed++),
                                      randomInput(shape({c.k, flat}), seed++, constant)};
        if (bias) in.push_back(randomInput(shape({c.k}), seed++, true));
        const auto r = checkTactics("FullyConnected", fcAttrs(c.k), in);
        EXPECT_GE(r.tactics, 1) << toString(c.x);
      }
    }
  }
}

TEST(GemmTactics, FullyConnectedEpilogue) {
  const int64_t rows = 7;
  const int64_t k = 37;
  ir::Attributes attrs = fcAttrs(k);
  attrs.set("epilogue.activation", ActivationType::kRELU);
  attrs.set("epilogue.residual", int64_t{3});
  const ir::Attributes plain = fcAttrs(k);
  std::vector<CheckInput> in = {randomInput(shape({rows, 45}), 1),
                                randomInput(shape({k, 45}), 2, true),
                                randomInput(shape({k}), 3, true), randomInput(shape({rows, k}), 4)};
  const auto residual = in[3].values;
  const auto r = checkTactics("FullyConnected", attrs, in, 2, &plain, [&](std::vector<float>& y) {
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = std::max(y[i] + residual[i], 0.f);
  });
  EXPECT_GE(r.tactics, 1);
}

TEST(GemmTactics, MatrixMultiplyShapes) {
  const struct {
    Dims a;
    Dims b;
    MatrixOperation op0;
    MatrixOperation op1;
  } cases[] = {
      {shape({5, 7}), shape({7, 3}), MatrixOperation::kNONE, MatrixOperation::kNONE},
      {shape({7, 5}), shape({7, 3}), MatrixOperation::kTRANSPOSE, MatrixOperation::kNONE},
      {shape({5, 7}), shape({3, 7}), MatrixOperation::kNONE, MatrixOperation::kTRANSPOSE},
      {shape({2, 3, 13, 17}), shape({17, 33}), MatrixOperation::kNONE, MatrixOperation::kNONE},
      {shape({4, 1, 9, 8}), shape({3, 8, 5}), MatrixOperation::kNONE, MatrixOperation::kNONE},
      {shape({7}), shape({7, 4}), MatrixOperation::kNONE, MatrixOperation::kNONE},
      {shape({3, 7}), shape({7}), MatrixOperation::kNONE, MatrixOperation::kNONE},
      {shape({40, 300}), shape({300, 50}), MatrixOperation::kNONE, MatrixOperation::kNONE},
      {shape({0, 5}), shape({5, 3}), MatrixOperation::kNONE, MatrixOperation::kNONE},
      {shape({4, 0}), shape({0, 3}), MatrixOperation::kNONE, MatrixOperation::kNONE},
  };
  uint32_t seed = 10;
  for (const auto& c : cases) {
    for (bool constant : {false, true}) {
      ir::Attributes attrs;
      attrs.set("op0", c.op0);
      attrs.set("op1", c.op1);
      const auto r = checkTactics("MatrixMultiply", attrs,
                                  {randomInput(c.a, seed++), randomInput(c.b, seed++, constant)});
      EXPECT_GE(r.tactics, 1) << toString(c.a) << " x " << toString(c.b);
    }
  }
}

TEST(GemmTactics, MatrixMultiplyEpilogueGeneric) {
  ir::Attributes attrs;
  attrs.set("epilogue.activation", ActivationType::kGELU_ERF);
  attrs.set("epilogue.residual", int64_t{2});
  const ir::Attributes plain;
  std::vector<CheckInput> in = {randomInput(shape({2, 11, 19}), 1),
                                randomInput(shape({19, 21}), 2, true),
                                randomInput(shape({2, 11, 21}), 3)};
  const auto residual = in[2].values;
  const auto r = checkTactics("MatrixMultiply", attrs, in, 2, &plain, [&](std::vector<float>& y) {
    for (std::size_t i = 0; i < y.size(); ++i) {
      y[i] = static_cast<float>(
          ops::applyActivation(ActivationType::kGELU_ERF, y[i] + residual[i], 0.0, 0.0));
    }
  });
  EXPECT_GE(r.tactics, 1);
}

TEST(GemmTactics, ClipAndLeakyEpilogues) {
  for (auto type : {ActivationType::kCLIP, ActivationType::kLEAKY_RELU}) {
    ir::Attributes attrs = fcAttrs(35);
    attrs.set("epilogue.activation", type);
    attrs.set("epilogue.alpha", type == ActivationType::kCLIP ? 0.0 : 0.1);
    attrs.set("epilogue.beta", 0.5);
    const ir::Attributes plain = fcAttrs(35);
    const auto r =
        checkTactics("FullyConnected", attrs,
                     {randomInput(shape({14, 20}), 1), randomInput(shape({35, 20}), 2, true)}, 2,
                     &plain, [&](std::vector<float>& y) {
                       for (float& v : y) {
                         v = static_cast<float>(ops::applyActivation(
                             type, v, type == ActivationType::kCLIP ? 0.0 : 0.1, 0.5));
                       }
                     });
    EXPECT_GE(r.tactics, 1);
  }
}

TEST(AttentionTactics, MatchesReference) {
  if (ir::OpRegistry::instance().find("Attention") == nullptr) GTEST_SKIP();
  for (bool transposeK : {false, true}) {
    for (bool withMask : {false, true}) {
      ir::Attributes a;
      a.set("transpose_k", int64_t{transposeK});
      a.set("scale", 0.37);
      const int64_t sq = 13, sk = 17, d = 9, dv = 11;
      std::vector<CheckInput> in = {
          randomInput(shape({2, 3, sq, d}), 1),
          randomInput(transposeK ? shape({2, 3, sk, d}) : shape({2, 3, d, sk}), 2),
          randomInput(shape({2, 3, sk, dv}), 3)};
      if (withMask) in.push_back(randomInput(shape({2, 1, 1, sk}), 4));
      EXPECT_GE(checkTactics("Attention", a, in).tactics, 1);
    }
  }
}

}  // namespace
}  // namespace kiln::test
