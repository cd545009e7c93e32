// FullyConnected and MatrixMultiply GEMM tactics against the reference kernels: odd sizes (not
// multiples of any vector width or tile), K beyond one cache block, vectors, transposes,
// broadcast batches, empty tensors, and the fused epilogue.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <optional>
#include <vector>

#include "backends/tactic.h"
#include "gpu_tactic_support.h"
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

// One to four rows against constant weights take the small-M kernels (no packing of A, each B
// panel streamed once): every row count, widths below, at and across the panel widths (16, 32),
// K below the kernels' unroll, and enough weights to split the columns over the threads.
TEST(GemmTactics, FullyConnectedSmallRows) {
  const int64_t rowsCases[] = {1, 2, 3, 4, 5};
  const struct {
    int64_t flat;
    int64_t k;
  } sizes[] = {{1, 1}, {3, 7}, {5, 16}, {9, 17}, {33, 32}, {20, 33}, {70, 95}, {400, 130}};
  uint32_t seed = 100;
  for (int64_t rows : rowsCases) {
    for (const auto& s : sizes) {
      for (bool bias : {true, false}) {
        std::vector<CheckInput> in = {randomInput(shape({rows, s.flat}), seed++),
                                      randomInput(shape({s.k, s.flat}), seed++, true)};
        if (bias) in.push_back(randomInput(shape({s.k}), seed++, true));
        for (int32_t threads : {1, 2}) {
          const auto r = checkTactics("FullyConnected", fcAttrs(s.k), in, threads);
          EXPECT_GE(r.tactics, 1) << rows << "x" << s.flat << " -> " << s.k;
        }
      }
    }
  }
}

TEST(GemmTactics, FullyConnectedSmallRowsEpilogues) {
  for (int64_t rows : {1, 3}) {
    for (auto type : {ActivationType::kRELU, ActivationType::kCLIP, ActivationType::kLEAKY_RELU,
                      ActivationType::kGELU_ERF}) {
      const int64_t k = 45;
      const double alpha = type == ActivationType::kCLIP ? -0.2 : 0.1;
      ir::Attributes attrs = fcAttrs(k);
      attrs.set("epilogue.activation", type);
      attrs.set("epilogue.alpha", alpha);
      attrs.set("epilogue.beta", 0.5);
      attrs.set("epilogue.residual", int64_t{3});
      const ir::Attributes plain = fcAttrs(k);
      std::vector<CheckInput> in = {
          randomInput(shape({rows, 300}), 1), randomInput(shape({k, 300}), 2, true),
          randomInput(shape({k}), 3, true), randomInput(shape({rows, k}), 4)};
      const auto residual = in[3].values;
      const auto r =
          checkTactics("FullyConnected", attrs, in, 2, &plain, [&](std::vector<float>& y) {
            for (std::size_t i = 0; i < y.size(); ++i) {
              y[i] = static_cast<float>(ops::applyActivation(type, y[i] + residual[i], alpha, 0.5));
            }
          });
      EXPECT_GE(r.tactics, 1);
    }
  }
}

TEST(GemmTactics, MatrixMultiplySmallRows) {
  const struct {
    Dims a;
    Dims b;
    MatrixOperation op0;
    MatrixOperation op1;
  } cases[] = {
      {shape({300}), shape({300, 200}), MatrixOperation::kNONE, MatrixOperation::kNONE},
      {shape({1, 300}), shape({200, 300}), MatrixOperation::kNONE, MatrixOperation::kTRANSPOSE},
      {shape({2, 40}), shape({40, 37}), MatrixOperation::kNONE, MatrixOperation::kNONE},
      {shape({40, 3}), shape({40, 37}), MatrixOperation::kTRANSPOSE, MatrixOperation::kNONE},
      {shape({5, 4, 19}), shape({19, 50}), MatrixOperation::kNONE, MatrixOperation::kNONE},
      {shape({3, 1, 19}), shape({3, 19, 10}), MatrixOperation::kNONE, MatrixOperation::kNONE},
      {shape({2, 0}), shape({0, 9}), MatrixOperation::kNONE, MatrixOperation::kNONE},
  };
  uint32_t seed = 300;
  for (const auto& c : cases) {
    ir::Attributes attrs;
    attrs.set("op0", c.op0);
    attrs.set("op1", c.op1);
    for (int32_t threads : {1, 2}) {
      const auto r =
          checkTactics("MatrixMultiply", attrs,
                       {randomInput(c.a, seed++), randomInput(c.b, seed++, true)}, threads);
      EXPECT_GE(r.tactics, 1) << toString(c.a) << " x " << toString(c.b);
    }
  }
}

// Convolutions whose taps all lie inside the image pack their im2col panels by runs found once
// per panel: short and long output rows, strides, dilations, depth beyond one K block, and
// padding only after the image (SAME_UPPER), which must take the general packing.
TEST(GemmTactics, ConvolutionIm2colWithoutPadding) {
  struct Case {
    Dims x;
    int64_t outputs;
    Dims kernel;
    Dims stride;
    Dims dilation;
    PaddingMode mode = PaddingMode::kEXPLICIT_ROUND_DOWN;
  };
  const Case cases[] = {
      {shape({1, 20, 12, 12}), 50, shape({5, 5}), shape({1, 1}), shape({1, 1})},
      {shape({2, 3, 11, 13}), 5, shape({3, 3}), shape({2, 2}), shape({1, 1})},
      {shape({1, 4, 13, 40}), 7, shape({3, 2}), shape({1, 3}), shape({2, 3})},
      {shape({1, 6, 9, 9}), 9, shape({1, 1}), shape({2, 2}), shape({1, 1})},
      {shape({1, 3, 3, 70}), 4, shape({3, 3}), shape({1, 1}), shape({1, 1})},
      {shape({1, 2, 6, 6}), 3, shape({2, 2}), shape({2, 2}), shape({1, 1}),
       PaddingMode::kSAME_UPPER},
      {shape({1, 2, 7, 7}), 3, shape({2, 2}), shape({1, 1}), shape({1, 1}),
       PaddingMode::kSAME_UPPER},
  };
  uint32_t seed = 500;
  for (const auto& c : cases) {
    ir::Attributes a;
    a.set("num_output", c.outputs);
    a.set("kernel", c.kernel);
    a.set("stride", c.stride);
    a.set("dilation", c.dilation);
    a.set("padding_mode", c.mode);
    Dims w = shape({c.outputs, c.x[1], c.kernel[0], c.kernel[1]});
    for (int32_t threads : {1, 2}) {
      const auto r = checkTactics("Convolution", a,
                                  {randomInput(c.x, seed), randomInput(w, seed + 1, true),
                                   randomInput(shape({c.outputs}), seed + 2, true)},
                                  threads);
      EXPECT_GE(r.tactics, 1) << toString(c.x);
    }
    seed += 3;
  }
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

// Masks that are not contiguous along the keys (one value per query row, broadcast over the
// keys): the CPU tactic gathers each mask row before its vectorized softmax.
TEST(AttentionTactics, MaskBroadcastAlongKeys) {
  if (ir::OpRegistry::instance().find("Attention") == nullptr) GTEST_SKIP();
  ir::Attributes a;
  a.set("transpose_k", int64_t{1});
  a.set("scale", 0.3);
  const int64_t sq = 6, sk = 21, d = 5;
  for (const Dims& mask : {shape({2, 1, sq, 1}), shape({2, 3, sq, 1}), shape({sq, 1})}) {
    EXPECT_GE(
        checkTactics("Attention", a,
                     {randomInput(shape({2, 3, sq, d}), 1), randomInput(shape({2, 3, sk, d}), 2),
                      randomInput(shape({2, 3, sk, d}), 3), randomInput(mask, 4)})
            .tactics,
        1);
  }
}

// One matrix of many queries: the CPU tactic splits its queries among the threads.
TEST(AttentionTactics, OneMatrixSplitAmongThreads) {
  if (ir::OpRegistry::instance().find("Attention") == nullptr) GTEST_SKIP();
  ir::Attributes a;
  a.set("transpose_k", int64_t{1});
  a.set("scale", 0.2);
  EXPECT_GE(checkTactics("Attention", a,
                         {randomInput(shape({1, 70, 9}), 1), randomInput(shape({1, 33, 9}), 2),
                          randomInput(shape({1, 33, 5}), 3), randomInput(shape({1, 70, 33}), 4)})
                .tactics,
            1);
}

// Packed heads (ops/attention_geometry.h): Q [B, Sq, H*D], K [B, Sk, H*D], V [B, Sk, H*Dv],
// the mask over [B, H, Sq, Sk]; the output is [B, Sq, H*Dv].
TEST(AttentionTactics, PackedHeadsMatchReference) {
  if (ir::OpRegistry::instance().find("Attention") == nullptr) GTEST_SKIP();
  const int64_t b = 2, heads = 3, sq = 13, sk = 17, d = 9, dv = 5;
  for (const Dims& mask : {Dims{}, shape({b, 1, 1, sk}), shape({b, heads, sq, sk})}) {
    ir::Attributes a;
    a.set("transpose_k", int64_t{1});
    a.set("heads", heads);
    a.set("scale", 0.37);
    std::vector<CheckInput> in = {randomInput(shape({b, sq, heads * d}), 1),
                                  randomInput(shape({b, sk, heads * d}), 2),
                                  randomInput(shape({b, sk, heads * dv}), 3)};
    if (mask.nbDims > 0) in.push_back(randomInput(mask, 4));
    EXPECT_GE(checkTactics("Attention", a, in).tactics, 1);
  }
}

// Rows whose keys are all masked (-inf) give NaN as the reference does; a NaN query gives a NaN
// row; a row of 40 keys runs the softmax's vector loops and their remainder.
TEST(AttentionTactics, MaskedAndNanRowsMatchReference) {
  if (ir::OpRegistry::instance().find("Attention") == nullptr) GTEST_SKIP();
  const int64_t sq = 5, sk = 40, d = 6;
  ir::Attributes a;
  a.set("transpose_k", int64_t{1});
  a.set("scale", 0.5);
  CheckInput q = randomInput(shape({1, sq, d}), 7);
  q.values[static_cast<std::size_t>(3 * d + 2)] = std::numeric_limits<float>::quiet_NaN();
  CheckInput mask = randomInput(shape({1, sq, sk}), 8);
  for (int64_t j = 0; j < sk; ++j) {
    mask.values[static_cast<std::size_t>(1 * sk + j)] = -std::numeric_limits<float>::infinity();
  }
  mask.values[static_cast<std::size_t>(4 * sk + 39)] = -std::numeric_limits<float>::infinity();
  EXPECT_GE(
      checkTactics("Attention", a,
                   {q, randomInput(shape({1, sk, d}), 9), randomInput(shape({1, sk, d}), 10), mask})
          .tactics,
      1);
}

// Packed QKV: one [B, S, 3*H*D] tensor (Q's heads, K's, V's in every row) given as Q, K and V,
// as a fused projection writes it; the output is [B, S, H*D].
TEST(AttentionTactics, PackedQkvMatchesReference) {
  if (ir::OpRegistry::instance().find("Attention") == nullptr) GTEST_SKIP();
  const int64_t b = 2, heads = 3, s = 19, d = 8;
  for (const Dims& mask : {Dims{}, shape({b, 1, 1, s}), shape({b, heads, s, s})}) {
    ir::Attributes a;
    a.set("transpose_k", int64_t{1});
    a.set("heads", heads);
    a.set("packed_qkv", int64_t{1});
    a.set("scale", 0.29);
    const CheckInput qkv = randomInput(shape({b, s, 3 * heads * d}), 5);
    std::vector<CheckInput> in = {qkv, qkv, qkv};
    if (mask.nbDims > 0) in.push_back(randomInput(mask, 6));
    EXPECT_GE(checkTactics("Attention", a, in).tactics, 1);
  }
}

// Cases for the CUDA backend's cuBLASLt tactic (compared where a GPU is present; without one,
// which cases it takes): strided and broadcast batches, transposes, vectors, each epilogue path
// (cuBLASLt's BIAS / RELU_BIAS / GELU_BIAS, the residual as C, the separate activation kernel),
// and the attention tactic.
constexpr std::string_view kLt = "cuda.gemm.cublaslt";

TEST(GemmGpuTactics, BatchedMatrixMultiply) {
  const struct {
    Dims a;
    Dims b;
    MatrixOperation op0;
    MatrixOperation op1;
    bool gpu;  // the batches step by one stride per operand
  } cases[] = {
      {shape({4, 33, 65}), shape({4, 65, 17}), MatrixOperation::kNONE, MatrixOperation::kNONE,
       true},
      {shape({3, 5, 16, 32}), shape({32, 24}), MatrixOperation::kNONE, MatrixOperation::kNONE,
       true},
      {shape({1, 16, 8}), shape({6, 8, 20}), MatrixOperation::kNONE, MatrixOperation::kNONE, true},
      {shape({3, 12, 7}), shape({3, 9, 12}), MatrixOperation::kTRANSPOSE,
       MatrixOperation::kTRANSPOSE, true},
      {shape({2, 3, 10, 6}), shape({2, 3, 11, 6}), MatrixOperation::kNONE,
       MatrixOperation::kTRANSPOSE, true},
      {shape({5, 7}), shape({5, 7, 3}), MatrixOperation::kVECTOR, MatrixOperation::kNONE, true},
      {shape({5, 4, 7}), shape({5, 7}), MatrixOperation::kNONE, MatrixOperation::kVECTOR, true},
      {shape({9}), shape({9}), MatrixOperation::kNONE, MatrixOperation::kNONE, true},
      {shape({128, 96}), shape({96, 200}), MatrixOperation::kNONE, MatrixOperation::kNONE, true},
      {shape({4, 1, 9, 8}), shape({3, 8, 5}), MatrixOperation::kNONE, MatrixOperation::kNONE,
       false},
      {shape({2, 3, 4, 5}), shape({3, 5, 6}), MatrixOperation::kNONE, MatrixOperation::kNONE,
       false},  // B's offsets repeat 0, 1, 2, 0, 1, 2: no single stride
      {shape({2, 1, 4, 5}), shape({1, 3, 5, 6}), MatrixOperation::kNONE, MatrixOperation::kNONE,
       false},
      {shape({0, 4, 5}), shape({0, 5, 3}), MatrixOperation::kNONE, MatrixOperation::kNONE, true},
      {shape({4, 0}), shape({0, 3}), MatrixOperation::kNONE, MatrixOperation::kNONE, false},
  };
  uint32_t seed = 500;
  for (const auto& c : cases) {
    for (bool constant : {false, true}) {
      ir::Attributes attrs;
      attrs.set("op0", c.op0);
      attrs.set("op1", c.op1);
      const std::vector<CheckInput> in = {randomInput(c.a, seed++),
                                          randomInput(c.b, seed++, constant)};
      if (c.gpu) {
        checkWithGpu("MatrixMultiply", kLt, attrs, in);
      } else {
        expectGpuSupport("MatrixMultiply", kLt, attrs, in, false);
        checkTactics("MatrixMultiply", attrs, in);
      }
    }
  }
}

TEST(GemmGpuTactics, FullyConnectedShapes) {
  const struct {
    Dims x;
    int64_t k;
  } cases[] = {{shape({64, 768}), 256}, {shape({3, 16, 4, 5}), 33}, {shape({2, 5, 3, 1, 1}), 7},
               {shape({1, 1}), 1},      {shape({17, 31}), 9},       {shape({0, 12}), 5}};
  uint32_t seed = 700;
  for (const auto& c : cases) {
    int64_t flat = 1;
    for (int32_t i = c.x.nbDims >= 3 ? c.x.nbDims - 3 : 1; i < c.x.nbDims; ++i) flat *= c.x[i];
    for (bool bias : {true, false}) {
      std::vector<CheckInput> in = {randomInput(c.x, seed++),
                                    randomInput(shape({c.k, flat}), seed++, true)};
      if (bias) in.push_back(randomInput(shape({c.k}), seed++, true));
      ir::Attributes attrs;
      attrs.set("num_output", c.k);
      checkWithGpu("FullyConnected", kLt, attrs, in);
    }
  }
}

TEST(GemmGpuTactics, FullyConnectedEpiloguePaths) {
  struct Path {
    std::optional<ActivationType> activation;
    bool bias;
    bool residual;
  };
  const Path paths[] = {
      {std::nullopt, true, false},                // BIAS
      {ActivationType::kRELU, true, false},       // RELU_BIAS
      {ActivationType::kRELU, false, false},      // RELU
      {ActivationType::kRELU, true, true},        // RELU_BIAS, residual as C
      {ActivationType::kGELU_TANH, true, false},  // GELU_BIAS
      {ActivationType::kGELU_TANH, false, true},  // GELU, residual as C
      {ActivationType::kGELU_ERF, true, true},    // BIAS + C, then the activation kernel
      {ActivationType::kSIGMOID, false, false},
      {std::nullopt, false, true},
  };
  const int64_t rows = 13;
  const int64_t k = 40;
  const int64_t flat = 24;
  for (const Path& p : paths) {
    ir::Attributes plain;
    plain.set("num_output", k);
    ir::Attributes attrs = plain;
    if (p.activation) attrs.set("epilogue.activation", *p.activation);
    std::vector<CheckInput> in = {randomInput(shape({rows, flat}), 1),
                                  randomInput(shape({k, flat}), 2, true)};
    in.push_back(p.bias ? randomInput(shape({k}), 3, true) : absentInput());
    std::vector<float> residual;
    if (p.residual) {
      attrs.set("epilogue.residual", int64_t{3});
      in.push_back(randomInput(shape({rows, k}), 4));
      residual = in[3].values;
    }
    const auto type = p.activation;
    checkWithGpu("FullyConnected", kLt, attrs, in, &plain, [&](std::vector<float>& y) {
      for (std::size_t i = 0; i < y.size(); ++i) {
        const float v = residual.empty() ? y[i] : y[i] + residual[i];
        y[i] = type ? static_cast<float>(ops::applyActivation(*type, v,
                                                              ops::activationDefaultAlpha(*type),
                                                              ops::activationDefaultBeta(*type)))
                    : v;
      }
    });
  }
}

TEST(GemmGpuTactics, BatchedMatrixMultiplyEpilogue) {
  ir::Attributes attrs;
  attrs.set("epilogue.activation", ActivationType::kRELU);
  attrs.set("epilogue.residual", int64_t{2});
  const ir::Attributes plain;
  std::vector<CheckInput> in = {randomInput(shape({3, 2, 11, 19}), 1),
                                randomInput(shape({3, 2, 19, 21}), 2),
                                randomInput(shape({3, 2, 11, 21}), 3)};
  const auto residual = in[2].values;
  checkWithGpu("MatrixMultiply", kLt, attrs, in, &plain, [&](std::vector<float>& y) {
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = std::max(y[i] + residual[i], 0.f);
  });
}

// MatrixMultiply's epilogue bias (matmul-bias: a Linear layer's bias add): one value per column
// N, then the residual, then the activation. The expected output is the plain product with the
// epilogue applied here, independently of the reference kernel's epilogue.
struct BiasCase {
  Dims a;
  Dims b;
  MatrixOperation op1 = MatrixOperation::kNONE;
  bool gpu = true;  // the cuBLASLt tactic takes it
};

struct BiasPath {
  std::optional<ActivationType> activation;
  bool residual = false;
};

// Attributes and inputs [A, B, bias, residual?] of @p c with @p path, and the expected output
// from the plain product.
struct BiasCheck {
  ir::Attributes attrs;
  ir::Attributes plain;
  std::vector<CheckInput> in;
  std::function<void(std::vector<float>&)> fix;
};

BiasCheck biasCheck(const BiasCase& c, const BiasPath& path, bool constantB, uint32_t seed) {
  BiasCheck k;
  k.plain.set("op1", c.op1);
  k.attrs = k.plain;
  k.in = {randomInput(c.a, seed), randomInput(c.b, seed + 1, constantB)};
  const bool tb = c.op1 == MatrixOperation::kTRANSPOSE;
  const int64_t n = tb ? c.b[c.b.nbDims - 2] : c.b[c.b.nbDims - 1];
  k.in.push_back(randomInput(shape({n}), seed + 2, true));
  k.attrs.set("epilogue.bias", int64_t{2});
  if (path.activation) k.attrs.set("epilogue.activation", *path.activation);
  const std::vector<float> bias = k.in[2].values;
  std::vector<float> residual;
  if (path.residual) {
    // The output's shape: the broadcast batch, M, N.
    Dims out;
    const Dims& a = c.a;
    const Dims& b = c.b;
    const int32_t rank = std::max(a.nbDims, b.nbDims);
    out.nbDims = rank;
    for (int32_t i = 0; i < rank - 2; ++i) {
      const int32_t ia = i - (rank - a.nbDims);
      const int32_t ib = i - (rank - b.nbDims);
      out[i] = std::max(ia >= 0 ? a[ia] : 1, ib >= 0 ? b[ib] : 1);
    }
    if (a.nbDims == 1) {
      out = shape({n});  // A a vector (B a matrix, in these cases)
    } else {
      out[rank - 2] = a[a.nbDims - 2];
      out[rank - 1] = n;
    }
    k.in.push_back(randomInput(out, seed + 3));
    k.attrs.set("epilogue.residual", int64_t{3});
    residual = k.in[3].values;
  }
  const auto type = path.activation;
  k.fix = [=](std::vector<float>& y) {
    for (std::size_t i = 0; i < y.size(); ++i) {
      float v = y[i] + bias[i % static_cast<std::size_t>(n)];
      if (!residual.empty()) v += residual[i];
      y[i] = type ? static_cast<float>(ops::applyActivation(*type, v,
                                                            ops::activationDefaultAlpha(*type),
                                                            ops::activationDefaultBeta(*type)))
                  : v;
    }
  };
  return k;
}

const BiasCase kBiasCases[] = {
    {shape({5, 7}), shape({7, 3})},                                 // plain 2-d
    {shape({9, 20}), shape({20, 35})},                              // N odd
    {shape({3, 20}), shape({20, 35})},                              // M below one tile
    {shape({7}), shape({7, 4})},                                    // A a vector
    {shape({2, 3, 13, 17}), shape({17, 33})},                       // batched A, one B (folded)
    {shape({2, 3, 8, 16}), shape({16, 24})},                        // ... 16-byte aligned
    {shape({6, 10}), shape({5, 10}), MatrixOperation::kTRANSPOSE},  // B as [N, K]
    {shape({4, 6, 8}), shape({4, 8, 5})},                           // strided batch of B too
    {shape({2, 3, 4, 5}), shape({3, 5, 6}), MatrixOperation::kNONE, false},  // no single stride
};

const BiasPath kBiasPaths[] = {
    {std::nullopt, false},                // BIAS
    {ActivationType::kRELU, false},       // RELU_BIAS
    {ActivationType::kGELU_TANH, false},  // GELU_BIAS
    {ActivationType::kGELU_ERF, false},   // BIAS, then the activation kernel
    {std::nullopt, true},                 // BIAS, residual as C
    {ActivationType::kGELU_ERF, true},    // BIAS + C, then the activation kernel
    {ActivationType::kRELU, true},        // RELU_BIAS, residual as C
};

TEST(GemmTactics, MatrixMultiplyEpilogueBias) {
  uint32_t seed = 900;
  for (const BiasCase& c : kBiasCases) {
    for (const BiasPath& path : kBiasPaths) {
      for (bool constantB : {true, false}) {
        const BiasCheck k = biasCheck(c, path, constantB, seed);
        seed += 4;
        // Against the reference kernel's own epilogue, and against the plain product + bias.
        const auto r = checkTactics("MatrixMultiply", k.attrs, k.in);
        EXPECT_GE(r.tactics, 1) << toString(c.a) << " x " << toString(c.b);
        checkTactics("MatrixMultiply", k.attrs, k.in, 2, &k.plain, k.fix);
      }
    }
  }
}

TEST(GemmTactics, MatrixMultiplyBiasNeedsAColumnVector) {
  // A bias of the wrong length or rank is refused (the reference takes the node: shape rules
  // reject it before any tactic sees it, so this checks supports() alone).
  ir::Attributes attrs;
  attrs.set("epilogue.bias", int64_t{2});
  for (const Dims& biasDims : {shape({4}), shape({1, 3})}) {
    ir::Node node;
    node.name = "mm";
    node.op = "MatrixMultiply";
    node.attrs = attrs;
    const ir::TensorInfo inputs[3] = {{true, DataType::kFLOAT, shape({2, 5})},
                                      {true, DataType::kFLOAT, shape({5, 3})},
                                      {true, DataType::kFLOAT, biasDims}};
    const ir::TensorInfo outputs[1] = {{true, DataType::kFLOAT, shape({2, 3})}};
    const backends::NodeSpec spec{node, inputs, outputs};
    for (const auto* t :
         backends::TacticRegistry::instance().candidates("MatrixMultiply", DeviceType::kCPU)) {
      if (t->name() == "cpu.reference") continue;
      EXPECT_FALSE(t->supports(spec)) << t->name() << " with bias " << toString(biasDims);
    }
  }
}

TEST(GemmGpuTactics, MatrixMultiplyBiasEpilogue) {
  uint32_t seed = 1300;
  for (const BiasCase& c : kBiasCases) {
    for (const BiasPath& path : kBiasPaths) {
      const BiasCheck k = biasCheck(c, path, true, seed);
      seed += 4;
      if (c.gpu) {
        checkWithGpu("MatrixMultiply", kLt, k.attrs, k.in, &k.plain, k.fix);
      } else {
        expectGpuSupport("MatrixMultiply", kLt, k.attrs, k.in, false);
      }
    }
  }
}

TEST(AttentionGpuTactics, Masks) {
  if (ir::OpRegistry::instance().find("Attention") == nullptr) GTEST_SKIP();
  const int64_t b = 2, h = 4, sq = 24, sk = 32, d = 16, dv = 8;
  const Dims masks[] = {Dims{}, shape({b, 1, 1, sk}), shape({b, h, sq, sk}), shape({sq, sk}),
                        shape({1, h, sq, 1})};
  uint32_t seed = 900;
  for (const Dims& mask : masks) {
    for (bool transposeK : {false, true}) {
      ir::Attributes a;
      a.set("transpose_k", int64_t{transposeK});
      a.set("scale", 0.25);
      std::vector<CheckInput> in = {
          randomInput(shape({b, h, sq, d}), seed++),
          randomInput(transposeK ? shape({b, h, sk, d}) : shape({b, h, d, sk}), seed++),
          randomInput(shape({b, h, sk, dv}), seed++)};
      if (mask.nbDims > 0) in.push_back(randomInput(mask, seed++));
      checkWithGpu("Attention", "cuda.attention", a, in);
    }
  }
  // Rank 3 (no head dim) and one query.
  ir::Attributes a;
  a.set("scale", 1.5);
  checkWithGpu("Attention", "cuda.attention", a,
               {randomInput(shape({3, 1, 5}), 1), randomInput(shape({3, 5, 7}), 2),
                randomInput(shape({3, 7, 4}), 3), randomInput(shape({3, 1, 7}), 4)});
}

// The fused 16-bit kernel (cuda.attention.fused: head sizes 32, 64, 128): query and key counts
// that are not multiples of its 64-row tiles, several key tiles, masks broadcast over heads
// and rows, both K layouts. checkTactics runs it in FP16 and BF16 where a GPU is present.
TEST(AttentionGpuTactics, FusedKernelTilesAndMasks) {
  if (ir::OpRegistry::instance().find("Attention") == nullptr) GTEST_SKIP();
  struct Case {
    int64_t sq, sk, d;
    Dims mask;
    bool transposeK;
  };
  const Case cases[] = {
      {1, 5, 32, Dims{}, true},
      {77, 130, 64, shape({2, 1, 1, 130}), true},
      {128, 128, 64, shape({2, 1, 128, 128}), false},
      {64, 64, 128, Dims{}, true},
      {3, 200, 64, shape({2, 2, 3, 200}), true},
  };
  uint32_t seed = 950;
  for (const Case& c : cases) {
    ir::Attributes a;
    a.set("transpose_k", int64_t{c.transposeK});
    a.set("scale", 0.125);
    std::vector<CheckInput> in = {
        randomInput(shape({2, 2, c.sq, c.d}), seed++),
        randomInput(c.transposeK ? shape({2, 2, c.sk, c.d}) : shape({2, 2, c.d, c.sk}), seed++),
        randomInput(shape({2, 2, c.sk, c.d}), seed++)};
    if (c.mask.nbDims > 0) in.push_back(randomInput(c.mask, seed++));
    const CheckResult r = checkTactics("Attention", a, in);
    if (backends::gpuPresent()) {
      // FP16 and BF16 each for the fused and the two-GEMM tactic.
      EXPECT_GE(r.reducedGpuTactics, 4) << "sq " << c.sq << " sk " << c.sk << " d " << c.d;
    }
  }
  // Packed heads: the fused kernel alone takes them (FP16 and BF16).
  for (const Case& c :
       {Case{77, 130, 64, shape({2, 1, 1, 130}), true},
        Case{128, 128, 64, shape({2, 3, 128, 128}), true}, Case{5, 70, 32, Dims{}, true}}) {
    const int64_t heads = 3;
    ir::Attributes a;
    a.set("transpose_k", int64_t{1});
    a.set("heads", heads);
    a.set("scale", 0.125);
    std::vector<CheckInput> in = {randomInput(shape({2, c.sq, heads * c.d}), seed++),
                                  randomInput(shape({2, c.sk, heads * c.d}), seed++),
                                  randomInput(shape({2, c.sk, heads * c.d}), seed++)};
    if (c.mask.nbDims > 0) in.push_back(randomInput(c.mask, seed++));
    const CheckResult r = checkTactics("Attention", a, in);
    if (backends::gpuPresent()) {
      EXPECT_GE(r.reducedGpuTactics, 2) << "packed sq " << c.sq << " sk " << c.sk;
    }
  }
}

}  // namespace
}  // namespace kiln::test
