// Loss (kiln's own layer: ONNX NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss) through
// the public API and the whole pipeline, against a plain reference of the ONNX definition.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include "support/test_util.h"

namespace kiln::test {
namespace {

struct LossCase {
  LossType type = LossType::kNEGATIVE_LOG_LIKELIHOOD;
  LossReduction reduction = LossReduction::kMEAN;
  std::optional<int64_t> ignore;
  bool weighted = false;
};

struct Expected {
  std::vector<float> loss;
  std::vector<float> logp;
};

// The ONNX definition, written out: log_softmax along dim 1 (for softmax cross entropy), then
// -w[t] * logp[n, t, d], ignored targets 0 with weight 0, then the reduction.
Expected reference(const std::vector<float>& x, const Dims& xd, const std::vector<int32_t>& target,
                   const std::vector<float>& weight, const LossCase& c) {
  const int64_t N = xd[0], C = xd[1];
  int64_t D = 1;
  for (int32_t i = 2; i < xd.nbDims; ++i) D *= xd[i];
  Expected e;
  e.logp = x;
  if (c.type == LossType::kSOFTMAX_CROSS_ENTROPY) {
    for (int64_t n = 0; n < N; ++n)
      for (int64_t d = 0; d < D; ++d) {
        double m = -INFINITY, s = 0;
        for (int64_t k = 0; k < C; ++k) m = std::max<double>(m, x[(n * C + k) * D + d]);
        for (int64_t k = 0; k < C; ++k) s += std::exp(x[(n * C + k) * D + d] - m);
        for (int64_t k = 0; k < C; ++k)
          e.logp[(n * C + k) * D + d] =
              static_cast<float>(x[(n * C + k) * D + d] - m - std::log(s));
      }
  }
  double sum = 0, weights = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t d = 0; d < D; ++d) {
      const int32_t t = target[n * D + d];
      double l = 0, w = 0;
      if (!c.ignore || t != *c.ignore) {
        w = weight.empty() ? 1.0 : weight[t];
        l = -w * e.logp[(n * C + t) * D + d];
      }
      if (c.reduction == LossReduction::kNONE) e.loss.push_back(static_cast<float>(l));
      sum += l;
      weights += w;
    }
  if (c.reduction == LossReduction::kSUM) e.loss = {static_cast<float>(sum)};
  if (c.reduction == LossReduction::kMEAN) e.loss = {static_cast<float>(sum / weights)};
  return e;
}

Dims targetDims(const Dims& xd) {
  Dims t;
  t.nbDims = xd.nbDims - 1;
  t[0] = xd[0];
  for (int32_t i = 2; i < xd.nbDims; ++i) t[i - 1] = xd[i];
  return t;
}

void checkCase(const Dims& xd, const LossCase& c, uint32_t seed) {
  SCOPED_TRACE(toString(xd) + " type " + std::to_string(static_cast<int>(c.type)) + " reduction " +
               std::to_string(static_cast<int>(c.reduction)) + " ignore " +
               (c.ignore ? std::to_string(*c.ignore) : "none") + (c.weighted ? " weighted" : ""));
  const Dims td = targetDims(xd);
  const int64_t C = xd[1];
  HostTensor x = randomTensor(xd, seed, -3.f, 1.f);
  std::vector<int32_t> target(static_cast<std::size_t>(volume(td)));
  for (std::size_t i = 0; i < target.size(); ++i) {
    target[i] = static_cast<int32_t>((i * 7 + seed) % static_cast<std::size_t>(C));
    if (c.ignore && i % 3 == 1) target[i] = static_cast<int32_t>(*c.ignore);
  }
  const std::vector<float> weight =
      c.weighted ? randomFloats(C, seed + 1, 0.2f, 2.f) : std::vector<float>{};

  NetworkFixture f;
  Tensor in = f.net().addInput("x", DataType::kFLOAT, xd);
  Tensor t = f.net().addInput("t", DataType::kINT32, td);
  LossLayer loss = f.net().addLoss(in, t, c.type, c.reduction);
  ASSERT_TRUE(loss) << f.logger.errors();
  if (c.ignore) loss.setIgnoreIndex(*c.ignore);
  std::vector<HostTensor> inputs{x, HostTensor::fromInts(td, target)};
  if (c.weighted) {
    Tensor w = f.net().addInput("w", DataType::kFLOAT, Dims{C});
    loss.setInput(2, w);
    inputs.push_back(HostTensor::fromFloats(Dims{C}, weight));
  }
  f.net().markOutput(loss.output(0));
  f.net().markOutput(loss.output(1));
  const auto out = f.run(inputs);
  ASSERT_EQ(out.size(), 2u);
  const Expected e = reference(x.floats(), xd, target, weight, c);
  EXPECT_EQ(out[0].dims, c.reduction == LossReduction::kNONE ? td : Dims{});
  EXPECT_EQ(out[1].dims, xd);
  expectClose(out[0].floats(), e.loss, 1e-5, 1e-5, "loss");
  expectClose(out[1].floats(), e.logp, 1e-5, 1e-5, "log_prob");
}

TEST(Loss, HandCheckedNegativeLogLikelihood) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3});
  Tensor t = f.net().addInput("t", DataType::kINT32, Dims{2});
  LossLayer loss = f.net().addLoss(x, t, LossType::kNEGATIVE_LOG_LIKELIHOOD);
  ASSERT_TRUE(loss);
  EXPECT_EQ(loss.lossType(), LossType::kNEGATIVE_LOG_LIKELIHOOD);
  EXPECT_EQ(loss.reduction(), LossReduction::kMEAN);
  f.net().markOutput(loss.output(0));
  const std::vector<float> xs{-1, -2, -3, -4, -5, -6};
  const std::vector<int32_t> ts{0, 2};
  const auto out =
      f.run({HostTensor::fromFloats(Dims{2, 3}, xs), HostTensor::fromInts(Dims{2}, ts)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dims.nbDims, 0);
  EXPECT_EQ(out[0].floats(), std::vector<float>{3.5f});  // (1 + 6) / 2
}

TEST(Loss, EveryReductionTypeAndRankMatchesTheDefinition) {
  uint32_t seed = 1;
  for (LossType type : {LossType::kNEGATIVE_LOG_LIKELIHOOD, LossType::kSOFTMAX_CROSS_ENTROPY}) {
    for (LossReduction r : {LossReduction::kNONE, LossReduction::kSUM, LossReduction::kMEAN}) {
      for (const Dims& xd : {Dims{3, 5}, Dims{2, 4, 3}, Dims{2, 3, 1, 5, 2}, Dims{1, 1}}) {
        checkCase(xd, {type, r, std::nullopt, false}, seed++);
        checkCase(xd, {type, r, std::nullopt, true}, seed++);
        checkCase(xd, {type, r, int64_t{-1}, true}, seed++);
        checkCase(xd, {type, r, int64_t{xd[1] > 1 ? 0 : 7}, false}, seed++);
      }
    }
  }
}

TEST(Loss, ZeroSizeBatch) {
  for (LossReduction r : {LossReduction::kNONE, LossReduction::kSUM, LossReduction::kMEAN}) {
    NetworkFixture f;
    Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{0, 3, 2});
    Tensor t = f.net().addInput("t", DataType::kINT32, Dims{0, 2});
    LossLayer loss = f.net().addLoss(x, t, LossType::kSOFTMAX_CROSS_ENTROPY, r);
    f.net().markOutput(loss.output(0));
    const auto out = f.run(
        {HostTensor(DataType::kFLOAT, Dims{0, 3, 2}), HostTensor(DataType::kINT32, Dims{0, 2})});
    ASSERT_EQ(out.size(), 1u);
    if (r == LossReduction::kNONE) {
      EXPECT_EQ(out[0].dims, (Dims{0, 2}));
    } else if (r == LossReduction::kSUM) {
      EXPECT_EQ(out[0].floats(), std::vector<float>{0.f});
    } else {
      EXPECT_TRUE(std::isnan(out[0].floats()[0]));  // 0 / 0, as the ONNX reference
    }
  }
}

TEST(Loss, IgnoreIndexSettings) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3});
  Tensor t = f.net().addInput("t", DataType::kINT32, Dims{2});
  LossLayer loss = f.net().addLoss(x, t, LossType::kSOFTMAX_CROSS_ENTROPY, LossReduction::kSUM);
  EXPECT_FALSE(loss.hasIgnoreIndex());
  loss.setIgnoreIndex(-100);
  EXPECT_TRUE(loss.hasIgnoreIndex());
  EXPECT_EQ(loss.ignoreIndex(), -100);
  loss.clearIgnoreIndex();
  EXPECT_FALSE(loss.hasIgnoreIndex());
  loss.setReduction(LossReduction::kNONE);
  EXPECT_EQ(loss.reduction(), LossReduction::kNONE);
  EXPECT_EQ(loss.output(0).dimensions(), Dims{2});
  EXPECT_EQ(loss.lossType(), LossType::kSOFTMAX_CROSS_ENTROPY);
}

TEST(Loss, BadArgumentsAreRefusedAtOnce) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3});
  Tensor t = f.net().addInput("t", DataType::kINT32, Dims{2});
  EXPECT_FALSE(f.net().addLoss(x, t, static_cast<LossType>(5)));
  EXPECT_TRUE(f.logger.hasError("unknown loss type 5")) << f.logger.errors();
  EXPECT_FALSE(
      f.net().addLoss(x, t, LossType::kSOFTMAX_CROSS_ENTROPY, static_cast<LossReduction>(-1)));
  EXPECT_TRUE(f.logger.hasError("unknown loss reduction -1")) << f.logger.errors();
  EXPECT_FALSE(f.net().addLoss(x, Tensor(), LossType::kSOFTMAX_CROSS_ENTROPY));
  LossLayer loss = f.net().addLoss(x, t, LossType::kSOFTMAX_CROSS_ENTROPY);
  f.logger.clear();
  loss.setReduction(static_cast<LossReduction>(9));
  EXPECT_TRUE(f.logger.hasError("unknown loss reduction 9")) << f.logger.errors();
  EXPECT_EQ(loss.reduction(), LossReduction::kMEAN);
}

TEST(Loss, BadShapesNameTheLayer) {
  {
    NetworkFixture f;
    Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3, 4});
    Tensor t = f.net().addInput("t", DataType::kINT32, Dims{2, 5});
    LossLayer loss = f.net().addLoss(x, t, LossType::kNEGATIVE_LOG_LIKELIHOOD);
    expectInvalidLayer(f, loss,
                       "layer 'Loss_0' (Loss): the target has shape 2x5; an input of shape "
                       "2x3x4 needs a target of shape 2x4");
  }
  {
    NetworkFixture f;
    Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{6});
    Tensor t = f.net().addInput("t", DataType::kINT32, Dims{6});
    expectInvalidLayer(f, f.net().addLoss(x, t, LossType::kNEGATIVE_LOG_LIKELIHOOD),
                       "the input has shape 6; it needs [N, C] or [N, C, d1, ...]");
  }
  {
    NetworkFixture f;
    Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3});
    Tensor t = f.net().addInput("t", DataType::kFLOAT, Dims{2});
    expectInvalidLayer(f, f.net().addLoss(x, t, LossType::kNEGATIVE_LOG_LIKELIHOOD),
                       "the target must be int32 or int64 class indices, not");
  }
  {
    NetworkFixture f;
    Tensor x = f.net().addInput("x", DataType::kINT32, Dims{2, 3});
    Tensor t = f.net().addInput("t", DataType::kINT32, Dims{2});
    expectInvalidLayer(f, f.net().addLoss(x, t, LossType::kNEGATIVE_LOG_LIKELIHOOD),
                       "the input (scores) must be float32");
  }
  {
    NetworkFixture f;
    Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3});
    Tensor t = f.net().addInput("t", DataType::kINT32, Dims{2});
    Tensor w = f.net().addInput("w", DataType::kFLOAT, Dims{4});
    LossLayer loss = f.net().addLoss(x, t, LossType::kSOFTMAX_CROSS_ENTROPY);
    loss.setInput(2, w);
    expectInvalidLayer(f, loss,
                       "the weight has shape 4; the input has 3 classes, so it needs one weight "
                       "per class (shape 3)");
  }
}

TEST(Loss, TargetOutOfRangeFailsExecution) {
  NetworkFixture f;
  Tensor x = f.net().addInput("x", DataType::kFLOAT, Dims{2, 3});
  Tensor t = f.net().addInput("t", DataType::kINT32, Dims{2});
  LossLayer loss = f.net().addLoss(x, t, LossType::kNEGATIVE_LOG_LIKELIHOOD, LossReduction::kSUM);
  loss.setName("nll");
  loss.setIgnoreIndex(-1);
  f.net().markOutput(loss.output(0));
  auto config = f.builder.createBuilderConfig();
  const auto plan = f.builder.buildSerializedNetwork(f.net(), *config);
  ASSERT_FALSE(plan.empty()) << f.logger.errors();
  Runtime runtime(f.logger);
  auto engine = runtime.deserialize(plan);
  ASSERT_TRUE(engine);
  auto context = engine->createExecutionContext();
  ASSERT_TRUE(context);
  std::vector<float> xs(6, -1.f);
  float y = 0;
  std::vector<int32_t> bad{-1, 3};
  ASSERT_TRUE(context->setTensorAddress("x", xs.data()));
  ASSERT_TRUE(context->setTensorAddress("t", bad.data()));
  ASSERT_TRUE(context->setTensorAddress(loss.output(0).name(), &y));
  EXPECT_FALSE(context->enqueueV3());
  EXPECT_TRUE(f.logger.hasError(
      "layer 'nll' (Loss): target 3 (target element 1) is not a class index in [0, 3) nor the "
      "ignore index"))
      << f.logger.errors();
  // The ignored -1 and a valid class run.
  std::vector<int32_t> good{-1, 2};
  ASSERT_TRUE(context->setTensorAddress("t", good.data()));
  EXPECT_TRUE(context->enqueueV3()) << f.logger.errors();
  EXPECT_EQ(y, 1.f);
}

}  // namespace
}  // namespace kiln::test
