// PointwiseChain, LayerNorm and Unary tactics against the reference kernels (GELU chains,
// hard-swish, broadcast and scalar operands, operand-first steps, odd sizes), and the vectorized
// float math of every ISA build against the double-precision activations.
#include "ops/pointwise_chain.h"

#include <gtest/gtest.h>

#include <cmath>

#include "backends/cpu/pointwise_vec.h"
#include "core/cpu_info.h"
#include "ops/activation.h"
#include "tactic_check.h"

namespace kiln::test {
namespace {

using backends::cpu::PointwiseVecKernels;

ir::Attributes attr(const char* key, int64_t value) {
  ir::Attributes a;
  a.set(key, value);
  return a;
}

void elementWise(ir::Attributes& chain, ElementWiseOperation op, int32_t operand,
                 bool operandFirst = false) {
  ops::appendPointwiseStep(chain, "ElementWise", attr("op", static_cast<int64_t>(op)), operand,
                           operandFirst);
}
void activation(ir::Attributes& chain, ActivationType type, double alpha = 0, double beta = 0,
                bool withParams = false) {
  ir::Attributes a = attr("type", static_cast<int64_t>(type));
  if (withParams) {
    a.set("alpha", alpha);
    a.set("beta", beta);
  }
  ops::appendPointwiseStep(chain, "Activation", a, -1, false);
}
void unary(ir::Attributes& chain, UnaryOperation op) {
  ops::appendPointwiseStep(chain, "Unary", attr("op", static_cast<int64_t>(op)), -1, false);
}

CheckInput scaled(const Dims& dims, uint32_t seed, float lo, float hi) {
  return {dims, randomFloats(volume(dims), seed, lo, hi), false, true};
}
CheckInput scalar(float v) {
  return {shape({1}), {v}, true, true};
}

// These check the CPU tactics; checkTactics would also hold the GPU tactics to the same (float)
// tolerances and to half precision on inputs chosen for the CPU kernels (wide ranges, divisions,
// FLOOR_DIV and MOD discontinuities), so on a GPU machine they are left to cuda_kernels_test.
#define SKIP_ON_GPU() \
  if (backends::gpuPresent()) GTEST_SKIP() << "CPU tactics: checked where no GPU is present"

const Dims kSizes[] = {shape({1}),    shape({17}),       shape({1000}),
                       shape({4099}), shape({3, 5, 64}), shape({0, 8})};

TEST(PointwiseChainTactics, GeluChains) {
  SKIP_ON_GPU();
  for (const Dims& d : kSizes) {
    const int64_t c = d[d.nbDims - 1];
    // BERT's: bias (operand first) then GELU (erf), and the same with the tanh GELU.
    for (auto type : {ActivationType::kGELU_ERF, ActivationType::kGELU_TANH}) {
      ir::Attributes chain;
      elementWise(chain, ElementWiseOperation::kSUM, 1, true);
      activation(chain, type);
      const auto r = checkTactics("PointwiseChain", chain,
                                  {scaled(d, 1, -6.f, 6.f), scaled(shape({c}), 2, -1.f, 1.f)});
      EXPECT_EQ(r.tactics, 1) << toString(d);
    }
    // GELU as ONNX exports it: x / sqrt2 -> erf -> + 1 -> * x -> * 0.5, x read twice.
    {
      ir::Attributes chain;
      elementWise(chain, ElementWiseOperation::kDIV, 2);
      unary(chain, UnaryOperation::kERF);
      elementWise(chain, ElementWiseOperation::kSUM, 3);
      elementWise(chain, ElementWiseOperation::kPROD, 1, true);
      elementWise(chain, ElementWiseOperation::kPROD, 4);
      const CheckInput x = scaled(d, 3, -6.f, 6.f);
      const auto r = checkTactics("PointwiseChain", chain,
                                  {x, x, scalar(1.41421356f), scalar(1.f), scalar(0.5f)});
      EXPECT_EQ(r.tactics, 1) << toString(d);
    }
    // tanh GELU expanded: x + 0.044715 x^3 -> * c -> tanh -> + 1 -> * x -> * 0.5.
    {
      ir::Attributes chain;
      elementWise(chain, ElementWiseOperation::kPOW, 2);
      elementWise(chain, ElementWiseOperation::kPROD, 3);
      elementWise(chain, ElementWiseOperation::kSUM, 1);
      elementWise(chain, ElementWiseOperation::kPROD, 4);
      activation(chain, ActivationType::kTANH);
      elementWise(chain, ElementWiseOperation::kSUM, 5, true);
      elementWise(chain, ElementWiseOperation::kPROD, 1);
      elementWise(chain, ElementWiseOperation::kPROD, 6);
      const CheckInput x = scaled(d, 4, -5.f, 5.f);
      const auto r = checkTactics(
          "PointwiseChain", chain,
          {x, x, scalar(3.f), scalar(0.044715f), scalar(0.7978845608f), scalar(1.f), scalar(0.5f)});
      EXPECT_EQ(r.tactics, 1) << toString(d);
    }
  }
}

TEST(PointwiseChainTactics, HardSwishWithTwoInputs) {
  SKIP_ON_GPU();
  for (const Dims& d : kSizes) {
    const CheckInput x = scaled(d, 5, -5.f, 5.f);
    // x * clip(x + 3, 0, 6) / 6 and x * hard_sigmoid(x).
    ir::Attributes chain;
    elementWise(chain, ElementWiseOperation::kSUM, 2);
    activation(chain, ActivationType::kCLIP, 0.0, 6.0, true);
    elementWise(chain, ElementWiseOperation::kPROD, 1, true);
    elementWise(chain, ElementWiseOperation::kDIV, 3);
    EXPECT_EQ(checkTactics("PointwiseChain", chain, {x, x, scalar(3.f), scalar(6.f)}).tactics, 1);
    ir::Attributes hard;
    activation(hard, ActivationType::kHARD_SIGMOID, 1.0 / 6, 0.5, true);
    elementWise(hard, ElementWiseOperation::kPROD, 1);
    EXPECT_EQ(checkTactics("PointwiseChain", hard, {x, x}).tactics, 1);
  }
}

TEST(PointwiseChainTactics, BroadcastsAndOperandOrder) {
  SKIP_ON_GPU();
  // scalar - x, then / per-row [B,S,1], then a per-channel bias first, then 2 / v.
  {
    ir::Attributes chain;
    elementWise(chain, ElementWiseOperation::kSUB, 1, true);
    elementWise(chain, ElementWiseOperation::kDIV, 2);
    elementWise(chain, ElementWiseOperation::kSUB, 3, true);
    elementWise(chain, ElementWiseOperation::kDIV, 4, true);
    for (const Dims& d : {shape({2, 17, 33}), shape({1, 1, 1}), shape({3, 40, 129})}) {
      const CheckInput rowScale = scaled(shape({d[0], d[1], 1}), 7, 0.5f, 2.f);
      const auto r = checkTactics("PointwiseChain", chain,
                                  {scaled(d, 6, -2.f, 2.f), scalar(0.25f), rowScale,
                                   scaled(shape({d[2]}), 8, -1.f, 1.f), scalar(2.f)});
      EXPECT_EQ(r.tactics, 1) << toString(d);
    }
  }
  // Every input broadcast, the chain's input too: the running value grows.
  {
    ir::Attributes chain;
    elementWise(chain, ElementWiseOperation::kSUM, 1);
    activation(chain, ActivationType::kSIGMOID);
    elementWise(chain, ElementWiseOperation::kDIV, 2, true);
    unary(chain, UnaryOperation::kATAN);
    elementWise(chain, ElementWiseOperation::kMAX, 3);
    EXPECT_EQ(checkTactics("PointwiseChain", chain,
                           {randomInput(shape({2, 1, 5}), 1), randomInput(shape({3, 1}), 2),
                            scaled(shape({5}), 3, 0.5f, 2.f), randomInput(shape({2, 3, 5}), 4)})
                  .tactics,
              1);
  }
  // A chain ending in a comparison writes bool: the reference keeps it.
  {
    ir::Attributes chain;
    activation(chain, ActivationType::kTANH);
    elementWise(chain, ElementWiseOperation::kGREATER, 1);
    const backends::Tactic* t =
        backends::TacticRegistry::instance().find("PointwiseChain", "cpu.pointwise_chain.vec");
    ASSERT_NE(t, nullptr);
    ir::Node node;
    node.op = "PointwiseChain";
    node.attrs = chain;
    std::vector<ir::TensorInfo> in(2);
    in[0].dims = shape({4, 6});
    in[1].dims = shape({4, 1});
    std::vector<ir::TensorInfo> out(1);
    out[0].dtype = DataType::kBOOL;
    out[0].dims = shape({4, 6});
    EXPECT_FALSE(t->supports({node, in, out}));
  }
}

// A BatchNorm left after a concatenation (scale-lowering): x * [C,1,1] + [C,1,1], then ReLU.
// Planes of at least 256 pixels pass the per-channel values as one per block (blocks end at plane
// ends: 3136 in four, 300 in one, 1030 in two of unequal length); smaller ones are gathered. An
// operand constant along rows of another length (a [2, 1] against [.., 2, 300]: rows of 300,
// where the per-channel ones see rows of 600) is gathered.
TEST(PointwiseChainTactics, PerChannelOperands) {
  SKIP_ON_GPU();
  ir::Attributes chain;
  elementWise(chain, ElementWiseOperation::kPROD, 1);
  elementWise(chain, ElementWiseOperation::kSUM, 2, true);
  activation(chain, ActivationType::kRELU);
  for (const Dims& d : {shape({1, 8, 56, 56}), shape({2, 3, 10, 30}), shape({1, 5, 1, 1030}),
                        shape({1, 16, 7, 7}), shape({3, 4, 16, 16})}) {
    const Dims channel = shape({d[1], 1, 1});
    const auto r = checkTactics(
        "PointwiseChain", chain,
        {scaled(d, 11, -2.f, 2.f), scaled(channel, 12, 0.5f, 2.f), scaled(channel, 13, -1.f, 1.f)});
    EXPECT_EQ(r.tactics, 1) << toString(d);
  }
  ir::Attributes mixed = chain;
  elementWise(mixed, ElementWiseOperation::kSUM, 3);
  const Dims d = shape({2, 4, 2, 300});
  const auto r =
      checkTactics("PointwiseChain", mixed,
                   {scaled(d, 14, -2.f, 2.f), scaled(shape({4, 1, 1}), 15, 0.5f, 2.f),
                    scaled(shape({4, 1, 1}), 16, -1.f, 1.f), scaled(shape({2, 1}), 17, -1.f, 1.f)});
  EXPECT_EQ(r.tactics, 1);
}

TEST(PointwiseChainTactics, EveryStepOp) {
  SKIP_ON_GPU();
  const Dims d = shape({3, 337});
  uint32_t seed = 10;
  for (int32_t type = 0; type <= static_cast<int32_t>(ActivationType::kHARD_SWISH); ++type) {
    ir::Attributes chain;
    elementWise(chain, ElementWiseOperation::kPROD, 1);
    const auto t = static_cast<ActivationType>(type);
    activation(chain, t, ops::activationDefaultAlpha(t), ops::activationDefaultBeta(t), true);
    const auto r = checkTactics("PointwiseChain", chain,
                                {scaled(d, seed++, -4.f, 4.f), scaled(d, seed++, -3.f, 3.f)});
    EXPECT_EQ(r.tactics, 1) << ops::activationName(t);
  }
  for (int32_t op = 0; op <= static_cast<int32_t>(UnaryOperation::kISNAN); ++op) {
    const auto u = static_cast<UnaryOperation>(op);
    if (u == UnaryOperation::kNOT || u == UnaryOperation::kISINF || u == UnaryOperation::kISNAN) {
      continue;
    }
    // |x| * 0.9 + 1 for the ops that need x >= 1 (acosh), else x * 0.9 in (-1, 1).
    const bool positive = u == UnaryOperation::kLOG || u == UnaryOperation::kSQRT ||
                          u == UnaryOperation::kACOSH || u == UnaryOperation::kRECIP;
    ir::Attributes chain;
    if (positive) unary(chain, UnaryOperation::kABS);
    elementWise(chain, ElementWiseOperation::kPROD, 1);
    if (positive) elementWise(chain, ElementWiseOperation::kSUM, 2);
    unary(chain, u);
    std::vector<CheckInput> inputs = {scaled(d, seed++, -3.f, 3.f), scalar(0.3f)};
    if (positive) inputs.push_back(scalar(1.f));
    EXPECT_EQ(checkTactics("PointwiseChain", chain, inputs).tactics, 1) << op;
  }
  for (auto op :
       {ElementWiseOperation::kSUM, ElementWiseOperation::kPROD, ElementWiseOperation::kMAX,
        ElementWiseOperation::kMIN, ElementWiseOperation::kSUB, ElementWiseOperation::kDIV,
        ElementWiseOperation::kPOW, ElementWiseOperation::kFLOOR_DIV, ElementWiseOperation::kMOD,
        ElementWiseOperation::kFMOD}) {
    for (bool first : {false, true}) {
      ir::Attributes chain;
      unary(chain, UnaryOperation::kABS);  // positive bases for POW
      elementWise(chain, ElementWiseOperation::kSUM, 2);
      elementWise(chain, op, 1, first);
      const auto r = checkTactics(
          "PointwiseChain", chain,
          {scaled(d, seed++, -3.f, 3.f), scaled(shape({337}), seed++, 0.5f, 2.f), scalar(0.1f)});
      EXPECT_EQ(r.tactics, 1) << static_cast<int>(op) << " first " << first;
    }
  }
}

// The Unary "cpu.vec" tactic runs the same kernels as one-step chains.
TEST(PointwiseChainTactics, UnaryTactic) {
  SKIP_ON_GPU();
  uint32_t seed = 40;
  for (int32_t op = 0; op <= static_cast<int32_t>(UnaryOperation::kISNAN); ++op) {
    const auto u = static_cast<UnaryOperation>(op);
    ir::Attributes a = attr("op", op);
    if (u == UnaryOperation::kNOT || u == UnaryOperation::kISINF || u == UnaryOperation::kISNAN) {
      continue;
    }
    const bool positive = u == UnaryOperation::kLOG || u == UnaryOperation::kSQRT ||
                          u == UnaryOperation::kACOSH || u == UnaryOperation::kRECIP;
    for (const Dims& d : {shape({5, 7}), shape({0, 3}), shape({40000})}) {
      const CheckInput x = positive ? scaled(d, seed++, 1.f, 4.f) : scaled(d, seed++, -0.9f, 0.9f);
      EXPECT_EQ(checkTactics("Unary", a, {x}).tactics, 1) << op;
    }
  }
}

TEST(LayerNormTactics, RowsAndAffine) {
  SKIP_ON_GPU();
  uint32_t seed = 1;
  for (int64_t inner : {1, 7, 64, 768}) {
    for (int64_t rows : {1, 3, 50}) {
      for (int affine = 0; affine < 4; ++affine) {
        ir::Attributes a;
        a.set("axis", int64_t{1});
        a.set("epsilon", 1e-5);
        std::vector<CheckInput> inputs = {scaled(shape({rows, inner}), seed++, -3.f, 5.f)};
        inputs.push_back((affine & 1) != 0 ? scaled(shape({inner}), seed++, 0.5f, 2.f)
                                           : absentInput());
        inputs.push_back((affine & 2) != 0 ? scaled(shape({inner}), seed++, -1.f, 1.f)
                                           : absentInput());
        const auto r = checkTactics("LayerNorm", a, inputs, 2, nullptr, nullptr, 1e-5, 1e-5);
        EXPECT_EQ(r.tactics, 1) << rows << "x" << inner;
      }
    }
  }
  // Normalized over several dims, and an empty input.
  ir::Attributes a;
  a.set("axis", int64_t{1});
  EXPECT_EQ(checkTactics("LayerNorm", a, {randomInput(shape({2, 3, 7}), 1)}).tactics, 1);
  EXPECT_EQ(checkTactics("LayerNorm", a, {randomInput(shape({0, 5}), 1)}).tactics, 1);
}

// Each ISA build of the float math against the double-precision activations, on a wide range.
TEST(PointwiseVecMath, EveryIsaMatchesDouble) {
  std::vector<const PointwiseVecKernels*> builds = {&backends::cpu::portablePointwiseVec()};
  if (hostCpu().has("avx2") && hostCpu().has("fma") && hostCpu().has("f16c")) {
    builds.push_back(&backends::cpu::avx2PointwiseVec());
  }
  if (hostCpu().has("avx512f") && hostCpu().has("avx512bw") && hostCpu().has("avx512dq") &&
      hostCpu().has("avx512vl")) {
    builds.push_back(&backends::cpu::avx512PointwiseVec());
  }
  std::vector<float> x = randomFloats(4000, 3, -12.f, 12.f);
  for (float v : {0.f, -0.f, 1e-7f, -1e-7f, 0.4999f, 0.5f, 0.625f, 88.f, -88.f, 100.f, -120.f,
                  INFINITY, -INFINITY, NAN}) {
    x.push_back(v);
  }
  for (const PointwiseVecKernels* k : builds) {
    for (auto type : {ActivationType::kSIGMOID, ActivationType::kTANH, ActivationType::kELU,
                      ActivationType::kGELU_ERF, ActivationType::kGELU_TANH,
                      ActivationType::kSOFTPLUS, ActivationType::kSILU}) {
      const double alpha = ops::activationDefaultAlpha(type);
      const double beta = ops::activationDefaultBeta(type);
      std::vector<float> expected(x.size());
      for (std::size_t i = 0; i < x.size(); ++i) {
        expected[i] = static_cast<float>(ops::applyActivation(type, x[i], alpha, beta));
      }
      std::vector<float> y(x.size());
      k->activate(static_cast<int32_t>(type), static_cast<float>(alpha), static_cast<float>(beta),
                  x.data(), y.data(), static_cast<int64_t>(x.size()));
      expectClose(y, expected, 1e-6, 2e-6,
                  std::string(k->isa) + " " + std::string(ops::activationName(type)));
      // In place gives the same.
      std::vector<float> z = x;
      k->activate(static_cast<int32_t>(type), static_cast<float>(alpha), static_cast<float>(beta),
                  z.data(), z.data(), static_cast<int64_t>(z.size()));
      expectClose(z, y, 0, 0, std::string(k->isa) + " in place");
    }
    // Softmax's exp-and-sum pass over rows of several lengths.
    for (int64_t n : {1, 15, 16, 17, 128, 1000}) {
      std::vector<float> row(x.begin(), x.begin() + n);
      for (float& v : row) v = std::fmin(v, 11.f);  // finite scores below the shift
      const float shift = 11.5f;
      std::vector<float> expected(row.size());
      double sum = 0;
      for (std::size_t i = 0; i < row.size(); ++i) {
        expected[i] = static_cast<float>(std::exp(static_cast<double>(row[i]) - shift));
        sum += std::exp(static_cast<double>(row[i]) - shift);
      }
      const float got = k->expShiftSum(row.data(), n, shift);
      // x - shift is rounded to float first: ~|x - shift| 2^-24 relative (the kernel's input).
      expectClose(row, expected, 1e-30, 4e-6, std::string(k->isa) + " expShiftSum");
      EXPECT_NEAR(got, sum, 1e-5 * sum) << k->isa << " n " << n;
    }
    // exp and erf through one-step chains, relative to double.
    for (auto op : {UnaryOperation::kEXP, UnaryOperation::kERF}) {
      backends::cpu::VecStep step;
      step.kind = backends::cpu::VecStepKind::kUnary;
      step.op = static_cast<int32_t>(op);
      std::vector<float> y(x.size());
      std::vector<float> scratch(2 * x.size());
      backends::cpu::ChainBlock block;
      block.x = x.data();
      block.scratch[0] = scratch.data();
      block.scratch[1] = scratch.data() + x.size();
      block.y = y.data();
      block.n = static_cast<int64_t>(x.size());
      k->chainBlock(&step, 1, block);
      std::vector<float> expected(x.size());
      for (std::size_t i = 0; i < x.size(); ++i) {
        const double v = x[i];
        expected[i] = static_cast<float>(op == UnaryOperation::kEXP ? std::exp(v) : std::erf(v));
      }
      expectClose(y, expected, 1e-30, op == UnaryOperation::kEXP ? 1e-6 : 5e-7,
                  std::string(k->isa) + (op == UnaryOperation::kEXP ? " exp" : " erf"));
    }
  }
}

}  // namespace
}  // namespace kiln::test
